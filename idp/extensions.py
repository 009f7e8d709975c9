"""Extensions are bare globals here and bound to an application in ``idp.app``."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from idp.crypto import DataKeyring
from idp.web import rate_limit_storage  # noqa: F401  (registers the leased storage's scheme)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AppLimiter(Limiter):
    """flask-limiter with a storage per application, as each worker process has.

    flask-limiter keeps one storage, the last bound; two applications in one
    process (tests) would then share their counts and leases in memory, which
    two processes never do.
    """

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        app.extensions["rate_limiter"] = self._limiter

    @property
    def limiter(self):
        return current_app.extensions.get("rate_limiter") or super().limiter

    @property
    def storage(self):
        return self.limiter.storage


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
limiter = AppLimiter(key_func=get_remote_address, strategy="moving-window")
#: Encrypts personal data and secrets at rest; keys are set by ``idp.app``.
keyring = DataKeyring()
