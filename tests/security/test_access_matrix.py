"""The access matrix: every route of the URL map × every actor (anonymous and each role),
on the own cooperative's objects and, where ownership matters, on another's, against the
hand-written table of tests/security/access_expectations.py.

The scenario holds two cooperatives with the same records (a draft application with a
document; an active loan with a posted and a pending disbursement, a repayment whose
reversal is pending, a pending restructuring and write-off, collateral, an inspection and
its overdue notices) and two pending policy changes (one proposed by another board member,
one by the board actor), so every URL argument names a real object of the right kind. Each
mutating request runs against that same scenario: the SQLite database is copied once and
restored after every request that may have changed it.
"""

from __future__ import annotations

import functools
import io
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.routing import Rule

from fundapp.auth.services import issue_token
from fundapp.banking import posting as bank_posting
from fundapp.banking import services as bank
from fundapp.documents import credit_file, pdf
from fundapp.extensions import db
from fundapp.lending import (
    applications,
    collateral,
    committee,
    disbursements,
    inspections,
    uploads,
    writeoffs,
)
from fundapp.lending import restructuring as lending_restructuring
from fundapp.loans.days import Notice
from fundapp.loans.models import Application, Collateral, Loan
from fundapp.loans.relief import OffBalanceRemoval
from fundapp.planning import services as planning
from fundapp.policy import services as policy
from fundapp.repayments import services as repayments
from fundapp.servicing import relief as reliefs
from fundapp.servicing.close_day import run_close_day
from tests.conftest import (
    BUSINESS_DATE,
    PG_URL,
    fresh_database,
    login,
    make_app,
    make_cooperative,
    make_user,
)
from tests.security.access_expectations import (
    ACTORS,
    ANONYMOUS,
    BOARD,
    COOPERATIVE,
    EXPECTED,
    ROLES,
    Access,
)
from tests.services.lending_helpers import (
    Staff,
    application_data,
    contracted_loan,
    disburse,
    fund_and_staff,
    support_with_claim,
)
from tests.services.test_bank_import import agribank_csv

# Who may do what does not depend on the database; the PostgreSQL run leaves it to SQLite.
pytestmark = pytest.mark.skipif(
    bool(PG_URL), reason="role and object rules are database-independent: run on SQLite"
)

IGNORED_METHODS = {"HEAD", "OPTIONS"}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
API = "/api/"

# The kind of object each URL argument names; some endpoints name theirs differently.
ARGUMENT_KINDS = {
    "coop_id": "cooperative",
    "loan_id": "loan",
    "app_id": "application",
    "application_id": "application",
    "doc_id": "document",
    "repayment_id": "repayment",
    "disbursement_id": "disbursement",
    "reversal_id": "reversal",
    "restructuring_id": "restructuring",
    "write_off_id": "write_off",
    "relief_id": "interest_relief",
    "removal_id": "removal",
    "notice_id": "notice",
    "user_id": "user",
    "token_id": "user_token",
    "key": "policy_key",
    "change_id": "policy_change",
    "code": "language",
    "filename": "static_file",
    "subject_id": "loan",
    "collateral_id": "collateral",
    "version": "file_version",
    "subject_type": "subject_type",
    "plan_id": "plan",
    "meeting_id": "meeting",
    "year": "ranking_year",
    "scheme_id": "support_scheme",
    "claim_id": "support_claim",
    "statement_id": "bank_statement",
    "line_id": "bank_line",
    "batch_id": "bank_batch",
}
ENDPOINT_ARGUMENT_KINDS = {
    ("loans.approve_disbursement", "item_id"): "pending_disbursement",
    ("loans.reject_disbursement", "item_id"): "pending_disbursement",
    ("loans.request_reversal", "item_id"): "repayment",
    ("loans.approve_reversal", "item_id"): "reversal",
    ("loans.reject_reversal", "item_id"): "reversal",
    ("loans.approve_restructuring", "item_id"): "restructuring",
    ("loans.reject_restructuring", "item_id"): "restructuring",
    ("loans.approve_write_off", "item_id"): "write_off",
    ("loans.reject_write_off", "item_id"): "write_off",
    ("api.approve_disbursement", "disbursement_id"): "pending_disbursement",
    ("api.reject_disbursement", "disbursement_id"): "pending_disbursement",
    ("api.revoke_own_token", "token_id"): "own_token",
    ("policy.approve_change", "item_id"): "policy_change",
    ("policy.reject_change", "item_id"): "policy_change",
    ("policy.withdraw_change", "item_id"): "own_policy_change",
    ("api.withdraw_policy_change", "change_id"): "own_policy_change",
    # The credit file: the loan's contract, issued in the scenario (version 1).
    ("credit_file.document", "key"): "file_kind",
    ("credit_file.version", "key"): "file_kind",
    ("credit_file.form", "key"): "file_kind",
    ("api.credit_file_document", "kind"): "file_kind",
    ("api.credit_file_version", "kind"): "file_kind",
    ("api.get_form_template", "kind"): "file_kind",
    ("api.change_form_template", "kind"): "file_kind",
    ("api.application_decision_pdf", "application_id"): "decided_application",
}
COOPERATIVE_OWNED = {
    "cooperative",
    "loan",
    "application",
    "document",
    "repayment",
    "disbursement",
    "pending_disbursement",
    "reversal",
    "restructuring",
    "write_off",
    "interest_relief",
    "removal",
    "collateral",
    "decided_application",
}
USER_OWNED = {"notice", "own_token"}
FIXED = {
    "policy_key": "min_equity_pct",
    "language": "vi",
    "static_file": "css/app.css",
    "file_kind": "contract",
    "file_version": 1,
    "subject_type": "loan",
}

START = date(2025, 1, 6)  # the loans' first disbursement: by the business date, > 360 days late


# --- the scenario ------------------------------------------------------------------------


def bank_batch(staff: Staff, loan_id: int) -> tuple[int, int, int]:
    """A statement of one credit assigned to the loan, in a batch waiting for the director."""
    data = agribank_csv([("FT2699001", BUSINESS_DATE, "", "1.000.000", "chuyen tien", "", "")])
    statement = bank.import_statement(staff.accountant, "AGRIBANK", "sao_ke.csv", data).statement
    line = bank.statement_lines(statement.id)[0]
    bank.correct_line(staff.accountant, line.id, "assign", loan_id)
    batch = bank_posting.post_batch(staff.accountant, statement.id, BUSINESS_DATE).batch
    assert batch.status == "pending"
    return statement.id, line.id, batch.id


@dataclass
class World:
    app: Flask
    objects: dict[str, dict[str, int]]  # "own" / "other" → kind → id
    own_notices: dict[str, int]  # actor → a notice addressed to it
    spare_tokens: dict[str, int]  # actor → a token of its own, not the one it signs with
    other_notice: int
    other_user: int
    other_token: int
    # Pending policy changes: one proposed by another board member, one by the actor.
    policy_changes: dict[str, int]
    # A draft annual plan and an open meeting of the risk committee (staff objects).
    staff_objects: dict[str, int]
    cookies: dict[str, str]
    bearers: dict[str, str]
    live: sqlite3.Connection
    snapshot: sqlite3.Connection

    def restore(self) -> None:
        db.session.remove()
        self.snapshot.backup(self.live)

    def value(self, kind: str, side: str, actor: str) -> Any:
        """The id (or name) a URL argument of ``kind`` takes for ``actor`` on ``side``."""
        if kind in FIXED:
            return FIXED[kind]
        if kind in self.policy_changes:
            return self.policy_changes[kind]
        if kind in self.staff_objects:
            return self.staff_objects[kind]
        if kind in COOPERATIVE_OWNED:
            return self.objects[side][kind]
        own = side == "own" and actor != ANONYMOUS
        if kind == "notice":
            return self.own_notices[actor] if own else self.other_notice
        if kind == "own_token":
            return self.spare_tokens[actor] if own else self.other_token
        return {"user": self.other_user, "user_token": self.other_token}[kind]


def _loan_book(staff: Staff, coop: Any) -> dict[str, int]:
    """A 12-month loan of 120.000.000 đ: 100.000.000 đ disbursed on 06/01/2025, a second
    tranche pending, 1.000.000 đ repaid and that receipt's reversal pending, an extension
    and a write-off pending, collateral, an inspection; and a draft application with a PDF."""
    loan = contracted_loan(staff, on=START, cooperative=coop)
    posted = disburse(staff, loan, 100_000_000, START)
    repayment = repayments.record_repayment(
        staff.accountant, loan.id, {"amount": 1_000_000, "date": date(2025, 2, 6)}, BUSINESS_DATE
    )
    pending = disbursements.record_disbursement(
        staff.accountant, loan.id, {"amount": 20_000_000, "date": "2025-03-06"}, BUSINESS_DATE
    )
    reversal = repayments.request_reversal(staff.accountant, repayment.id, "Ghi nhầm số tiền")
    extension = {
        "kind": "extension",
        "effective_date": "2025-12-01",
        "new_maturity": "2026-12-06",
        "reason": "Mất mùa vải thiều",
    }
    restructuring = lending_restructuring.request_restructuring(
        staff.officer, loan.id, extension, BUSINESS_DATE
    )
    write_off = writeoffs.propose_write_off(
        staff.director, loan.id, "Không còn khả năng thu hồi", BUSINESS_DATE
    )
    relief = reliefs.request_relief(
        staff.officer,
        loan.id,
        {
            "kind": "reduction",
            "reason_code": "unable_to_pay",
            "interest": 1_000,
            "reason": "Mất mùa vải thiều",
            "evidence": "Xác nhận của UBND xã",
        },
        BUSINESS_DATE,
    )
    # A removal proposal needs five years since the risk handling: written directly, so
    # the routes have one to walk (its approval is refused: the loan is not risk-handled).
    removal = OffBalanceRemoval(
        loan_id=loan.id, write_off_id=write_off.id, reason="x", proposed_by_id=staff.director.id
    )
    db.session.add(removal)
    item = collateral.add_collateral(
        staff.officer,
        loan,
        {
            "kind": "Quyền sử dụng đất",
            "description": "Thửa đất số 12, tờ bản đồ 3",
            "valuation": "200000000",
            "discount_factor": "0.5",
        },
    )
    inspections.add_inspection(
        staff.officer,
        loan,
        {"inspected_on": "2025-03-01", "finding": "proper", "notes": "Đúng mục đích"},
        BUSINESS_DATE,
    )
    draft = applications.create_application(
        staff.officer,
        application_data(coop, 50_000_000, project_name="Xưởng sơ chế vải thiều", term_months=24),
        BUSINESS_DATE,
    )
    pdf = FileStorage(io.BytesIO(b"%PDF-1.4 phuong an"), filename="phuong-an.pdf")
    document = uploads.save_document(draft, pdf, staff.officer)
    db.session.commit()
    return {
        "cooperative": coop.id,
        "loan": loan.id,
        "application": draft.id,
        "document": document.id,
        "repayment": repayment.id,
        "disbursement": posted.id,
        "pending_disbursement": pending.id,
        "reversal": reversal.id,
        "restructuring": restructuring.id,
        "write_off": write_off.id,
        "interest_relief": relief.id,
        "removal": removal.id,
        "collateral": item.id,
        "decided_application": loan.application_id,
    }


def _notice_for(user: Any, like: Notice) -> int:
    """A copy of an officer's notice addressed to ``user``: each actor has one of its own."""
    notice = Notice(
        kind=like.kind,
        event_key=like.event_key,
        recipient_key=f"user:{user.id}",
        business_date=like.business_date,
        loan_id=like.loan_id,
        user_id=user.id,
        title=like.title,
        body=like.body,
        data=like.data,
    )
    db.session.add(notice)
    db.session.flush()
    return notice.id


def _first_notice(**where: Any) -> Notice:
    notice = db.session.scalars(select(Notice).filter_by(**where).order_by(Notice.id)).first()
    assert notice is not None, where
    return notice


def _build(app: Flask) -> World:
    staff = fund_and_staff()
    coops = {side: make_cooperative(name=f"HTX {side}") for side in ("own", "other")}
    objects = {side: _loan_book(staff, coop) for side, coop in coops.items()}
    assert run_close_day(BUSINESS_DATE, "cli").ran
    db.session.commit()

    users = {
        role: make_user(role, username=f"matrix-{role}", cooperative=coops["own"])
        if role == COOPERATIVE
        else make_user(role, username=f"matrix-{role}")
        for role in ROLES
    }
    other_user = make_user(COOPERATIVE, username="matrix-other", cooperative=coops["other"])
    officer_notice = _first_notice(user_id=staff.officer.id)
    own_notices = {
        role: _notice_for(user, officer_notice)
        for role, user in users.items()
        if role != COOPERATIVE
    }
    own_notices[COOPERATIVE] = _first_notice(cooperative_id=coops["own"].id).id
    other_notice = _first_notice(cooperative_id=coops["other"].id).id

    bearers = {role: issue_token(user, 1, "matrix")[0] for role, user in users.items()}
    spare_tokens = {role: issue_token(user, 1, "spare")[1].id for role, user in users.items()}
    other_token = issue_token(other_user, 1, "other")[1].id
    other_user_id = other_user.id
    proposals = {
        kind: policy.propose(
            maker,
            "due_soon_days",
            days,
            date(2026, 12, day),
            "NQ 9/2026",
            "Nhắc sớm hơn",
            BUSINESS_DATE,
        ).id
        for kind, maker, days, day in (
            ("policy_change", staff.board, "10", 1),
            ("own_policy_change", users[BOARD], "14", 2),
        )
    }
    # The credit file's papers, issued once (a reader who issues nothing gets these), a
    # draft annual plan, and an open meeting of the risk committee for the last quarter.
    for side in ("own", "other"):
        ids = objects[side]
        for key, model, subject in (
            ("contract", Loan, ids["loan"]),
            ("collateral_contract", Collateral, ids["collateral"]),
            ("application", Application, ids["application"]),
            ("decision", Application, ids["decided_application"]),
        ):
            credit_file.issue(staff.officer, key, db.session.get(model, subject))
    plan = planning.create(staff.accountant, 2026, {"disbursed": "1.000.000.000"}, "Kế hoạch")
    meeting = committee.open_meeting(
        staff.board,
        "2026-Q3",
        committee.MeetingInput(date(2026, 11, 10), "Trụ sở Quỹ", "Hội đồng", ""),
        BUSINESS_DATE,
    )
    # The year before, planned, for its A/B/C self-assessment.
    planning.create(staff.accountant, 2025, {"bad_debt_ratio": "300"}, "Kế hoạch 2025")
    # An interest support scheme and a claim filed to its paying agency, not yet paid.
    scheme, claim = support_with_claim(staff.director)
    statement, line, batch = bank_batch(staff, objects["own"]["loan"])
    staff_objects = {
        "bank_statement": statement,
        "bank_line": line,
        "bank_batch": batch,
        "plan": plan.id,
        "meeting": meeting.id,
        "ranking_year": 2025,
        "support_scheme": scheme.id,
        "support_claim": claim.id,
    }
    db.session.commit()

    cookies = {}
    for role, user in users.items():
        client = app.test_client()
        assert login(client, user).status_code == 302, role
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        assert cookie is not None, role
        cookies[role] = cookie.value
    db.session.remove()

    pooled = db.engine.raw_connection()
    live = pooled.driver_connection
    pooled.close()  # back to the single in-memory connection's pool; the data stays
    snapshot = sqlite3.connect(":memory:")
    live.backup(snapshot)
    return World(
        app=app,
        objects=objects,
        own_notices=own_notices,
        spare_tokens=spare_tokens,
        other_notice=other_notice,
        other_user=other_user_id,
        other_token=other_token,
        policy_changes=proposals,
        staff_objects=staff_objects,
        cookies=cookies,
        bearers=bearers,
        live=live,
        snapshot=snapshot,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("access-matrix")
    app = make_app(UPLOAD_FOLDER=str(folder / "uploads"), IMPORT_FOLDER=str(folder / "imports"))
    with pytest.MonkeyPatch.context() as patch, fresh_database(app):
        # Every request builds its document's HTML itself, after its own access check; the
        # same HTML (the same document for another role) is laid out by WeasyPrint once.
        patch.setattr(pdf, "html_to_pdf", functools.cache(pdf.html_to_pdf))
        built = _build(app)
        try:
            yield built
        finally:
            built.snapshot.close()


# --- the URL map -------------------------------------------------------------------------


def _pairs(app: Flask) -> dict[tuple[str, str], Rule]:
    pairs = {}
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            assert (rule.endpoint, method) not in pairs, f"{rule.endpoint} {method} twice"
            pairs[(rule.endpoint, method)] = rule
    return pairs


def _kinds(rule: Rule) -> dict[str, str]:
    kinds = {}
    for argument in sorted(rule.arguments):
        kind = ENDPOINT_ARGUMENT_KINDS.get((rule.endpoint, argument)) or ARGUMENT_KINDS.get(
            argument
        )
        assert kind, f"{rule.endpoint}: no scenario object for the URL argument <{argument}>"
        kinds[argument] = kind
    return kinds


def _sides(actor: str, kinds: set[str]) -> list[str]:
    """The own cooperative's objects for everyone; another's where ownership matters: a
    cooperative user on another cooperative's, anyone signed in on another user's."""
    other = (actor == COOPERATIVE and kinds & COOPERATIVE_OWNED) or (
        actor != ANONYMOUS and kinds & USER_OWNED
    )
    return ["own", "other"] if other else ["own"]


# --- what is expected, what came back ------------------------------------------------------


def _describe(status: int, content: str = "", location: str = "") -> str:
    if status == 200:
        return f"200 {content}"
    if status == 302 and location == "/login":
        return "302 to /login"
    return str(status)


def _expected(access: Access, actor: str, side: str, kinds: set[str], api: bool) -> str:
    if actor not in access.who:
        if actor == ANONYMOUS:
            return "401" if api else "302 to /login"
        return "403"
    if side == "other":
        if kinds & USER_OWNED and actor not in access.others:
            return "404"
        if kinds & COOPERATIVE_OWNED and actor == COOPERATIVE:
            return "404"
    content = access.content or ("application/json" if api else "text/html")
    return _describe(access.by_role.get(actor, access.ok), content, access.location)


def _got(response: Any) -> str:
    location = urlsplit(response.headers.get("Location", "")).path
    return _describe(response.status_code, response.mimetype, location)


def _send(world: World, actor: str, method: str, url: str) -> str:
    api = url.startswith(API)
    client = world.app.test_client()
    headers = {}
    if actor != ANONYMOUS and api:
        headers["Authorization"] = f"Bearer {world.bearers[actor]}"
    elif actor != ANONYMOUS:
        client.set_cookie(world.app.config["SESSION_COOKIE_NAME"], world.cookies[actor])
    body: dict[str, Any] = {}
    if method in MUTATING - {"DELETE"}:
        body = {"json": {}} if api else {"data": {}}
    response = client.open(url, method=method, headers=headers, **body)
    got = _got(response)
    response.close()
    if method != "GET":
        world.restore()
    return got


# --- the tests ---------------------------------------------------------------------------


def test_every_route_of_the_url_map_has_an_expectation():
    pairs = set(_pairs(make_app()))
    missing = sorted(pairs - set(EXPECTED))
    stale = sorted(set(EXPECTED) - pairs)
    assert not missing and not stale, (
        "tests/security/access_expectations.py is out of step with the URL map.\n"
        + "".join(f"  no expectation for {endpoint} {method}\n" for endpoint, method in missing)
        + "".join(f"  no such route: {endpoint} {method}\n" for endpoint, method in stale)
    )


def test_the_table_names_known_actors_only():
    for key, access in EXPECTED.items():
        assert access.who and access.who <= set(ACTORS), key
        assert access.others <= access.who, key
        assert set(access.by_role) <= access.who, key


def test_every_route_answers_every_actor_as_the_table_says(world):
    pairs = _pairs(world.app)
    mismatches: list[str] = []
    walked: set[tuple[str, str]] = set()
    requests = 0
    for (endpoint, method), rule in sorted(pairs.items()):
        access = EXPECTED.get((endpoint, method))
        if access is None:
            mismatches.append(f"{method} {rule.rule}: no expectation for {endpoint}")
            continue
        kinds = _kinds(rule)
        owned = set(kinds.values())
        api = rule.rule.startswith(API)
        for actor in ACTORS:
            for side in _sides(actor, owned):
                values = {arg: world.value(kind, side, actor) for arg, kind in kinds.items()}
                url = rule.build(values, append_unknown=False)[1]
                expected = _expected(access, actor, side, owned, api)
                got = _send(world, actor, method, url)
                requests += 1
                if got != expected:
                    mismatches.append(
                        f"{method} {url} as {actor} ({side}): expected {expected}, got {got}"
                    )
        walked.add((endpoint, method))
    assert not mismatches, f"{len(mismatches)} of {requests} answers differ:\n" + "\n".join(
        mismatches
    )
    assert walked == set(pairs) == set(EXPECTED), (
        f"walked {len(walked)} of the {len(pairs)} (endpoint, method) pairs of the URL map"
    )
