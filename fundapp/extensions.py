"""Unbound extensions; ``create_app`` binds them.

The declarative base is here, with a naming convention so migrations are stable, because
``db`` is made from it; nothing here imports the rest of the package, so every layer
(``fundapp.core`` first) may use ``db``. The class of ``db.session`` is here too: it sends
reads to a streaming replica while ``fundapp.core.replica`` asks it to.
"""

from typing import Any

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, TextClause
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# ``Session.info`` key: the replica engine this session reads from, while set.
READ_REPLICA = "fundapp.read_replica"


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, except that while ``info[READ_REPLICA]`` holds an engine
    a plain read goes there (SQLAlchemy's "custom vertical partitioning" recipe). A flush, a
    write statement or a locking read stays on the primary, which a hot standby would refuse
    anyway; a bind asked for without a statement is the replica, so that code reading the
    dialect or the book's version (``reports.cache``) sees the server it reads from."""

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: Engine | Connection | None = None,
        **kwargs: Any,
    ) -> Engine | Connection:
        replica = self.info.get(READ_REPLICA)
        if replica is not None and bind is None and not self._flushing and _only_reads(clause):
            return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def _only_reads(clause: Any) -> bool:
    if clause is None:
        return True
    if isinstance(clause, TextClause):
        words = clause.text.lower().split()
        return words[:1] == ["select"] and "for" not in words
    locking = getattr(clause, "_for_update_arg", None)
    return bool(getattr(clause, "is_select", False)) and locking is None


db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
