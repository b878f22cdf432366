from __future__ import annotations

from fundapp.auth.models import User
from fundapp.cooperatives.models import Cooperative
from fundapp.extensions import db
from fundapp.ledger.services import fund_position
from tests.conftest import login


def test_demo_seed_builds_the_bac_giang_fund(app, runner, client):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    position = fund_position()
    assert position.total_capital == 17_547_000_000
    assert position.cash == 17_547_000_000
    districts = {c.district_code for c in db.session.query(Cooperative)}
    assert len(districts) == 10
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

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code != 0 and "already has data" in again.output
    skipped = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert skipped.exit_code == 0 and "skipped" in skipped.output


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
