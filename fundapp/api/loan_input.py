"""What the loan views of the API read before they act: the shape of a JSON body (money as
integers, texts as strings, a plan of principal by date) and the object asked for, under the
cooperative's own-data rule.

A JSON body is checked for its types here, before the services read it, so a float or a
string where the fund expects whole đồng is refused with a message rather than parsed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, request
from flask_babel import gettext as _

from fundapp.api import shapes
from fundapp.api.common import body, current_api_user, get_or_404
from fundapp.api.spec import MAX_ID, read_query
from fundapp.core import validation
from fundapp.core.dates import business_date
from fundapp.core.security import STAFF_READ, can_see_cooperative, has_role
from fundapp.domain.errors import ValidationFailed
from fundapp.loans.models import Application, Loan

# --- shape of JSON input -------------------------------------------------------------------


def invalid(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(_("Dữ liệu chưa hợp lệ, xin kiểm tra lại."), errors)


def optional_body() -> dict[str, Any]:
    """Approvals may come without a body; anything sent must still be a JSON object."""
    if not request.get_data():
        return {}
    return body()


def money_shape(data: dict[str, Any], keys: tuple[str, ...], errors: dict[str, str]) -> None:
    """JSON carries money as integers: a string or a float is refused, not parsed."""
    for key in keys:
        raw = data.get(key)
        if isinstance(raw, str):
            errors[key] = _("Số tiền trong JSON là số nguyên (đồng), không phải chuỗi.")
        elif isinstance(raw, float):
            errors[key] = _("Số tiền phải là số nguyên đồng, không có phần thập phân.")
        elif isinstance(raw, bool) or (raw is not None and not isinstance(raw, int)):
            errors[key] = _("Số tiền phải là số nguyên đồng.")


def text_shape(data: dict[str, Any], keys: tuple[str, ...], errors: dict[str, str]) -> None:
    for key in keys:
        if data.get(key) is not None and not isinstance(data.get(key), str):
            errors[key] = _("Phải là chuỗi.")
        elif "\x00" in (data.get(key) or ""):
            errors[key] = _("Có ký tự không hợp lệ.")


def id_shape(data: dict[str, Any], key: str, errors: dict[str, str]) -> None:
    """An id beyond what the database holds names nothing (and would overflow a query)."""
    raw = str(data.get(key, "")).strip()
    if validation.digits(raw) and int(raw) > MAX_ID:
        errors[key] = _("Không tồn tại.")


def rate_shape(data: dict[str, Any], key: str, errors: dict[str, str]) -> None:
    raw = data.get(key)
    if raw is None or isinstance(raw, str) or (isinstance(raw, int) and not isinstance(raw, bool)):
        return
    errors[key] = _('Lãi suất là chuỗi (ví dụ "7.2") hoặc số nguyên, không phải số thực.')


def plan_shape(data: dict[str, Any], key: str, errors: dict[str, str]) -> None:
    """``[["YYYY-MM-DD", amount], …]`` with integer amounts."""
    raw = data.get(key)
    if raw is None:
        return
    if not isinstance(raw, list):
        errors[key] = _('Là danh sách [["YYYY-MM-DD", số tiền], …].')
        return
    for item in raw:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or validation.iso_day(item[0]) is None
            or isinstance(item[1], bool)
            or not isinstance(item[1], int)
        ):
            errors[key] = _('Mỗi kỳ là ["YYYY-MM-DD", số tiền nguyên đồng].')
            return


def text_value(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def as_of_query() -> date:
    errors: dict[str, str] = {}
    as_of = validation.iso_date(read_query(shapes.AsOfQuery), "as_of", errors, required=False)
    if errors:
        raise ValidationFailed(_("Ngày không hợp lệ."), errors)
    return as_of or business_date()


# --- objects, with the cooperative's own-data rule ------------------------------------------


def visible_application(app_id: int) -> Application:
    app = get_or_404(Application, app_id)
    # Another cooperative's record is "not found", so ids cannot be probed.
    if not can_see_cooperative(current_api_user(), app.cooperative_id):
        abort(404)
    return app


def visible_loan(loan_id: int) -> Loan:
    loan = get_or_404(Loan, loan_id)
    if not can_see_cooperative(current_api_user(), loan.cooperative_id):
        abort(404)
    return loan


def must_exist(model: Any, object_id: int) -> None:
    """404 before looking at the body: an unknown object is not a validation problem."""
    get_or_404(model, object_id)


def own_filter(query: Any, column: Any, args: dict[str, Any]) -> Any:
    """Staff see every cooperative's (or the one ``cooperative_id`` names); a cooperative's
    user its own only, whatever it asks for."""
    user = current_api_user()
    if has_role(user, *STAFF_READ):
        if "cooperative_id" in args:
            return query.where(column == args["cooperative_id"])
        return query
    return query.where(column == (user.cooperative_id or -1))
