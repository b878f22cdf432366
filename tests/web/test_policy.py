from __future__ import annotations

from datetime import date
from decimal import Decimal

from fundapp.audit.models import AuditLog
from fundapp.extensions import db
from fundapp.policy import services
from fundapp.policy.models import PolicyParameter
from tests.conftest import login, make_user


def test_defaults_are_the_legal_ones(app):
    services.install_defaults()
    db.session.commit()
    assert services.value("min_equity_pct", date(2026, 1, 1)) == Decimal("20")
    assert services.value("single_borrower_limit_pct", date(2026, 1, 1)) == Decimal("15")
    assert services.value("related_group_limit_pct", date(2026, 1, 1)) == Decimal("25")
    assert services.value("overdue_rate_pct", date(2026, 1, 1)) == Decimal("150")
    assert services.value("director_approval_limit", date(2026, 1, 1)) == 500_000_000
    assert services.value("group_thresholds_days", date(2026, 1, 1)) == [10, 91, 181, 361]
    assert services.value("provision_rates_pct", date(2026, 1, 1)) == [
        Decimal(0),
        Decimal(5),
        Decimal(20),
        Decimal(50),
        Decimal(100),
    ]
    row = db.session.query(PolicyParameter).filter_by(key="min_equity_pct").one()
    assert row.legal_reference == "Nghị định 45/2021/NĐ-CP, Điều 22"


def test_board_adds_a_version_and_history_is_kept(client, app):
    services.install_defaults()
    db.session.commit()
    login(client, make_user("board"))
    response = client.post(
        "/policy/director_approval_limit/change",
        data={
            "value": "700000000",
            "effective_from": "01/12/2026",
            "legal_reference": "Nghị quyết HĐQL số 5/2026",
            "note": "Nâng thẩm quyền",
        },
    )
    assert response.status_code == 302
    assert services.value("director_approval_limit", date(2026, 11, 30)) == 500_000_000
    assert services.value("director_approval_limit", date(2026, 12, 1)) == 700_000_000
    versions = db.session.query(PolicyParameter).filter_by(key="director_approval_limit").count()
    assert versions == 2
    audit = db.session.query(AuditLog).filter_by(action="policy.change").one()
    assert audit.before == {"key": "director_approval_limit", "value": "500000000"}
    page = client.get("/policy/director_approval_limit").get_data(as_text=True)
    assert "Nghị quyết HĐQL số 5/2026" in page


def test_history_cannot_be_rewritten_and_bad_values_are_refused(client, app):
    services.install_defaults()
    db.session.commit()
    login(client, make_user("board"))
    cases = [
        ({"value": "30", "effective_from": "01/01/2025"}, "không được trước ngày làm việc"),
        ({"value": "abc", "effective_from": "01/12/2026"}, "Giá trị không hợp lệ"),
        ({"value": "-5", "effective_from": "01/12/2026"}, "Giá trị không hợp lệ"),
        ({"value": "30", "effective_from": "32/12/2026"}, "Ngày không hợp lệ"),
        ({"value": "30", "effective_from": "01/12/2026", "legal_reference": ""}, "căn cứ pháp lý"),
    ]
    for data, message in cases:
        form = {"legal_reference": "QĐ 1", "note": "", **data}
        response = client.post("/policy/min_equity_pct/change", data=form)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), (data, message)
    assert db.session.query(PolicyParameter).filter_by(key="min_equity_pct").count() == 1


def test_only_board_changes_policy_but_all_staff_read_it(client, app):
    services.install_defaults()
    db.session.commit()
    login(client, make_user("director"))
    assert client.get("/policy/").status_code == 200
    assert "Vốn đối ứng tối thiểu" in client.get("/policy/").get_data(as_text=True)
    response = client.post("/policy/min_equity_pct/change", data={"value": "30"})
    assert response.status_code == 403
    assert client.get("/policy/no_such_key").status_code == 404
