"""Interest relief (miễn, giảm lãi) and removal from off-balance tracking (xuất toán),
through the services, with hand-checked figures."""

from __future__ import annotations

from datetime import date

import pytest

from fundapp.domain.errors import DomainError, PermissionDenied, ValidationFailed
from fundapp.extensions import db
from fundapp.ledger import accounts as acc
from fundapp.ledger.models import JournalEntry, JournalLine
from fundapp.ledger.services import balances, check_invariants
from fundapp.lending import writeoffs
from fundapp.loans import store
from fundapp.loans.models import Instalment, Loan, LoanStatus, LoanTransition
from fundapp.policy.models import PolicyParameter
from fundapp.repayments import services as rs
from fundapp.servicing import relief as rl
from fundapp.servicing import risk
from fundapp.servicing.close_day import run_close_day, run_pending
from tests.conftest import make_user
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

START = date(2026, 1, 15)
DUE = date(2026, 4, 15)
# 600.000.000 đ at 7 %/year, interest every 3 months, principal at maturity. The first
# interest row, due 15/04/2026, covers [15/01, 15/04) = 16 + 28 + 31 + 14 + 1 = 90 days:
# 600.000.000 × 7 × 90 / 36.500 = 10.356.164,38 → 10.356.164 đ.
FIRST_INTEREST = 10_356_164


def close(until: date, start: date) -> None:
    run_close_day(start, "cli")
    db.session.commit()
    run_pending(until, "cli")
    db.session.commit()


@pytest.fixture
def setup(app):
    staff = fund_and_staff()
    loan = contracted_loan(
        staff,
        amount=600_000_000,
        on=date(2026, 1, 5),
        annual_rate="7",
        principal_every_months=12,
        interest_every_months=3,
    )
    disburse(staff, loan, 600_000_000, START)
    return staff, loan


def request(staff, loan, as_of, **data):
    payload = {
        "kind": "reduction",
        "reason_code": "unable_to_pay",
        "interest": 3_500_000,
        "reason": "Thiên tai làm mất mùa vải thiều",
        "evidence": "Biên bản xác nhận thiệt hại của UBND xã ngày 18/04/2026",
    }
    payload.update(data)
    relief = rl.request_relief(staff.officer, loan.id, payload, as_of)
    db.session.commit()
    return relief


def relief_lines(relief) -> dict[str, tuple[int, int]]:
    return {
        line.account: (line.debit, line.credit)
        for line in db.session.query(JournalLine).filter_by(entry_id=relief.journal_entry_id)
    }


def test_a_relief_of_overdue_interest_lowers_dues_posts_and_a_later_payment_follows(setup):
    staff, loan = setup
    today = date(2026, 4, 20)
    close(today, date(2026, 4, 16))
    before = store.replay(loan).balances(today)
    assert before.interest_overdue == FIRST_INTEREST
    # Late interest on the unpaid interest, [15/04, 20/04) = 5 days:
    # 10.356.164 × 10 × 5 / 36.500 = 14.186,53 → 14.187.
    assert before.penalty_due == 14_187
    assert rl.waivable(loan, today) == rl.Waivable(today, FIRST_INTEREST, 14_187)

    relief = request(staff, loan, today)
    assert relief.status == "pending"
    # Nothing changes until it is approved.
    assert store.replay(loan).balances(today).interest_overdue == FIRST_INTEREST
    rl.decide_relief(staff.director, relief.id, True, "Đồng ý giảm", today)
    db.session.commit()

    after = store.replay(loan).balances(today)
    assert before.interest_overdue - after.interest_overdue == 3_500_000
    assert after.interest_overdue == 6_856_164  # 10.356.164 − 3.500.000
    assert after.penalty_due == 14_187  # the days before the relief still count
    assert after.principal_outstanding == before.principal_outstanding
    assert relief.effective_date == today
    assert relief.allocations == [{"no": 1, "component": "interest", "amount": 3_500_000}]
    # Group 1: the billed interest was income; the waiver reverses it.
    assert relief_lines(relief) == {
        acc.INTEREST_INCOME: (3_500_000, 0),
        acc.INTEREST_RECEIVABLE: (0, 3_500_000),
    }
    assert db.session.get(JournalEntry, relief.journal_entry_id).kind == "interest_relief"
    # The stored schedule settles the waived part (paid or waived) like the replay.
    first = db.session.query(Instalment).filter_by(loan_id=loan.id, no=1).one()
    assert first.interest - first.interest_paid == 6_856_164
    assert loan.interest_paid == 0  # no money came in
    assert loan.interest_reliefs == 1  # "could not pay" counts towards the debt group

    # A payment on 05/05/2026. Late interest on the unpaid interest:
    # [15/04, 20/04) 10.356.164 × 5 = 51.780.820; [20/04, 05/05) 6.856.164 × 15 = 102.842.460;
    # (51.780.820 + 102.842.460) × 10 / 36.500 = 42.362,54 → 42.363.
    # Without the relief: 10.356.164 × 20 × 10 / 36.500 = 56.746,10 → 56.746.
    pay_day = date(2026, 5, 5)
    assert store.replay(loan).balances(pay_day).penalty_due == 42_363
    repayment = rs.record_repayment(
        staff.accountant, loan.id, {"amount": 42_363 + 6_856_164, "date": pay_day}, pay_day
    )
    db.session.commit()
    assert {(a["component"], a["amount"]) for a in repayment.allocations} == {
        ("penalty", 42_363),
        ("interest", 6_856_164),
    }
    state = store.replay(loan)
    assert state.balances(pay_day).total_due == 0
    db.session.refresh(loan)
    assert (loan.interest_paid, loan.penalty_paid) == (6_856_164, 42_363)
    # The stored state is the replay's.
    for inst in loan.instalments:
        row = next(r for r in state.rows if r.no == inst.no)
        assert inst.interest - inst.interest_paid == row.interest_unpaid
    result = check_invariants()
    assert result.ok, result.problems


def test_off_balance_interest_relief_lowers_only_the_memo(setup):
    staff, loan = setup
    today = date(2026, 5, 15)  # 30 days past due: group 2 or worse, interest off-balance
    close(today, date(2026, 4, 16))
    db.session.refresh(loan)
    assert loan.debt_group >= 2
    memo = balances()[acc.SUSPENDED_INTEREST_MEMO]
    receivable = balances()[acc.INTEREST_RECEIVABLE]
    relief = request(staff, loan, today, reason_code="other")
    rl.decide_relief(staff.director, relief.id, True, "", today)
    db.session.commit()
    assert relief_lines(relief) == {
        acc.MEMO_CONTRA: (3_500_000, 0),
        acc.SUSPENDED_INTEREST_MEMO: (0, 3_500_000),
    }
    assert balances()[acc.SUSPENDED_INTEREST_MEMO] == memo - 3_500_000
    assert balances()[acc.INTEREST_RECEIVABLE] == receivable
    assert loan.interest_reliefs == 0  # "other" does not count
    assert check_invariants().ok


def test_maker_cannot_decide_and_the_director_only_within_the_limit(setup):
    staff, loan = setup
    today = date(2026, 4, 20)
    close(today, date(2026, 4, 16))
    both = make_user("officer", "director")
    relief = rl.request_relief(
        both,
        loan.id,
        {
            "kind": "reduction",
            "reason_code": "other",
            "interest": 3_500_000,
            "reason": "x",
            "evidence": "y",
        },
        today,
    )
    db.session.commit()
    with pytest.raises(PermissionDenied, match="tự phê duyệt"):
        rl.decide_relief(both, relief.id, True, "", today)
    db.session.rollback()
    # The director's authority: 3.000.000 đ from 01/04/2026; 3.500.000 is above it.
    db.session.add(
        PolicyParameter(
            key="director_relief_limit", value="3000000", effective_from=date(2026, 4, 1)
        )
    )
    db.session.commit()
    with pytest.raises(PermissionDenied, match="vượt thẩm quyền"):
        rl.decide_relief(staff.director, relief.id, True, "", today)
    db.session.rollback()
    assert db.session.get(type(relief), relief.id).status == "pending"
    assert store.replay(loan).balances(today).interest_overdue == FIRST_INTEREST
    rl.decide_relief(staff.board, relief.id, True, "Hội đồng đồng ý", today)
    db.session.commit()
    assert store.replay(loan).balances(today).interest_overdue == FIRST_INTEREST - 3_500_000


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"interest": FIRST_INTEREST + 1}, "interest"),  # more than is due
        ({"interest": 0, "penalty": 0}, "interest"),  # nothing
        ({"interest": "1,5"}, "interest"),  # not whole đồng
        ({"kind": "exemption", "interest": 1_000_000}, "interest"),  # an exemption is whole
        ({"reason_code": "bored"}, "reason_code"),
        ({"evidence": ""}, "evidence"),
        ({"penalty": 20_000}, "penalty"),  # 14.187 is owed
    ],
)
def test_bad_requests_are_refused_naming_the_field(setup, data, field):
    staff, loan = setup
    today = date(2026, 4, 20)
    close(today, date(2026, 4, 16))
    with pytest.raises(ValidationFailed) as exc:
        request(staff, loan, today, **data)
    assert field in exc.value.fields
    db.session.rollback()
    assert db.session.query(rl.InterestRelief).count() == 0


def test_an_exemption_of_everything_due_settles_the_row(setup):
    staff, loan = setup
    today = date(2026, 4, 20)
    close(today, date(2026, 4, 16))
    relief = request(staff, loan, today, kind="exemption", interest=FIRST_INTEREST, penalty=14_187)
    rl.decide_relief(staff.director, relief.id, True, "", today)
    db.session.commit()
    assert store.replay(loan).balances(today).total_due == 0
    assert relief_lines(relief) == {
        acc.INTEREST_INCOME: (FIRST_INTEREST, 0),
        acc.OVERDUE_INTEREST_INCOME: (14_187, 0),
        acc.INTEREST_RECEIVABLE: (0, FIRST_INTEREST + 14_187),
    }
    assert check_invariants().ok


def _written_off(staff, loan) -> date:
    # Nothing paid: the first interest row (15/04/2026) is 361 days past due on 11/04/2027.
    handled = date(2027, 4, 11)
    proposal = writeoffs.propose_write_off(staff.director, loan.id, "Mất khả năng trả nợ", handled)
    writeoffs.decide_write_off(staff.board, proposal.id, True, "Đồng ý xử lý rủi ro", handled)
    db.session.commit()
    return handled


def test_removal_is_refused_before_five_years_and_accepted_at_five(setup):
    staff, loan = setup
    handled = _written_off(staff, loan)
    assert loan.status == LoanStatus.WRITTEN_OFF
    assert balances()[acc.WRITTEN_OFF_MEMO] == 600_000_000
    # 11/04/2027 + 4 years = 11/04/2031, + 364 days = 09/04/2032 (2032 is a leap year):
    # one day short of five years (11/04/2032).
    short = date(2032, 4, 10)
    assert risk.removable_from(handled) == date(2032, 4, 11)
    with pytest.raises(DomainError, match="Chưa đủ 5 năm"):
        risk.propose_removal(staff.director, loan.id, "Đã hết thời hạn theo dõi", short)
    db.session.rollback()
    removal = risk.propose_removal(
        staff.director, loan.id, "Đã hết thời hạn theo dõi", date(2032, 4, 11)
    )
    db.session.commit()
    with pytest.raises(PermissionDenied):
        risk.decide_removal(staff.director, removal.id, True, "", date(2032, 4, 11))
    db.session.rollback()
    risk.decide_removal(staff.board, removal.id, True, "Đồng ý xuất toán", date(2032, 4, 11))
    db.session.commit()
    assert loan.status == LoanStatus.REMOVED
    assert balances()[acc.WRITTEN_OFF_MEMO] == 0
    lines = {
        line.account: (line.debit, line.credit)
        for line in db.session.query(JournalLine).filter_by(entry_id=removal.journal_entry_id)
    }
    assert lines == {acc.MEMO_CONTRA: (600_000_000, 0), acc.WRITTEN_OFF_MEMO: (0, 600_000_000)}
    moves = [
        (t.from_status, t.to_status)
        for t in db.session.query(LoanTransition)
        .filter_by(entity="loan", entity_id=loan.id)
        .order_by(LoanTransition.id)
    ]
    assert moves[-1] == ("written_off", "removed")
    result = check_invariants()
    assert result.ok, result.problems
    # Removed: nothing more to remove.
    with pytest.raises(DomainError):
        risk.propose_removal(staff.director, loan.id, "lần nữa", date(2032, 5, 1))


def test_removal_is_checked_again_at_approval(setup):
    staff, loan = setup
    handled = _written_off(staff, loan)
    removal = risk.propose_removal(
        staff.director, loan.id, "Hết thời hạn", risk.removable_from(handled)
    )
    db.session.commit()
    # An approval dated before the five years (a clock set back) is refused.
    with pytest.raises(DomainError, match="Chưa đủ 5 năm"):
        risk.decide_removal(staff.board, removal.id, True, "", date(2032, 4, 10))
    db.session.rollback()
    assert db.session.get(Loan, loan.id).status == LoanStatus.WRITTEN_OFF


def test_only_a_risk_handled_loan_can_be_removed(setup):
    staff, loan = setup
    with pytest.raises(DomainError, match="đã xử lý rủi ro"):
        risk.propose_removal(staff.director, loan.id, "x", date(2033, 1, 1))


def test_the_statement_shows_the_relief_and_its_balances_follow(setup):
    from fundapp.documents.statement import build_statement

    staff, loan = setup
    today = date(2026, 4, 20)
    close(today, date(2026, 4, 16))
    relief = request(staff, loan, today)
    rl.decide_relief(staff.director, relief.id, True, "", today)
    db.session.commit()
    statement = build_statement(loan, date(2026, 4, 1), date(2026, 4, 30))
    (line,) = [x for x in statement.lines if x.kind == "relief"]
    assert (line.day, line.interest_reduction, line.waived_penalty) == (today, 3_500_000, 0)
    # The running balance after the last line is the closing position.
    last = statement.lines[-1]
    assert last.interest_unpaid == statement.closing.interest_unpaid
    assert last.penalty_unpaid == statement.closing.penalty_due
    assert statement.closing.interest_unpaid == FIRST_INTEREST - 3_500_000
