"""When a partner last used a member's consent ("last use" under Connected apps).

Noted on every successful bearer call and written at most once per
``activity.RESOLUTION`` per consent, after the response
(``idp.services.activity``): the check reads the consent the token check
loaded already, so a call in between queries and writes nothing.
Issuing tokens notes the use too, in the transaction that issues them (``consent.touch``).
"""

from __future__ import annotations

from idp.models import Consent
from idp.services import activity


def record_use(consent: Consent | None) -> bool:
    """Note that a token of ``consent`` was used now; True when a write was scheduled."""
    if consent is None:
        return False
    return activity.note(consent, "last_used_at")
