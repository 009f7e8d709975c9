"""The per-address rate limits of the settings, as flask-limiter reads them per request.

Given to ``limiter.limit`` as callables, so a test app with other settings
gets its own limits.
"""

from __future__ import annotations

from flask import current_app


def api_rate_limit() -> str:
    """``IDP_API_RATE_LIMIT``: protocol endpoints and partner APIs."""
    return current_app.config["IDP"].api_rate_limit


def login_rate_limit() -> str:
    """``IDP_LOGIN_RATE_LIMIT``: login and second-factor attempts together."""
    return current_app.config["IDP"].login_rate_limit


def account_link_rate_limit() -> str:
    """Password reset requests and enrolment link resends together."""
    return current_app.config["IDP"].account_link_rate_limit
