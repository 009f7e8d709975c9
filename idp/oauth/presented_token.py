"""Finding the token a client presents to revocation or introspection (RFC 7009, RFC 7662).

One query finds either of a token's two values (``token_lookup.presented_token``),
so the hint changes nothing but the order the RFCs allow us to ignore.
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.services import token_lookup
from idp.services.token_lookup import TokenState

#: RFC 7009 §2.1 / RFC 7662 §2.1: the hint only decides where to look first.
TOKEN_TYPES = ("access_token", "refresh_token")
MAX_TOKEN_LENGTH = 256


@dataclass
class PresentedToken:
    row: TokenState
    #: "access_token" or "refresh_token": which of the row's two values was presented.
    kind: str


def find_presented_token(value: str, hint: str | None) -> PresentedToken | None:
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    found = token_lookup.presented_token(value)
    return PresentedToken(*found) if found is not None else None
