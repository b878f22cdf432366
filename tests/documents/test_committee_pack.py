"""The risk committee's quarterly pack PDF: classification and provisions, the loans
proposed for risk handling with their figures and credit-file references, the minutes with
each decision and its reason, the members' signature blocks."""

from __future__ import annotations

from fundapp.documents import credit_file
from fundapp.extensions import db
from fundapp.lending import committee
from fundapp.reports import committee_pack
from tests.conftest import BUSINESS_DATE
from tests.documents.conftest import pdf_text
from tests.services.test_risk_committee import MEETING, book  # noqa: F401  (fixture)


def test_the_pack_shows_figures_documents_minutes_and_decisions(app, book, tmp_path):  # noqa: F811
    staff, (first, second), (approve_it, reject_it) = book
    contract = credit_file.issue(staff.officer, "contract", first)
    meeting = committee.open_meeting(staff.board, "2026-Q3", MEETING, BUSINESS_DATE)
    committee.record_decision(staff.board, meeting.id, approve_it.id, "approve", "Đủ hồ sơ")
    committee.record_decision(staff.board, meeting.id, reject_it.id, "reject", "Còn tài sản")
    committee.close_meeting(staff.board, meeting.id, BUSINESS_DATE)
    db.session.commit()

    pack = committee_pack.build(meeting)
    row = next(r for r in pack.loans if r.write_off_id == approve_it.id)
    # As of 30/09/2026: group 5, 02/07/2025 → 30/09/2026 = 455 days, provisioned in full.
    assert (row.outstanding, row.debt_group, row.days_past_due, row.provision_held) == (
        120_000_000,
        5,
        455,
        120_000_000,
    )
    assert [f.reference_no for f in row.documents] == [contract.reference_no]

    text = pdf_text(committee_pack.pack_pdf(meeting), tmp_path)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Hồ sơ họp Hội đồng xử lý rủi ro".upper(),
        "2026-Q3",
        "Phân loại nợ và trích lập dự phòng",
        first.contract_no,
        second.contract_no,
        "120.000.000",
        "455",
        contract.reference_no,
        "Hội đồng xem xét phân loại nợ quý III",
        "Đồng ý xử lý rủi ro",
        "Đủ hồ sơ",
        "Không đồng ý",
        "Còn tài sản",
        "Nguyễn Văn An — Chủ tịch",
        "Lê Văn Cường — Kế toán trưởng",
    ):
        assert expected in text, expected
