"""Benchmarks of fundapp on PostgreSQL (``make bench``; see docs/benchmarks.md).

``python -m benchmarks`` builds a generated loan portfolio directly in PostgreSQL and times
the close of day (``fundapp.servicing.close_day.run_close_day``) on it.
"""
