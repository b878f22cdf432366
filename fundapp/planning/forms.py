from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from fundapp.planning.services import LINES


class PlanForm(FlaskForm):
    """The plan's year, its note and one text field per line (named by the line's code);
    the service checks the amounts."""

    year = StringField(_l("Năm kế hoạch"))
    note = TextAreaField(_l("Ghi chú"))


for _line in LINES:
    setattr(PlanForm, _line.code, StringField(_l(_line.label)))


class ApproveForm(FlaskForm):
    pass
