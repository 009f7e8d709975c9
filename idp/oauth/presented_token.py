"""Finding the token a client presents to revocation or introspection (RFC 7009, RFC 7662)."""

from __future__ import annotations

from dataclasses import dataclass

from idp.models import Token
from idp.services import tokens

#: RFC 7009 §2.1 / RFC 7662 §2.1: the hint only decides where to look first.
TOKEN_TYPES = ("access_token", "refresh_token")
MAX_TOKEN_LENGTH = 256


@dataclass
class PresentedToken:
    row: Token
    #: "access_token" or "refresh_token": which of the row's two values was presented.
    kind: str


def find_presented_token(value: str, hint: str | None) -> PresentedToken | None:
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    order = list(TOKEN_TYPES)
    if hint == "refresh_token":
        order.reverse()
    for kind in order:
        if kind == "access_token":
            row = tokens.find_by_access_token(value)
        else:
            row = tokens.find_by_refresh_token(value)
        if row is not None:
            return PresentedToken(row, kind)
    return None
