"""`flask backup` / `flask restore`: a round trip brings back the books and the uploads
exactly as they were, and `flask fund check` accepts the restored fund."""

from __future__ import annotations

import tarfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fundapp.extensions import db
from fundapp.ledger.models import JournalLine
from fundapp.loans.models import Loan, Repayment
from fundapp.repayments import services as rs
from tests.conftest import PG_URL, fresh_database, make_app
from tests.services.lending_helpers import contracted_loan, disburse, fund_and_staff

BUSINESS = date(2026, 11, 20)


@pytest.fixture
def file_app(tmp_path: Path) -> Any:
    """An app on a real database file (SQLite) or the test server (PostgreSQL), with its
    own uploads folder."""
    uri = PG_URL or f"sqlite:///{tmp_path / 'fund.db'}"
    app = make_app(SQLALCHEMY_DATABASE_URI=uri, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    with fresh_database(app) as ready:
        yield ready


def _figures() -> dict[str, int]:
    return {
        "repayments": db.session.scalar(select(func.count()).select_from(Repayment)),
        "lines": db.session.scalar(select(func.count()).select_from(JournalLine)),
        "outstanding": db.session.scalar(select(func.sum(Loan.principal_outstanding))),
    }


def test_round_trip_restores_books_and_uploads(file_app: Any, tmp_path: Path) -> None:
    staff = fund_and_staff()
    loan = contracted_loan(staff, on=date(2026, 1, 5))
    disburse(staff, loan, 120_000_000, date(2026, 1, 5))
    loan_id, accountant_id = loan.id, staff.accountant.id
    # Instalment 1 (5/2): 10.000.000 principal + 120.000.000 × 6 % × 31/365 = 611.507 interest.
    rs.record_repayment(
        staff.accountant, loan.id, {"amount": 10_611_507, "date": date(2026, 2, 5)}, BUSINESS
    )
    db.session.commit()
    uploads = Path(file_app.config["UPLOAD_FOLDER"])
    (uploads / "ab").mkdir(parents=True)
    (uploads / "ab" / "ke-hoach.pdf").write_bytes(b"%PDF-1.4 phuong an")
    before = _figures()
    assert before["outstanding"] == 110_000_000

    runner = file_app.test_cli_runner()
    result = runner.invoke(args=["backup", str(tmp_path / "saved.tar.gz")])
    assert result.exit_code == 0, result.output
    assert "1 uploaded files" in result.output
    with tarfile.open(tmp_path / "saved.tar.gz") as archive:
        names = set(archive.getnames())
    assert {"manifest.json", "uploads/ab/ke-hoach.pdf"} <= names
    assert ("database.dump" if PG_URL else "database.sqlite3") in names

    # After the backup: another repayment and a lost document.
    accountant = db.session.get(type(staff.accountant), accountant_id)
    rs.record_repayment(
        accountant, loan_id, {"amount": 5_000_000, "date": date(2026, 3, 1)}, BUSINESS
    )
    db.session.commit()
    (uploads / "ab" / "ke-hoach.pdf").unlink()
    assert _figures() != before

    refused = runner.invoke(args=["restore", str(tmp_path / "saved.tar.gz")], input="n\n")
    assert refused.exit_code != 0 and _figures()["repayments"] == 2

    result = runner.invoke(args=["restore", "--yes", str(tmp_path / "saved.tar.gz")])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert _figures() == before
    assert (uploads / "ab" / "ke-hoach.pdf").read_bytes() == b"%PDF-1.4 phuong an"
    check = runner.invoke(args=["fund", "check"])
    assert check.exit_code == 0, check.output
    assert "OK: all invariants hold" in check.output


def test_restore_refuses_what_is_not_a_backup(file_app: Any, tmp_path: Path) -> None:
    fund_and_staff()
    before = _figures()
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    result = file_app.test_cli_runner().invoke(args=["restore", "--yes", str(bogus)])
    assert result.exit_code != 0
    assert "not a fundapp backup" in result.output
    assert _figures() == before


def test_restore_refuses_path_traversal_members(file_app: Any, tmp_path: Path) -> None:
    fund_and_staff()
    saved = tmp_path / "saved.tar.gz"
    assert file_app.test_cli_runner().invoke(args=["backup", str(saved)]).exit_code == 0
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(saved) as good, tarfile.open(evil, "w:gz") as bad:
        for member in good.getmembers():
            bad.addfile(member, good.extractfile(member))
        payload = tmp_path / "payload"
        payload.write_text("x")
        bad.add(payload, arcname="../../escaped.txt")
    result = file_app.test_cli_runner().invoke(args=["restore", "--yes", str(evil)])
    assert result.exit_code != 0 and "refused archive member" in result.output
    assert not (tmp_path.parent / "escaped.txt").exists()
