"""The portal's forms. WTForms carries the CSRF token and reads the fields; the rules are
the registration service's (``idp.services.client_metadata``), the same as RFC 7591's."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from idp import defaults
from idp.catalog import PURPOSES, REGISTERED_CLIENT_SCOPES, scopes_of_purposes
from idp.models.client import TOKEN_ENDPOINT_AUTH_METHODS
from idp.request_text import is_text
from idp.services.registration import MAX_SECRET_GRACE_SECONDS, ClientRequest
from idp.web.texts import PURPOSE_TEXTS

AUTH_METHOD_TEXTS = {
    "client_secret_basic": _l("Client secret in the Authorization header (client_secret_basic)"),
    "client_secret_post": _l("Client secret in the request body (client_secret_post)"),
    "private_key_jwt": _l("Signed with the client's private key (private_key_jwt)"),
    "none": _l("None: a public client (none)"),
}
MAX_GRACE_HOURS = MAX_SECRET_GRACE_SECONDS // 3600


class Text:
    """Refuses a value holding a NUL or characters that were not UTF-8."""

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and not is_text(field.data):
            raise StopValidation(_l("This holds characters that cannot be used."))


class PartnerForm(FlaskForm):
    name = StringField(
        _l("Organisation name"),
        validators=[
            InputRequired(_l("Enter the name of your organisation.")),
            Text(),
            Length(max=200, message=_l("The name is too long.")),
        ],
    )


class InvitationForm(FlaskForm):
    email = StringField(
        _l("Email address of the developer"),
        validators=[
            InputRequired(_l("Enter an email address.")),
            Text(),
            Length(max=254, message=_l("Enter an email address.")),
        ],
    )


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _url(label):
    return StringField(
        label, validators=[Text(), Length(max=2000, message=_l("The URL is too long."))]
    )


def _lines(label):
    return TextAreaField(
        label, validators=[Text(), Length(max=45000, message=_l("Too many URIs."))]
    )


class ClientForm(FlaskForm):
    """Every field a partner may set; the operator's (approval, first-party) are not here."""

    client_name = StringField(_l("Client name"), validators=[Text()])
    logo_uri = _url(_l("Logo URL (https)"))
    redirect_uris = _lines(_l("Redirect URIs"))
    post_logout_redirect_uris = _lines(_l("Post-logout redirect URIs"))
    purposes = CheckboxList(
        _l("Purposes"),
        choices=[SelectChoice(name, PURPOSE_TEXTS[name]) for name in PURPOSES],
        validate_choice=True,
    )
    offline_access = BooleanField(_l("Ask members for access without time limit (offline_access)"))
    grant_management = BooleanField(
        _l("Query and release members' grants through the grant management API")
    )
    public = BooleanField(_l("Public client (no secret)"))
    token_endpoint_auth_method = SelectField(
        _l("Token endpoint authentication"),
        choices=[SelectChoice(m, AUTH_METHOD_TEXTS[m]) for m in TOKEN_ENDPOINT_AUTH_METHODS],
        default="client_secret_basic",
    )
    require_pushed_authorization_requests = BooleanField(
        _l("Accept only pushed authorization requests (PAR)")
    )
    jwks = TextAreaField(_l("Public keys (JWKS as JSON)"), validators=[Text(), Length(max=20000)])
    jwks_uri = _url(_l("JWKS URL"))
    dpop_bound_access_tokens = BooleanField(_l("Require DPoP-bound tokens (RFC 9449)"))
    access_token_ttl = StringField(
        _l("Access token lifetime (seconds)"),
        default=str(defaults.ACCESS_TOKEN_SECONDS),
        validators=[Text()],
    )
    grant_ttl = StringField(
        _l("Access period (seconds)"), default=str(defaults.GRANT_SECONDS), validators=[Text()]
    )
    policy_uri = _url(_l("Privacy policy URL"))
    tos_uri = _url(_l("Terms of use URL"))
    backchannel_logout_uri = _url(_l("Back-channel logout URI"))
    security_event_uri = _url(_l("Security event URI"))
    sector_identifier_uri = _url(_l("Sector identifier URI"))

    def fill_from(self, client) -> None:
        """The stored client in the form, for editing."""
        self.client_name.data = client.client_name
        self.logo_uri.data = client.logo_uri or ""
        self.redirect_uris.data = "\n".join(client.redirect_uris or [])
        self.post_logout_redirect_uris.data = "\n".join(client.post_logout_redirect_uris or [])
        self.purposes.data = list(client.purposes or [])
        self.offline_access.data = "offline_access" in client.scopes
        self.grant_management.data = bool(set(REGISTERED_CLIENT_SCOPES) & set(client.scopes))
        self.public.data = client.token_endpoint_auth_method == "none"
        self.dpop_bound_access_tokens.data = client.dpop_bound_access_tokens
        self.token_endpoint_auth_method.data = client.token_endpoint_auth_method
        self.require_pushed_authorization_requests.data = (
            client.require_pushed_authorization_requests
        )
        self.jwks.data = json.dumps(client.jwks, indent=2) if client.jwks else ""
        self.jwks_uri.data = client.jwks_uri or ""
        self.access_token_ttl.data = str(client.access_token_ttl)
        self.grant_ttl.data = str(client.grant_ttl)
        for name in (
            "policy_uri",
            "tos_uri",
            "backchannel_logout_uri",
            "security_event_uri",
            "sector_identifier_uri",
        ):
            getattr(self, name).data = getattr(client, name) or ""

    def to_request(self, base: ClientRequest) -> ClientRequest:
        """``base`` with this form's fields; a field that cannot be read raises FormError."""
        public = bool(self.public.data)
        purposes = list(dict.fromkeys(self.purposes.data or []))
        # SPEC.md §3: the scopes follow from the purposes; offline_access is asked separately.
        scopes = ["openid", *sorted(scopes_of_purposes(purposes) - {"openid", "offline_access"})]
        if self.offline_access.data:
            scopes.append("offline_access")
        if self.grant_management.data and not public:
            scopes.extend(REGISTERED_CLIENT_SCOPES)
        base.client_name = (self.client_name.data or "").strip()
        base.redirect_uris = _split_lines(self.redirect_uris.data)
        base.post_logout_redirect_uris = _split_lines(self.post_logout_redirect_uris.data)
        base.purposes = purposes
        base.scope = " ".join(scopes)
        base.public = public
        base.dpop_bound_access_tokens = bool(self.dpop_bound_access_tokens.data)
        base.token_endpoint_auth_method = "none" if public else self.token_endpoint_auth_method.data
        # A new client gets the usual grant types of its method (registration picks them);
        # an edited one keeps its own, less client_credentials once it is public.
        if base.grant_types is not None and public:
            kept = [grant for grant in base.grant_types if grant != "client_credentials"]
            base.grant_types = kept or None
        base.require_pushed_authorization_requests = bool(
            self.require_pushed_authorization_requests.data
        )
        base.jwks = _jwks(self.jwks.data)
        base.jwks_uri = _optional(self.jwks_uri.data)
        base.access_token_ttl = _seconds(self.access_token_ttl.data, "access_token_ttl")
        base.grant_ttl = _seconds(self.grant_ttl.data, "grant_ttl")
        for name in (
            "logo_uri",
            "policy_uri",
            "tos_uri",
            "backchannel_logout_uri",
            "security_event_uri",
            "sector_identifier_uri",
        ):
            setattr(base, name, _optional(getattr(self, name).data))
        return base


class RotateSecretForm(FlaskForm):
    grace_hours = StringField(
        _l("Keep the old secret working for (hours)"), default="24", validators=[Text()]
    )

    def grace_seconds(self) -> int:
        text = (self.grace_hours.data or "").strip()
        if not text.isdigit() or int(text) > MAX_GRACE_HOURS:
            raise FormError(
                "grace_hours", _l("Give a whole number of hours from 0 to 168 (7 days).")
            )
        return int(text) * 3600


class FormError(Exception):
    """A field the form could not read into a request (not a rule of the service)."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def _split_lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _optional(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _seconds(text: str | None, field: str) -> int:
    text = (text or "").strip()
    if not text.isdigit() or len(text) > 12:
        raise FormError(field, _l("Give a whole number of seconds."))
    return int(text)


def _jwks(text: str | None):
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise FormError("jwks", _l("The public keys are not valid JSON.")) from exc
    if not isinstance(value, dict):
        raise FormError("jwks", _l('The public keys are a JSON object with a "keys" list.'))
    return value
