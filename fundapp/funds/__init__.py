"""Funds whose books this installation carries: this fund and the funds it took over.

Each cooperative, loan and capital entry names its origin fund; none (``NULL``) is this
fund. Reference data, below cooperatives: nothing here imports a feature package.
"""
