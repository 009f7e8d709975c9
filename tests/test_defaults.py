"""The protocol defaults: each one described in one line, and the code runs on them."""

from __future__ import annotations

import ast
import inspect

from idp import defaults
from idp.config import Settings
from idp.models import Client

SOURCE = inspect.getsource(defaults)


def _described() -> dict[str, str]:
    """Each public name the module assigns, with the ``#:`` line right above it."""
    lines = SOURCE.splitlines()
    found = {}
    for node in ast.parse(SOURCE).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and not target.id.startswith("_"):
                above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
                twice = lines[node.lineno - 3].strip() if node.lineno >= 3 else ""
                # Exactly one line: a description that runs on over two lines is refused.
                one_line = above.startswith("#:") and not twice.startswith("#:")
                found[target.id] = above.removeprefix("#:").strip() if one_line else ""
    return found


def test_every_default_has_a_one_line_description():
    public = {
        name
        for name, value in vars(defaults).items()
        if not name.startswith("_") and name != "annotations"
    }
    described = _described()
    assert public == set(described), "every default is assigned at the top of idp/defaults.py"
    undocumented = sorted(name for name, text in described.items() if not text)
    assert undocumented == [], "give each a single '#:' line right above it"


def test_defaults_are_positive_numbers_or_limits():
    for name in _described():
        value = getattr(defaults, name)
        assert (isinstance(value, int) and value > 0) or isinstance(value, str), name
        if name.endswith("_SECONDS"):
            assert isinstance(value, int), name


def test_the_settings_start_from_the_defaults():
    settings = Settings()
    assert settings.login_rate_limit == defaults.LOGIN_RATE_LIMIT
    assert settings.api_rate_limit == defaults.API_RATE_LIMIT
    assert settings.lockout_threshold == defaults.LOCKOUT_THRESHOLD
    assert settings.lockout_base_seconds == defaults.LOCKOUT_BASE_SECONDS
    assert settings.pending_login_seconds == defaults.PENDING_LOGIN_SECONDS
    assert settings.session_idle_seconds == defaults.SESSION_IDLE_SECONDS
    assert settings.session_max_seconds == defaults.SESSION_MAX_SECONDS
    assert settings.email_code_seconds == defaults.EMAIL_CODE_SECONDS
    assert settings.email_code_resend_seconds == defaults.EMAIL_CODE_RESEND_SECONDS
    assert settings.recent_login_seconds == defaults.RECENT_LOGIN_SECONDS


def test_a_client_registered_without_lifetimes_gets_the_defaults():
    columns = Client.__table__.columns
    assert columns["access_token_ttl"].default.arg == defaults.ACCESS_TOKEN_SECONDS
    assert columns["grant_ttl"].default.arg == defaults.GRANT_SECONDS
