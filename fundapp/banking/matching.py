"""Which loan a credit of the statement pays, and why.

The book is read in bulk, one query per kind for the whole statement (the active loans
with their borrowers, then the unsettled instalments up to the last value date and
``DUE_AHEAD_DAYS`` after), into dictionaries; each line is then matched in memory by
lookups, never a query per line:

(a) a structured reference ``HD20260014 K03`` (fundapp.payments.vietqr.reference; also
    without the space, in lower case, with dashes) naming an active loan → 99;
(b) an active loan's contract number in the text, written with or without its dashes → 90;
(c) a borrower named by its tax code, its bank account (the payer's account), or its name
    without diacritics, in the text or the payer's name → 75 if it has one active loan;
    with several, the one whose due equals the amount, else the one with the oldest unpaid
    instalment → 50;
(d) the amount equals what exactly one active loan has due → 40;
else none. What is due on a value date: principal, interest and overdue interest still
owed on the instalments due by that date, or within ``DUE_AHEAD_DAYS`` after it (a
borrower pays a few days ahead of the due date).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select

from fundapp.banking.parsers import Row
from fundapp.cooperatives.models import Cooperative
from fundapp.core.formatting import money_filter
from fundapp.core.lists import fold
from fundapp.extensions import db
from fundapp.loans.models import Instalment, Loan, LoanStatus

DUE_AHEAD_DAYS = 15
CONFIDENCE = {"reference": 99, "contract": 90, "borrower": 75, "several": 50, "amount": 40}
# A contract number written in at most this many pieces ("HD 2026 0014").
CONTRACT_PIECES = 3
# Contract keys shorter than this, or with no digit, would match ordinary words.
CONTRACT_MIN = 5
# A name variant (the name less its "HTX") needs this many words to be told from prose.
NAME_MIN_WORDS = 3
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_REFERENCE = re.compile(
    r"(?<![A-Z0-9])([A-Z]{1,6}(?:[-./ ]?[0-9]+){1,3})[-./ ]?K[-./ ]?([0-9]{1,2})(?![0-9])"
)
_TAX_CODE = re.compile(r"(?<![0-9])([0-9]{10})(?:[- ]?([0-9]{3}))?(?![0-9])")
_KIND_PREFIXES = ("lien hiep htx ", "htx ", "to hop tac ", "thanh vien htx ")


@dataclass(frozen=True)
class Due:
    no: int
    due_date: date
    remaining: int


@dataclass(frozen=True)
class Match:
    loan_id: int | None
    instalment_no: int | None
    method: str
    confidence: int
    reason: str


@dataclass
class Book:
    """What the matcher knows of the active loans, keyed for lookups."""

    contracts: dict[str, list[int]] = field(default_factory=dict)
    contract_no: dict[int, str] = field(default_factory=dict)
    loans_of: dict[int, list[int]] = field(default_factory=dict)
    coop_name: dict[int, str] = field(default_factory=dict)
    # Folded name (and its variants) → borrowers; the first word → the variants' lengths.
    names: dict[str, set[int]] = field(default_factory=dict)
    name_sizes: dict[str, list[int]] = field(default_factory=dict)
    tax_codes: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int | None] = field(default_factory=dict)
    # Per loan its unsettled instalments up to the horizon, by due date; their cumulative
    # remaining; and per amount the loans and the value dates [from, to) it is due on.
    dues: dict[int, list[Due]] = field(default_factory=dict)
    cumulative: dict[int, list[int]] = field(default_factory=dict)
    by_amount: dict[int, list[tuple[int, date, date]]] = field(default_factory=dict)


def contract_key(text: str) -> str:
    return _NOT_ALNUM.sub("", fold(text).upper())


def words(text: str) -> list[str]:
    """Folded words, "hợp tác xã" written as "htx" as the fund's names do."""
    joined = " " + " ".join(_NOT_WORD.sub(" ", fold(text)).split()) + " "
    return joined.replace(" hop tac xa ", " htx ").split()


def name_variants(name: str) -> set[str]:
    full = " ".join(words(name))
    variants = {full} if len(full.split()) >= 2 else set()
    for prefix in _KIND_PREFIXES:
        if full.startswith(prefix) and len(full[len(prefix) :].split()) >= NAME_MIN_WORDS:
            variants.add(full[len(prefix) :])
    # "Trần Thị Hường (thành viên tổ hợp tác …)": the person's name.
    person = " ".join(words(name.split("(")[0]))
    if "(" in name and len(person.split()) >= NAME_MIN_WORDS:
        variants.add(person)
    return variants


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text or "")


def load_book(value_dates: Iterable[date]) -> Book:
    """The active loans, their borrowers and what they have due, for lines of these
    value dates: two queries whatever the number of lines."""
    book = Book()
    dates = list(value_dates)
    rows = db.session.execute(
        select(
            Loan.id,
            Loan.contract_no,
            Loan.cooperative_id,
            Cooperative.name,
            Cooperative.tax_code,
            Cooperative.bank_account,
        )
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .where(Loan.status == LoanStatus.ACTIVE)
        .order_by(Loan.id)
    )
    sizes: dict[str, set[int]] = defaultdict(set)
    for loan_id, contract_no, coop_id, name, tax_code, account in rows:
        key = contract_key(contract_no)
        if len(key) >= CONTRACT_MIN and any(c.isdigit() for c in key):
            book.contracts.setdefault(key, []).append(loan_id)
        book.contract_no[loan_id] = contract_no
        book.loans_of.setdefault(coop_id, []).append(loan_id)
        if coop_id in book.coop_name:
            continue
        book.coop_name[coop_id] = name
        for variant in name_variants(name):
            book.names.setdefault(variant, set()).add(coop_id)
            sizes[variant.split()[0]].add(len(variant.split()))
        if tax_code:
            book.tax_codes[tax_code] = coop_id
        account_digits = _digits(account)
        if len(account_digits) >= 6:
            # An account two borrowers share names neither.
            seen = book.accounts.get(account_digits, coop_id)
            book.accounts[account_digits] = coop_id if seen == coop_id else None
    book.name_sizes = {w: sorted(s, reverse=True) for w, s in sizes.items()}
    if dates:
        _load_dues(book, max(dates) + timedelta(days=DUE_AHEAD_DAYS))
    return book


def _load_dues(book: Book, horizon: date) -> None:
    remaining = (
        Instalment.principal
        - Instalment.principal_paid
        + Instalment.interest
        - Instalment.interest_paid
        + Instalment.penalty_accrued
        - Instalment.penalty_paid
    )
    rows = db.session.execute(
        select(Instalment.loan_id, Instalment.no, Instalment.due_date, remaining)
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(
            Loan.status == LoanStatus.ACTIVE,
            Instalment.due_date <= horizon,
            or_(
                Instalment.principal_paid < Instalment.principal,
                Instalment.interest_paid < Instalment.interest,
                Instalment.penalty_accrued > Instalment.penalty_paid,
            ),
        )
        .order_by(Instalment.loan_id, Instalment.due_date, Instalment.no)
    )
    for loan_id, no, due_date, owed in rows:
        if owed > 0:
            book.dues.setdefault(loan_id, []).append(Due(no, due_date, int(owed)))
    ahead = timedelta(days=DUE_AHEAD_DAYS)
    for loan_id, dues in book.dues.items():
        total, sums = 0, []
        for index, due in enumerate(dues):
            total += due.remaining
            sums.append(total)
            # The first ``index + 1`` instalments are what is due for value dates from
            # (their last due date − ahead) until the next one's.
            until = dues[index + 1].due_date - ahead if index + 1 < len(dues) else date.max
            start = due.due_date - ahead
            if start < until:
                book.by_amount.setdefault(total, []).append((loan_id, start, until))
        book.cumulative[loan_id] = sums


def due_on(book: Book, loan_id: int, when: date) -> tuple[int | None, int]:
    """The oldest unpaid instalment's number and what the loan has due on ``when``."""
    dues = book.dues.get(loan_id, [])
    if not dues:
        return None, 0
    count = bisect.bisect_right([d.due_date for d in dues], when + timedelta(DUE_AHEAD_DAYS))
    return dues[0].no, book.cumulative[loan_id][count - 1] if count else 0


def _amount_note(book: Book, loan_id: int, row: Row) -> str:
    _no, due = due_on(book, loan_id, row.value_date)
    if due == row.amount:
        return _("Số tiền bằng số phải trả.")
    if due:
        return _("Số tiền khác số phải trả (%(due)s).", due=money_filter(due))
    return _("Khoản vay chưa có kỳ nào đến hạn.")


def _by_reference(book: Book, row: Row, text: str) -> Match | None:
    for found in _REFERENCE.finditer(text):
        loans = book.contracts.get(_NOT_ALNUM.sub("", found.group(1)), [])
        if len(loans) == 1:
            loan_id, instalment = loans[0], int(found.group(2))
            reason = _(
                "Mã tham chiếu “%(ref)s”: hợp đồng %(c)s, kỳ %(k)s.",
                ref=found.group(0).strip(),
                c=book.contract_no[loan_id],
                k=instalment,
            )
            note = _amount_note(book, loan_id, row)
            return Match(
                loan_id, instalment, "reference", CONFIDENCE["reference"], reason + " " + note
            )
    return None


def _by_contract(book: Book, row: Row, text: str) -> Match | None:
    pieces = [_NOT_ALNUM.sub("", w) for w in text.split()]
    for start in range(len(pieces)):
        key = ""
        for piece in pieces[start : start + CONTRACT_PIECES]:
            key += piece
            loans = book.contracts.get(key)
            if loans:
                # A book taken over may repeat a number of this fund's.
                loan_id = loans[0] if len(loans) == 1 else _pick(book, loans, row)[0]
                confidence = CONFIDENCE["contract" if len(loans) == 1 else "several"]
                reason = _("Nội dung có số hợp đồng %(c)s.", c=book.contract_no[loan_id])
                return Match(
                    loan_id,
                    due_on(book, loan_id, row.value_date)[0],
                    "contract",
                    confidence,
                    reason + " " + _amount_note(book, loan_id, row),
                )
    return None


def _pick(book: Book, loans: list[int], row: Row) -> tuple[int, bool]:
    """Of several loans, the one whose due equals the amount (True), else the one whose
    oldest unpaid instalment is the oldest (False)."""
    equal = [lid for lid in loans if due_on(book, lid, row.value_date)[1] == row.amount]
    if len(equal) == 1:
        return equal[0], True

    def oldest(loan_id: int) -> tuple[date, int]:
        dues = book.dues.get(loan_id)
        return (dues[0].due_date if dues else date.max, loan_id)

    return min(loans, key=oldest), False


def _borrower(book: Book, row: Row, text: str) -> tuple[int, str] | None:
    """The borrower the line names and how: tax code, payer's account, name."""
    for found in _TAX_CODE.finditer(text + " " + row.payer_name):
        for code in (found.group(1) + (found.group(2) or ""), found.group(1)):
            if code in book.tax_codes:
                coop = book.tax_codes[code]
                return coop, _("Mã số thuế %(t)s của %(n)s.", t=code, n=book.coop_name[coop])
    account = book.accounts.get(_digits(row.payer_account))
    if account is not None:
        return account, _(
            "Tài khoản người chuyển %(a)s là của %(n)s.",
            a=row.payer_account,
            n=book.coop_name[account],
        )
    for source in (row.payer_name, row.description):
        found_ids = _names_in(book, words(source))
        if len(found_ids) == 1:
            coop = found_ids.pop()
            return coop, _("Tên người vay %(n)s có trong nội dung.", n=book.coop_name[coop])
    return None


def _names_in(book: Book, tokens: list[str]) -> set[int]:
    """The borrowers whose longest name variant found in ``tokens`` is the longest match."""
    best, found = 0, set()
    for start, token in enumerate(tokens):
        for size in book.name_sizes.get(token, ()):
            if size < best:
                break
            coops = book.names.get(" ".join(tokens[start : start + size]))
            if coops:
                if size > best:
                    best, found = size, set()
                found |= coops
                break
    return found


def match(book: Book, row: Row) -> Match:
    """The loan ``row`` most likely pays, the method, the confidence and the reason."""
    text = fold(f"{row.description} {row.payer_name}").upper()
    found = _by_reference(book, row, text) or _by_contract(book, row, text)
    if found:
        return found
    named = _borrower(book, row, fold(row.description))
    if named:
        coop, why = named
        loans = book.loans_of[coop]
        loan_id, equal = _pick(book, loans, row)
        if len(loans) == 1:
            confidence = CONFIDENCE["borrower"]
            which = _("Khoản vay đang vay duy nhất: %(c)s.", c=book.contract_no[loan_id])
        else:
            confidence = CONFIDENCE["several"]
            which = (
                _(
                    "%(n)s khoản vay đang vay; chọn %(c)s vì số phải trả bằng số tiền.",
                    n=len(loans),
                    c=book.contract_no[loan_id],
                )
                if equal
                else _(
                    "%(n)s khoản vay đang vay; chọn %(c)s có kỳ chưa trả cũ nhất.",
                    n=len(loans),
                    c=book.contract_no[loan_id],
                )
            )
        note = _amount_note(book, loan_id, row)
        return Match(
            loan_id,
            due_on(book, loan_id, row.value_date)[0],
            "borrower",
            confidence,
            f"{why} {which} {note}",
        )
    candidates = {
        loan_id
        for loan_id, start, until in book.by_amount.get(row.amount, ())
        if start <= row.value_date < until
    }
    if len(candidates) == 1:
        loan_id = candidates.pop()
        return Match(
            loan_id,
            due_on(book, loan_id, row.value_date)[0],
            "amount",
            CONFIDENCE["amount"],
            _(
                "Không có mã tham chiếu hay tên người vay; số tiền bằng đúng số phải trả "
                "của hợp đồng %(c)s, không của khoản vay nào khác.",
                c=book.contract_no[loan_id],
            ),
        )
    if candidates:
        reason = _(
            "Số tiền bằng số phải trả của %(n)s khoản vay; cần chọn khoản vay.",
            n=len(candidates),
        )
    else:
        reason = _(
            "Không có mã tham chiếu, số hợp đồng hay người vay; số tiền không bằng số phải "
            "trả của khoản vay nào."
        )
    return Match(None, None, "none", 0, reason)
