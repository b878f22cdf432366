"""fundapp: loan management for a provincial Cooperative Development Support Fund.

The package itself imports nothing, so that `fundapp.domain` (the fund's rules in pure
Python) loads without Flask or SQLAlchemy; the application factory is `fundapp.app.create_app`.
"""
