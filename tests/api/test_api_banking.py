"""The bank statement API: upload, review, a batch sent to posting and approved once."""

from __future__ import annotations

import io
from datetime import date

from fundapp.extensions import db
from fundapp.loans.models import Repayment
from tests.conftest import BUSINESS_DATE, api_token, count
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff
from tests.services.test_bank_import import agribank_csv

API = "/api/v1"


def _upload(client, headers, data: bytes, bank: str = "AGRIBANK"):
    form = {"bank": bank, "file": (io.BytesIO(data), "sao_ke.csv")}
    return client.post(f"{API}/bank-statements", headers=headers, data=form)


def test_a_statement_is_uploaded_reviewed_and_posted_once(app, client):
    staff = fund_and_staff()
    loan = contracted_loan(staff)
    disburse(staff, loan, 120_000_000, date(2026, 1, 5))
    accountant = api_token(client, staff.accountant)
    director = api_token(client, staff.director)
    data = agribank_csv(
        [
            ("FT1", BUSINESS_DATE, "", "2.500.000", f"Trả nợ hợp đồng {loan.contract_no}", "", ""),
            ("FT2", BUSINESS_DATE, "", "300.000", "ung ho quy", "", ""),
            ("FT3", BUSINESS_DATE, "11.000", "", "Phí SMS", "", ""),
        ]
    )

    made = _upload(client, accountant, data)
    assert made.status_code == 200, made.get_json()
    result = made.get_json()
    assert {k: result[k] for k in ("new", "rows_read", "credits", "debits", "matched")} == {
        "new": True,
        "rows_read": 3,
        "credits": 2,
        "debits": 1,
        "matched": 1,
    }
    again = _upload(client, accountant, data)
    assert again.status_code == 200 and again.get_json()["new"] is False
    assert again.get_json()["statement_id"] == result["statement_id"]
    refused = _upload(client, accountant, data, bank="agri bank!")
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"]["bank"]

    statement = client.get(f"{API}/bank-statements/{result['statement_id']}", headers=director)
    assert statement.status_code == 200
    lines = statement.get_json()["lines"]
    assert [(x["txn_id"], x["status"], x["contract_no"], x["amount"]) for x in lines] == [
        ("FT1", "matched", loan.contract_no, 2_500_000),
        ("FT2", "unmatched", None, 300_000),
    ]
    assert lines[0]["method"] == "contract" and lines[0]["confidence"] == 90
    unmatched = client.get(f"{API}/bank-lines?status=unmatched", headers=accountant)
    assert [x["txn_id"] for x in unmatched.get_json()["items"]] == ["FT2"]
    assert client.get(f"{API}/bank-lines?status=lost", headers=accountant).status_code == 422

    matched_id, other_id = lines[0]["id"], lines[1]["id"]
    ignored = client.post(
        f"{API}/bank-lines/{other_id}", headers=accountant, json={"action": "ignore"}
    )
    assert ignored.status_code == 422 and ignored.get_json()["error"]["fields"]["note"]
    confirmed = client.post(
        f"{API}/bank-lines/{matched_id}", headers=accountant, json={"action": "confirm"}
    )
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"

    before = count(Repayment)
    batches = f"{API}/bank-statements/{result['statement_id']}/batches"
    pending = client.post(batches, headers=accountant)
    assert pending.status_code == 201, pending.get_json()
    batch = pending.get_json()
    assert (batch["status"], batch["lines"], batch["total"], batch["needs_approval"]) == (
        "pending",
        1,
        2_500_000,
        True,
    )
    assert client.post(batches, headers=accountant).status_code == 409
    approve = f"{API}/bank-batches/{batch['id']}/approve"
    assert client.post(approve, headers=accountant, json={}).status_code == 403
    done = client.post(approve, headers=director, json={"note": "Đã đối chiếu"})
    assert done.status_code == 200, done.get_json()
    posted = done.get_json()
    assert (posted["status"], posted["posted"], posted["posted_total"], posted["failed"]) == (
        "posted",
        1,
        2_500_000,
        0,
    )
    assert posted["decided_by"] == staff.director.username
    assert posted["outcomes"][0]["receipt_no"].startswith("PT-2026-")
    assert count(Repayment) == before + 1
    assert client.post(approve, headers=director, json={}).status_code == 409
    rejected = client.post(
        f"{API}/bank-batches/{batch['id']}/reject", headers=director, json={"reason": "Sai"}
    )
    assert rejected.status_code == 409
    line = client.get(f"{API}/bank-statements/{result['statement_id']}", headers=accountant)
    first = line.get_json()["lines"][0]
    assert (first["status"], first["batch_id"]) == ("posted", batch["id"])
    assert db.session.get(Repayment, first["repayment_id"]).reference == "FT1"
