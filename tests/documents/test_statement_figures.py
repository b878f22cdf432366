"""The statement's amounts printed as one run of text: each amount ends where its column
ends, whatever the widths of the other amounts of the line."""

from __future__ import annotations

from datetime import date

from fundapp.documents.positions import Position
from fundapp.documents.statement import (
    FIGURE_SPACE,
    PUNCTUATION_SPACE,
    Figures,
    Line,
    Statement,
)


def _units(text: str) -> float:
    """Width in digits: digits and figure spaces are one, separators half of one."""
    return sum(1 if c.isdigit() or c == FIGURE_SPACE else 0.5 for c in text)


def _ends(text: str) -> list[float]:
    """Where each amount ends, in digits from the end of the line."""
    ends, position = [], 0.0
    for n, char in enumerate(reversed(text)):
        if char.isdigit() and (n == 0 or text[-n] in (FIGURE_SPACE, PUNCTUATION_SPACE)):
            ends.append(position)
        position += _units(char)
    return ends


def test_amounts_end_at_their_column_ends(app) -> None:
    line = Line(
        date(2026, 3, 15),
        "repayment",
        paid_penalty=26_045,
        paid_interest=506_301,
        paid_principal=4_467_654,
        principal_outstanding=105_532_346,
        principal_overdue=5_532_346,
    )
    figures = Figures(9)
    assert figures.column_widths == ["12ch"] + ["11ch"] * 6 + ["12ch", "11ch", "11ch", "11ch"]
    with app.test_request_context("/"):
        text = figures.row(line)
    assert " ".join(text.replace(FIGURE_SPACE, " ").replace(PUNCTUATION_SPACE, " ").split()) == (
        "26.045 506.301 4.467.654 105.532.346 5.532.346 0 0"
    )
    # Column ends from the right: 0, 11, 22, 33 (balances), 45 (after the wider gap), …
    widths = [float(w.removesuffix("ch")) for w in reversed(figures.column_widths)]
    column_ends = [sum(widths[:n]) for n in range(len(widths))]
    assert _ends(text) == column_ends[:7]
    assert _units(text) <= sum(widths) - 1  # the blank start is dropped: it fits its cell


def test_columns_widen_for_the_largest_amount(app) -> None:
    statement = Statement(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        date(2026, 1, 1),
        date(2026, 3, 31),
        Position(date(2025, 12, 31), principal_outstanding=12_000_000_000),
        Position(date(2026, 3, 31)),
        totals={"disbursed": 0},
    )
    assert Figures.fitting(statement).digits == 11
    statement.opening = Position(date(2025, 12, 31), principal_outstanding=120_000_000)
    assert Figures.fitting(statement).digits == 9
