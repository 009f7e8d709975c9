"""OpenID Connect RP-Initiated Logout 1.0: checking a partner's logout request.

A partner sends the member to the end_session_endpoint with, all optional:
``id_token_hint`` (an ID token we issued; expired ones are accepted, §2),
``client_id``, ``post_logout_redirect_uri`` (exactly one of the client's
registered URIs, §3), ``state`` (returned with the redirect) and ``ui_locales``.

The request is checked in a fixed order, each step a small function; the first
that fails decides the error page. A bad request is never answered with a
redirect (§3: the OP must not redirect to an unverified URI).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from idp.extensions import db
from idp.models import Member, SSOSession
from idp.models.client import Client
from idp.oauth import id_token_hint
from idp.oauth.id_token_hint import InvalidHint
from idp.request_text import is_text
from idp.services import session_ids
from idp.services.registration import get_client
from idp.services.subjects import subject_for

#: Parameters this endpoint reads (§2); anything else is ignored.
PARAMETERS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")
_MAX_LENGTH = {"id_token_hint": 8192, "state": 2048, "post_logout_redirect_uri": 2048}


class LogoutRequestError(Exception):
    """The request cannot be honoured; ``message`` is shown to the member."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class LogoutRequest:
    parameters: dict[str, str]
    client: Client | None = None
    #: ``sub`` and ``sid`` of a verified id_token_hint.
    hint_subject: str | None = None
    hint_sid: str | None = None
    post_logout_redirect_uri: str | None = None
    state: str | None = None

    @property
    def has_hint(self) -> bool:
        return self.hint_subject is not None


def _single_values(values: MultiDict) -> dict[str, str]:
    parameters = {}
    for name in PARAMETERS:
        given = values.getlist(name)
        if len(given) > 1:
            raise LogoutRequestError(_("The logout request repeats a parameter."))
        if given and given[0]:
            if len(given[0]) > _MAX_LENGTH.get(name, 256):
                raise LogoutRequestError(_("The logout request is too long."))
            if not is_text(given[0]):  # a NUL or bytes that were not UTF-8
                raise LogoutRequestError(
                    _("The page could not understand what was sent. Please go back and try again.")
                )
            parameters[name] = given[0]
    return parameters


def _verify_hint(req: LogoutRequest) -> None:
    """§2: a signature we made; expiry does not matter, the issuer does."""
    hint = req.parameters.get("id_token_hint")
    if hint is None:
        return
    try:
        verified = id_token_hint.verify(hint)
    except InvalidHint as exc:
        if exc.reason == InvalidHint.AUDIENCE:
            raise LogoutRequestError(
                _("The ID token in the logout request names no partner.")
            ) from None
        raise LogoutRequestError(
            _("The logout request carries an ID token that was not issued by Miles & More.")
        ) from None
    client_id = verified.client_id
    client = get_client(client_id) if client_id is not None else None
    if client is None:
        raise LogoutRequestError(_("The logout request comes from an unknown partner."))
    req.client = client
    req.hint_subject = verified.subject
    req.hint_sid = verified.sid


def _check_client_id(req: LogoutRequest) -> None:
    """§2: client_id, when sent with a hint, must be the hint's client."""
    client_id = req.parameters.get("client_id")
    if client_id is None:
        return
    if req.client is not None:
        if req.client.client_id != client_id:
            raise LogoutRequestError(
                _("The client_id does not match the ID token in the logout request.")
            )
        return
    req.client = get_client(client_id)
    if req.client is None:
        raise LogoutRequestError(_("The logout request comes from an unknown partner."))


def _check_redirect_uri(req: LogoutRequest) -> None:
    """§3: exactly one of the client's registered post_logout_redirect_uris."""
    uri = req.parameters.get("post_logout_redirect_uri")
    if uri is None:
        return
    if req.client is None:
        raise LogoutRequestError(
            _("A return address needs an id_token_hint or client_id to check it against.")
        )
    if uri not in (req.client.post_logout_redirect_uris or []):
        raise LogoutRequestError(
            _("The return address is not registered for %(partner)s.", partner=_partner(req))
        )
    req.post_logout_redirect_uri = uri
    req.state = req.parameters.get("state")


def _partner(req: LogoutRequest) -> str:
    client = req.client
    return client.partner.name if client is not None and client.partner else ""


CHECKS = (_verify_hint, _check_client_id, _check_redirect_uri)


def parse(values: MultiDict) -> LogoutRequest:
    """Check a logout request; raises ``LogoutRequestError``."""
    req = LogoutRequest(parameters=_single_values(values))
    for check in CHECKS:
        check(req)
    return req


def _hint_names_member_of(req: LogoutRequest, sso: SSOSession) -> bool:
    if not req.has_hint or req.client is None:
        return False
    member = db.session.get(Member, sso.member_id)
    return member is not None and subject_for(member, req.client) == req.hint_subject


def hint_matches_session(req: LogoutRequest, sso: SSOSession) -> bool:
    """The hint was issued in this very session (or for this member, when it has no sid)."""
    if req.hint_sid is not None and req.hint_sid not in session_ids.sids_of(
        sso.member_id, [sso.id]
    ):
        return False
    return _hint_names_member_of(req, sso)


def hint_names_another_member(req: LogoutRequest, sso: SSOSession) -> bool:
    """The partner asks to log out someone else than who is logged in here."""
    return req.has_hint and not _hint_names_member_of(req, sso)


def redirect_target(req: LogoutRequest) -> str | None:
    """The registered URI with ``state`` added to its own query (§3)."""
    if req.post_logout_redirect_uri is None:
        return None
    if req.state is None:
        return req.post_logout_redirect_uri
    parts = urlsplit(req.post_logout_redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [("state", req.state)]
    return urlunsplit(parts._replace(query=urlencode(query)))
