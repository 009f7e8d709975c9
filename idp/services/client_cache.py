"""Each process keeps a copy of the clients it authenticates, checked against the stored version.

Client authentication and the token checks read a client on every back-channel
request, and the ORM loading of its ~30 columns cost more than the rest of the
request. So each application keeps ``ClientRecord`` copies, and every request
still reads the client's ``version``: one indexed read of two integers
(``find``), or two columns of a query the request makes anyway (``current``,
for the client of a presented token). A copy is used only while its version is
the stored one; the ORM raises the version in every UPDATE of a client, in
whichever process, so a rotated secret or any other change takes effect in
every process at once, and a deleted client is found nowhere.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import bindparam, select

from idp.extensions import db
from idp.models import Client, ClientRecord

#: Where an application keeps its copies (client_id -> ClientRecord).
EXTENSION_KEY = "idp.client_cache"
#: More clients than this and the copies are dropped and made again as needed.
MAX_ENTRIES = 10_000

_clients = Client.__table__
_VERSION = select(_clients.c.id, _clients.c.version).where(
    _clients.c.client_id == bindparam("client_id")
)
_ROW = select(_clients).where(_clients.c.id == bindparam("pk"))


def _copies() -> dict[str, ClientRecord]:
    return current_app.extensions.setdefault(EXTENSION_KEY, {})


def find(client_id: str) -> ClientRecord | None:
    """The client registered as ``client_id``, as stored now; None when there is none."""
    stamp = db.session.execute(_VERSION, {"client_id": client_id}).first()
    if stamp is None:
        return None
    return current(client_id, stamp.id, stamp.version)


def current(client_id: str, pk: int, version: int) -> ClientRecord | None:
    """The copy of the client whose stored row has ``pk`` and ``version``, made anew if stale."""
    copies = _copies()
    record = copies.get(client_id)
    if record is not None and record.id == pk and record.version == version:
        return record
    row = db.session.execute(_ROW, {"pk": pk}).mappings().first()
    if row is None:
        return None
    record = ClientRecord(row)
    if len(copies) >= MAX_ENTRIES:
        copies.clear()
    copies[record.client_id] = record
    return record
