from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from fundapp.funds.services import origins
from fundapp.ledger.accounts import SOURCE_LABELS


class CapitalEntryForm(FlaskForm):
    source = SelectField(_l("Nguồn vốn"), choices=[], validate_choice=False)
    source_name = StringField(_l("Bên ủy thác (với vốn ủy thác)"))
    amount = StringField(_l("Số tiền (đồng)"))
    entry_date = StringField(_l("Ngày nhận"))
    reference = StringField(_l("Số chứng từ"))
    note = TextAreaField(_l("Ghi chú"))
    origin_fund = SelectField(_l("Quỹ gốc"), choices=[], validate_choice=False)

    def fill_choices(self) -> None:
        self.source.choices = [(k, str(v)) for k, v in SOURCE_LABELS.items()]
        self.origin_fund.choices = [
            ("" if o.is_own else o.code, f"{o.code} – {o.name}") for o in origins()
        ]
