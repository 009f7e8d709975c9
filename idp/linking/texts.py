"""What the Linked profiles page tells a member before linking, and its evidence.

Linking is consent (Art. 6(1)(a) GDPR), so the words shown are kept as
evidence like a partner consent's: their version, the SHA-256 of the exact
text in the member's language, and the language. Change ``TEXT_VERSION``
whenever the meaning of these words changes.
"""

from __future__ import annotations

import hashlib

from flask_babel import get_locale
from flask_babel import gettext as _

from idp.linking.upstreams import Upstream
from idp.services.consent_evidence import Evidence

TEXT_VERSION = "lhg-link-2026-12-02"


def linking_text(upstream: Upstream) -> list[str]:
    """The paragraphs shown above ``Link profile`` for ``upstream``, in the page's language."""
    return [
        _(
            "When you link your %(airline)s profile, Miles & More keeps which airline it is "
            "and your profile ID there. Nothing else is copied from one profile to the other.",
            airline=upstream.name,
        ),
        _(
            "Why: so that you can log in with your %(airline)s profile, and so that Miles & More "
            "can carry your choices about sharing data across your Lufthansa Group profiles.",
            airline=upstream.name,
        ),
        _(
            "Partners receive your linked profiles only when you allow them the data "
            "“Your linked Lufthansa Group profiles”."
        ),
        _(
            "Legal basis: your consent (Art. 6(1)(a) GDPR). You can unlink the profile at any "
            "time; logging in with it still asks for your Miles & More second factor."
        ),
    ]


def evidence(upstream: Upstream) -> Evidence:
    """Evidence of the text ``linking_text`` shows now, in the page's language."""
    text = "\n".join(linking_text(upstream))
    return Evidence(
        text_version=TEXT_VERSION,
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        language=str(get_locale() or "en"),
    )
