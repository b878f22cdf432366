"""Random histories of one loan through the real services; the invariants of
docs/rules.md#posting-and-accounts after each step."""

from __future__ import annotations

import os
from datetime import date, timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from fundapp.domain import posting as posting_rule
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.ledger.services import check_invariants
from fundapp.lending import disbursements, restructuring
from fundapp.loans import posting, store, stored
from fundapp.loans.days import last_run_date
from fundapp.loans.models import Instalment, Loan, LoanStatus, Repayment
from fundapp.repayments import services as rs
from fundapp.servicing import close_day
from fundapp.servicing import relief as reliefs
from fundapp.support import services as support_services
from tests.conftest import fresh_database, shared_app
from tests.services.lending_helpers import contracted_loan, fund_and_staff

START = date(2026, 1, 15)


class LoanHistory(RuleBasedStateMachine):
    """Disbursements, repayments (on time, late, partial, over), reversals, restructurings."""

    def __init__(self) -> None:
        super().__init__()
        self._ctx = fresh_database(shared_app())
        self._ctx.__enter__()
        self.staff = fund_and_staff()
        self.today = START

    def teardown(self) -> None:
        self._ctx.__exit__(None, None, None)

    @initialize(
        method=st.sampled_from(["equal_principal", "annuity", "bullet"]),
        every=st.sampled_from([1, 3]),
        term=st.sampled_from([6, 12, 24]),
        support=st.sampled_from([None, (50, None), (100, 2_000_000)]),
    )
    def contract(
        self, method: str, every: int, term: int, support: tuple[int, int | None] | None
    ) -> None:
        interest_every = every if method != "bullet" else 3
        self.loan = contracted_loan(
            self.staff,
            amount=240_000_000,
            on=date(2026, 1, 5),
            principal_method=method,
            principal_every_months=every,
            interest_every_months=interest_every,
            term_months=term,
        )
        if support is not None:
            # Interest support on the instalments due from March to December 2026: a share of
            # each, and a cap the budget stops at.
            share, cap = support
            scheme = support_services.create_scheme(
                self.staff.director,
                {
                    "code": "HTLS",
                    "name": "Hỗ trợ lãi suất",
                    "legal_basis": "Nghị quyết 24/2018/NQ-HĐND",
                    "paying_agency": "Sở Tài chính",
                    "share": str(share),
                    "first_due": "2026-03-01",
                    "last_due": "2026-12-31",
                    "cap_per_loan": cap,
                },
            )
            support_services.enrol(self.staff.director, self.loan.id, scheme.id, self.today)
            db.session.commit()
            event(f"interest support {share} %")
        self._disburse(160_000_000)

    def _disburse(self, amount: int) -> None:
        d = disbursements.record_disbursement(
            self.staff.accountant, self.loan.id, {"amount": amount, "date": self.today}, self.today
        )
        disbursements.approve_disbursement(self.staff.director, d.id, self.today)
        db.session.commit()

    def _attempt(self, action) -> None:  # type: ignore[no-untyped-def]
        try:
            action()
            db.session.commit()
        except DomainError:
            db.session.rollback()

    @rule(days=st.integers(1, 75))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days=days)

    @precondition(lambda self: self.loan.status == LoanStatus.ACTIVE)
    @rule()
    def second_tranche(self) -> None:
        left = self.loan.amount - self.loan.disbursed
        if left and self.loan.maturity_date and self.today < self.loan.maturity_date:
            self._attempt(lambda: self._disburse(left))

    @precondition(lambda self: self.loan.status == LoanStatus.ACTIVE)
    @rule(kind=st.sampled_from(["on_time", "partial", "over", "payoff"]), back=st.integers(0, 20))
    def repay(self, kind: str, back: int) -> None:
        value_date = max(self.today - timedelta(days=back), self.loan.first_disbursement_date)
        state = store.replay(self.loan)
        due = state.balances(value_date).total_due
        payoff = state.payoff_amount(value_date)
        amount = {
            "on_time": due,
            "partial": due // 3,
            "over": due + 5_000_000,
            "payoff": payoff,
        }[kind]
        if amount <= 0:
            return
        latest = state.last_event is None or value_date >= state.last_event
        event("repayment, latest event" if latest else "repayment, back-dated")
        self._attempt(
            lambda: rs.record_repayment(
                self.staff.accountant,
                self.loan.id,
                {"amount": amount, "date": value_date},
                self.today,
            )
        )

    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        live = db.session.query(Repayment).filter_by(loan_id=self.loan.id, reversed=False).all()
        if not live:
            return
        target = data.draw(st.sampled_from(live))

        def go() -> None:
            reversal = rs.request_reversal(self.staff.accountant, target.id, "Nhầm chứng từ")
            rs.decide_reversal(self.staff.director, reversal.id, True, self.today)

        self._attempt(go)

    @precondition(lambda self: self.loan.status == LoanStatus.ACTIVE)
    @rule(months=st.integers(1, 12))
    def extend(self, months: int) -> None:
        maturity = self.loan.maturity_date
        if maturity is None or self.today >= maturity:
            return
        new_maturity = maturity + timedelta(days=30 * months)

        def go() -> None:
            request = restructuring.request_restructuring(
                self.staff.officer,
                self.loan.id,
                {
                    "kind": "extension",
                    "effective_date": self.today,
                    "new_maturity": new_maturity,
                    "reason": "Thiên tai",
                },
                self.today,
            )
            restructuring.decide_restructuring(
                self.staff.director, request.id, True, "", self.today
            )

        self._attempt(go)

    @precondition(lambda self: self.loan.status == LoanStatus.ACTIVE)
    @rule(part=st.sampled_from([1, 2, 3]), could_not_pay=st.booleans())
    def relieve(self, part: int, could_not_pay: bool) -> None:
        """An exemption (part 1) or a reduction of the interest and overdue interest owed."""
        can = reliefs.waivable(self.loan, self.today)
        interest, penalty = can.interest // part, can.penalty // part
        if interest + penalty <= 0:
            return

        def go() -> None:
            request = reliefs.request_relief(
                self.staff.officer,
                self.loan.id,
                {
                    "kind": "exemption" if part == 1 else "reduction",
                    "reason_code": "unable_to_pay" if could_not_pay else "other",
                    "interest": interest,
                    "penalty": penalty,
                    "reason": "Thiên tai",
                    "evidence": "Xác nhận của UBND xã",
                },
                self.today,
            )
            reliefs.decide_relief(self.staff.director, request.id, True, "", self.today)
            event("interest relief approved")

        self._attempt(go)

    @invariant()
    def books_hold(self) -> None:
        if not hasattr(self, "loan"):
            return
        result = check_invariants()
        assert result.ok, result.problems
        loan = db.session.get(Loan, self.loan.id)
        state = store.replay(loan)
        assert loan.principal_outstanding == state.principal_outstanding
        # Scheduled principal, plus principal prepaid ahead of the schedule, is what was lent.
        prepaid = sum(
            r.prepaid_principal
            for r in db.session.query(Repayment).filter_by(loan_id=loan.id, reversed=False)
        )
        assert sum(i.principal for i in loan.instalments) + prepaid == loan.disbursed
        assert all(i.principal >= 0 and i.interest >= 0 for i in loan.instalments)
        paid = sum(
            r.amount for r in db.session.query(Repayment).filter_by(loan_id=loan.id, reversed=False)
        )
        assert paid == loan.principal_paid + loan.interest_paid + loan.penalty_paid
        assert (loan.status == LoanStatus.CLOSED) == state.is_settled()
        # What the rows had waived is what the approved reliefs waived.
        waived = sum(
            r.interest + r.penalty for r in reliefs.reliefs_of(loan.id) if r.status == "approved"
        )
        assert sum(i.interest_waived + i.penalty_waived for i in loan.instalments) == waived

    @rule()
    def close_days(self) -> None:
        """The close of day up to today: overdue balance-days, transfers, groups, postings."""
        close_day.run_pending(self.today, "cli")
        event("close of day")

    @invariant()
    def stored_state_is_the_replay(self) -> None:
        """What the reads use (the stored rows, payments and waivers, no replay) is the
        replayed state, and gives the same figures on every date around today."""
        if not hasattr(self, "loan"):
            return
        loan = db.session.get(Loan, self.loan.id)
        if not loan.disbursed:
            return
        replayed, read = store.replay(loan), stored.state_of(loan)
        assert read == replayed
        for day in (self.today - timedelta(days=40), self.today, self.today + timedelta(days=95)):
            assert read.balances(day) == replayed.balances(day)
            assert read.payoff_amount(day) == replayed.payoff_amount(day)
        # Every stored column and the ledger are what the replay of the history gives. The
        # close of day keeps the overdue state (as of the last close of day) of active
        # loans; a closed loan keeps that of its last change.
        book_date = last_run_date()
        want = store.instalment_columns(replayed, book_date)
        overdue_state = {"principal_balance_days", "interest_balance_days", "penalty_accrued"}
        for i in db.session.scalars(select(Instalment).where(Instalment.loan_id == loan.id)):
            kept = set(want[i.no])
            if loan.status != LoanStatus.ACTIVE:
                kept -= overdue_state
            assert {k: getattr(i, k) for k in kept} == {k: want[i.no][k] for k in kept}, i.no
        assert len(loan.instalments) == len(want)
        have = posting.ledger_position(loan.id)
        target = posting_rule.targets(replayed, book_date, loan.debt_group, bool(loan.written_off))
        target = posting.with_doubtful_expense(loan.id, target, have, self.today)
        assert not posting_rule.differences(target, have)


LoanHistory.TestCase.settings = settings(
    max_examples=int(os.environ.get("FUNDAPP_STATEFUL_EXAMPLES", "20")),
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLoanHistory = LoanHistory.TestCase
