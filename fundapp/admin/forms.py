from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from fundapp.core.security import ROLE_LABELS


class RolesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Tên đăng nhập"))
    full_name = StringField(_l("Họ và tên"))
    email = StringField(_l("E-mail"))
    password = PasswordField(_l("Mật khẩu"))
    roles = RolesField(_l("Vai trò"), choices=[], validate_choice=False)
    cooperative_id = SelectField(
        _l("Hợp tác xã (với tài khoản HTX)"), choices=[], validate_choice=False
    )
    active = BooleanField(_l("Đang hoạt động"), default=True)

    def fill_choices(self, cooperatives: list) -> None:
        self.roles.choices = [(r.value, str(label)) for r, label in ROLE_LABELS.items()]
        self.cooperative_id.choices = [("", "—")] + [(str(c.id), c.name) for c in cooperatives]


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("Mật khẩu mới"))
