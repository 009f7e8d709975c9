"""Every protocol default in one place, each with a one-line description.

Lifetimes are in seconds. ``idp.config.Settings`` starts from the values
marked as settings (tests and ``IDP_*`` variables may change them); the token
and grant lifetimes are what a client gets when its registration names none;
everything else is fixed. This module imports nothing, so the models, the
settings and the services can all read it.
"""

from __future__ import annotations

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR

# -- tokens and codes (RFC 6749, OIDC Core) --------------------------------------------

#: Authorization code lifetime; RFC 6749 §4.1.2 asks for a short one (ten minutes at most).
AUTHORIZATION_CODE_SECONDS = 60
#: Access token lifetime of a client registered without one (``Client.access_token_ttl``).
ACCESS_TOKEN_SECONDS = _HOUR
#: How long a consent lasts for a client registered without a grant lifetime (``grant_ttl``).
GRANT_SECONDS = 90 * _DAY
#: The longest token or grant lifetime a client may have; beyond it means "without time limit".
MAX_CLIENT_TTL_SECONDS = 10 * 365 * _DAY
#: Random bytes in each opaque access and refresh token (256 bits).
TOKEN_BYTES = 32
#: Lifetime of every signed token with an expiry (ID tokens); keys stay published this long.
SIGNED_TOKEN_SECONDS = _HOUR
#: Clock skew allowed for relying parties when a retired signing key leaves the key set.
SIGNING_CLOCK_SKEW_SECONDS = 5 * _MINUTE
#: Lifetime of a back-channel logout token (OIDC Back-Channel Logout 1.0 §2.4).
LOGOUT_TOKEN_SECONDS = 2 * _MINUTE
#: How long a client's ``jwks_uri`` document is kept before it is fetched again.
CLIENT_JWKS_CACHE_SECONDS = 5 * _MINUTE
#: ``max-age`` of the public documents: discovery metadata and the provider's key set.
PUBLIC_DOCUMENT_CACHE_SECONDS = 5 * _MINUTE

# -- pushed authorization requests (RFC 9126) -------------------------------------------

#: Lifetime of a ``request_uri`` until a browser first uses it (a setting; RFC 9126 §2.2).
PUSHED_REQUEST_SECONDS = 60
#: How long the browser that first used a ``request_uri`` may come back with it (after login).
PUSHED_REQUEST_HOLD_SECONDS = 10 * _MINUTE

# -- the consent step ------------------------------------------------------------------

#: How long an authorization request waits on the consent screen for the member's answer.
CONSENT_STEP_SECONDS = 10 * _MINUTE

# -- login and the SSO session (settings, but for the touch interval) ------------------

#: How long a member has between the password and the second factor.
PENDING_LOGIN_SECONDS = 10 * _MINUTE
#: An SSO session unused for this long ends (idle timeout).
SESSION_IDLE_SECONDS = 8 * _HOUR
#: An SSO session ends this long after its login, however much it is used (absolute timeout).
SESSION_MAX_SECONDS = 7 * _DAY
#: A session's ``last_seen_at`` and a consent's ``last_used_at`` are written at most this often.
ACTIVITY_RESOLUTION_SECONDS = _MINUTE
#: How recent a login must be for security settings (recovery codes, ...).
RECENT_LOGIN_SECONDS = 15 * _MINUTE
#: Per-address limit on login and second-factor attempts (flask-limiter syntax).
LOGIN_RATE_LIMIT = "20/minute;200/hour"
#: Per-address limit on protocol and API endpoints (flask-limiter syntax).
API_RATE_LIMIT = "1200/minute"

# -- second factors (RFC 6238; the email code times are settings) ----------------------

#: TOTP time step; RFC 6238 §4.1 and what authenticator apps expect.
TOTP_STEP_SECONDS = 30
#: Digits of a TOTP code (RFC 4226 §5.3: six at least).
TOTP_DIGITS = 6
#: TOTP steps either side of now that are accepted (RFC 6238 §5.2, clock drift).
TOTP_WINDOW = 1
#: Recovery codes a member gets at enrolment and with every new set.
RECOVERY_CODE_COUNT = 10
#: Base32 characters of a recovery code: 80 bits.
RECOVERY_CODE_LENGTH = 16
#: Digits of an email one-time code.
EMAIL_CODE_DIGITS = 6
#: Lifetime of an email one-time code.
EMAIL_CODE_SECONDS = 10 * _MINUTE
#: The least time between two email codes for one member.
EMAIL_CODE_RESEND_SECONDS = _MINUTE
#: How long the link that confirms a new email address works.
EMAIL_CHANGE_SECONDS = 24 * _HOUR
#: Lifetime of an emailed password reset link.
PASSWORD_RESET_SECONDS = 30 * _MINUTE
#: Lifetime of an emailed link to set up the second factor.
ENROLMENT_LINK_SECONDS = 30 * _MINUTE
#: Per-address limit on password reset requests and enrolment link resends.
ACCOUNT_LINK_RATE_LIMIT = "5/minute;30/hour"
#: Lifetime of a WebAuthn challenge (passkey registration or login), single-use.
PASSKEY_CHALLENGE_SECONDS = 5 * _MINUTE

# -- account lockout (threshold and base period are settings) --------------------------

#: Wrong passwords (or codes) before an account is locked.
LOCKOUT_THRESHOLD = 5
#: First lockout period; it doubles with every further lockout.
LOCKOUT_BASE_SECONDS = _MINUTE
#: No single lockout lasts longer than this.
LOCKOUT_MAX_SECONDS = _DAY
#: Failures further apart than this start counting again from one.
LOCKOUT_FAILURE_WINDOW_SECONDS = _DAY

# -- DPoP (RFC 9449) ----------------------------------------------------------------

#: How old a proof's ``iat`` may be (the window is a setting).
DPOP_PROOF_SECONDS = _MINUTE
#: How far ahead of our clock a proof's ``iat`` may be: clients' clocks drift.
DPOP_CLOCK_SKEW_SECONDS = 5
#: A server nonce is valid for the period it was made in and the one after (§8).
DPOP_NONCE_PERIOD_SECONDS = 5 * _MINUTE

# -- Shared Signals streams (OpenID SSF 1.0, RFC 8936) ---------------------------------

#: SSF §8.1.1 ``min_verification_interval``: the least time between two verification requests.
SSF_MIN_VERIFICATION_SECONDS = 10
#: RFC 8936 §2.4 long polling: the longest a poll without ``returnImmediately`` waits for a SET.
SSF_LONG_POLL_SECONDS = 5
#: RFC 8936 ``maxEvents``: the most SETs one poll returns, whatever the receiver asks.
SSF_MAX_EVENTS = 100
