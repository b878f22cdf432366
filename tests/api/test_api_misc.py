"""API v1: the lending policy, related groups, the journal and the fund overview's counts,
the audit log, editing a draft application and its documents — real figures, the role
matrix, the own-cooperative rule and bad input that changes nothing."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from fundapp.audit.models import AuditLog
from fundapp.cooperatives.models import RelatedGroup
from fundapp.extensions import db
from fundapp.lending import applications
from fundapp.loans.models import Application, ApplicationDocument
from fundapp.policy import services as policy
from fundapp.policy.models import PolicyChange, PolicyParameter
from fundapp.policy.parameters import PARAMS
from fundapp.repayments import services as rs
from tests.api.conftest import API, error, token
from tests.conftest import BUSINESS_DATE, count, make_cooperative, make_user
from tests.services.lending_helpers import contracted_loan, disburse

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- policy -------------------------------------------------------------------------------------


def test_policy_lists_every_parameter_in_force(client, staff):
    response = client.get(f"{API}/policy", headers=token(staff.officer))
    assert response.status_code == 200, response.get_json()
    items = {p["key"]: p for p in response.get_json()["items"]}
    assert list(items) == [p.key for p in PARAMS]
    equity = items["min_equity_pct"]
    assert (equity["value"], equity["kind"], equity["as_of"]) == ("20", "percent", "2026-11-20")
    assert equity["current"]["effective_from"] == "2021-04-01"
    assert (
        equity["current"]["legal_reference"] == "Nghị định 45/2021/NĐ-CP ngày 31/03/2021, Điều 22"
    )
    assert equity["allowed"].startswith("Giá trị phải từ 20 % đến dưới 100 %")
    assert equity["upcoming"] is None
    assert items["director_approval_limit"]["value"] == "500000000"
    assert client.get(f"{API}/policy", headers=token(make_user("admin"))).status_code == 200
    member = token(make_user("cooperative"))
    assert client.get(f"{API}/policy", headers=member).status_code == 403
    assert client.get(f"{API}/policy/min_equity_pct", headers=member).status_code == 403


def test_board_adds_a_dated_version_without_rewriting_history(client, staff):
    """Proposed by one board member (202, nothing in force), approved by another."""
    response = client.post(
        f"{API}/policy/min_equity_pct/versions",
        headers=token(staff.board),
        json={
            "value": "25",
            "effective_from": "2027-01-01",
            "legal_reference": "Nghị quyết 03/NQ-HĐQL ngày 15/11/2026",
            "note": "Siết vốn đối ứng",
        },
    )
    assert response.status_code == 202, response.get_json()
    change = response.get_json()
    assert (change["status"], change["value"], change["proposed_by_id"]) == (
        "pending",
        "25",
        staff.board.id,
    )
    assert change["version_id"] is None and change["may_decide"] is False
    pending = client.get(f"{API}/policy/min_equity_pct", headers=token(staff.director)).get_json()
    assert pending["upcoming"] is None and len(pending["versions"]) == 1
    checker = make_user("board")
    approved = client.post(
        f"{API}/policy-changes/{change['id']}/approve", headers=token(checker), json={}
    )
    assert approved.status_code == 200, approved.get_json()
    version_id = approved.get_json()["version_id"]
    today = client.get(f"{API}/policy/min_equity_pct", headers=token(staff.director)).get_json()
    assert today["value"] == "20" and today["upcoming"]["value"] == "25"
    assert [v["effective_from"] for v in today["versions"]] == ["2027-01-01", "2021-04-01"]
    later = client.get(
        f"{API}/policy/min_equity_pct?as_of=2027-01-01", headers=token(staff.director)
    ).get_json()
    assert later["value"] == "25" and later["current"]["id"] == version_id
    assert later["current"]["created_by_id"] == checker.id
    assert policy.value("min_equity_pct", date(2027, 1, 1)) == Decimal("25")
    assert policy.value("min_equity_pct", BUSINESS_DATE) == Decimal("20")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"effective_from": "2026-11-19"}, "effective_from"),  # before the business date
        ({"effective_from": "2021-04-01"}, "effective_from"),
        ({"effective_from": "20/12/2026"}, "effective_from"),
        ({"value": "hai mươi"}, "value"),
        ({"value": "-5"}, "value"),
        ({"value": ""}, "value"),
        ({"value": "19.99"}, "value"),  # below the legal minimum of Decree 45 Art. 22
        ({"value": "100"}, "value"),
        ({"value": "2,5e1"}, "value"),
        ({"note": "  "}, "note"),
        ({"legal_reference": "   "}, "legal_reference"),
        ({"legal_reference": "NQ\x00"}, "legal_reference"),
        ({"note": 5}, "note"),
        ({"reason": "x"}, "reason"),
    ],
)
def test_bad_policy_changes_are_refused(client, staff, changes, field):
    data = {
        "value": "25",
        "effective_from": "2027-01-01",
        "legal_reference": "NQ 03",
        "note": "Lý do",
        **changes,
    }
    before = count(PolicyParameter)
    response = client.post(
        f"{API}/policy/min_equity_pct/versions", headers=token(staff.board), json=data
    )
    assert field in error(response)["fields"]
    assert count(PolicyParameter) == before
    assert count(PolicyChange) == 0


def test_only_the_board_changes_policy_and_unknown_keys_are_not_found(client, staff):
    data = {"value": "25", "effective_from": "2027-01-01", "legal_reference": "NQ 03", "note": "x"}
    for who in (staff.director, staff.officer, make_user("admin"), make_user("controller")):
        response = client.post(
            f"{API}/policy/min_equity_pct/versions", headers=token(who), json=data
        )
        assert response.status_code == 403
    headers = token(staff.board)
    assert (
        client.post(f"{API}/policy/lai_suat/versions", headers=headers, json=data).status_code
        == 404
    )
    assert client.get(f"{API}/policy/lai_suat", headers=headers).status_code == 404
    assert "as_of" in error(client.get(f"{API}/policy?as_of=mai", headers=headers))["fields"]


# --- related groups -----------------------------------------------------------------------------


def test_officer_creates_a_related_group_and_members_are_listed(client, staff):
    response = client.post(
        f"{API}/related-groups",
        headers=token(staff.officer),
        json={"name": "Nhóm HTX Thanh Hà", "note": "Cùng chủ nhiệm"},
    )
    assert response.status_code == 201, response.get_json()
    group = response.get_json()
    assert (group["name"], group["note"], group["members"]) == (
        "Nhóm HTX Thanh Hà",
        "Cùng chủ nhiệm",
        [],
    )
    make_cooperative(name="HTX Vải Thanh Hà", related_group_id=str(group["id"]))
    make_cooperative(name="HTX Dịch vụ Thanh Hà", related_group_id=str(group["id"]))
    make_cooperative(name="HTX Ngoài nhóm")
    client.post(
        f"{API}/related-groups", headers=token(staff.officer), json={"name": "Nhóm Lục Nam"}
    )
    listed = client.get(f"{API}/related-groups", headers=token(make_user("controller"))).get_json()
    assert [g["name"] for g in listed["items"]] == ["Nhóm HTX Thanh Hà", "Nhóm Lục Nam"]
    assert [m["name"] for m in listed["items"][0]["members"]] == [
        "HTX Dịch vụ Thanh Hà",
        "HTX Vải Thanh Hà",
    ]
    found = client.get(f"{API}/related-groups?q=lục", headers=token(staff.officer)).get_json()
    assert [g["name"] for g in found["items"]] == ["Nhóm Lục Nam"]


def test_bad_groups_and_roles(client, staff):
    headers = token(staff.officer)
    client.post(f"{API}/related-groups", headers=headers, json={"name": "Nhóm A"})
    dup = error(client.post(f"{API}/related-groups", headers=headers, json={"name": "Nhóm A"}))
    assert dup["fields"]["name"] == "Tên nhóm đã tồn tại."
    blank = error(client.post(f"{API}/related-groups", headers=headers, json={"name": " "}))
    assert blank["fields"]["name"] == "Trường này là bắt buộc."
    assert (
        "note"
        in error(
            client.post(
                f"{API}/related-groups", headers=headers, json={"name": "B", "note": "\x00"}
            )
        )["fields"]
    )
    assert count(RelatedGroup) == 1
    for who in (staff.accountant, staff.director, make_user("controller")):
        response = client.post(f"{API}/related-groups", headers=token(who), json={"name": "C"})
        assert response.status_code == 403
    member = token(make_user("cooperative"))
    assert client.get(f"{API}/related-groups", headers=member).status_code == 403
    assert count(RelatedGroup) == 1


# --- the journal and the fund overview ----------------------------------------------------------


@pytest.fixture
def booked(staff):
    """15.000.000.000 đ of charter capital (01/01/2020); 120.000.000 đ disbursed on
    15/01/2026; the first instalment repaid: 10.000.000 đ principal and 120.000.000 × 6 %
    × 31 / 365 = 611.506,85 → 611.507 đ interest, posted on the business date."""
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 15))
    rs.record_repayment(
        staff.accountant,
        loan.id,
        {"amount": 10_611_507, "date": "2026-02-15", "reference": "GNC", "method": "bank"},
        BUSINESS_DATE,
    )
    db.session.commit()
    return staff, loan


def journal(client: Any, who: Any, **query: Any) -> Any:
    return client.get(f"{API}/journal", headers=token(who), query_string=query)


def test_the_journal_lists_balanced_entries_newest_first(client, booked):
    _staff, loan = booked
    body = journal(client, make_user("controller")).get_json()
    assert body["total"] == 3
    repayment, disbursement, capital = body["items"]
    assert (repayment["date"], repayment["kind"], repayment["total"]) == (
        "2026-11-20",
        "repayment",
        10_611_507,
    )
    assert sorted((ln["account"], ln["debit"], ln["credit"]) for ln in repayment["lines"]) == [
        ("1121", 10_611_507, 0),
        ("2111", 0, 10_000_000),
        ("7021", 0, 611_507),
    ]
    assert {ln["loan_id"] for ln in repayment["lines"]} == {loan.id}
    cash = next(ln for ln in repayment["lines"] if ln["account"] == "1121")
    assert cash["account_name"] == "Tiền gửi ngân hàng, kho bạc"
    assert (disbursement["date"], disbursement["total"]) == ("2026-01-15", 120_000_000)
    assert (capital["kind"], capital["total"]) == ("capital", 15_000_000_000)
    for entry in body["items"]:
        lines = entry["lines"]
        assert sum(ln["debit"] for ln in lines) == sum(ln["credit"] for ln in lines)


def test_journal_filters(client, booked):
    staff, loan = booked

    def kinds(**query: Any) -> list[str]:
        response = journal(client, staff.accountant, **query)
        assert response.status_code == 200, response.get_json()
        return [e["kind"] for e in response.get_json()["items"]]

    assert kinds(**{"from": "2026-01-01", "to": "2026-01-31"}) == ["disbursement"]
    assert kinds(account="7021") == ["repayment"]
    assert kinds(account="2111") == ["repayment", "disbursement"]
    assert kinds(loan_id=str(loan.id)) == ["repayment", "disbursement"]
    assert kinds(kind="capital") == ["capital"]
    assert kinds(to="2025-12-31") == ["capital"]
    assert kinds(per_page="1", page="3") == ["capital"]
    backwards = error(
        journal(client, staff.accountant, **{"from": "2026-02-01", "to": "2026-01-01"})
    )
    assert backwards["fields"]["from"] == (
        "Ngày bắt đầu sau ngày kết thúc; xin chọn lại khoảng thời gian."
    )
    for query, field in (
        ({"account": "1234"}, "account"),
        ({"from": "31/02/2026"}, "from"),
        ({"loan_id": "abc"}, "loan_id"),
        ({"kind": "a\x00"}, "kind"),
        ({"q": "x"}, "q"),
    ):
        assert field in error(journal(client, staff.accountant, **query))["fields"], query
    assert (
        journal(client, make_user("cooperative", cooperative=loan.cooperative)).status_code == 403
    )
    assert journal(client, make_user("admin")).status_code == 403


def test_fund_overview_counts_cooperatives_and_projects(client, booked):
    staff, loan = booked
    contracted_loan(staff)  # approved and contracted, not yet borrowing
    make_cooperative()
    body = client.get(f"{API}/fund/overview", headers=token(staff.director)).get_json()
    assert body == {"as_of": "2026-11-20", "cooperatives": 3, "projects": 1, "borrowers": 1}
    member = token(make_user("cooperative", cooperative=loan.cooperative))
    assert client.get(f"{API}/fund/overview", headers=member).status_code == 403


# --- the audit log ------------------------------------------------------------------------------


def _log(at: datetime, username: str, action: str, entity: str, entity_id: str) -> None:
    db.session.add(
        AuditLog(
            at=at, username=username, action=action, entity=entity, entity_id=entity_id, note=""
        )
    )


def test_the_audit_log_filters_by_actor_entity_and_the_funds_days(client, app):
    # Ho Chi Minh City is UTC+7: 16:59 UTC on 09/03 is 23:59 there, 17:00 UTC is midnight.
    _log(datetime(2026, 3, 9, 16, 59, tzinfo=UTC), "canbo", "loan.contracted", "loan", "7")
    _log(datetime(2026, 3, 9, 17, 0, tzinfo=UTC), "giamdoc", "loan.cancelled", "loan", "7")
    _log(datetime(2026, 3, 10, 16, 59, tzinfo=UTC), "canbo", "inspection.create", "inspection", "2")
    _log(datetime(2026, 3, 10, 17, 0, tzinfo=UTC), "ketoan", "repayment.create", "repayment", "5")
    db.session.commit()
    controller = token(make_user("controller"))

    def actions(**query: Any) -> list[str]:
        response = client.get(f"{API}/audit", headers=controller, query_string=query)
        assert response.status_code == 200, response.get_json()
        return [row["action"] for row in response.get_json()["items"] if row["entity"] != "user"]

    assert actions(**{"from": "2026-03-10", "to": "2026-03-10"}) == [
        "inspection.create",
        "loan.cancelled",
    ]
    assert actions(to="2026-03-09") == ["loan.contracted"]
    assert actions(actor="canbo") == ["inspection.create", "loan.contracted"]
    assert actions(entity="loan", entity_id="7") == ["loan.cancelled", "loan.contracted"]
    assert actions(action="repayment.create") == ["repayment.create"]
    first = client.get(f"{API}/audit?entity=loan", headers=controller).get_json()["items"][0]
    assert (first["username"], first["at"], first["before"]) == (
        "giamdoc",
        "2026-03-09T17:00:00Z",
        None,
    )
    backwards = client.get(f"{API}/audit?from=2026-03-11&to=2026-03-10", headers=controller)
    assert "from" in error(backwards)["fields"]
    assert "to" in error(client.get(f"{API}/audit?to=1999-12-31", headers=controller))["fields"]
    assert client.get(f"{API}/audit", headers=token(make_user("admin"))).status_code == 200
    for role in ("officer", "director", "board", "accountant", "cooperative"):
        assert client.get(f"{API}/audit", headers=token(make_user(role))).status_code == 403


def test_the_audit_log_shows_who_made_a_change_through_the_api(client, staff):
    client.post(
        f"{API}/related-groups", headers=token(staff.officer), json={"name": "Nhóm Yên Thế"}
    )
    rows = client.get(
        f"{API}/audit?entity=related_group", headers=token(make_user("controller"))
    ).get_json()["items"]
    assert [(r["action"], r["username"], r["after"]) for r in rows] == [
        ("related_group.create", staff.officer.username, {"name": "Nhóm Yên Thế"})
    ]


# --- a draft application and its documents --------------------------------------------------------


@pytest.fixture
def uploads_dir(app, tmp_path) -> Path:
    folder = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(folder)
    return folder


DRAFT = {
    "project_name": "Mở rộng vùng vải thiều VietGAP",
    # 40.000.000 / 160.000.000 = 25 % own equity; the loan 120.000.000 ≤ 80 %.
    "total_project_cost": 160_000_000,
    "own_equity": 40_000_000,
    "requested_amount": 120_000_000,
    "term_months": 12,
    "annual_rate": "7.2",
    "principal_method": "equal_principal",
}


def draft(staff: Any, coop: Any = None) -> Application:
    coop = coop or make_cooperative()
    app = applications.create_application(
        staff.officer, {**DRAFT, "cooperative_id": coop.id}, BUSINESS_DATE
    )
    db.session.commit()
    return app


def test_officer_edits_a_draft_and_what_is_left_out_keeps_its_value(client, staff):
    application = draft(staff)
    response = client.patch(
        f"{API}/applications/{application.id}",
        headers=token(staff.officer),
        json={"requested_amount": 100_000_000, "term_months": 24, "principal_every_months": 3},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["requested_amount"], body["term_months"], body["principal_every_months"]) == (
        100_000_000,
        24,
        3,
    )
    assert (body["total_project_cost"], body["own_equity"], body["annual_rate"]) == (
        160_000_000,
        40_000_000,
        "7.2",
    )
    assert body["project_name"] == DRAFT["project_name"] and body["status"] == "draft"
    change = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "application.update")
    ).one()
    assert change.before["requested_amount"] == 120_000_000
    assert change.after["requested_amount"] == 100_000_000


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"own_equity": 200_000_000}, "own_equity"),  # above the project's cost
        ({"requested_amount": 170_000_000}, "requested_amount"),
        ({"requested_amount": "100000000"}, "requested_amount"),
        ({"requested_amount": 0}, "requested_amount"),
        ({"principal_every_months": 2}, "principal_every_months"),
        ({"annual_rate": 7.2}, "annual_rate"),
        ({"cooperative_id": 999_999}, "cooperative_id"),
        ({"principal_method": "custom"}, "custom_schedule"),
        (
            {"custom_schedule": [["2027-01-15", 60_000_000]], "principal_method": "custom"},
            "custom_schedule",
        ),
        ({"status": "approved"}, "status"),
    ],
)
def test_bad_edits_are_refused_and_nothing_changes(client, staff, changes, field):
    application = draft(staff)
    response = client.patch(
        f"{API}/applications/{application.id}", headers=token(staff.officer), json=changes
    )
    assert field in error(response)["fields"]
    db.session.expire_all()
    again = db.session.get(Application, application.id)
    assert (again.requested_amount, again.own_equity, again.principal_method) == (
        120_000_000,
        40_000_000,
        "equal_principal",
    )


def test_only_drafts_are_edited_by_their_officer_or_cooperative(client, staff):
    coop = make_cooperative()
    application = draft(staff, coop)
    member = make_user("cooperative", cooperative=coop)
    own = client.patch(
        f"{API}/applications/{application.id}",
        headers=token(member),
        json={"project_name": "Vải thiều sấy khô"},
    )
    assert own.status_code == 200, own.get_json()
    # A cooperative does not set the rate: the policy's default (6 %) applies.
    assert own.get_json()["project_name"] == "Vải thiều sấy khô"
    assert own.get_json()["annual_rate"] == "6"
    rate = client.patch(
        f"{API}/applications/{application.id}", headers=token(member), json={"annual_rate": "3"}
    )
    assert (
        error(rate)["fields"]["annual_rate"] == "Lãi suất do Quỹ quy định theo chính sách cho vay."
    )
    neighbour = make_user("cooperative", cooperative=make_cooperative())
    hidden = client.patch(
        f"{API}/applications/{application.id}", headers=token(neighbour), json={"term_months": 6}
    )
    assert hidden.status_code == 404
    for who in (staff.accountant, staff.director, make_user("controller")):
        response = client.patch(
            f"{API}/applications/{application.id}", headers=token(who), json={"term_months": 6}
        )
        assert response.status_code == 403
    applications.submit(staff.officer, application)
    db.session.commit()
    late = client.patch(
        f"{API}/applications/{application.id}",
        headers=token(staff.officer),
        json={"term_months": 6},
    )
    assert error(late)["message"] == "Chỉ sửa được hồ sơ ở trạng thái nháp."
    assert db.session.get(Application, application.id).term_months == 12
    assert (
        client.patch(
            f"{API}/applications/{2**40}", headers=token(staff.officer), json={}
        ).status_code
        == 404
    )


def upload(client: Any, who: Any, app_id: int, content: bytes, name: str) -> Any:
    return client.post(
        f"{API}/applications/{app_id}/documents",
        headers=token(who),
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_a_pdf_is_stored_under_a_random_name_and_served_to_those_who_may_see_it(
    client, staff, uploads_dir
):
    coop = make_cooperative()
    application = draft(staff, coop)
    response = upload(client, staff.officer, application.id, PDF, "Phương án SXKD 2026.pdf")
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert (doc["name"], doc["content_type"], doc["size"], doc["uploaded_by_id"]) == (
        "Phương án SXKD 2026.pdf",
        "application/pdf",
        len(PDF),
        staff.officer.id,
    )
    (stored,) = list(uploads_dir.iterdir())
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", stored.name) and stored.read_bytes() == PDF
    static = Path(current_app.static_folder).resolve()
    assert static not in stored.resolve().parents

    member = make_user("cooperative", cooperative=coop)
    listed = client.get(f"{API}/applications/{application.id}/documents", headers=token(member))
    assert [d["id"] for d in listed.get_json()["items"]] == [doc["id"]]
    path = f"{API}/applications/{application.id}/documents/{doc['id']}"
    for who in (member, make_user("controller")):
        with client.get(path, headers=token(who)) as download:
            assert download.status_code == 200
            assert download.data == PDF
            assert download.mimetype == "application/octet-stream"
            assert download.headers["Content-Disposition"].startswith("attachment")
            assert (
                "Ph%C6%B0%C6%A1ng%20%C3%A1n%20SXKD%202026.pdf"
                in (download.headers["Content-Disposition"])
            )

    neighbour = token(make_user("cooperative", cooperative=make_cooperative()))
    assert client.get(path, headers=neighbour).status_code == 404
    assert (
        client.get(f"{API}/applications/{application.id}/documents", headers=neighbour).status_code
        == 404
    )
    other = draft(staff)
    wrong = f"{API}/applications/{other.id}/documents/{doc['id']}"
    assert client.get(wrong, headers=token(staff.officer)).status_code == 404


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 60, "setup.exe", "chỉ nhận PDF, JPEG, PNG"),
        (b"<html><script>alert(1)</script></html>", "hoso.html", "chỉ nhận PDF, JPEG, PNG"),
        (b"<html><script>alert(1)</script></html>", "hoso.pdf", "không phải là PDF"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "so-do.svg",
            "chỉ nhận PDF, JPEG, PNG",
        ),
        (PDF, "../../../etc/cron.d/job", "chỉ nhận PDF, JPEG, PNG"),
        (PDF, "..\\..\\.bashrc", "chỉ nhận PDF, JPEG, PNG"),
        (b"", "rong.pdf", "rỗng"),
        (PDF + b"0" * 2048, "lon.pdf", "Tệp quá lớn: tối đa 2 KB."),
    ],
)
def test_unacceptable_files_are_refused_and_nothing_is_stored(
    client, staff, uploads_dir, content, name, message
):
    current_app.config["UPLOAD_MAX_BYTES"] = 2048
    application = draft(staff)
    refused = error(upload(client, staff.officer, application.id, content, name))
    assert message in refused["message"]
    assert count(ApplicationDocument) == 0
    assert not uploads_dir.exists() or not any(uploads_dir.iterdir())


def test_a_traversing_name_is_kept_as_its_last_part_and_never_used_on_disk(
    client, staff, uploads_dir
):
    application = draft(staff)
    response = upload(client, staff.officer, application.id, PDF, "../../x.pdf")
    assert response.status_code == 201
    assert response.get_json()["name"] == "x.pdf"
    (stored,) = list(uploads_dir.iterdir())
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", stored.name)
    assert not (uploads_dir.parent / "x.pdf").exists()
    assert not (uploads_dir.parent.parent / "x.pdf").exists()


def test_a_request_above_the_servers_limit_is_413_and_no_file_is_422(client, staff, uploads_dir):
    current_app.config["MAX_CONTENT_LENGTH"] = 4096
    application = draft(staff)
    response = upload(client, staff.officer, application.id, PDF + b"0" * 8192, "lon.pdf")
    assert error(response, 413)["code"] == "too_large"
    missing = client.post(
        f"{API}/applications/{application.id}/documents",
        headers=token(staff.officer),
        data={},
        content_type="multipart/form-data",
    )
    assert error(missing)["message"] == "Chọn tệp cần tải lên."
    assert count(ApplicationDocument) == 0


def test_who_may_upload(client, staff, uploads_dir):
    coop = make_cooperative()
    application = draft(staff, coop)
    member = make_user("cooperative", cooperative=coop)
    assert upload(client, member, application.id, PDF, "giay-phep.pdf").status_code == 201
    for who in (staff.accountant, staff.director, make_user("controller")):
        assert upload(client, who, application.id, PDF, "a.pdf").status_code == 403
    neighbour = make_user("cooperative", cooperative=make_cooperative())
    assert upload(client, neighbour, application.id, PDF, "a.pdf").status_code == 404
    applications.submit(staff.officer, application)
    applications.appraise(staff.appraiser, application, 120_000_000, "Khả thi", BUSINESS_DATE)
    db.session.commit()
    late = error(upload(client, member, application.id, PDF, "bo-sung.pdf"))
    assert late["message"] == "Hồ sơ đã được thẩm định; xin liên hệ cán bộ tín dụng để bổ sung."
    assert upload(client, staff.officer, application.id, PDF, "bo-sung.pdf").status_code == 201
    assert count(ApplicationDocument) == 2


# --- the cooperative's own contact details ------------------------------------------------------


def test_contact_details_by_the_cooperative_itself_or_an_officer(client, app):
    coop = make_cooperative(name="HTX Vải thiều Thanh Hà", phone="0912345678", address="Thôn 1")
    member = token(make_user("cooperative", cooperative=coop))
    path = f"{API}/cooperatives/{coop.id}/contact"
    response = client.patch(path, headers=member, json={"phone": "+84 987 654 321"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # The phone is stored without spaces; the address left out keeps its value.
    assert (body["phone"], body["address"], body["name"]) == (
        "+84987654321",
        "Thôn 1",
        "HTX Vải thiều Thanh Hà",
    )
    cleared = client.patch(path, headers=member, json={"email": None, "address": ""}).get_json()
    assert (cleared["email"], cleared["address"], cleared["phone"]) == (None, "", "+84987654321")
    for change, field in (
        ({"phone": "12345"}, "phone"),
        ({"email": "khong-hop-le"}, "email"),
        ({"name": "HTX Khác"}, "name"),
        ({"tax_code": "0101234567"}, "tax_code"),
    ):
        assert field in error(client.patch(path, headers=member, json=change))["fields"], change
    neighbour = make_cooperative(name="HTX Hàng xóm")
    other = f"{API}/cooperatives/{neighbour.id}/contact"
    assert client.patch(other, headers=member, json={"phone": "0911111111"}).status_code == 404
    db.session.refresh(neighbour)
    assert neighbour.phone == "0912345678"
    for role in ("accountant", "director", "controller"):
        refused = client.patch(path, headers=token(make_user(role)), json={"phone": "0911111111"})
        assert refused.status_code == 403, role
    officer = client.patch(other, headers=token(make_user("officer")), json={"address": "Thôn 2"})
    assert officer.status_code == 200 and officer.get_json()["address"] == "Thôn 2"
    log = db.session.scalars(select(AuditLog).where(AuditLog.action == "cooperative.update"))
    assert [(row.entity_id, row.after) for row in log] == [
        (str(coop.id), {"phone": "+84987654321"}),
        (str(coop.id), {"email": None, "address": ""}),
        (str(neighbour.id), {"address": "Thôn 2"}),
    ]
