"""Gap-free document numbers (contracts, debt receipts, receipts), one series per kind and
year: the law wants receipts numbered without gaps, so a number is taken under a row lock
in the transaction that records the document, and a rolled-back one is given again."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from fundapp.extensions import db
from fundapp.loans.models import Counter


def next_number(series: str, width: int) -> str:
    """The next number of a document series (``PT-2026`` → ``PT-2026-000001``), gap-free,
    under a row lock so concurrent requests never share a number."""
    counter = db.session.get(Counter, series, with_for_update=True)
    if counter is None:
        try:
            with db.session.begin_nested():
                db.session.add(Counter(series=series, value=0))
        except IntegrityError:
            pass
        counter = db.session.get(Counter, series, with_for_update=True, populate_existing=True)
    assert counter is not None
    counter.value += 1
    db.session.flush()
    return f"{series}-{counter.value:0{width}d}"
