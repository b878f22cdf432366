"""The columns of the loan import file and the codes each one accepts.

Headers are the file's format, not interface text: they stay Vietnamese whatever the
interface language, and the stable ASCII key of each column is accepted in their place.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from fundapp.areas import services as areas
from fundapp.domain.cooperatives import CooperativeKind


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    label: Any  # how a message names the column
    help: Any
    example: Any
    kind: str = "text"  # text | money | date | int | rate | pairs


COLUMNS: tuple[Column, ...] = (
    Column(
        "cooperative_name",
        "Tên hợp tác xã",
        True,
        _l("tên hợp tác xã"),
        _l("Tên đầy đủ của bên vay, như trên giấy đăng ký."),
        "HTX Vải thiều Thanh Hà",
    ),
    Column(
        "cooperative_kind",
        "Loại hình",
        False,
        _l("loại hình"),
        _l(
            "htx (hợp tác xã, mặc định), lien_hiep (liên hiệp hợp tác xã), thanh_vien_htx "
            "(thành viên hợp tác xã), thanh_vien_tht (thành viên tổ hợp tác)."
        ),
        "htx",
    ),
    Column(
        "registration_no",
        "Số đăng ký",
        True,
        _l("số đăng ký"),
        _l(
            "Số giấy chứng nhận đăng ký. Hợp tác xã đã có trong hệ thống được nhận ra theo số "
            "này (tên phải trùng); chưa có thì được tạo mới."
        ),
        "2405000001",
    ),
    Column(
        "tax_code",
        "Mã số thuế",
        False,
        _l("mã số thuế"),
        _l("10 hoặc 13 chữ số; bắt buộc khi hợp tác xã chưa có trong hệ thống."),
        "2400000001",
    ),
    Column(
        "district",
        "Huyện",
        True,
        _l("huyện"),
        _l(
            "Huyện (cũ, trước 01/07/2025) của bên vay: mã (ví dụ 219, cả 221 Yên Dũng của "
            "năm 2021) hoặc tên (Lục Ngạn). Giữ làm huyện cũ của hợp tác xã."
        ),
        "219",
    ),
    Column(
        "sector",
        "Ngành nghề",
        False,
        _l("ngành nghề"),
        _l("Lĩnh vực hoạt động của hợp tác xã."),
        "Trồng vải thiều",
    ),
    Column(
        "contract_no",
        "Số hợp đồng",
        True,
        _l("số hợp đồng"),
        _l("Số hợp đồng tín dụng ở hệ thống cũ; không được trùng trong tệp và trong hệ thống."),
        "HD-2025-0012",
    ),
    Column(
        "project_name",
        "Tên dự án",
        True,
        _l("tên dự án"),
        _l("Dự án hoặc phương án sản xuất kinh doanh được vay."),
        "Kho lạnh bảo quản vải thiều",
    ),
    Column(
        "amount",
        "Số tiền vay",
        True,
        _l("số tiền vay"),
        _l("Số tiền theo hợp đồng, số nguyên đồng: 1500000000 hoặc 1.500.000.000."),
        "120.000.000",
        "money",
    ),
    Column(
        "disbursement_date",
        "Ngày giải ngân",
        True,
        _l("ngày giải ngân"),
        _l("Ngày giải ngân (lần đầu): YYYY-MM-DD hoặc dd/mm/yyyy; không sau ngày làm việc."),
        "2026-01-05",
        "date",
    ),
    Column(
        "term_months",
        "Thời hạn (tháng)",
        True,
        _l("thời hạn"),
        _l("Số tháng từ ngày giải ngân đến ngày đáo hạn."),
        "12",
        "int",
    ),
    Column(
        "annual_rate",
        "Lãi suất (%/năm)",
        True,
        _l("lãi suất"),
        _l("Phần trăm một năm, ví dụ 7.2 hoặc 7,2."),
        "7.2",
        "rate",
    ),
    Column(
        "principal_method",
        "Phương thức trả gốc",
        True,
        _l("phương thức trả gốc"),
        _l(
            "equal_principal (gốc chia đều), annuity (niên kim), bullet (trả gốc cuối kỳ), "
            "custom (lịch tự nhập: điền cột Lịch trả gốc tự nhập)."
        ),
        "equal_principal",
    ),
    Column(
        "principal_every_months",
        "Kỳ trả gốc (tháng)",
        False,
        _l("kỳ trả gốc"),
        _l("1, 3, 6 hoặc 12; mặc định 1."),
        "1",
        "int",
    ),
    Column(
        "interest_every_months",
        "Kỳ trả lãi (tháng)",
        False,
        _l("kỳ trả lãi"),
        _l("1, 3, 6 hoặc 12; mặc định 1."),
        "1",
        "int",
    ),
    Column(
        "grace_months",
        "Ân hạn gốc (tháng)",
        False,
        _l("ân hạn gốc"),
        _l("Số tháng chưa trả gốc; mặc định 0."),
        "0",
        "int",
    ),
    Column(
        "custom_schedule",
        "Lịch trả gốc tự nhập",
        False,
        _l("lịch trả gốc tự nhập"),
        _l(
            "Chỉ với phương thức custom: ngày:số gốc, cách nhau bởi dấu chấm phẩy; tổng bằng số "
            "tiền vay."
        ),
        "2026-07-15:60000000; 2027-01-05:60000000",
        "pairs",
    ),
    Column(
        "tranches",
        "Các đợt giải ngân",
        False,
        _l("các đợt giải ngân"),
        _l(
            "Khi giải ngân nhiều đợt: ngày:số tiền của từng đợt; đợt đầu vào ngày giải ngân. "
            "Để trống: một đợt bằng số tiền vay."
        ),
        "2026-01-05:80000000; 2026-03-05:40000000",
        "pairs",
    ),
    Column(
        "payments",
        "Các lần đã trả",
        False,
        _l("các lần đã trả"),
        _l(
            "Mỗi lần trả nợ trước khi nhập: ngày:số tiền, cách nhau bởi dấu chấm phẩy, theo thứ "
            "tự ngày. Hệ thống phân bổ vào phạt, lãi, gốc như khi thu nợ."
        ),
        "2026-02-05:10733808; 2026-03-05:10607562",
        "pairs",
    ),
    Column(
        "extensions",
        "Số lần gia hạn nợ",
        False,
        _l("số lần gia hạn nợ"),
        _l(
            "Số lần đã gia hạn nợ ở hệ thống cũ (tính mức sàn nhóm nợ); mặc định 0. Lịch hiện "
            "tại sau gia hạn ghi bằng phương thức custom."
        ),
        "0",
        "int",
    ),
    Column(
        "term_adjustments",
        "Số lần điều chỉnh kỳ hạn",
        False,
        _l("số lần điều chỉnh kỳ hạn"),
        _l("Số lần đã điều chỉnh kỳ hạn trả nợ ở hệ thống cũ; mặc định 0."),
        "0",
        "int",
    ),
    Column(
        "repayment_order",
        "Thứ tự thu nợ",
        False,
        _l("thứ tự thu nợ"),
        _l(
            "Thứ tự phân bổ tiền thu trong mỗi kỳ theo hợp đồng: standard (lãi phạt → lãi → "
            "gốc, mặc định) hoặc principal_first (gốc → lãi → lãi phạt)."
        ),
        "standard",
    ),
    Column(
        "commune_code",
        "Mã xã",
        False,
        _l("mã xã"),
        _l(
            "Mã xã, phường, thị trấn (5 chữ số) có hiệu lực vào ngày giải ngân đầu tiên, hoặc "
            "mã hiện nay; xã cũ được chuyển sang xã hiện nay theo danh mục. Bỏ trống: cán bộ "
            "xác nhận xã sau."
        ),
        "07525",
    ),
)

BY_KEY = {c.key: c for c in COLUMNS}


def normal(text: Any) -> str:
    """Unicode NFC, case folded, inner spaces collapsed: how names and codes are compared."""
    value = unicodedata.normalize("NFC", str(text or ""))
    return re.sub(r"\s+", " ", value).strip().casefold()


HEADERS: dict[str, Column] = {
    **{normal(c.header): c for c in COLUMNS},
    **{normal(c.key): c for c in COLUMNS},
}

KINDS: dict[str, str] = {
    normal(alias): kind.value
    for kind, aliases in (
        (CooperativeKind.COOPERATIVE, ("cooperative", "htx", "hợp tác xã")),
        (CooperativeKind.UNION, ("union", "lien_hiep", "liên hiệp hợp tác xã", "liên hiệp htx")),
        (
            CooperativeKind.COOP_MEMBER,
            ("coop_member", "thanh_vien_htx", "thành viên hợp tác xã", "thành viên htx"),
        ),
        (
            CooperativeKind.GROUP_MEMBER,
            ("group_member", "thanh_vien_tht", "thành viên tổ hợp tác", "thành viên tht"),
        ),
    )
    for alias in aliases
}

METHODS: dict[str, str] = {
    normal(alias): method
    for method, aliases in (
        ("equal_principal", ("equal_principal", "gốc chia đều")),
        ("annuity", ("annuity", "niên kim", "niên kim (trả đều gốc và lãi)")),
        ("bullet", ("bullet", "trả gốc cuối kỳ")),
        ("custom", ("custom", "tự nhập", "lịch tự nhập", "lịch tự nhập theo mùa vụ")),
    )
    for alias in aliases
}

ORDERS: dict[str, str] = {
    normal(alias): order
    for order, aliases in (
        ("standard", ("standard", "lãi phạt → lãi → gốc", "mặc định")),
        ("principal_first", ("principal_first", "gốc → lãi → lãi phạt", "gốc trước")),
    )
    for alias in aliases
}

_DISTRICT_PREFIXES = ("thành phố ", "tp. ", "tp.", "tp ", "huyện ", "thị xã ", "tx. ", "tx ")


def _bare(name: str) -> str:
    text = normal(name)
    for prefix in _DISTRICT_PREFIXES:
        if text.startswith(prefix):
            return text.removeprefix(prefix).strip()
    return text


def district_code(raw: str) -> str | None:
    """A district's GSO code (any list: 2021 or 01/01/2025) from the code itself or the
    unit's name, with or without "Huyện"/"Thị xã"/"TP"."""
    text = normal(raw)
    ix = areas.index()
    if ix.district(text) is not None:
        return text
    names: dict[str, str] = {}
    for unit in ix.units.values():
        if unit.level == "district":
            names.setdefault(normal(unit.name), unit.code)
            names.setdefault(_bare(unit.name), unit.code)
    return names.get(text) or names.get(_bare(text))


def commune_code(raw: str) -> str | None:
    """Five digits (a spreadsheet may have dropped the leading zero: 7525 → 07525)."""
    text = normal(raw)
    if re.fullmatch(r"[0-9]{1,5}", text):
        return text.zfill(5)
    return None
