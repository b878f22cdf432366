"""The senders of messages: one interface, ``send(message) -> SendResult``, per channel.

"email" goes through the e-mail backend (``fundapp.notices.delivery``: the log or SMTP);
"sms" and "zalo" through MESSAGE_SMS_BACKEND / MESSAGE_ZALO_BACKEND: "log" (the default,
writes the message to the ``fundapp.messages`` log) or "http" (a provider's gateway:
MESSAGE_HTTP_URL, MESSAGE_HTTP_KEY, MESSAGE_TEMPLATES, MESSAGE_HTTP_TIMEOUT). A sender never
raises for a failed delivery: it answers a failed :class:`SendResult` and the outbox
retries it later (``retry`` False: retrying cannot help, e.g. no template for the kind).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("fundapp.messages")

ERROR_LENGTH = 500


@dataclass(frozen=True)
class Message:
    """One message to one address. ``reference`` is the same on every attempt (the
    provider may use it to drop a repeat); ``params`` fill the provider's template."""

    reference: str
    channel: str  # email | sms | zalo
    to: str
    kind: str  # the notice's kind
    subject: str
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)
    # (file name, PDF bytes): e-mail only
    attachments: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_id: str = ""
    error: str = ""
    retry: bool = True  # a failure worth another attempt later

    @classmethod
    def failed(cls, error: str, *, retry: bool = True) -> SendResult:
        return cls(False, error=error[:ERROR_LENGTH], retry=retry)


class Sender(Protocol):
    def send(self, message: Message) -> SendResult: ...


class LogSender:
    """Writes the message to the log: the default, until a provider is configured."""

    def send(self, message: Message) -> SendResult:
        log.info("%s to %s: %s | %s", message.channel, message.to, message.subject, message.text)
        return SendResult(True)


class HttpSender:
    """POSTs the message as JSON to a provider's gateway, with the provider's template id
    of the notice's kind and a bearer key. A 2xx answer is sent (its JSON ``id`` or
    ``message_id`` kept as the provider's id); any other answer, a timeout or a network
    error is a failure to retry."""

    def __init__(
        self, url: str, key: str, templates: Mapping[str, str], timeout: float = 10.0
    ) -> None:
        self.url = url
        self.key = key
        self.templates = dict(templates)
        self.timeout = timeout

    def payload(self, message: Message) -> dict[str, Any]:
        return {
            "reference": message.reference,
            "channel": message.channel,
            "to": message.to,
            "template_id": self.templates.get(message.kind, ""),
            "params": {"title": message.subject, "text": message.text, **message.params},
        }

    def send(self, message: Message) -> SendResult:
        if not self.url.startswith(("http://", "https://")):
            return SendResult.failed("MESSAGE_HTTP_URL is not an http(s) address", retry=False)
        if not self.templates.get(message.kind):
            return SendResult.failed(
                f"MESSAGE_TEMPLATES has no template for {message.kind!r}", retry=False
            )
        body = json.dumps(self.payload(message), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message.reference,
        }
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        # The URL is the operator's own setting, checked to be http(s) above.
        request = urllib.request.Request(  # noqa: S310
            self.url, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = response.read(65536)
        except urllib.error.HTTPError as exc:
            detail = exc.read(200).decode(errors="replace")
            return SendResult.failed(f"HTTP {exc.code}: {detail}")
        except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
            return SendResult.failed(f"{type(exc).__name__}: {exc}")
        return SendResult(True, provider_id=_provider_id(answer))


def _provider_id(answer: bytes) -> str:
    try:
        data = json.loads(answer or b"{}")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return str(data.get("id") or data.get("message_id") or "")[:100]


def templates(raw: Any) -> dict[str, str]:
    """MESSAGE_TEMPLATES: a JSON object (or a dict) of notice kind → template id; anything
    else is no templates (each message then fails, without retries, naming the setting)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "{}")
        except ValueError:
            log.warning("MESSAGE_TEMPLATES is not a JSON object; no templates")
            return {}
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): str(v) for k, v in raw.items() if v not in (None, "")}


def phone_sender(channel: str, config: Mapping[str, Any]) -> Sender:
    """The sender of "sms" or "zalo" under ``config``."""
    backend = str(config.get(f"MESSAGE_{channel.upper()}_BACKEND", "log")).strip().lower()
    if backend != "http":
        return LogSender()
    try:
        timeout = float(config.get("MESSAGE_HTTP_TIMEOUT", 10))
    except (TypeError, ValueError):
        timeout = 10.0
    return HttpSender(
        str(config.get("MESSAGE_HTTP_URL", "")),
        str(config.get("MESSAGE_HTTP_KEY", "")),
        templates(config.get("MESSAGE_TEMPLATES", "")),
        timeout,
    )
