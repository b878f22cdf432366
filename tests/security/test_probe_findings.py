"""Findings of the outside security probe (issue 14), each with the answer it now gets.

4. A cooperative reads its applications through the API and the portal without the fund's
   appraisal: no rule checks (the fund's cash and charter capital, the related group's
   debt), internal notes, overrides or staff; the staff view is unchanged, and the OpenAPI
   document describes both.
7. Upload quotas: documents per application and bytes per cooperative, on every upload
   route, counted under a lock; a refused upload leaves no file and no row.
8. Ids and integers beyond what the database holds are refused or ignored with a message
   (never PostgreSQL's "integer out of range"), and a JSON body nested deeper than
   ``JSON_MAX_DEPTH`` is a 400 before any view (never a RecursionError).
9. The API takes dates as ``YYYY-MM-DD`` only, and money, dates, rates and ids are read in
   the ASCII digits 0–9 only (``int`` and ``\\d`` also read ``１２３`` and ``١٢٣``).
"""

from __future__ import annotations

import html
import http.client
import io
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from fundapp.app import RowIdConverter
from fundapp.audit.models import AuditLog
from fundapp.auth.services import issue_token
from fundapp.cooperatives.models import Cooperative, RelatedGroup
from fundapp.core.validation import MAX_ROW_ID, digits, iso_day, json_too_deep, row_id
from fundapp.domain.money import MoneyError, parse_dong, parse_rate
from fundapp.extensions import db
from fundapp.ledger.models import CapitalEntry
from fundapp.lending import applications, uploads
from fundapp.loans.models import (
    Application,
    ApplicationDocument,
    Disbursement,
    Loan,
    Repayment,
    Restructuring,
)
from tests.conftest import (
    BUSINESS_DATE,
    PG_URL,
    api_token,
    fresh_database,
    login,
    make_app,
    make_cooperative,
    make_user,
)
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

API = "/api/v1"


def dong(amount: int) -> str:
    """As the pages and the checks' details write an amount: ``283.000.000``."""
    return f"{amount:,}".replace(",", ".")


def page_text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def error_of(response: Any) -> dict[str, Any]:
    return response.get_json()["error"]


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def application_data(cooperative_id: int, total: int, equity: int, amount: int) -> dict:
    return {
        "cooperative_id": cooperative_id,
        "project_name": "Kho lạnh bảo quản vải thiều",
        "total_project_cost": total,
        "own_equity": equity,
        "requested_amount": amount,
        "term_months": 12,
        "annual_rate": "6",
        "principal_method": "equal_principal",
    }


# --- 4. what a cooperative reads of its applications -----------------------------------------

CHARTER = 2_000_000_000  # single borrower ≤ 15 %: 300.000.000; related group ≤ 25 %: 500.000.000
SINGLE_CAP, GROUP_CAP = 300_000_000, 500_000_000
NEIGHBOUR_DEBT = 283_000_000  # the other member of the related group owes this
FREE_CASH = CHARTER - NEIGHBOUR_DEBT  # lendable at the first appraisal
INTERNAL_NOTE = "Ghi chú nội bộ: nhóm liên quan đã gần chạm hạn mức"
OVERRIDE = "Dự án trọng điểm của tỉnh, Hội đồng chấp thuận vượt hạn mức nhóm"
DECISION = "Đồng ý cho vay, giải ngân theo tiến độ xây kho"
STAFF_ONLY = {
    "checks",
    "appraisal_note",
    "recommended_amount",
    "appraised_by_id",
    "created_by_id",
    "decided_by_id",
    "override_reason",
}
# What must not appear anywhere in a cooperative's answer or page, in either spelling.
SECRETS = [
    *(str(n) for n in (CHARTER, NEIGHBOUR_DEBT, SINGLE_CAP, GROUP_CAP, FREE_CASH)),
    *(dong(n) for n in (CHARTER, NEIGHBOUR_DEBT, SINGLE_CAP, GROUP_CAP, FREE_CASH)),
    INTERNAL_NOTE,
    OVERRIDE,
]


@dataclass
class Appraised:
    member: Any  # the cooperative's user
    controller: Any
    approved_id: int  # decided by the board over the related group's limit
    appraised_id: int  # waiting for a decision
    loan_id: int  # the approved one's loan
    neighbour_loan_id: int


def appraised_scene() -> Appraised:
    """A cooperative in a related group whose other member owes 283.000.000 đ, with one
    application approved over the group's limit and one appraised."""
    staff = fund_and_staff(CHARTER)
    group = RelatedGroup(name="Nhóm vải thiều Lục Ngạn")
    db.session.add(group)
    db.session.commit()
    own = make_cooperative(related_group_id=group.id)
    neighbour = make_cooperative(related_group_id=group.id)
    neighbour_loan = contracted_loan(staff, amount=NEIGHBOUR_DEBT, cooperative=neighbour)
    disburse(staff, neighbour_loan, NEIGHBOUR_DEBT, date(2026, 1, 5))

    approved = applications.create_application(
        staff.officer,
        application_data(own.id, 600_000_000, 350_000_000, 250_000_000),
        BUSINESS_DATE,
    )
    applications.submit(staff.officer, approved)
    checks = applications.appraise(
        staff.appraiser, approved, 250_000_000, INTERNAL_NOTE, BUSINESS_DATE
    )
    assert not next(c for c in checks if c.code == "related_group").passed
    loan = applications.approve(
        staff.board, approved, DECISION, BUSINESS_DATE, override_reason=OVERRIDE
    )

    pending = applications.create_application(
        staff.officer,
        application_data(own.id, 420_000_000, 320_000_000, 100_000_000),
        BUSINESS_DATE,
    )
    applications.submit(staff.officer, pending)
    applications.appraise(staff.appraiser, pending, 100_000_000, INTERNAL_NOTE, BUSINESS_DATE)
    db.session.commit()
    return Appraised(
        member=make_user("cooperative", cooperative=own),
        controller=make_user("controller"),
        approved_id=approved.id,
        appraised_id=pending.id,
        loan_id=loan.id,
        neighbour_loan_id=neighbour_loan.id,
    )


def assert_nothing_internal(answer: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in answer, (where, secret)


def test_a_cooperative_reads_its_applications_and_loans_without_the_funds_internals(client):
    scene = appraised_scene()
    member, staff = api_token(client, scene.member), api_token(client, scene.controller)

    for app_id in (scene.approved_id, scene.appraised_id):
        own = client.get(f"{API}/applications/{app_id}", headers=member)
        assert own.status_code == 200
        assert not STAFF_ONLY & set(own.get_json()), app_id
        assert_nothing_internal(own.get_data(as_text=True), f"application {app_id}")
    approved = client.get(f"{API}/applications/{scene.approved_id}", headers=member).get_json()
    assert (approved["status"], approved["decision_note"], approved["loan_id"]) == (
        "approved",
        DECISION,
        scene.loan_id,
    )
    assert approved["requested_amount"] == 250_000_000 and approved["decided_at"]

    listed = client.get(f"{API}/applications", headers=member)
    assert [a["id"] for a in listed.get_json()["items"]] == [scene.appraised_id, scene.approved_id]
    assert all(not STAFF_ONLY & set(item) for item in listed.get_json()["items"])
    assert_nothing_internal(listed.get_data(as_text=True), "application list")
    for path in (
        "/loans",
        f"/loans/{scene.loan_id}",
        f"/loans/{scene.loan_id}/schedule",
        f"/loans/{scene.loan_id}/disbursements",
        f"/applications/{scene.approved_id}/documents",
        "/me",
    ):
        answer = client.get(API + path, headers=member)
        assert answer.status_code == 200, path
        assert_nothing_internal(answer.get_data(as_text=True), path)
    assert client.get(f"{API}/loans/{scene.neighbour_loan_id}", headers=member).status_code == 404

    # The fund's staff read the whole appraisal, as before.
    whole = client.get(f"{API}/applications/{scene.approved_id}", headers=staff)
    assert set(whole.get_json()) >= STAFF_ONLY
    body = whole.get_json()
    assert (body["appraisal_note"], body["override_reason"]) == (INTERNAL_NOTE, OVERRIDE)
    group = next(c for c in body["checks"] if c["code"] == "related_group")
    assert dong(NEIGHBOUR_DEBT) in group["detail"] and dong(GROUP_CAP) in group["detail"]
    cash = next(c for c in body["checks"] if c["code"] == "cash")
    assert dong(FREE_CASH) in cash["detail"]
    staff_list = client.get(f"{API}/applications", headers=staff).get_json()["items"]
    assert all(set(item) >= STAFF_ONLY for item in staff_list)


def test_every_application_answer_to_a_cooperative_leaves_the_appraisal_out(client):
    """Create, change, submit and withdraw answer with the application too."""
    fund_and_staff()
    member = api_token(client, make_user("cooperative"))
    created = client.post(
        f"{API}/applications",
        headers=member,
        json={
            "project_name": "Máy sấy vải",
            "total_project_cost": 300_000_000,
            "own_equity": 100_000_000,
            "requested_amount": 200_000_000,
            "term_months": 12,
        },
    )
    assert created.status_code == 201, created.get_json()
    app_id = created.get_json()["id"]
    answers = [
        created,
        client.patch(f"{API}/applications/{app_id}", headers=member, json={"term_months": 18}),
        client.post(f"{API}/applications/{app_id}/submit", headers=member),
        client.post(f"{API}/applications/{app_id}/withdraw", headers=member, json={}),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.get_json()
        assert not STAFF_ONLY & set(answer.get_json()), answer.get_json()
    assert answers[-1].get_json()["status"] == "withdrawn"


def test_the_portal_shows_a_cooperative_no_internals(app):
    scene = appraised_scene()
    web = app.test_client()
    assert login(web, scene.member).status_code == 302
    pages = {
        "/portal/": None,
        "/portal/applications": None,
        f"/portal/applications/{scene.approved_id}": DECISION,
        f"/portal/applications/{scene.appraised_id}": None,
        "/portal/loans": None,
        f"/portal/loans/{scene.loan_id}": None,
    }
    for path, shown in pages.items():
        response = web.get(path)
        assert response.status_code == 200, path
        assert_nothing_internal(page_text(response), path)
        if shown:
            assert shown in page_text(response), path
    # The staff pages, where the checks are, are not the cooperative's.
    assert web.get(f"/applications/{scene.approved_id}").status_code == 403


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})


def test_the_openapi_document_describes_the_cooperatives_view(client):
    scene = appraised_scene()
    doc = client.get(f"{API}/openapi.json").get_json()
    member, staff = api_token(client, scene.member), api_token(client, scene.controller)
    own = client.get(f"{API}/applications/{scene.approved_id}", headers=member).get_json()
    whole = client.get(f"{API}/applications/{scene.approved_id}", headers=staff).get_json()

    operation = doc["paths"]["/applications/{app_id}"]["get"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    documented = _validator(doc, answer)
    assert documented.is_valid(own) and documented.is_valid(whole)
    assert "OwnApplication" in operation["description"]

    schemas = doc["components"]["schemas"]
    cooperatives = _validator(doc, {"$ref": "#/components/schemas/OwnApplication"})
    staffs = _validator(doc, {"$ref": "#/components/schemas/Application"})
    assert not STAFF_ONLY & set(schemas["OwnApplication"]["properties"])
    assert set(schemas["Application"]["properties"]) >= STAFF_ONLY
    assert cooperatives.is_valid(own) and not cooperatives.is_valid(whole)
    assert staffs.is_valid(whole) and not staffs.is_valid(own)
    # A cooperative's answer that carried the checks would break the document.
    assert not documented.is_valid({**own, "checks": whole["checks"]})

    listing = doc["paths"]["/applications"]["get"]["responses"]["200"]["content"]
    page = _validator(doc, listing["application/json"]["schema"])
    assert page.is_valid(client.get(f"{API}/applications", headers=member).get_json())
    assert page.is_valid(client.get(f"{API}/applications", headers=staff).get_json())


# --- 7. upload quotas ------------------------------------------------------------------------

PDF = b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n"
SIZE = len(PDF)
PORTAL_FORM = {
    "project_name": "Kho lạnh bảo quản vải thiều",
    "purpose": "Xây kho lạnh 200 m²",
    "total_project_cost": "500.000.000",
    "own_equity": "150.000.000",
    "requested_amount": "300.000.000",
    "term_months": "24",
    "principal_method": "equal_principal",
    "principal_every_months": "3",
    "interest_every_months": "1",
    "grace_months": "0",
    "action": "draft",
}


@dataclass
class Quota:
    app: Flask
    folder: Path
    draft_id: int  # a draft of the cooperative of ``member``
    sibling_id: int  # another application of the same cooperative
    stranger_id: int  # a draft of another cooperative
    officer: Any
    member: Any
    officer_web: Any
    member_web: Any
    officer_token: dict[str, str]
    member_token: dict[str, str]


@contextmanager
def quota_scene(tmp_path: Path, files: int, size: int) -> Iterator[Quota]:
    app = make_app(
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        UPLOAD_MAX_FILES_PER_APPLICATION=files,
        UPLOAD_MAX_BYTES_PER_COOPERATIVE=size,
    )
    with fresh_database(app):
        staff = fund_and_staff()
        coop = make_cooperative()
        data = application_data(coop.id, 200_000_000, 100_000_000, 100_000_000)
        draft = applications.create_application(staff.officer, data, BUSINESS_DATE)
        sibling = applications.create_application(staff.officer, data, BUSINESS_DATE)
        other = make_cooperative()
        stranger = applications.create_application(
            staff.officer, {**data, "cooperative_id": other.id}, BUSINESS_DATE
        )
        db.session.commit()
        member = make_user("cooperative", cooperative=coop)
        officer_web, member_web = app.test_client(), app.test_client()
        assert login(officer_web, staff.officer).status_code == 302
        assert login(member_web, member).status_code == 302
        api = app.test_client()
        yield Quota(
            app=app,
            folder=tmp_path / "uploads",
            draft_id=draft.id,
            sibling_id=sibling.id,
            stranger_id=stranger.id,
            officer=staff.officer,
            member=member,
            officer_web=officer_web,
            member_web=member_web,
            officer_token=api_token(api, staff.officer),
            member_token=api_token(api, member),
        )


def preload(quota: Quota, application_id: int, n: int) -> None:
    """``n`` documents already on the application, added by the officer."""
    from werkzeug.datastructures import FileStorage

    application = db.session.get(Application, application_id)
    for i in range(n):
        storage = FileStorage(io.BytesIO(PDF), filename=f"giay-to-{i}.pdf")
        uploads.save_document(application, storage, quota.officer)
    db.session.commit()


def _file(name: str = "bo-sung.pdf") -> tuple[io.BytesIO, str]:
    return io.BytesIO(PDF), name


def _staff_page(q: Quota, app_id: int) -> Any:
    return q.officer_web.post(
        f"/applications/{app_id}/documents",
        data={"file": _file()},
        content_type="multipart/form-data",
    )


def _portal_page(q: Quota, app_id: int) -> Any:
    return q.member_web.post(
        f"/portal/applications/{app_id}/documents",
        data={"file": _file()},
        content_type="multipart/form-data",
    )


def _api(token: str) -> Any:
    def send(q: Quota, app_id: int) -> Any:
        return q.app.test_client().post(
            f"{API}/applications/{app_id}/documents",
            headers=getattr(q, token),
            data={"file": _file()},
            content_type="multipart/form-data",
        )

    return send


def _portal_form(q: Quota, files: int) -> Any:
    return q.member_web.post(
        "/portal/applications/new",
        data={**PORTAL_FORM, "documents": [_file(f"tai-lieu-{i}.pdf") for i in range(files)]},
        content_type="multipart/form-data",
    )


ON_AN_APPLICATION = {
    "staff page": _staff_page,
    "portal page": _portal_page,
    "api officer": _api("officer_token"),
    "api cooperative": _api("member_token"),
}


def stored(q: Quota) -> tuple[Any, ...]:
    files = sorted(p.name for p in q.folder.glob("*")) if q.folder.exists() else []
    return count(ApplicationDocument), count(Application), count(AuditLog), files


def refusal(response: Any) -> str:
    if response.mimetype == "application/json":
        return error_of(response)["message"]
    return page_text(response)


@pytest.mark.parametrize("route", ON_AN_APPLICATION.values(), ids=ON_AN_APPLICATION.keys())
def test_a_file_beyond_the_files_per_application_is_refused_and_leaves_nothing(tmp_path, route):
    with quota_scene(tmp_path, files=2, size=10**9) as q:
        preload(q, q.draft_id, 1)
        assert route(q, q.draft_id).status_code in (201, 302)  # the second still fits
        before = stored(q)
        response = route(q, q.draft_id)
        assert response.status_code == 422
        assert "hồ sơ đã có 2 tệp, tối đa 2 tệp mỗi hồ sơ" in refusal(response)
        assert stored(q) == before
        # Another application of the same cooperative has its own count.
        assert route(q, q.sibling_id).status_code in (201, 302)


def test_the_portal_form_refuses_more_files_than_an_application_takes(tmp_path):
    with quota_scene(tmp_path, files=2, size=10**9) as q:
        before = stored(q)
        response = _portal_form(q, 3)
        assert response.status_code == 422
        assert "hồ sơ đã có 2 tệp, tối đa 2 tệp mỗi hồ sơ" in refusal(response)
        assert stored(q) == before  # not even the application
        assert _portal_form(q, 2).status_code == 302


@pytest.mark.parametrize("route", ON_AN_APPLICATION.values(), ids=ON_AN_APPLICATION.keys())
def test_a_file_beyond_the_cooperatives_bytes_is_refused_and_leaves_nothing(tmp_path, route):
    limit = 3 * SIZE - 1  # two files fit, the third does not
    with quota_scene(tmp_path, files=30, size=limit) as q:
        preload(q, q.sibling_id, 2)  # on another application of the same cooperative
        before = stored(q)
        response = route(q, q.draft_id)
        assert response.status_code == 422
        message = refusal(response)
        assert "tài liệu của hợp tác xã đã dùng" in message
        assert uploads.size_label(2 * SIZE) in message and uploads.size_label(limit) in message
        assert stored(q) == before
        # The quota is the cooperative's: another cooperative's application takes files.
        assert _api("officer_token")(q, q.stranger_id).status_code == 201


def test_the_portal_form_counts_the_cooperatives_bytes(tmp_path):
    with quota_scene(tmp_path, files=30, size=3 * SIZE - 1) as q:
        preload(q, q.sibling_id, 1)
        before = stored(q)
        response = _portal_form(q, 2)
        assert response.status_code == 422
        assert "tài liệu của hợp tác xã đã dùng" in refusal(response)
        assert stored(q) == before
        assert _portal_form(q, 1).status_code == 302


def test_the_quotas_are_configuration_with_defaults():
    from config import Config

    assert Config.UPLOAD_MAX_FILES_PER_APPLICATION == 30
    assert Config.UPLOAD_MAX_BYTES_PER_COOPERATIVE == 200 * 1024 * 1024
    example = (Path(__file__).parents[2] / ".env.example").read_text(encoding="utf-8")
    assert "UPLOAD_MAX_FILES_PER_APPLICATION=" in example
    assert "UPLOAD_MAX_BYTES_PER_COOPERATIVE=" in example


def _multipart(content: bytes, name: str) -> tuple[bytes, str]:
    boundary = "fundapp-quota-race"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_parallel_uploads_never_pass_the_quota_together(tmp_path):
    """Six uploads at once for the one place left: one is kept (the count and the insert are
    one step under the cooperative's lock), on PostgreSQL as on a SQLite file."""
    uri = PG_URL or f"sqlite:///{tmp_path / 'quota.db'}"
    app = make_app(
        SQLALCHEMY_DATABASE_URI=uri,
        SERVER_NAME=None,
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        UPLOAD_MAX_FILES_PER_APPLICATION=1,
    )
    with fresh_database(app):
        staff = fund_and_staff()
        coop = make_cooperative()
        draft = applications.create_application(
            staff.officer,
            application_data(coop.id, 200_000_000, 100_000_000, 100_000_000),
            BUSINESS_DATE,
        )
        db.session.commit()
        raw, _token = issue_token(staff.officer, 1, "quota")
        app_id = draft.id
        db.session.commit()
        db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        parallel = 6
        barrier = threading.Barrier(parallel)

        def send(n: int) -> int:
            body, content_type = _multipart(PDF, f"giay-to-{n}.pdf")
            connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
            try:
                connection.connect()
                barrier.wait(timeout=30)
                connection.request(
                    "POST",
                    f"{API}/applications/{app_id}/documents",
                    body=body,
                    headers={"Authorization": f"Bearer {raw}", "Content-Type": content_type},
                )
                response = connection.getresponse()
                response.read()
                return response.status
            finally:
                connection.close()

        try:
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                answers = Counter(pool.map(send, range(parallel)))
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
        assert answers == {201: 1, 422: parallel - 1}, answers
        assert count(ApplicationDocument) == 1
        assert len(list((tmp_path / "uploads").glob("*"))) == 1


# --- 8. ids and integers the database cannot hold; JSON nested too deep ------------------------

BEYOND = ["2147483648", "99999999999999999999", "0", "-1", "１", "١", "1e3", "abc"]


def test_the_bounds_are_the_url_converters():
    assert MAX_ROW_ID == 2**31 - 1
    assert re.fullmatch(RowIdConverter.regex, str(MAX_ROW_ID))
    assert not re.fullmatch(RowIdConverter.regex, str(MAX_ROW_ID + 1))
    assert row_id(str(MAX_ROW_ID)) == MAX_ROW_ID and row_id(MAX_ROW_ID) == MAX_ROW_ID
    for raw in [*BEYOND, 2**31, 0, -1, True, None, 1.0, " "]:
        assert row_id(raw) is None, raw
    assert row_id(" 12 ") == 12


@pytest.mark.parametrize("value", BEYOND)
def test_an_officer_filter_beyond_the_keys_is_ignored_with_a_message(app, client, value):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    login(client, make_user("controller"))
    response = client.get("/loans/", query_string={"officer": value})
    assert response.status_code == 200
    assert "Bộ lọc «Cán bộ tín dụng» không hợp lệ" in page_text(response)
    assert loan.contract_no in page_text(response)  # the list, unfiltered
    # A real officer's id still filters, without a message.
    mine = client.get("/loans/", query_string={"officer": str(loan.officer_id)})
    assert loan.contract_no in page_text(mine) and "Bộ lọc «" not in page_text(mine)
    other = client.get("/loans/", query_string={"officer": str(staff.accountant.id)})
    assert loan.contract_no not in page_text(other)


@pytest.mark.parametrize("value", ["2147483648", "99999999999999999999"])
def test_an_id_beyond_the_keys_in_a_page_form_is_a_message(app, client, value):
    fund_and_staff()
    officer = make_user("officer")
    login(client, officer)
    before = count(Application)
    response = client.post(
        "/applications/new",
        data={**PORTAL_FORM, "cooperative_id": value, "annual_rate": "6"},
    )
    assert response.status_code == 422
    assert "Hợp tác xã không tồn tại." in page_text(response)
    assert count(Application) == before
    assert (
        client.get("/applications/new", query_string={"cooperative_id": value}).status_code == 200
    )
    assert client.get("/loans/", query_string={"page": value}).status_code == 200

    created = client.post(
        "/cooperatives/new",
        data={
            "name": "HTX Mới",
            "kind": "cooperative",
            "registration_no": "REG-NEW-1",
            "tax_code": "0101234567",
            "commune_code": "07525",
            "related_group_id": value,
        },
    )
    assert created.status_code in (200, 422)
    assert "Nhóm người có liên quan không tồn tại." in page_text(created)


API_FILTERS = [
    ("/loans", "cooperative_id"),
    ("/applications", "cooperative_id"),
    ("/journal", "loan_id"),
    ("/loans", "page"),
    ("/cooperatives", "per_page"),
    ("/close-day/runs", "page"),
]


@pytest.mark.parametrize(("path", "name"), API_FILTERS)
@pytest.mark.parametrize("value", ["2147483648", "99999999999999999999", "0", "١"])
def test_an_api_filter_beyond_the_keys_is_422_with_its_field(client, path, name, value):
    headers = api_token(client, make_user("officer", "accountant", "director", "board"))
    response = client.get(API + path, query_string={name: value}, headers=headers)
    assert response.status_code == 422, response.get_json()
    assert name in error_of(response)["fields"]


@pytest.mark.parametrize("value", [2**31, 10**20, "2147483648", "١"])
def test_an_api_body_id_beyond_the_keys_is_422_with_its_field(client, value):
    fund_and_staff()
    headers = api_token(client, make_user("officer"))
    body = {
        "cooperative_id": value,
        "project_name": "Máy sấy vải",
        "total_project_cost": 300_000_000,
        "own_equity": 100_000_000,
        "requested_amount": 200_000_000,
        "term_months": 12,
    }
    response = client.post(f"{API}/applications", json=body, headers=headers)
    assert response.status_code == 422
    assert "cooperative_id" in error_of(response)["fields"]
    coop = make_cooperative()
    changed = client.patch(
        f"{API}/cooperatives/{coop.id}", json={"related_group_id": value}, headers=headers
    )
    assert changed.status_code == 422
    assert "related_group_id" in error_of(changed)["fields"]
    assert count(Application) == 0


def nested(depth: int) -> bytes:
    """An object holding arrays ``depth`` levels deep in all."""
    return b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def test_a_body_nested_too_deep_is_400_on_every_api_route(app, client):
    fund_and_staff()
    token = api_token(client, make_user("officer", "accountant", "director", "board"))
    documented = client.get(f"{API}/openapi.json").get_json()["paths"]
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/"):
            continue
        values = {
            name: 1 if isinstance(converter, RowIdConverter) else "x"
            for name, converter in rule._converters.items()
        }
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(set(rule.methods or ()) & set(BODY_METHODS)):
            for headers, content_type, data in (
                ({}, "application/json", b"[" * 3000 + b"]" * 3000),
                (token, "application/json", nested(3000)),
                (token, "application/json", nested(33)),
                (token, "text/plain", nested(500)),
            ):
                response = client.open(
                    url, method=method, data=data, content_type=content_type, headers=headers
                )
                assert response.status_code == 400, (method, url, response.get_json())
                error = error_of(response)
                assert error["code"] == "bad_request"
                assert "lồng nhau quá sâu: tối đa 32 cấp" in error["message"]
                checked += 1
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule).removeprefix(API)
            assert "400" in documented[path][method.lower()]["responses"], (method, path)
    assert checked >= 4 * 40
    assert count(Application) == count(Repayment) == count(Disbursement) == 0


def test_a_body_at_the_depth_limit_reaches_the_view(client):
    """32 levels is a body like any other: the view answers for its shape."""
    answer = client.post(
        f"{API}/tokens", data=nested(32), content_type="application/json"
    ).get_json()
    assert answer["error"]["code"] == "validation_error"
    assert json_too_deep(nested(33), 32) and not json_too_deep(nested(32), 32)
    # Brackets inside strings are text, not levels.
    assert not json_too_deep(json.dumps({"note": "[" * 5000}).encode(), 32)
    assert json_too_deep(b"[" * 5000, 32)  # cut short, but deep before it ends
    assert not json_too_deep(b'{"a": [}' + b"[" * 40, 32)  # not JSON: left to the view


def test_a_page_cannot_be_made_to_recurse_with_json(client):
    response = client.post("/login", data=nested(3000), content_type="application/json")
    assert response.status_code == 400
    assert "lồng nhau quá sâu" in page_text(response)


# --- 9. dates as YYYY-MM-DD, digits as 0–9 ----------------------------------------------------

NOT_ISO = [
    "12/07/2026",  # would be read day first
    "2026-W49-1",  # ISO week date
    "20261207",  # ISO basic format
    "2026-12-7",
    "２０２６-１２-０７",
    "٢٠٢٦-١٢-٠٧",
    "1796601600",  # a Unix time
    "2026-12-07T00:00:00",
    "2026-02-30",  # not a day
]


def test_only_yyyy_mm_dd_in_ascii_is_an_api_date():
    assert iso_day("2026-11-20") == date(2026, 11, 20)
    for text in NOT_ISO:
        assert iso_day(text) is None, text


@pytest.fixture
def funded_loan(client):
    """An active loan, with the accountant's, the officer's and the director's tokens."""
    staff = fund_and_staff()
    loan = contracted_loan(staff, on=date(2026, 1, 5))
    disburse(staff, loan, 60_000_000, date(2026, 1, 5))
    return {
        "loan": loan,
        "accountant": api_token(client, staff.accountant),
        "officer": api_token(client, staff.officer),
        "director": api_token(client, staff.director),
        "contracted": contracted_loan(staff, on=date(2026, 1, 5)),
    }


@pytest.mark.parametrize("day", NOT_ISO)
def test_an_api_body_date_is_yyyy_mm_dd_only(client, funded_loan, day):
    loan, contracted = funded_loan["loan"], funded_loan["contracted"]
    accountant, officer = funded_loan["accountant"], funded_loan["officer"]
    rows = (count(Repayment), count(Disbursement), count(CapitalEntry), count(Restructuring))
    for path, body, headers, field in (
        (f"/loans/{loan.id}/repayments", {"amount": 1_000_000, "date": day}, accountant, "date"),
        (f"/loans/{loan.id}/disbursements", {"amount": 1_000_000, "date": day}, accountant, "date"),
        ("/capital-entries", {"source": "grant", "amount": 1_000, "date": day}, accountant, "date"),
        (
            f"/loans/{loan.id}/restructurings",
            {
                "kind": "extension",
                "effective_date": day,
                "new_maturity": "2027-06-05",
                "reason": "Mất mùa",
            },
            officer,
            "effective_date",
        ),
        (
            f"/loans/{loan.id}/restructurings",
            {
                "kind": "term_adjustment",
                "effective_date": "2026-11-20",
                "principal_plan": [[day, 1]],
                "reason": "Mất mùa",
            },
            officer,
            "principal_plan",
        ),
        (f"/loans/{contracted.id}/contract", {"contract_date": day}, officer, "contract_date"),
        ("/close-day", {"date": day}, accountant, "date"),
    ):
        response = client.post(API + path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.get_json())
        assert field in error_of(response)["fields"], (path, response.get_json())
        assert "YYYY-MM-DD" in error_of(response)["fields"][field], (path, response.get_json())
    custom = client.post(
        f"{API}/applications",
        headers=officer,
        json={
            **application_data(loan.cooperative_id, 300_000_000, 100_000_000, 200_000_000),
            "principal_method": "custom",
            "custom_schedule": [[day, 200_000_000]],
        },
    )
    assert custom.status_code == 422 and "custom_schedule" in error_of(custom)["fields"]
    assert rows == (
        count(Repayment),
        count(Disbursement),
        count(CapitalEntry),
        count(Restructuring),
    )
    assert db.session.get(Loan, contracted.id).status == "contracted"


@pytest.mark.parametrize("day", NOT_ISO)
def test_an_api_query_date_is_yyyy_mm_dd_only(client, funded_loan, day):
    loan, reader = funded_loan["loan"], funded_loan["director"]
    for path, name in (
        (f"/loans/{loan.id}", "as_of"),
        (f"/loans/{loan.id}/schedule", "as_of"),
        (f"/loans/{loan.id}/statement.pdf", "from"),
        ("/fund/position", "as_of"),
        ("/dashboard", "as_of"),
        ("/reports/par", "as_of"),
        ("/reports/fund-balance.pdf", "as_of"),
        ("/capital-entries", "from"),
        ("/close-day/runs", "to"),
    ):
        response = client.get(API + path, query_string={name: day}, headers=reader)
        assert response.status_code == 422, (path, response.status_code)
        assert "YYYY-MM-DD" in error_of(response)["fields"][name], (path, error_of(response))
    good = client.get(
        f"{API}/loans/{loan.id}", query_string={"as_of": "2026-06-30"}, headers=reader
    )
    assert good.status_code == 200


OTHER_DIGITS = [
    ("full-width", "１.５００.０００"),
    ("full-width plain", "１５０００００"),
    ("arabic-indic", "١٥٠٠٠٠٠"),
    ("persian", "۱۵۰۰۰۰۰"),
    ("devanagari", "१५००००"),
    ("mixed", "1.５00.000"),
]
GOOD_MONEY = [
    ("plain", "1500000"),
    ("dots", "1.500.000"),
    ("commas", "1,500,000"),
    ("spaces", "1 500 000"),
    ("no-break spaces", "1\u00a0500\u00a0000"),
    ("with đ", "1.500.000 đ"),
]


@pytest.mark.parametrize(("case", "raw"), OTHER_DIGITS)
def test_money_takes_ascii_digits_only(case, raw):
    with pytest.raises(MoneyError, match="not_ascii"):
        parse_dong(raw)


@pytest.mark.parametrize(("case", "raw"), GOOD_MONEY)
def test_money_takes_the_usual_separators(case, raw):
    assert parse_dong(raw) == 1_500_000


@pytest.mark.parametrize("raw", ["٧.٢", "７.２", "7_2", "7e0", "7.2.1"])
def test_a_rate_takes_ascii_digits_only(raw):
    with pytest.raises(MoneyError):
        parse_rate(raw)


def test_digits_are_ascii():
    assert digits("0123456789")
    for text in ("", "１２３", "١٢٣", "²", "12a", " 12", "-1"):
        assert not digits(text), text


@pytest.mark.parametrize(("case", "raw"), OTHER_DIGITS)
def test_a_web_money_field_refuses_other_digits_with_a_message(app, client, case, raw):
    fund_and_staff()
    login(client, make_user("accountant"))
    before = count(CapitalEntry)
    response = client.post(
        "/capital/new",
        data={"source": "grant", "amount": raw, "entry_date": "20/11/2026"},
    )
    assert "Số tiền chỉ gồm các chữ số 0–9" in page_text(response)
    assert count(CapitalEntry) == before
    member = app.test_client()
    login(member, make_user("cooperative"))
    applied = member.post("/portal/applications/new", data={**PORTAL_FORM, "requested_amount": raw})
    assert applied.status_code == 422
    assert "Số tiền chỉ gồm các chữ số 0–9" in page_text(applied)
    assert count(Application) == 0


@pytest.mark.parametrize(("case", "raw"), GOOD_MONEY[:4])
def test_a_web_money_field_takes_the_usual_forms(app, client, case, raw):
    fund_and_staff()
    login(client, make_user("accountant"))
    response = client.post(
        "/capital/new", data={"source": "grant", "amount": raw, "entry_date": "20/11/2026"}
    )
    assert response.status_code == 302
    entry = db.session.scalars(select(CapitalEntry).order_by(CapitalEntry.id.desc())).first()
    assert entry.amount == 1_500_000


@pytest.mark.parametrize("day", ["2026-W47-1", "20261116", "１６/１１/２０２６", "16/11/٢٠٢٦"])
def test_a_web_date_field_takes_its_two_forms_in_ascii_only(client, day):
    fund_and_staff()
    login(client, make_user("accountant"))
    before = count(CapitalEntry)
    response = client.post(
        "/capital/new", data={"source": "grant", "amount": "1.000.000", "entry_date": day}
    )
    assert "Ngày không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd)." in page_text(response)
    assert count(CapitalEntry) == before


@pytest.mark.parametrize("rate", ["٧.٢", "７.２"])
def test_an_api_rate_takes_ascii_digits_only(client, rate):
    fund_and_staff()
    coop = make_cooperative()
    headers = api_token(client, make_user("officer"))
    body = {**application_data(coop.id, 300_000_000, 100_000_000, 200_000_000), "annual_rate": rate}
    created = client.post(f"{API}/applications", json=body, headers=headers)
    assert created.status_code == 422 and "annual_rate" in error_of(created)["fields"]
    draft = client.post(f"{API}/applications", json={**body, "annual_rate": "7.2"}, headers=headers)
    assert draft.status_code == 201
    changed = client.patch(
        f"{API}/applications/{draft.get_json()['id']}", json={"annual_rate": rate}, headers=headers
    )
    assert changed.status_code == 422 and "annual_rate" in error_of(changed)["fields"]


COOPERATIVE_NUMBERS = [
    ("phone", "0９１２３４５６７８", "Số điện thoại không hợp lệ"),
    ("tax_code", "٠١٠١٢٣٤٥٦٧", "Mã số thuế gồm 10 hoặc 13 chữ số."),
    ("members_count", "١٢", "Phải là số nguyên không âm."),
]


@pytest.mark.parametrize(("field", "value", "message"), COOPERATIVE_NUMBERS)
def test_cooperative_numbers_take_ascii_digits_only(app, client, field, value, message):
    body = {
        "name": "HTX Chữ số",
        "kind": "cooperative",
        "registration_no": "REG-DIGITS",
        "tax_code": "0101234567",
        "commune_code": "07525",
        field: value,
    }
    login(client, make_user("officer"))
    page = client.post("/cooperatives/new", data=body)
    assert message in page_text(page)
    if field != "members_count":  # the API takes a JSON integer there
        headers = api_token(app.test_client(), make_user("officer"))
        answer = app.test_client().post(f"{API}/cooperatives", json=body, headers=headers)
        assert answer.status_code == 422, answer.get_json()
        assert message in error_of(answer)["fields"][field]
    assert count(Cooperative) == 0
