"""Messages of the notices (fundapp/notices/outbox.py, senders.py): one per channel the
cooperative chose, each sent once, retried with a growing delay, through the log sender by
default or a provider's HTTP gateway."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from fundapp.domain.dates import utcnow
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.loans.days import Notice
from fundapp.notices import channels, delivery, outbox
from fundapp.notices.models import OutboundMessage
from fundapp.notices.senders import Message, SendResult
from tests.conftest import BUSINESS_DATE, PG_URL, make_cooperative, make_user

_seq = {"n": 0}


def _notice(coop: Any = None, user: Any = None, kind: str = "due_soon") -> Notice:
    _seq["n"] += 1
    notice = Notice(
        kind=kind,
        event_key=f"test:{_seq['n']}",
        recipient_key=f"coop:{coop.id}" if coop else f"user:{user.id}",
        business_date=BUSINESS_DATE,
        cooperative_id=coop.id if coop else None,
        user_id=user.id if user else None,
        title="Thông báo khoản vay sắp đến hạn",
        body="Kỳ 3 đến hạn ngày 30/11/2026: gốc 10.000.000 đ, lãi 850.000 đ.",
        data={"no": 3, "due_date": "2026-11-30", "principal": 10_000_000, "interest": 850_000},
        email_to=(coop.email if coop else user.email) or "",
    )
    db.session.add(notice)
    db.session.commit()
    return notice


def _rows() -> list[tuple[str, str, str, int]]:
    db.session.expire_all()
    return [
        (r.channel, r.address, r.status, r.attempts)
        for r in db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))
    ]


def _coop(*chosen: str) -> Any:
    coop = make_cooperative(phone="0912345678", email="htx@example.vn")
    channels.set_channels(None, coop, list(chosen))
    db.session.commit()
    return coop


# --- the log sender, the channel choice, once per channel ----------------------------------


def test_log_sender_by_default_one_message_per_chosen_channel_once(app, caplog):
    coop = _coop("zalo", "email", "sms")
    assert coop.message_channels == ["email", "sms", "zalo"]  # the fixed order
    notice = _notice(coop)
    caplog.set_level(logging.INFO)

    assert delivery.deliver_pending() == 3
    assert _rows() == [
        ("email", "htx@example.vn", "sent", 1),
        ("sms", "0912345678", "sent", 1),
        ("zalo", "0912345678", "sent", 1),
    ]
    logged = [(r.name, r.getMessage()) for r in caplog.records]
    assert (
        "fundapp.messages",
        "sms to 0912345678: Thông báo khoản vay sắp đến hạn | Kỳ 3 đến hạn ngày 30/11/2026: "
        "gốc 10.000.000 đ, lãi 850.000 đ.",
    ) in logged
    assert sum(1 for name, m in logged if m.startswith("zalo to 0912345678")) == 1
    assert sum(1 for name, m in logged if name == "fundapp.mail" and "htx@example.vn" in m) == 1
    assert db.session.get(Notice, notice.id).emailed_at is not None

    caplog.clear()
    assert delivery.deliver_pending() == 0  # delivered twice: still one message per channel
    assert len(_rows()) == 3
    assert not [r for r in caplog.records if r.name in ("fundapp.messages", "fundapp.mail")]


def test_the_cooperative_chooses_its_channels(app):
    default = make_cooperative(phone="0912345678")
    assert channels.chosen(default) == ("email",)
    sms_only = _coop("sms")
    nothing = _coop()
    officer = make_user("officer")
    officer.email = "canbo@example.vn"
    db.session.commit()
    to_default, to_sms, _quiet, to_officer = (
        _notice(default),
        _notice(sms_only),
        _notice(nothing),
        _notice(user=officer),
    )

    assert delivery.deliver_pending() == 3
    rows = {
        r.notice_id: (r.channel, r.address) for r in db.session.scalars(select(OutboundMessage))
    }
    assert rows == {
        to_default.id: ("email", default.email),
        to_sms.id: ("sms", "0912345678"),
        to_officer.id: ("email", "canbo@example.vn"),
    }
    db.session.expire_all()
    assert db.session.get(Notice, to_sms.id).emailed_at is None  # no e-mail was chosen


def test_a_channel_is_refused_when_unknown_or_without_its_address(app):
    coop = make_cooperative(phone="", email="htx@example.vn")
    with pytest.raises(ValidationFailed) as unknown:
        channels.set_channels(None, coop, ["email", "fax"])
    assert "fax" in unknown.value.fields["message_channels"]
    with pytest.raises(ValidationFailed) as no_phone:
        channels.set_channels(None, coop, "email, sms")
    assert "số điện thoại" in no_phone.value.fields["message_channels"]
    with pytest.raises(ValidationFailed):
        channels.set_channels(None, coop, {"email": True})
    assert channels.set_channels(None, coop, "email") == ["email"]


# --- retries -----------------------------------------------------------------------------


class _Gateway:
    """A provider's gateway on 127.0.0.1 answering from a script: "500", "slow" (longer
    than the sender's timeout) or "200"; records each request."""

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.requests.append((dict(self.headers), body))
                step = gateway.script.pop(0) if gateway.script else "200"
                if step == "slow":
                    time.sleep(1.0)
                code = 500 if step == "500" else 200
                answer = b'{"error": "busy"}' if code == 500 else b'{"id": "prov-1"}'
                self.send_response(code)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # the slow answer's client has gone: nothing to report

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/send"


def test_http_sender_retries_after_a_failure_and_a_timeout_then_sends_once(app):
    coop = _coop("sms")
    _notice(coop)
    with _Gateway(["500", "slow", "200"]) as gateway:
        app.config.update(
            MESSAGE_SMS_BACKEND="http",
            MESSAGE_HTTP_URL=gateway.url,
            MESSAGE_HTTP_KEY="k-secret",
            MESSAGE_HTTP_TIMEOUT=0.3,
            MESSAGE_TEMPLATES='{"due_soon": "T-42"}',
        )
        t0 = utcnow()
        assert delivery.deliver_pending(now=t0) == 0
        (row,) = db.session.scalars(select(OutboundMessage)).all()
        assert (row.status, row.attempts, row.next_attempt_at) == (
            "failed",
            1,
            t0 + timedelta(minutes=1),
        )
        assert row.last_error == 'HTTP 500: {"error": "busy"}'

        assert delivery.deliver_pending(now=t0 + timedelta(seconds=59)) == 0  # not due yet
        assert len(gateway.requests) == 1

        t1 = t0 + timedelta(minutes=1)
        assert delivery.deliver_pending(now=t1) == 0  # the gateway is too slow: a failure
        db.session.expire_all()
        assert (row.status, row.attempts) == ("failed", 2)
        assert row.next_attempt_at == t1 + timedelta(minutes=5)
        assert "timed out" in row.last_error

        t2 = t1 + timedelta(minutes=5)
        assert delivery.deliver_pending(now=t2) == 1
        db.session.expire_all()
        assert (row.status, row.attempts, row.provider_id) == ("sent", 2 + 1, "prov-1")
        assert (row.sent_at, row.next_attempt_at, row.last_error) == (t2, None, "")

        assert delivery.deliver_pending(now=t2 + timedelta(hours=1)) == 0
    assert len(gateway.requests) == 3  # never resent once sent
    headers, body = gateway.requests[-1]
    assert headers["Authorization"] == "Bearer k-secret"
    assert body["template_id"] == "T-42" and body["to"] == "0912345678"
    assert body["params"]["principal"] == 10_000_000
    # The same reference on every attempt: the provider may drop a repeat.
    assert len({b["reference"] for _h, b in gateway.requests}) == 1


def test_retries_back_off_1_5_30_120_minutes_then_give_up(app):
    assert [outbox.retry_delay(n) for n in range(1, 6)] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(minutes=120),
        None,
    ]

    class Down:
        calls = 0

        def send(self, message: Message) -> SendResult:
            Down.calls += 1
            return SendResult.failed("gateway down")

    coop = _coop("zalo")
    _notice(coop)
    outbox.enqueue(limit=10)
    now = utcnow()
    for delay in (0, 1, 5, 30, 120):
        now += timedelta(minutes=delay)
        assert outbox.send_due({"zalo": Down()}, limit=10, now=now) == 0
    (row,) = db.session.scalars(select(OutboundMessage)).all()
    db.session.refresh(row)
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
        "failed",
        5,
        None,
        "gateway down",
    )
    assert outbox.send_due({"zalo": Down()}, limit=10, now=now + timedelta(days=1)) == 0
    assert Down.calls == 5


def test_no_template_for_the_kind_fails_without_retries(app):
    coop = _coop("sms")
    _notice(coop, kind="overdue_transfer")
    app.config.update(
        MESSAGE_SMS_BACKEND="http",
        MESSAGE_HTTP_URL="http://127.0.0.1:9/never",
        MESSAGE_TEMPLATES='{"due_soon": "T-42"}',
    )
    assert delivery.deliver_pending() == 0
    (row,) = db.session.scalars(select(OutboundMessage)).all()
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, None)
    assert row.last_error == "MESSAGE_TEMPLATES has no template for 'overdue_transfer'"


# --- two runs at once -----------------------------------------------------------------------


def test_a_run_started_while_another_sends_sends_nothing_again(app, monkeypatch):
    coop = _coop("sms")
    _notice(coop)
    _notice(coop)
    inner: list[int] = []
    calls: list[str] = []

    class Reentrant:
        def send(self, message: Message) -> SendResult:
            calls.append(message.reference)
            inner.append(delivery.deliver_pending())  # a second run, mid-send
            return SendResult(True)

    monkeypatch.setattr(delivery, "senders", lambda: {"sms": Reentrant()})
    outer = delivery.deliver_pending()
    # The second run sends the message the first has not claimed yet, never the one it
    # holds; the first then finds that one taken: two messages, two sends.
    assert outer + sum(inner) == 2 and outer >= 1
    assert len(calls) == len(set(calls)) == 2
    assert [status for _c, _a, status, _n in _rows()] == ["sent", "sent"]


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (two connections)")
def test_concurrent_delivery_runs_send_each_message_once(app, monkeypatch):
    coops = [_coop("sms", "zalo") for _ in range(3)]
    for coop in coops:
        _notice(coop)
    sent: list[str] = []
    lock = threading.Lock()

    class Slow:
        def send(self, message: Message) -> SendResult:
            time.sleep(0.05)
            with lock:
                sent.append(message.reference)
            return SendResult(True)

    monkeypatch.setattr(delivery, "senders", lambda: {"sms": Slow(), "zalo": Slow()})
    outbox.enqueue(limit=100)
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        with app.app_context():
            barrier.wait(5)
            counts.append(delivery.deliver_pending())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(counts) == 6 and len(counts) == 2
    assert len(sent) == len(set(sent)) == 6
    assert {status for _c, _a, status, _n in _rows()} == {"sent"}
