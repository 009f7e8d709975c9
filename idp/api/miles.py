"""``GET /api/v1/me/miles``: the member's miles balance for partners where miles are redeemed.

SPEC.md §10, INTERFACE.md: scope ``miles``; ``{"card_number", "miles_balance"}``
with an integer balance. The card number is a data category of its own (scope
``card_number``): without that scope it is null, so a partner never learns more
than the member allowed. The read is counted for the member (``miles_balance``, and
``card_number`` when released: ``consent_usage.record_read``) before it is sent.
"""

from __future__ import annotations

from flask import jsonify

from idp.api import blueprint
from idp.extensions import limiter
from idp.oauth.resource import (
    current_token,
    current_token_member,
    granted_scopes,
    released,
    require_bearer,
)
from idp.security_headers import no_store
from idp.web.limits import api_rate_limit


@blueprint.get("/api/v1/me/miles")
@limiter.limit(api_rate_limit)
@require_bearer("miles", no_credentials_error="invalid_token")
def my_miles():
    member = current_token_member()
    granted = granted_scopes(current_token())
    body = {
        "card_number": member.card_number if "card_number" in granted else None,
        "miles_balance": int(member.miles_balance),
    }
    refused = released(name for name, value in body.items() if value is not None)
    if refused is not None:
        return refused
    return no_store(jsonify(body))
