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

A paused consent (GDPR Art. 18 restriction, ``pause``) is still ``in_force``:
it stays listed and ``resume`` brings its unexpired tokens back, but while
paused it carries no token and answers no authorization.

``narrow`` takes one optional data item out of a standing consent (Stop
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

The consent step itself (the authorization request waiting on the screen) is
kept in ``consent_steps`` and answered once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from idp import defaults
from idp.catalog import CONSENT_TEXT_VERSIONS, PURPOSES, required_scopes
from idp.extensions import db
from idp.models import Client, Consent, ConsentStep, Token
from idp.models.types import new_grant_id, utcnow
from idp.services import audit
from idp.services.consent_evidence import Evidence, add_record

#: Scopes that carry no member data of their own.
IDENTITY_SCOPE = "openid"
OFFLINE_SCOPE = "offline_access"
#: How long the member has to answer the consent screen.
CONSENT_STEP_SECONDS = defaults.CONSENT_STEP_SECONDS


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


def scopes_to_ask(consent: Consent | None, requested) -> set[str]:
    """Requested scopes the member has neither granted nor declined yet."""
    asked = set(requested) - {IDENTITY_SCOPE}
    if consent is None:
        return asked
    return asked - consent.scopes - consent.declined_scopes


# -- the decision -------------------------------------------------------------------


def consent_request(
    member_id: str, client: Client, requested, fresh: bool = False
) -> ConsentRequest:
    """What the screen asks; ``fresh``: a decision that replaces the standing one."""
    requested = list(dict.fromkeys(requested))
    asked = data_scopes(requested)
    required = required_scopes(client.purposes) & asked
    standing = None if fresh else current_consent(member_id, client)
    offline = OFFLINE_SCOPE in requested
    return ConsentRequest(
        client=client,
        required=tuple(s for s in requested if s in required),
        optional=tuple(s for s in requested if s in asked - required),
        offline=offline,
        keeps_unlimited=bool(standing and standing.unlimited and not offline),
        limited_until=utcnow() + timedelta(seconds=client.grant_ttl),
    )


def record_decision(
    member_id: str,
    client: Client,
    requested,
    allowed_optional,
    unlimited: bool = False,
    evidence: Evidence | None = None,
    replace: bool = False,
    new_grant: bool = False,
) -> Consent:
    """Store the member's "Allow": required scopes, the optional ones left ticked, the period.

    Scopes the request did not ask about keep their earlier answer, unless
    ``replace`` (the decision is the whole consent now); optional scopes the
    member unticked are remembered as declined. ``new_grant``: the consent gets a
    new ``grant_id`` (``grant_management_action=create``). Commits.
    """
    request = consent_request(member_id, client, requested, fresh=replace)
    allowed = set(allowed_optional) & set(request.optional)
    declined = set(request.optional) - allowed
    granted = {IDENTITY_SCOPE, *request.required, *allowed}
    if request.offline:
        granted.add(OFFLINE_SCOPE)

    now = utcnow()
    standing = current_consent(member_id, client)
    consent = _latest(member_id, client)
    if standing is not None and not replace:
        asked = set(request.required) | set(request.optional)
        granted |= standing.scopes - asked
        declined |= standing.declined_scopes - asked - granted
        if not request.offline:
            unlimited = standing.unlimited
    elif not request.offline:
        unlimited = False
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
    consent.purposes = [p for p in client.purposes if set(PURPOSES[p].scopes) & granted]
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
        purposes=consent.purposes,
        unlimited=unlimited,
        grant_management_action=("create" if new_grant else "replace") if replace else None,
        tokens_revoked=revoked,
    )
    db.session.commit()
    return consent


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


def narrow(consent: Consent, scope: str, actor: str = "member") -> None:
    """Take ``scope`` out of a standing consent and remember it as declined (Stop sharing).

    Purposes left without any of their scopes go too. Appends a ``narrowed``
    record; the caller's service checks that the scope is optional and commits.
    """
    now = utcnow()
    granted = consent.scopes - {scope}
    consent.scope = " ".join(sorted(granted))
    consent.declined_scope = " ".join(sorted(consent.declined_scopes | {scope}))
    consent.purposes = [p for p in consent.purposes if set(PURPOSES[p].scopes) & granted]
    consent.updated_at = now
    add_record(consent, "narrowed", actor=actor)


def pause(consent: Consent, actor: str = "member") -> None:
    """Restrict the consent (GDPR Art. 18): it stays, carries nothing until ``resume``."""
    now = utcnow()
    consent.paused_at = now
    consent.updated_at = now
    add_record(consent, "paused", actor=actor)


def resume(consent: Consent, actor: str = "member") -> None:
    """Lift the restriction: tokens issued under the consent that have not expired work again."""
    consent.paused_at = None
    consent.updated_at = utcnow()
    add_record(consent, "resumed", actor=actor)


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


# -- the consent step ------------------------------------------------------------


def start_step(member_id: str, sid: str, client: Client, parameters: dict) -> ConsentStep:
    """Keep an authorization request until the member answers the screen. Commits."""
    now = utcnow()
    db.session.execute(
        delete(ConsentStep).where(ConsentStep.member_id == member_id, ConsentStep.expires_at < now)
    )
    step = ConsentStep(
        client_id=client.id,
        member_id=member_id,
        sid=sid,
        parameters=dict(parameters),
        created_at=now,
        expires_at=now + timedelta(seconds=CONSENT_STEP_SECONDS),
    )
    db.session.add(step)
    db.session.commit()
    return step


def open_step(step_id: str, member_id: str, sid: str) -> ConsentStep | None:
    """The step, when it belongs to this member's session and is still open."""
    if not step_id or len(step_id) > 32:
        return None
    step = db.session.get(ConsentStep, step_id)
    if step is None or step.member_id != member_id or step.sid != sid:
        return None
    if step.used_at is not None or step.expires_at <= utcnow():
        return None
    return step


def claim_step(step: ConsentStep) -> bool:
    """Mark the step answered, in one statement; False when it was answered already."""
    now = utcnow()
    result = db.session.execute(
        update(ConsentStep)
        .where(
            ConsentStep.id == step.id,
            ConsentStep.used_at.is_(None),
            ConsentStep.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1
