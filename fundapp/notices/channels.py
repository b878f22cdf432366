"""The cooperative's choice of where the fund's notices reach it: e-mail, SMS, Zalo."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from fundapp import audit
from fundapp.cooperatives.models import Cooperative
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.notices.models import CHANNELS

DEFAULT = ("email",)


def chosen(coop: Cooperative | None) -> tuple[str, ...]:
    """The cooperative's channels in the fixed order; a stored value that is not a list of
    known channels reads as the default."""
    raw = getattr(coop, "message_channels", None)
    if not isinstance(raw, list):
        return DEFAULT
    return tuple(c for c in CHANNELS if c in raw)


def clean(raw: Any) -> list[str]:
    """A list (or a comma-separated text) of channels → the channels in the fixed order,
    each once; raises ValidationFailed naming the field. An empty choice is allowed: the
    notices then stay in the app only."""
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list | tuple) or not all(isinstance(c, str) for c in raw):
        raise ValidationFailed(
            _("Dữ liệu chưa hợp lệ, xin kiểm tra lại."),
            {"message_channels": _("Chọn kênh nhận thông báo trong danh sách.")},
        )
    unknown = [c for c in raw if c not in CHANNELS]
    if unknown:
        raise ValidationFailed(
            _("Dữ liệu chưa hợp lệ, xin kiểm tra lại."),
            {"message_channels": _("Kênh nhận thông báo không hợp lệ: %(c)s", c=unknown[0][:20])},
        )
    return [c for c in CHANNELS if c in raw]


def set_channels(actor: Any, coop: Cooperative, raw: Any) -> list[str]:
    """Store the cooperative's choice (audited). SMS and Zalo go to the cooperative's
    phone, e-mail to its e-mail: a channel chosen without that address is refused."""
    channels = clean(raw)
    if any(c in channels for c in ("sms", "zalo")) and not coop.phone:
        raise ValidationFailed(
            _("Dữ liệu chưa hợp lệ, xin kiểm tra lại."),
            {"message_channels": _("Nhận qua SMS hoặc Zalo cần số điện thoại của hợp tác xã.")},
        )
    if "email" in channels and not coop.email:
        raise ValidationFailed(
            _("Dữ liệu chưa hợp lệ, xin kiểm tra lại."),
            {"message_channels": _("Nhận qua e-mail cần địa chỉ e-mail của hợp tác xã.")},
        )
    before = list(chosen(coop))
    if channels != before:
        coop.message_channels = channels
        audit.record(
            actor,
            "cooperative.update",  # labelled "Sửa hợp tác xã" in the audit trail
            "cooperative",
            coop.id,
            {"message_channels": before},
            {"message_channels": channels},
        )
        db.session.flush()
    return channels
