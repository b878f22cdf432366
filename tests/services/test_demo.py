from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from fundapp.auth.models import User
from fundapp.cooperatives.models import Cooperative
from fundapp.extensions import db
from fundapp.ledger.models import CapitalEntry
from fundapp.ledger.services import fund_position
from fundapp.loans.models import (
    Application,
    Collateral,
    Disbursement,
    Inspection,
    Instalment,
    Loan,
    Repayment,
)
from tests.conftest import BUSINESS_DATE, login


def test_demo_seed_builds_the_bac_giang_fund(app, runner, client):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    position = fund_position()
    assert position.total_capital == 17_547_000_000
    assert position.outstanding == 14_450_000_000
    assert position.total_sources == position.total_uses
    # capital − outstanding + interest collected in cash = cash
    collected = sum(loan.interest_paid + loan.penalty_paid for loan in db.session.query(Loan))
    assert collected > 0
    assert position.cash == 17_547_000_000 - 14_450_000_000 + collected
    # The close of day of the business date has run: arrears in groups 2–5, provisions,
    # overdue principal on its own account, notices.
    from fundapp.loans.days import CloseDayRun, LoanDay, Notice

    assert db.session.query(CloseDayRun).count() == 1
    groups = {d.debt_group for d in db.session.query(LoanDay)}
    assert {2, 3, 4, 5} <= groups
    assert position.loans_overdue > 0 and position.provision > 0
    assert db.session.query(Notice).count() > 0
    _check_loan_book()
    # The Bắc Giang cooperatives keep their ten 2021 districts (former districts) and show
    # today's communes; the four of former Bắc Ninh (former province 27) have no loan.
    coops = list(db.session.query(Cooperative))
    located = {c.id: c.area for c in coops}
    bac_giang = [c for c in coops if located[c.id].former_province_code == "24"]
    bac_ninh = [c for c in coops if located[c.id].former_province_code == "27"]
    assert len(bac_giang) == 42 and len(bac_ninh) == 4
    assert len({c.former_district_code for c in bac_giang}) == 10
    # Xã Phúc Sơn (07318, Tân Yên) vanished on 01/01/2025 and the data names no successor:
    # the one cooperative whose commune an officer must confirm.
    doubtful = [c.name for c in coops if located[c.id].needs_confirming]
    assert doubtful == ["HTX Vải sớm Phúc Hòa"]
    assert all(located[c.id].commune_code for c in coops if c.name not in doubtful)
    assert {located[c.id].province_code for c in coops if c.name not in doubtful} == {"24"}
    assert (
        not db.session.query(Loan).filter(Loan.cooperative_id.in_([c.id for c in bac_ninh])).count()
    )
    in_progress = db.session.query(Application).filter(
        Application.cooperative_id.in_([c.id for c in bac_ninh])
    )
    assert sorted(a.status for a in in_progress) == ["draft", "draft", "submitted", "submitted"]
    roles = {r for u in db.session.query(User) for r in u.role_names}
    assert roles == {
        "officer",
        "accountant",
        "director",
        "board",
        "controller",
        "cooperative",
        "admin",
    }
    check = runner.invoke(args=["fund", "check"])
    assert check.exit_code == 0, check.output

    from fundapp.demo.seed import DEMO_PASSWORD

    director = db.session.query(User).filter_by(username="giamdoc").one()
    login(client, director, DEMO_PASSWORD)
    page = client.get("/fund").get_data(as_text=True)
    assert "17.547.000.000 đ" in page
    assert "14.450.000.000 đ" in page

    # Two board members: a policy change proposed by one takes effect when the other approves.
    from datetime import date

    from fundapp.policy import services as policy

    chair = db.session.query(User).filter_by(username="chutich").one()
    member = db.session.query(User).filter_by(username="hoidong").one()
    change = policy.propose(
        chair,
        "single_borrower_limit_pct",
        "12",
        date(2026, 12, 20),
        "Nghị quyết HĐQL số 01/2026",
        "Siết hạn mức cho vay một khách hàng",
        date(2026, 12, 7),
    )
    policy.approve(member, change.id, date(2026, 12, 7))
    db.session.commit()
    assert policy.value("single_borrower_limit_pct", date(2026, 12, 19)) == 15
    assert policy.value("single_borrower_limit_pct", date(2026, 12, 20)) == 12

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code != 0 and "already has data" in again.output
    skipped = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert skipped.exit_code == 0 and "skipped" in skipped.output


def _check_loan_book() -> None:
    """The 49 projects of the fund's report, built through the services (README, "Demo logins")."""
    loans = list(db.session.scalars(select(Loan).order_by(Loan.id)))
    active = [loan for loan in loans if loan.status == "active"]
    assert len(active) == 49
    assert sum(loan.principal_outstanding for loan in active) == 14_450_000_000
    assert [loan.status for loan in loans].count("closed") == 1
    assert len(loans) == 50
    assert [loan.extensions for loan in loans].count(1) == 1
    closed = next(loan for loan in loans if loan.status == "closed")
    assert closed.principal_outstanding == 0 and closed.closed_on <= BUSINESS_DATE

    # Realistic terms: whole amounts, 100–800 triệu, 6.0–7.2 %/year, 12–60 months.
    for loan in loans:
        assert loan.amount % 10_000_000 == 0
        assert 100_000_000 <= loan.amount <= 800_000_000
        assert Decimal("6.0") <= loan.annual_rate <= Decimal("7.2")
        assert 12 <= loan.term_months <= 60
        assert loan.disbursed == loan.amount
        assert loan.first_disbursement_date < BUSINESS_DATE
    methods = Counter(loan.principal_method for loan in loans)
    assert methods["equal_principal"] > 30
    assert methods["annuity"] >= 2 and methods["bullet"] >= 2 and methods["custom"] == 1
    ages = [(BUSINESS_DATE - loan.first_disbursement_date).days for loan in loans]
    assert min(ages) < 90 and max(ages) > 3 * 365

    # Above the director's limit: approved by the board; nothing over one borrower's limit.
    big = [loan for loan in loans if loan.amount > 500_000_000]
    assert 1 <= len(big) <= 2
    for loan in big:
        assert loan.application.decided_by.username == "chutich"
    for loan in loans:
        if loan.amount <= 500_000_000:
            assert loan.application.decided_by.username == "giamdoc"
        assert loan.application.appraised_by.username == "canbo2"
        assert loan.application.created_by.username == "canbo"
    per_borrower: defaultdict[int, int] = defaultdict(int)
    for loan in active:
        per_borrower[loan.cooperative_id] += loan.principal_outstanding
    assert max(per_borrower.values()) <= 2_250_000_000
    for app in db.session.scalars(select(Application)):
        assert app.own_equity * 5 >= app.total_project_cost  # own equity ≥ 20 %

    # Every disbursement approved by another user, never before the capital it needs.
    first_capital = db.session.scalar(select(func.min(CapitalEntry.entry_date)))
    for disbursement in db.session.scalars(select(Disbursement)):
        assert disbursement.status == "posted"
        assert disbursement.recorded_by.username == "ketoan"
        assert disbursement.approved_by.username == "giamdoc"
        assert first_capital < disbursement.value_date <= BUSINESS_DATE
    latest_repayment = db.session.scalar(select(func.max(Repayment.value_date)))
    assert latest_repayment <= BUSINESS_DATE
    assert db.session.scalar(select(func.count(Repayment.id))) > 200

    # Arrears: a few loans with an instalment unpaid after its due date (groups 2–5 later).
    oldest_unpaid = dict(
        db.session.execute(
            select(Instalment.loan_id, func.min(Instalment.due_date))
            .join(Loan)
            .where(
                Loan.status == "active",
                Instalment.due_date < BUSINESS_DATE,
                (Instalment.principal_paid < Instalment.principal)
                | (Instalment.interest_paid < Instalment.interest),
            )
            .group_by(Instalment.loan_id)
        ).all()
    )
    assert len(oldest_unpaid) >= 4
    days = sorted((BUSINESS_DATE - due).days for due in oldest_unpaid.values())
    assert days[0] >= 10 and days[-1] > 360
    assert any(91 <= d <= 180 for d in days) and any(181 <= d <= 360 for d in days)

    # The demo cooperative logins each have an active loan; one of them in arrears.
    for username in ("htx.vaithieu", "htx.gadoi"):
        user = db.session.query(User).filter_by(username=username).one()
        theirs = [loan for loan in active if loan.cooperative_id == user.cooperative_id]
        assert theirs, username
    gadoi = db.session.query(User).filter_by(username="htx.gadoi").one()
    assert any(
        loan.cooperative_id == gadoi.cooperative_id and loan.id in oldest_unpaid for loan in active
    )
    assert db.session.scalar(select(func.count(Collateral.id))) >= 3
    assert db.session.scalar(select(func.count(Inspection.id))) >= 1


def test_users_create_cli(app, runner):
    ok = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "ketoan2",
            "--password",
            "Ketoan20261",
            "--role",
            "accountant",
            "--role",
            "officer",
        ]
    )
    assert ok.exit_code == 0, ok.output
    user = db.session.query(User).filter_by(username="ketoan2").one()
    assert user.role_names == ["accountant", "officer"]
    bad = runner.invoke(
        args=["users", "create", "--username", "x", "--password", "short", "--role", "wizard"]
    )
    assert bad.exit_code != 0
    assert "Traceback" not in bad.output
    coop_without_link = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "htxuser",
            "--password",
            "Htxuser2026",
            "--role",
            "cooperative",
        ]
    )
    assert coop_without_link.exit_code != 0
    assert "gắn với một hợp tác xã" in coop_without_link.output
