"""Web-layer attacks: forged cross-site forms, cookies, headers, password guessing, open
redirects and session fixation.

One fund is built for the module through the real services, with CSRF protection on as in
production. The CSRF walk reads the app's URL map: every mutating web route is posted to,
with the fields of the form the app itself renders for it, without a token and with bad
ones, and the whole database and the upload folders must come out unchanged.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from itertools import product
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect, Rule

from config import ProductionConfig
from fundapp.app import create_app
from fundapp.auth import services as auth_services
from fundapp.core.security import MONEY_AND_APPROVAL
from fundapp.documents import credit_file
from fundapp.domain.dates import utcnow
from fundapp.extensions import db
from fundapp.ledger.models import CapitalEntry
from fundapp.lending import applications, committee, disbursements, writeoffs
from fundapp.lending import restructuring as lending_restructuring
from fundapp.lending.uploads import save_document
from fundapp.loans.days import Notice
from fundapp.planning import services as planning
from fundapp.policy import services as policy
from fundapp.repayments import services as rs
from fundapp.servicing import relief as reliefs
from fundapp.servicing import risk
from tests.conftest import (
    BUSINESS_DATE,
    PASSWORD,
    fresh_database,
    make_app,
    make_cooperative,
    make_user,
)
from tests.documents.helpers import repay
from tests.security.test_access_matrix import bank_batch
from tests.services.lending_helpers import (
    contracted_loan,
    disburse,
    fund_and_staff,
    support_with_claim,
)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_MESSAGES = (  # in Vietnamese and, once a session chose it, in English
    "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ",
    "Your session has expired or the form is invalid",
)
ROLE_MESSAGES = (
    "Bạn không có quyền thực hiện thao tác này.",
    "You do not have permission to perform this action.",
)
LOCK_MESSAGE = "Tạm khóa đăng nhập do nhập sai nhiều lần"
FAILED_MESSAGE = "Tên đăng nhập hoặc mật khẩu không đúng."
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CSV = b"ma_hop_dong,ma_so_thue\nKU-1,0100000001\n"
NEW_PASSWORD = "MoiHon2026x"
WRONG_PASSWORD = "Sai2026sai"
# What a person would type into an empty field of that name (form prefixes stripped).
TYPED = {
    "amount": "5.000.000",
    "recommended_amount": "50.000.000",
    "total_project_cost": "400.000.000",
    "own_equity": "200.000.000",
    "requested_amount": "200.000.000",
    "term_months": "24",
    "valuation": "200.000.000",
    "discount_factor": "0,5",
    "value": "25",
    "date": "20/11/2026",
    "entry_date": "20/11/2026",
    "contract_date": "20/11/2026",
    "effective_date": "20/11/2026",
    "effective_from": "20/11/2026",
    "inspected_on": "20/11/2026",
    "new_maturity": "05/06/2027",
    "reference": "UNC-2026-11",
    "username": "kiemthu.csrf",
    "password": NEW_PASSWORD,
    "new_password": NEW_PASSWORD,
    "confirm": NEW_PASSWORD,
    "current_password": PASSWORD,
    "registration_no": "5400123456",
    "tax_code": "0100000099",
    "members_count": "12",
    "phone": "0912345678",
    "bank_account": "0123456789",
    # Left empty: an address would make the close of day render and mail each notice's PDF.
    "email": "",
}
FILLER = "Kiểm thử giả mạo yêu cầu"
SAFE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


# --- the fund under attack ------------------------------------------------------------


@dataclass
class World:
    app: Flask
    boss: Any  # every money and approval role: entitled to every staff form but the admin's
    admin: Any  # the administrator, who holds no other role: the account forms
    member: Any  # the user of cooperative A
    loan: Any
    ids: dict[str, list[Any]]
    folders: tuple[Path, ...]


def _application_data(coop: Any) -> dict[str, Any]:
    return {
        "cooperative_id": coop.id,
        "project_name": "Nhà sơ chế và kho lạnh vải thiều",
        "purpose": "Mua máy sấy",
        "total_project_cost": 400_000_000,
        "own_equity": 200_000_000,
        "requested_amount": 200_000_000,
        "term_months": 24,
        "annual_rate": "6",
        "principal_method": "equal_principal",
    }


def _notice(key: str, recipient: str, **owner: Any) -> Notice:
    notice = Notice(
        kind="due_soon",
        event_key=key,
        recipient_key=recipient,
        business_date=BUSINESS_DATE,
        title="Thông báo đến hạn trả nợ",
        data={"no": 11, "due_date": "2026-12-05", "amount": 10_000_000},
        **owner,
    )
    db.session.add(notice)
    return notice


def _build_world(app: Flask, folders: tuple[Path, ...]) -> World:
    """Objects in every state a form is offered in: applications draft, submitted,
    appraised; a loan approved, one active with a pending tranche, reversal and
    restructuring, one long overdue with a pending write-off; documents, notices, a token;
    two pending policy changes."""
    staff = fund_and_staff()
    boss = make_user("officer", "accountant", "director", "board", username="chi.huy")
    admin = make_user("admin", username="quan.tri")
    coop_a, coop_b = make_cooperative(email=""), make_cooperative(email="")
    member = make_user("cooperative", cooperative=coop_a)

    loan = contracted_loan(staff, cooperative=coop_a)
    disburse(staff, loan, 80_000_000, date(2026, 1, 5))
    paid = repay(staff, loan, 5_000_000, date(2026, 2, 5))
    mistake = repay(staff, loan, 1_000_000, date(2026, 3, 5))
    reversal = rs.request_reversal(staff.accountant, mistake.id, "Ghi nhầm khoản vay")
    extension = {
        "kind": "extension",
        "effective_date": "2026-11-20",
        "new_maturity": "2027-06-05",
        "reason": "Mất mùa do sương muối",
    }
    restructuring = lending_restructuring.request_restructuring(
        staff.officer, loan.id, extension, BUSINESS_DATE
    )
    tranche = disbursements.record_disbursement(
        staff.accountant, loan.id, {"amount": 20_000_000, "date": BUSINESS_DATE}, BUSINESS_DATE
    )
    db.session.commit()

    bad_loan = contracted_loan(staff, cooperative=coop_b, on=date(2025, 1, 6))
    disburse(staff, bad_loan, 120_000_000, date(2025, 1, 6))
    write_off = writeoffs.propose_write_off(
        staff.director, bad_loan.id, "HTX giải thể", BUSINESS_DATE
    )
    relief = reliefs.request_relief(
        staff.officer,
        loan.id,
        {"kind": "reduction", "reason_code": "unable_to_pay", "interest": 1_000,
         "reason": "Mất mùa do sương muối", "evidence": "Xác nhận của UBND xã"},
        BUSINESS_DATE,
    )  # fmt: skip
    # Risk-handled more than five years ago: its removal from off-balance tracking pending.
    old_loan = contracted_loan(staff, cooperative=coop_b, on=date(2020, 1, 6))
    disburse(staff, old_loan, 120_000_000, date(2020, 1, 6))
    handled = writeoffs.propose_write_off(staff.director, old_loan.id, "Mất vốn", date(2021, 3, 1))
    writeoffs.decide_write_off(staff.board, handled.id, True, "Đồng ý xử lý", date(2021, 3, 1))
    removal = risk.propose_removal(staff.director, old_loan.id, "Hết hạn theo dõi", BUSINESS_DATE)

    draft = applications.create_application(staff.officer, _application_data(coop_a), BUSINESS_DATE)
    submitted = applications.create_application(
        staff.officer, _application_data(coop_b), BUSINESS_DATE
    )
    applications.submit(staff.officer, submitted)
    appraised = applications.create_application(
        staff.officer, _application_data(coop_b), BUSINESS_DATE
    )
    applications.submit(staff.officer, appraised)
    applications.appraise(staff.appraiser, appraised, 200_000_000, "Khả thi", BUSINESS_DATE)
    approved = applications.create_application(
        staff.officer, _application_data(coop_b), BUSINESS_DATE
    )
    applications.submit(staff.officer, approved)
    applications.appraise(staff.appraiser, approved, 200_000_000, "Khả thi", BUSINESS_DATE)
    new_loan = applications.approve(staff.director, approved, "Đồng ý", BUSINESS_DATE)
    own_data = {k: v for k, v in _application_data(coop_a).items() if k != "annual_rate"}
    own = applications.create_application(member, own_data, BUSINESS_DATE)
    # Pending changes of the policy page's parameter: one another board member proposed (the
    # boss may approve or reject it), one the boss proposed (the boss may withdraw it).
    for maker, value, day in ((staff.board, "25", 1), (boss, "30", 2)):
        policy.propose(
            maker, "min_equity_pct", value, date(2026, 12, day), "NQ 2/2026", "Siết", BUSINESS_DATE
        )
    docs = [
        save_document(app_, FileStorage(io.BytesIO(PDF), "phuong-an.pdf"), actor)
        for app_, actor in ((draft, staff.officer), (own, member))
    ]

    _notice(f"loan:{loan.id}:inst:11:officer", f"user:{boss.id}", user_id=boss.id)
    coop_notice = _notice(f"loan:{loan.id}:inst:11", f"coop:{coop_a.id}", cooperative_id=coop_a.id)
    _raw, token = auth_services.issue_token(staff.officer, 12, "tich-hop")
    # The credit file's contract issued once, a draft annual plan, an open committee meeting.
    credit_file.issue(staff.officer, "contract", loan)
    plan = planning.create(staff.accountant, 2026, {"disbursed": "1.000.000.000"}, "Kế hoạch")
    # The year before, planned: its A/B/C self-assessment can be recorded.
    planning.create(staff.accountant, 2025, {"bad_debt_ratio": "300"}, "Kế hoạch 2025")
    meeting = committee.open_meeting(
        staff.board,
        "2026-Q3",
        committee.MeetingInput(date(2026, 11, 10), "Trụ sở Quỹ", "Hội đồng", ""),
        BUSINESS_DATE,
    )
    # An interest support scheme with a claim filed to its agency.
    scheme, claim = support_with_claim(staff.director)
    # A bank statement of one credit assigned to the loan, in a batch waiting for the director.
    statement, line, batch = bank_batch(staff, loan.id)
    db.session.commit()

    ids: dict[str, list[Any]] = {
        "loan_id": [loan.id, bad_loan.id, new_loan.id, old_loan.id],
        "relief_id": [relief.id],
        "removal_id": [removal.id],
        "application_id": [draft.id, submitted.id, appraised.id, own.id],
        "doc_id": [d.id for d in docs],
        "item_id": [tranche.id, reversal.id, restructuring.id, write_off.id, paid.id],
        "coop_id": [coop_a.id],
        "user_id": [staff.officer.id],
        "token_id": [token.id],
        "notice_id": [coop_notice.id],
        "key": ["min_equity_pct", "contract"],
        "code": ["en"],
        "subject_id": [loan.id],
        "version": [1],
        "plan_id": [plan.id],
        "meeting_id": [meeting.id],
        "year": [2025],
        "scheme_id": [scheme.id],
        "claim_id": [claim.id],
        "statement_id": [statement],
        "line_id": [line],
        "batch_id": [batch],
        "write_off_id": [write_off.id],
    }
    return World(app, boss, admin, member, loan, ids, folders)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("hardening")
    uploads, imports = folder / "uploads", folder / "imports"
    app = make_app(WTF_CSRF_ENABLED=True, UPLOAD_FOLDER=str(uploads), IMPORT_FOLDER=str(imports))
    with fresh_database(app):
        yield _build_world(app, (uploads, imports))


# --- pages, forms, sessions -----------------------------------------------------------


@dataclass
class HtmlForm:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # name, accept


class FormParser(HTMLParser):
    """The POST forms of a page, with the values a browser would submit untouched."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._select: dict[str, Any] | None = None
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                action = urljoin(self.page_url, a.get("action") or self.page_url)
                self._form = HtmlForm(action.split("#")[0])
            return
        name = a.get("name")
        if self._form is None:
            return
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                self._form.files.append((name, a.get("accept") or ""))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((name, a.get("value") or "on"))
            elif kind not in ("submit", "button", "reset", "image"):
                self._form.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = {"name": name, "options": [], "selected": None}
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            self._select["options"].append(value)
            if "selected" in a:
                self._select["selected"] = value
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag: str) -> None:
        if self._form is None:
            return
        if tag == "form":
            self.forms.append(self._form)
            self._form = None
        elif tag == "select" and self._select is not None:
            chosen = self._select["selected"]
            if chosen is None:  # a browser sends the first option; a person picks a real one
                chosen = next((v for v in self._select["options"] if v), "")
            self._form.fields.append((self._select["name"], chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the newline that starts a textarea's content.
            self._form.fields.append((self._textarea[0], self._textarea[1].lstrip("\r\n")))
            self._textarea = None


def forms_on(response: Any, url: str) -> list[HtmlForm]:
    if response.status_code != 200 or response.mimetype != "text/html":
        return []
    parser = FormParser(f"http://localhost{url}")
    parser.feed(response.get_data(as_text=True))
    return parser.forms


def csrf_token(client: FlaskClient, url: str = "/login") -> str:
    with client.get(url) as response:
        forms = forms_on(response, url)
    for form in forms:
        for name, value in form.fields:
            if name == "csrf_token":
                return value
    raise AssertionError(f"no CSRF token on {url}")


def browser(app: Flask, address: str = "127.0.0.1") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(
    client: FlaskClient,
    username: str,
    password: str = PASSWORD,
    query: str = "",
    **extra: str,
) -> Any:
    data = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    return client.post(f"/login{query}", data={**data, **extra})


def signed_in(app: Flask, user: Any, address: str = "127.0.0.1", **extra: str) -> FlaskClient:
    client = browser(app, address)
    assert sign_in(client, user.username, **extra).status_code == 302
    return client


def session_of(client: FlaskClient) -> dict[str, Any]:
    with client.session_transaction() as session:
        return dict(session)


def state_digest(world: World) -> str:
    """Every row of every table, and every file of the upload and import folders."""
    db.session.rollback()
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        rows = sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
        digest.update(f"{table.name}:{len(rows)}:{rows}".encode())
    for folder in world.folders:
        if folder.exists():
            for path in sorted(folder.rglob("*")):
                digest.update(f"{path}:{path.stat().st_size}".encode())
    return digest.hexdigest()


def parse_cookies(response: Any) -> dict[str, dict[str, str]]:
    """``Set-Cookie`` headers as {name: {"value": …, attribute (lower case): value}}."""
    cookies: dict[str, dict[str, str]] = {}
    for header in response.headers.getlist("Set-Cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        name, _sep, value = first.partition("=")
        cookie = {"value": value}
        for attribute in attributes:
            key, _sep, val = attribute.partition("=")
            cookie[key.lower()] = val
        cookies[name] = cookie
    return cookies


def is_on_site(location: str) -> bool:
    """A redirect a browser resolves to this host: a path, never a scheme or a host, nor the
    backslash and control-character spellings browsers read as one."""
    if not location.startswith("/") or location.startswith(("//", "/\\")):
        return False
    if "\\" in location or any(ord(c) < 32 or ord(c) == 127 for c in location):
        return False
    parts = urlsplit(location)
    resolved = urlsplit(urljoin("https://quy.example/login", location))
    return not parts.scheme and not parts.netloc and resolved.netloc == "quy.example"


def _build(rule: Rule, ids: dict[str, list[Any]]) -> list[str]:
    missing = sorted(set(rule.arguments) - set(ids))
    assert not missing, f"{rule.rule}: the scenario has no value for {missing}; add one"
    names = sorted(rule.arguments)
    return [
        rule.build(dict(zip(names, combo, strict=True)), append_unknown=False)[1]
        for combo in product(*(ids[name] for name in names))
    ]


def _web_rules(app: Flask) -> list[Rule]:
    return [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint != "static" and not r.endpoint.startswith("api.")
    ]


# --- CSRF on every mutating form ------------------------------------------------------


@dataclass
class Target:
    endpoint: str
    method: str
    url: str
    who: str  # "boss", "admin", "member" or "anonymous"
    form: HtmlForm | None  # None: no page of the scenario renders it


def _actor(view: Any) -> str:
    roles = set(getattr(view, "allowed_roles", ()) or ())
    if roles == {"cooperative"}:
        return "member"
    return "admin" if "admin" in roles and not roles & set(MONEY_AND_APPROVAL) else "boss"


def _endpoint_of(app: Flask, path: str) -> str | None:
    parts = urlsplit(path)
    try:
        endpoint, _args = app.url_map.bind("localhost").match(
            parts.path, method="POST", query_args=parts.query
        )
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return None
    return str(endpoint)


def _harvest(world: World, clients: dict[str, FlaskClient]) -> dict[str, tuple[str, HtmlForm]]:
    """Every page of the scenario, read by whoever may read it (and signed out when anyone
    may): the first form each mutating endpoint is posted to from, and who saw it."""
    app = world.app
    found: dict[str, tuple[str, HtmlForm]] = {}
    for rule in _web_rules(app):
        if "GET" not in (rule.methods or ()) or rule.rule.endswith((".pdf", ".xlsx", ".csv")):
            continue
        view = app.view_functions[rule.endpoint]
        readers = [_actor(view)] + ([] if getattr(view, "allowed_roles", None) else ["anonymous"])
        for url, reader in product(_build(rule, world.ids), readers):
            with clients[reader].get(url) as response:
                forms = forms_on(response, url)
            for form in forms:
                action = urlsplit(form.action)
                form.action = action.path + (f"?{action.query}" if action.query else "")
                endpoint = _endpoint_of(app, form.action)
                if endpoint is not None and endpoint not in found:
                    found[endpoint] = (reader, form)
    return found


def _targets(world: World, clients: dict[str, FlaskClient]) -> list[Target]:
    app = world.app
    harvested = _harvest(world, clients)
    targets = []
    for rule in _web_rules(app):
        for method in sorted((rule.methods or set()) & MUTATING):
            if rule.endpoint in harvested:
                who, form = harvested[rule.endpoint]
                targets.append(Target(rule.endpoint, method, form.action, who, form))
            else:
                who, url = _actor(app.view_functions[rule.endpoint]), _build(rule, world.ids)[0]
                targets.append(Target(rule.endpoint, method, url, who, None))
    # Signing out ends the session the other posts need: last.
    return sorted(targets, key=lambda t: t.endpoint == "auth.logout")


def _payload(target: Target, token: str | None) -> MultiDict:
    data: MultiDict = MultiDict()
    form = target.form or HtmlForm(target.url)
    for name, value in form.fields:
        if not name.endswith("csrf_token"):  # a prefixed form's is "<prefix>-csrf_token"
            data.add(name, value or TYPED.get(name.rsplit("-", 1)[-1], FILLER))
    for name, accept in form.files:
        if ".pdf" in accept or not accept:
            data.add(name, (io.BytesIO(PDF), "phuong-an.pdf"))
        else:
            data.add(name, (io.BytesIO(CSV), "khoan-vay.csv"))
    if token is not None:
        data.add("csrf_token", token)
    return data


def _send(client: FlaskClient, target: Target, token: str | None) -> Any:
    return client.open(
        target.url,
        method=target.method,
        data=_payload(target, token),
        content_type="multipart/form-data",
    )


def _token_at(raw: str, age: int, key: str) -> str:
    """The session's raw token signed as Flask-WTF signs it, ``age`` seconds ago."""

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    return URLSafeTimedSerializer(key, salt="wtf-csrf-token", signer=Signer).dumps(raw)


def _refused_by_csrf(response: Any) -> bool:
    text = response.get_data(as_text=True)
    return response.status_code == 400 and any(message in text for message in CSRF_MESSAGES)


def _refused_for_role(response: Any) -> bool:
    text = response.get_data(as_text=True)
    return response.status_code == 403 and any(message in text for message in ROLE_MESSAGES)


def test_every_mutating_web_form_refuses_a_post_without_a_valid_csrf_token(world):
    app = world.app
    clients = {"anonymous": browser(app)}
    clients["boss"] = signed_in(app, world.boss)
    clients["admin"] = signed_in(app, world.admin)
    clients["member"] = signed_in(app, world.member)
    targets = _targets(world, clients)
    walked = {t.endpoint for t in targets}
    assert len(targets) >= 45  # the map is really walked
    assert {"ledger.capital_new", "loans.record_repayment", "portal.application_upload"} <= walked
    assert {"auth.login", "main.language"} <= walked
    assert not any(t.url.startswith("/api/") for t in targets)
    on_a_page = {t.endpoint for t in targets if t.form is not None}
    assert {"loans.approve_write_off", "admin.token_revoke", "notices.read"} <= on_a_page

    # Without a token: refused by the CSRF check, and not a row nor a file changes.
    accepted, changed = [], []
    before = state_digest(world)
    for target in targets:
        response = _send(clients[target.who], target, None)
        if not _refused_by_csrf(response):
            accepted.append(f"{target.method} {target.url} → {response.status_code}")
        after = state_digest(world)
        if after != before:
            changed.append(f"{target.method} {target.url}")
            before = after
    assert not accepted, "token-less posts not refused by CSRF:\n" + "\n".join(accepted)
    assert not changed, "token-less posts changed the database:\n" + "\n".join(changed)

    # Garbage, another session's token, one signed with a guessed key, an expired one: the
    # check is the same for every route, so one form per blueprint.
    key, limit = app.secret_key, int(app.config["WTF_CSRF_TIME_LIMIT"])
    foreign = csrf_token(browser(app))
    raw = {who: session_of(client)["csrf_token"] for who, client in clients.items()}
    sample = {t.endpoint.split(".")[0]: t for t in reversed(targets)}
    accepted = []
    for target in sample.values():
        bad = {
            "garbage": "not-a-token",
            "another session's": foreign,
            "forged": _token_at(raw[target.who], 0, "guessed-key"),
            "expired": _token_at(raw[target.who], limit + 60, key),
        }
        for kind, token in bad.items():
            response = _send(clients[target.who], target, token)
            if not _refused_by_csrf(response):
                accepted.append(f"{kind}: {target.method} {target.url} → {response.status_code}")
    assert len(sample) >= 10
    assert not accepted, "bad tokens not refused:\n" + "\n".join(accepted)
    assert state_digest(world) == before

    # The same forms with the session's token, signed as the expired one but an hour old,
    # reach the views: the refusals were CSRF's, and each user's roles entitled it to its
    # forms (a 403 naming a separation-of-duties rule is the view's own answer, which the
    # posts before it can provoke: the appraiser may not reject).
    refused = []
    for target in targets:
        response = _send(clients[target.who], target, _token_at(raw[target.who], 3600, key))
        signed_out = response.headers.get("Location", "").startswith("/login?next=")
        denied = target.who != "anonymous" and (
            response.status_code in (401, 404, 405) or _refused_for_role(response)
        )
        if _refused_by_csrf(response) or response.status_code >= 500 or denied or signed_out:
            refused.append(f"{target.method} {target.url} → {response.status_code}")
    assert not refused, "the posts with a valid token were refused:\n" + "\n".join(refused)
    assert state_digest(world) != before


def test_the_api_refuses_a_mutation_carried_by_the_session_cookie_alone(world):
    """The API is exempt from CSRF because it authenticates with bearer tokens: a signed-in
    browser's cookie must not be enough there, or a forged cross-site request would ride
    on it."""
    app = world.app
    client = signed_in(app, make_user("officer", "accountant", "director", "board"))
    before = state_digest(world)
    answers: dict[str, int] = {}
    wrong: list[str] = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        values = {name: world.ids.get(name, [1])[0] for name in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        token_free = getattr(app.view_functions[rule.endpoint], "allowed_roles", None) is None
        for method in sorted((rule.methods or set()) & MUTATING):
            response = client.open(url, method=method, json={})
            answers[f"{method} {url}"] = response.status_code
            body = response.get_json(silent=True) or {}
            if token_free:
                ok = 400 <= response.status_code < 500 and response.status_code != 404
            else:
                code = body.get("error", {}).get("code")
                ok = response.status_code == 401 and code == "unauthorized"
            if not ok:
                wrong.append(f"{method} {url} → {response.status_code}")
    assert len(answers) >= 40
    assert answers["POST /api/v1/capital-entries"] == 401
    assert not wrong, "cookie-only API mutations not refused:\n" + "\n".join(wrong)
    assert state_digest(world) == before


# --- cookies and sessions -------------------------------------------------------------


def _flags(cookie: dict[str, str]) -> set[str]:
    return {k for k in cookie if k in ("httponly", "secure")} | {
        f"samesite={cookie.get('samesite', '').lower()}",
        f"path={cookie.get('path', '')}",
    }


def test_session_and_remember_cookies_are_http_only_lax_and_site_wide(world):
    user = make_user("officer")
    client = browser(world.app)
    with client.get("/login") as page:
        first = parse_cookies(page)["session"]
    response = sign_in(client, user.username, remember="y")
    cookies = parse_cookies(response)
    assert response.status_code == 302
    for cookie in (first, cookies["session"], cookies["remember_token"]):
        assert {"httponly", "samesite=lax", "path=/"} <= _flags(cookie), cookie
    assert client.get("/fund").status_code == 200


def test_logout_ends_the_session_and_forgets_the_remember_cookie(world):
    user = make_user("accountant")
    client = signed_in(world.app, user, remember="y")
    assert "_user_id" in session_of(client)
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/fund")})
    assert response.status_code == 302
    remember = parse_cookies(response)["remember_token"]
    assert remember["value"] == "" and "1970" in remember["expires"]
    assert not {"_user_id", "_fresh", "_remember_seconds"} & set(session_of(client))
    followed = client.get("/fund")
    assert followed.status_code == 302 and followed.headers["Location"].startswith("/login")


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The production configuration on an SQLite database of its own; the cheapest password
    hashing keeps the test fast and changes nothing the browser sees."""
    secret = "p" * 48
    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    config = type(
        "Production",
        (ProductionConfig,),
        {
            "SECRET_KEY": secret,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "ARGON2_PROFILE": "cheapest",
        },
    )
    app = create_app(config)
    with app.app_context():
        db.create_all()
        try:
            yield app
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def test_production_cookies_are_secure_and_https_is_required(production):
    user = make_user("officer")
    client = browser(production)
    client.environ_base["wsgi.url_scheme"] = "https"
    with client.get("/login") as page:
        first = parse_cookies(page)["session"]
        hsts = page.headers["Strict-Transport-Security"]
    response = sign_in(client, user.username, remember="y")
    assert response.status_code == 302
    cookies = parse_cookies(response)
    for cookie in (first, cookies["session"], cookies["remember_token"]):
        assert _flags(cookie) == {"httponly", "secure", "samesite=lax", "path=/"}, cookie
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 180 * 24 * 3600
    assert response.headers["Strict-Transport-Security"] == hsts


def test_signing_in_starts_a_new_session_an_attacker_cannot_ride(world):
    """Session fixation: an attacker plants their own pre-login cookie in the victim's
    browser and keeps the CSRF token of its page. Once the victim signs in, neither the
    planted cookie nor that token is worth anything."""
    app = world.app
    victim_user = make_user("accountant")
    attacker = browser(app)
    stolen_token = csrf_token(attacker)
    planted = attacker.get_cookie("session")
    assert planted is not None

    victim = browser(app)
    victim.set_cookie("session", planted.value)
    language = victim.post("/language/en", data={"csrf_token": stolen_token, "next": "/login"})
    assert language.status_code == 302  # the planted session is a working pre-login one
    assert sign_in(victim, victim_user.username).status_code == 302
    signed = victim.get_cookie("session")
    assert signed is not None and signed.value != planted.value
    after = session_of(victim)
    assert after["lang"] == "en"  # the language chosen before signing in stays
    assert after.get("csrf_token") != session_of(attacker)["csrf_token"]

    entries = db.session.scalar(select(func.count()).select_from(CapitalEntry))
    forged = victim.post(
        "/capital/new",
        data={
            "source": "charter",
            "amount": "900.000.000",
            "entry_date": "20/11/2026",
            "csrf_token": stolen_token,
        },
    )
    assert _refused_by_csrf(forged)
    assert db.session.scalar(select(func.count()).select_from(CapitalEntry)) == entries
    replay = attacker.get("/fund")
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/login")
    assert victim.get("/fund").status_code == 200


def test_a_deactivated_users_live_session_ends_on_its_next_request(world):
    user = make_user("accountant")
    client = signed_in(world.app, user, remember="y")
    headers = {"Authorization": f"Bearer {auth_services.issue_token(user, 12)[0]}"}
    db.session.commit()
    assert client.get("/fund").status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    auth_services.update_user(world.admin, user, ["accountant"], user.full_name, None, None, False)
    db.session.commit()
    for _ in range(2):  # the remember-me cookie does not bring it back either
        response = client.get("/fund")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/api/v1/me", headers=headers).status_code == 401


# --- security headers -----------------------------------------------------------------


def _csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name.lower()] = sources
    return directives


def _header_problems(response: Any, private: bool) -> list[str]:
    headers = response.headers
    problems = []
    csp = _csp(headers.get("Content-Security-Policy", ""))
    for kind in ("script-src", "style-src"):
        sources = csp.get(kind) or csp.get("default-src") or ["*"]
        unsafe = {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"}
        if unsafe & set(sources):
            problems.append(f"{kind} {sources}")
    if csp.get("object-src") != ["'none'"]:
        problems.append("object-src")
    if headers.get("X-Frame-Options") != "DENY" and csp.get("frame-ancestors") != ["'none'"]:
        problems.append("framing allowed")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("nosniff")
    if headers.get("Referrer-Policy") not in SAFE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy {headers.get('Referrer-Policy')}")
    problems += [f"{name} leaks" for name in ("Server", "X-Powered-By") if name in headers]
    if private and "no-store" not in headers.get("Cache-Control", ""):
        problems.append(f"Cache-Control {headers.get('Cache-Control')!r}")
    return problems


def test_every_kind_of_answer_carries_the_security_headers(world):
    app = world.app
    staff = make_user("accountant")
    reader = signed_in(app, staff)
    member = signed_in(app, world.member)
    anonymous = browser(app)
    token = auth_services.issue_token(staff, 12)[0]
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    loan = world.loan.id
    answers = [
        # label, client, method, url, headers, status, holds the fund's data
        ("page", reader, "GET", "/fund", {}, 200, True),
        ("login page", anonymous, "GET", "/login", {}, 200, False),
        ("sign-in redirect", anonymous, "GET", "/fund", {}, 302, False),
        ("403", member, "GET", "/fund", {}, 403, True),
        ("404", reader, "GET", "/loans/2147483647", {}, 404, True),
        ("404 signed out", anonymous, "GET", "/khong-co", {}, 404, False),
        ("CSRF 400", anonymous, "POST", "/login", {}, 400, False),
        ("PDF", reader, "GET", f"/loans/{loan}/schedule.pdf", {}, 200, True),
        ("XLSX", reader, "GET", "/reports/fund-balance.xlsx", {}, 200, True),
        ("API JSON", anonymous, "GET", "/api/v1/me", bearer, 200, True),
        ("API 401", anonymous, "GET", "/api/v1/me", {}, 401, True),
    ]
    problems = []
    for label, client, method, url, headers, status, private in answers:
        with client.open(url, method=method, headers=headers) as response:
            assert response.status_code == status, (label, response.status_code)
            problems += [f"{label}: {p}" for p in _header_problems(response, private)]
            if label in ("PDF", "XLSX"):
                assert response.mimetype.endswith(("pdf", "spreadsheetml.sheet")), label
    assert not problems, "\n".join(problems)


# --- password guessing ----------------------------------------------------------------


def _fail(client: FlaskClient, username: str, times: int) -> None:
    for _ in range(times):
        response = sign_in(client, username, WRONG_PASSWORD)
        assert response.status_code == 401
        assert FAILED_MESSAGE in response.get_data(as_text=True)


def _shift_clock(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    start = utcnow()
    monkeypatch.setattr(auth_services, "utcnow", lambda: start + by)


def test_repeated_failures_lock_that_username_until_the_window_ends(world, monkeypatch):
    app = world.app
    victim, colleague = make_user("officer"), make_user("officer")
    tries = app.config["LOGIN_MAX_FAILURES"]
    window = app.config["LOGIN_LOCK_MINUTES"]
    attacker = browser(app, "203.0.113.10")
    _fail(attacker, victim.username, tries)

    # Locked, from any address, even with the right password; same answer for a wrong one
    # and for a name that does not exist, so the lock tells nothing about the account.
    owner = browser(app, "203.0.113.20")
    right = sign_in(owner, victim.username)
    wrong = sign_in(owner, victim.username, WRONG_PASSWORD)
    _fail(browser(app, "203.0.113.30"), "khong.ton.tai", tries)
    ghost = sign_in(browser(app, "203.0.113.40"), "khong.ton.tai")
    for response in (right, wrong, ghost):
        assert response.status_code == 429
        assert LOCK_MESSAGE in response.get_data(as_text=True)
    assert owner.get("/fund").status_code == 302  # not signed in

    # A colleague is not affected, even one sharing the attacker's address (an office
    # behind one router): an address locks only after LOGIN_MAX_FAILURES_PER_ADDRESS.
    assert tries < app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    assert sign_in(browser(app, "203.0.113.21"), colleague.username).status_code == 302
    assert sign_in(browser(app, "203.0.113.10"), colleague.username).status_code == 302

    _shift_clock(monkeypatch, timedelta(minutes=window - 1))
    assert sign_in(browser(app, "203.0.113.22"), victim.username).status_code == 429
    _shift_clock(monkeypatch, timedelta(minutes=window, seconds=1))
    assert sign_in(browser(app, "203.0.113.22"), victim.username).status_code == 302


def test_the_token_endpoint_counts_towards_the_same_lock(world, monkeypatch):
    app = world.app
    user = make_user("accountant")
    tries = app.config["LOGIN_MAX_FAILURES"]
    api = browser(app, "198.51.100.10")

    def token(password: str) -> Any:
        return api.post("/api/v1/tokens", json={"username": user.username, "password": password})

    for _ in range(tries - 1):
        failed = token(WRONG_PASSWORD)
        assert failed.status_code == 401 and failed.get_json()["error"]["code"] == "unauthorized"
    # The last failure is on the web form: API and web share one counter.
    assert sign_in(browser(app, "198.51.100.11"), user.username, WRONG_PASSWORD).status_code == 401
    locked = token(PASSWORD)
    assert locked.status_code == 429
    assert locked.get_json()["error"]["code"] == "too_many_requests"
    assert "token" not in locked.get_json()
    assert sign_in(browser(app, "198.51.100.12"), user.username).status_code == 429

    _shift_clock(monkeypatch, timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"], seconds=1))
    assert token(PASSWORD).status_code == 201


# --- open redirects -------------------------------------------------------------------

# (what is sent as the raw query value, what it means)
EVIL_NEXT = [
    (quote("https://evil.example/steal", safe=""), "an absolute URL"),
    (quote("//evil.example/x", safe=""), "a scheme-relative URL"),
    ("%2F%2Fevil.example", "a scheme-relative URL, percent-encoded"),
    ("%252F%252Fevil.example", "the same, encoded twice"),
    (quote("///evil.example", safe=""), "three slashes"),
    (quote("/\\evil.example", safe=""), "slash-backslash"),
    (quote("\\\\evil.example", safe=""), "two backslashes"),
    (quote("/\t/evil.example", safe=""), "a tab browsers drop"),
    (quote(" //evil.example", safe=""), "a leading space"),
    (quote("javascript:alert(1)", safe=""), "javascript:"),
    (quote("http:evil.example", safe=""), "a scheme without slashes"),
    (quote("https:/evil.example", safe=""), "a scheme with one slash"),
    (quote("/\r\nLocation: https://evil.example", safe=""), "a CRLF header injection"),
    (quote("/loans\r\nSet-Cookie: x=1", safe=""), "a CRLF cookie injection"),
]


def test_login_next_never_leaves_the_site(world):
    user = make_user("officer")
    followed = sign_in(browser(world.app), user.username, query="?next=/loans/%3Fq%3Dvai")
    assert followed.headers["Location"] == "/loans/?q=vai"  # next is really honoured
    off_site = []
    for raw, meaning in EVIL_NEXT:
        response = sign_in(browser(world.app), user.username, query=f"?next={raw}")
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not is_on_site(location) or "evil" in location:
            off_site.append(f"{meaning}: {response.status_code} {location!r}")
    assert not off_site, "\n".join(off_site)


def test_language_switch_and_notice_buttons_never_leave_the_site(world):
    client = signed_in(world.app, make_user("officer"))
    token = csrf_token(client, "/fund")
    followed = client.post("/language/vi", data={"csrf_token": token, "next": "/capital"})
    assert followed.headers["Location"] == "/capital"
    referred = client.post(
        "/language/vi",
        data={"csrf_token": token},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert referred.headers["Location"] == "/"  # the Referer is never followed
    off_site = []
    for url in ("/language/en", "/language/vi", "/notices/read-all"):
        for raw, meaning in EVIL_NEXT:
            response = client.post(
                url,
                data={"csrf_token": token, "next": unquote(raw)},
                headers={"Referer": "https://evil.example/phish"},
            )
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not is_on_site(location) or "evil" in location:
                off_site.append(f"{url} {meaning}: {response.status_code} {location!r}")
    assert not off_site, "\n".join(off_site)
