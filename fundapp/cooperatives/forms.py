from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from fundapp.cooperatives.models import KIND_LABELS


class CooperativeForm(FlaskForm):
    name = StringField(_l("Tên hợp tác xã / thành viên"))
    kind = SelectField(_l("Loại hình"), choices=[], validate_choice=False)
    registration_no = StringField(_l("Số giấy chứng nhận đăng ký"))
    tax_code = StringField(_l("Mã số thuế"))
    commune_code = SelectField(_l("Xã / phường (hiện nay)"), choices=[], validate_choice=False)
    address = StringField(_l("Số nhà, đường / thôn, xóm"))
    sector = StringField(_l("Ngành nghề, lĩnh vực"))
    representative = StringField(_l("Người đại diện theo pháp luật"))
    phone = StringField(_l("Điện thoại"))
    email = StringField(_l("E-mail"))
    members_count = StringField(_l("Số thành viên"))
    bank_account = StringField(_l("Số tài khoản ngân hàng"))
    bank_name = StringField(_l("Tại ngân hàng"))
    related_group_id = SelectField(_l("Nhóm người có liên quan"), choices=[], validate_choice=False)

    def fill_choices(self, groups: list, communes: list[tuple[str, list]] | None = None) -> None:
        """``communes``: today's communes of the fund's province, grouped by former district
        (rendered as option groups; no script needed)."""
        self.kind.choices = [(k.value, str(label)) for k, label in KIND_LABELS.items()]
        grouped: dict[str, list[tuple[str, str]]] = {"—": [("", "—")]}
        for label, items in communes or []:
            grouped[label] = [(code, f"{name} ({code})") for code, name in items]
        self.commune_code.choices = grouped
        self.related_group_id.choices = [("", "—")] + [(str(g.id), g.name) for g in groups]


class RelatedGroupForm(FlaskForm):
    name = StringField(_l("Tên nhóm"))
    note = TextAreaField(_l("Ghi chú"))
