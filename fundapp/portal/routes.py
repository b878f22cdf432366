from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from flask_login import current_user

from fundapp.cooperatives.models import Cooperative
from fundapp.core.security import Role, roles_required
from fundapp.extensions import db

bp = Blueprint("portal", __name__, url_prefix="/portal")


def own_cooperative() -> Cooperative:
    """The cooperative of the logged-in cooperative user; never taken from the URL."""
    coop = db.session.get(Cooperative, current_user.cooperative_id or -1)
    if coop is None:
        abort(404)
    return coop


@bp.route("/")
@roles_required(Role.COOPERATIVE)
def home() -> Any:
    return render_template("portal/home.html", coop=own_cooperative())
