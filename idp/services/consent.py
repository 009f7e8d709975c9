"""The member's consent per client (SPEC.md §5): what stands, what is new, the decision.

A client asks for scopes; the scopes a contract purpose needs are required (no
checkbox), every other data scope is optional. ``openid`` only identifies the
member and ``offline_access`` asks for access while the member is away, which
the screen shows as the period of access, not as data.

One ``Consent`` row per member and client holds the standing decision; a
withdrawn row stays as evidence and the next decision starts a new one. Every
decision (given or changed) also adds a ``ConsentRecord``
(``idp.services.consent_evidence``). Decisions and denials are written to the
audit log too.

Whether a consent holds is one rule with two answers, because the texts are
versioned per purpose (``idp.catalog.CONSENT_TEXT_VERSIONS``):

- ``stands_for_authorization``: a new authorization (the authorization
  endpoint, a code exchange, Connected apps) needs a consent that is not
  withdrawn, not expired and was given under the current texts; a consent on
  an older text asks again at the next login.
- ``covers_issued_tokens``: tokens already issued live on while the consent is
  not withdrawn, not expired and not paused; a new text does not end them.

A paused consent (GDPR Art. 18 restriction, ``consent_changes.pause``) is still ``in_force``:
it stays listed and ``consent_changes.resume`` brings its unexpired tokens back, but while
paused it carries no token and answers no authorization.

``consent_changes.narrow`` takes one optional data item out of a standing consent (Stop
sharing): the item is no longer covered, so every token issued under the
consent stops releasing it on its next use, and it is remembered as declined.

A partner may ask for a fresh decision instead of an added one (Grant
Management for OAuth 2.0, ``grant_management_action``): ``replace`` makes the
consent exactly what the member allows on the screen now, earlier answers
dropped; ``create`` does the same and gives the grant a new ``grant_id``, so
the earlier grant's identifier names nothing any more (there is one standing
consent per member and client: a new grant replaces the old one, it does not
stand beside it). Both only ever follow the consent screen, so nothing widens
without the member; what they drop stops being released at once, as with
Stop sharing, because every token is checked against the consent.

``covered_scopes`` is the other half of every check: of the scopes asked (or
carried by a token), those the consent still covers.

Claims asked for only through the OIDC ``claims`` parameter (OIDC Core §5.5)
are items of their own, granted one by one (``idp.services.consent_claims``):
the consent keeps them in ``granted_claims`` and the unticked ones in
``declined_claims``. ``unanswered`` is the one rule for the screen: what the
consent covers (scopes, and claims: ``covered_claims``) or the member declined
is not asked again.

The consent step itself (the authorization request waiting on the screen) is
``idp.services.consent_steps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from idp.catalog import CONSENT_TEXT_VERSIONS, PURPOSES, required_scopes, scope_of_claim
from idp.extensions import db
from idp.models import Client, Consent, Token
from idp.models.types import new_grant_id, utcnow
from idp.services import audit
from idp.services.consent_claims import claim_items, claims_of_scopes, covered_claims
from idp.services.consent_evidence import Evidence, add_record

#: Scopes that carry no member data of their own.
IDENTITY_SCOPE = "openid"
OFFLINE_SCOPE = "offline_access"


def data_scopes(scopes) -> set[str]:
    return set(scopes) - {IDENTITY_SCOPE, OFFLINE_SCOPE}


@dataclass(frozen=True)
class ConsentRequest:
    """What the consent screen asks for one authorization request."""

    client: Client
    required: tuple[str, ...]
    optional: tuple[str, ...]
    #: offline_access was asked: the member may choose access without time limit.
    offline: bool
    #: A standing consent without time limit that this request does not reopen.
    keeps_unlimited: bool
    #: When limited access would end if the member allowed now.
    limited_until: datetime
    #: Claims asked for only through the ``claims`` parameter: optional items of their own.
    optional_claims: tuple[str, ...] = ()
    #: "Allow access without time limit" may be chosen (``offers_unlimited``).
    unlimited_offered: bool = False
    #: The decision replaces a standing consent (``grant_management_action`` create or
    #: replace, Grant Management §5.2): what the member allows now is the whole consent.
    replaces_standing: bool = False


@dataclass(frozen=True)
class Unanswered:
    """What a request asks that the member has neither granted nor declined yet."""

    scopes: frozenset[str]
    claims: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.scopes or self.claims)


# -- the rule: does a consent hold ----------------------------------------------


def text_outdated(consent: Consent) -> bool:
    """The member agreed to an older text of one of the consent's purposes."""
    agreed = consent.text_versions or {}
    return any(agreed.get(p) != CONSENT_TEXT_VERSIONS.get(p) for p in consent.purposes)


def in_force(consent: Consent | None, now: datetime) -> bool:
    """Not withdrawn and not expired; a paused consent is still in force."""
    if consent is None or consent.withdrawn_at is not None:
        return False
    return consent.expires_at is None or consent.expires_at > now


def is_paused(consent: Consent | None) -> bool:
    return consent is not None and consent.paused_at is not None


def covers_issued_tokens(consent: Consent | None, now: datetime) -> bool:
    """The consent still carries the tokens issued under it: in force and not paused.

    A newer consent text does not end it: the member agreed to what the tokens
    release, and is asked again at the next authorization
    (``stands_for_authorization``).
    """
    return in_force(consent, now) and not is_paused(consent)


def stands_for_authorization(consent: Consent | None, now: datetime) -> bool:
    """The consent answers a new authorization without asking: it covers issued tokens
    and was given under the current text of each of its purposes."""
    return covers_issued_tokens(consent, now) and not text_outdated(consent)


def covered_scopes(consent: Consent | None, requested) -> list[str]:
    """The requested scopes the consent covers, in the order asked, each once.

    ``openid`` is always covered: it only identifies the member. A consent
    narrowed since a token was issued covers less than the token carries.
    """
    if consent is None:
        return []
    allowed = consent.scopes | {IDENTITY_SCOPE}
    return [s for s in dict.fromkeys(requested) if s in allowed]


def granted_scope(consent: Consent, requested) -> str:
    """The scope an authorization carries: what was asked and stands granted."""
    return " ".join(covered_scopes(consent, requested))


def current_consent(member_id: str, client: Client) -> Consent | None:
    """The member's consent at ``client`` when it stands for a new authorization."""
    consent = _latest(member_id, client)
    return consent if stands_for_authorization(consent, utcnow()) else None


def locked_consent(consent_id: str) -> Consent | None:
    """The consent as stored now, locked until the commit (PostgreSQL; SQLite's write
    transaction excludes other writers already), so a concurrent narrowing, pause or
    withdrawal is either wholly before or wholly after the caller.

    An exclusive lock, not a shared one: the caller (a refresh) writes the row's last use
    before it commits, and two shared locks upgraded at once would deadlock."""
    return db.session.scalar(
        select(Consent)
        .where(Consent.id == consent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _latest(member_id: str, client: Client) -> Consent | None:
    return db.session.scalar(
        select(Consent)
        .where(
            Consent.member_id == member_id,
            Consent.client_id == client.id,
            Consent.withdrawn_at.is_(None),
        )
        .order_by(Consent.granted_at.desc())
        .limit(1)
    )


def unanswered(consent: Consent | None, requested, claims=()) -> Unanswered:
    """Requested scopes and claim items (``claim_items``) the member has neither granted
    nor declined yet: what the consent covers needs no screen."""
    scopes, names = set(requested) - {IDENTITY_SCOPE}, set(claims)
    if consent is not None:
        scopes -= consent.scopes | consent.declined_scopes
        names -= covered_claims(consent, names) | set(consent.declined_claims or ())
    return Unanswered(frozenset(scopes), frozenset(names))


# -- the decision -------------------------------------------------------------------


def offers_unlimited(client: Client, offline: bool, key_bound: bool) -> bool:
    """Access without time limit is offered when offline access was asked, and to a public
    client only when the request binds its code to a DPoP key (RFC 9449 §10 ``dpop_jkt``):
    its tokens, the refresh token without time limit included, then work only with that
    key, never for whoever copies them. The token endpoint holds to it too
    (``idp.oauth.dpop_token.needs_bound_refresh``)."""
    return offline and (not client.is_public or key_bound)


def consent_request(
    member_id: str,
    client: Client,
    requested,
    claims_request: dict | None = None,
    key_bound: bool = False,
    fresh: bool = False,
) -> ConsentRequest:
    """What the screen asks: the requested scopes, and the claim items of ``claims_request``
    except those a scope of the standing consent releases already. ``key_bound``: the
    request carries ``dpop_jkt``; ``fresh``: a decision that replaces the standing one."""
    requested = list(dict.fromkeys(requested))
    asked = data_scopes(requested)
    required = required_scopes(client.purposes) & asked
    previous = current_consent(member_id, client)
    standing = None if fresh else previous
    offline = OFFLINE_SCOPE in requested
    standing_scopes = standing.scopes if standing is not None else set()
    return ConsentRequest(
        client=client,
        required=tuple(s for s in requested if s in required),
        optional=tuple(s for s in requested if s in asked - required),
        offline=offline,
        keeps_unlimited=bool(standing and standing.unlimited and not offline),
        limited_until=utcnow() + timedelta(seconds=client.grant_ttl),
        optional_claims=tuple(
            name
            for name in claim_items(client, requested, claims_request)
            if scope_of_claim(name) not in standing_scopes
        ),
        unlimited_offered=offers_unlimited(client, offline, key_bound),
        replaces_standing=fresh and previous is not None,
    )


def record_decision(
    member_id: str,
    client: Client,
    requested,
    allowed_optional,
    unlimited: bool = False,
    evidence: Evidence | None = None,
    claims_request: dict | None = None,
    allowed_claims=(),
    key_bound: bool = False,
    replace: bool = False,
    new_grant: bool = False,
) -> Consent:
    """Store the member's "Allow": required scopes, the optional ones left ticked, the period,
    and the claim items of ``claims_request`` left ticked.

    Scopes and claims the request did not ask about keep their earlier answer,
    unless ``replace`` (the decision is the whole consent now); optional ones the
    member unticked are remembered as declined. A claim whose scope is granted
    needs no grant of its own. ``new_grant``: the consent gets a new ``grant_id``
    (``grant_management_action=create``). Commits.
    """
    request = consent_request(
        member_id, client, requested, claims_request, key_bound, fresh=replace
    )
    unlimited = unlimited and request.unlimited_offered
    allowed = set(allowed_optional) & set(request.optional)
    declined = set(request.optional) - allowed
    granted = {IDENTITY_SCOPE, *request.required, *allowed}
    if request.offline:
        granted.add(OFFLINE_SCOPE)
    claims = set(allowed_claims) & set(request.optional_claims)
    declined_claims = set(request.optional_claims) - claims

    now = utcnow()
    standing = current_consent(member_id, client)
    consent = _latest(member_id, client)
    if standing is not None and not replace:
        asked = set(request.required) | set(request.optional)
        granted |= standing.scopes - asked
        declined |= standing.declined_scopes - asked - granted
        asked_claims = set(request.optional_claims)
        claims |= set(standing.granted_claims or ()) - asked_claims
        declined_claims |= set(standing.declined_claims or ()) - asked_claims - claims
        if not request.offline:
            unlimited = standing.unlimited
    elif not request.offline:
        unlimited = False
    released_by_scopes = claims_of_scopes(granted)
    claims -= released_by_scopes
    declined_claims -= released_by_scopes
    if consent is None:
        consent = Consent(member_id=member_id, client_id=client.id, granted_at=now)
        db.session.add(consent)
    elif standing is None or new_grant:
        consent.granted_at = now  # the earlier period ended, or a new grant: a new consent
    if new_grant:
        consent.grant_id = new_grant_id()
    revoked = _end_replaced_tokens(member_id, client) if replace and consent.id else 0

    consent.scope = " ".join(sorted(granted))
    consent.declined_scope = " ".join(sorted(declined))
    consent.granted_claims = sorted(claims)
    consent.declined_claims = sorted(declined_claims)
    consent.purposes = purposes_of(client.purposes, granted, claims)
    consent.unlimited = unlimited
    consent.expires_at = None if unlimited else now + timedelta(seconds=client.grant_ttl)
    consent.updated_at = now
    consent.text_versions = {p: CONSENT_TEXT_VERSIONS.get(p) for p in consent.purposes}
    db.session.flush()
    fresh = standing is None or new_grant  # a create gives a new grant, not a change
    add_record(consent, "given" if fresh else "changed", evidence=evidence)
    audit.record(
        "consent.granted",
        member_id=member_id,
        client_id=client.client_id,
        consent_id=consent.id,
        scopes=sorted(granted),
        declined=sorted(declined),
        claims=consent.granted_claims,
        declined_claims=consent.declined_claims,
        purposes=consent.purposes,
        unlimited=unlimited,
        grant_management_action=("create" if new_grant else "replace") if replace else None,
        tokens_revoked=revoked,
    )
    db.session.commit()
    return consent


def purposes_of(purposes, scopes, claims) -> list[str]:
    """The purposes that a grant of ``scopes`` and of single ``claims`` serves."""
    touched = set(scopes) | {scope_of_claim(name) for name in claims}
    return [p for p in purposes if set(PURPOSES[p].scopes) & touched]


def _end_replaced_tokens(member_id: str, client: Client) -> int:
    """Grant Management §5.2: a replaced grant's refresh tokens end (and its access tokens:
    the client receives new ones from this very authorization). The statement of
    ``tokens.revoke_for_member_at_client``, which cannot be imported here (it reads
    consents)."""
    result = db.session.execute(
        update(Token)
        .where(
            Token.member_id == member_id,
            Token.client_id == client.id,
            Token.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def record_denial(member_id: str, client: Client, requested) -> None:
    """The member pressed "Deny": any earlier consent stays as it was. Commits."""
    audit.record(
        "consent.denied",
        member_id=member_id,
        client_id=client.client_id,
        scopes=sorted(set(requested)),
    )
    db.session.commit()


def touch(consent: Consent) -> None:
    """Remember when the consent was last used (shown under Connected apps)."""
    consent.last_used_at = utcnow()
