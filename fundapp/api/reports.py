"""Report endpoints of the API: /reports/…"""
