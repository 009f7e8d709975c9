"""Settings: generated instance keys, environment overrides, and refusals at start."""

from __future__ import annotations

import re
import stat

import pytest

from idp.config import ENVIRONMENT, ConfigError, Settings, load_settings, new_data_key


def test_first_start_generates_private_keys_into_the_instance_folder(tmp_path):
    settings = load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path)})
    for name in ("secret_key", "data_key"):
        path = tmp_path / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.secret_key == (tmp_path / "secret_key").read_text().strip()
    assert settings.data_keys == ((tmp_path / "data_key").read_text().strip(),)
    assert len(settings.secret_key) >= 32
    assert settings.database_url == f"sqlite:///{tmp_path / 'idp.sqlite3'}"

    again = load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path)})
    assert (again.secret_key, again.data_keys) == (settings.secret_key, settings.data_keys)


def test_no_secret_is_built_into_the_code(tmp_path):
    one = load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path / "one")})
    two = load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path / "two")})
    assert one.secret_key != two.secret_key
    assert one.data_keys != two.data_keys
    assert Settings().secret_key == "" and Settings().data_keys == ()


def test_keys_from_the_environment_are_used_and_nothing_is_written(tmp_path):
    new, old = new_data_key(), new_data_key()
    settings = load_settings(
        environ={
            "IDP_INSTANCE_PATH": str(tmp_path),
            "IDP_SECRET_KEY": "s" * 40,
            "IDP_DATA_KEY": f" {new} , {old} ",
            "IDP_DATABASE_URL": "postgresql+psycopg://db.internal/idp",
            "IDP_REDIS_URL": "redis://cache.internal:6379/0",
            "IDP_ISSUER": "https://login.miles-and-more.example/",
            "IDP_LOGIN_RATE_LIMIT": "5/minute",
            "IDP_API_RATE_LIMIT": "100/second",
            "IDP_SMTP_URL": "smtps://mail.internal:465",
            "IDP_MAIL_SENDER": "login@miles-and-more.example",
            "IDP_LHG_PROVIDERS": (
                '[{"airline": "LH", "issuer": "https://id.lh.example", '
                '"client_id": "c", "client_secret": "s"}]'
            ),
        }
    )
    assert settings.data_keys == (new, old)
    assert settings.secret_key == "s" * 40
    assert settings.issuer == "https://login.miles-and-more.example"
    assert settings.issuer_is_https
    assert settings.database_url == "postgresql+psycopg://db.internal/idp"
    assert settings.redis_url == "redis://cache.internal:6379/0"
    assert (settings.login_rate_limit, settings.api_rate_limit) == ("5/minute", "100/second")
    assert settings.smtp_url == "smtps://mail.internal:465"
    assert settings.mail_sender == "login@miles-and-more.example"
    assert settings.lhg_providers[0]["airline"] == "LH"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("IDP_ISSUER", "ftp://idp.example", "absolute http(s) URL"),
        ("IDP_ISSUER", "login.example", "absolute http(s) URL"),
        ("IDP_ISSUER", "http://login.miles-and-more.example", "plain http only for loopback"),
        ("IDP_ISSUER", "https://login.example/?tenant=1", "query or fragment"),
        ("IDP_DATA_KEY", "c2hvcnQ=", "32 bytes"),
        ("IDP_DATA_KEY", "ä" * 44, "url-safe base64"),
        ("IDP_DATA_KEY", "x5lSXtcYGmAibTpQ4D0d!bFVl6eO4Zm7bY4U2jW2yZ9A=", "url-safe base64"),
        ("IDP_DATA_KEY", "x5lSXtcYGmAibTpQ4D0dbFVl6eO4Zm7bY4U2jW2yZ9A/", "url-safe base64"),
        ("IDP_DATA_KEY", " , ", "holds no key"),
        ("IDP_SECRET_KEY", "too short", "at least 32 characters"),
        ("IDP_LOGIN_RATE_LIMIT", "lots per minute", "IDP_LOGIN_RATE_LIMIT is not a valid rate"),
        ("IDP_API_RATE_LIMIT", "10/fortnight", "IDP_API_RATE_LIMIT is not a valid rate"),
        ("IDP_DATABASE_URL", "not a url", "not a SQLAlchemy database URL"),
        ("IDP_DATABASE_URL", "nosuchdb://db/idp", "does not support"),
        ("IDP_REDIS_URL", "http://cache.internal:6379", "redis://"),
        ("IDP_LHG_PROVIDERS", "[{", "not valid JSON"),
        ("IDP_LHG_PROVIDERS", '{"airline": "LH"}', "must be a JSON list"),
        ("IDP_LHG_PROVIDERS", '[{"airline": "LH"}]', "needs airline, issuer"),
        ("IDP_TRUSTED_PROXIES", "-1", "whole number"),
        ("IDP_PAR_LIFETIME_SECONDS", "5", "from 10 to 600"),
        ("IDP_PAR_LIFETIME_SECONDS", "601", "from 10 to 600"),
        ("IDP_PAR_LIFETIME_SECONDS", "1m", "from 10 to 600"),
        ("IDP_REQUIRE_PAR", "sometimes", "true or false"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(tmp_path, variable, value, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path), variable: value})
    assert variable in str(caught.value)


def test_pushed_authorization_request_settings(tmp_path):
    defaults = load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path)})
    assert defaults.par_lifetime_seconds == 60 and defaults.require_par is False
    chosen = load_settings(
        environ={
            "IDP_INSTANCE_PATH": str(tmp_path),
            "IDP_PAR_LIFETIME_SECONDS": "90",
            "IDP_REQUIRE_PAR": "true",
        }
    )
    assert chosen.par_lifetime_seconds == 90 and chosen.require_par is True
    off = load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path), "IDP_REQUIRE_PAR": "0"})
    assert off.require_par is False


def test_a_bad_data_key_is_refused_even_after_a_good_one(tmp_path):
    with pytest.raises(ConfigError, match="32 bytes"):
        load_settings(
            environ={"IDP_INSTANCE_PATH": str(tmp_path), "IDP_DATA_KEY": f"{new_data_key()},abc="}
        )


def test_unknown_overrides_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown settings: colour"):
        load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path)}, colour="blue")


def test_loopback_issuers_may_use_http(tmp_path):
    for issuer in ("http://127.0.0.1:5000", "http://localhost:8080", "http://[::1]:5000"):
        settings = load_settings(environ={"IDP_INSTANCE_PATH": str(tmp_path), "IDP_ISSUER": issuer})
        assert settings.issuer == issuer and not settings.issuer_is_https


def test_every_documented_variable_is_read_by_load_settings():
    import inspect

    from idp import config

    source = inspect.getsource(config.load_settings)
    for variable in ENVIRONMENT:
        assert f'"{variable}"' in source, variable


def test_an_instance_folder_that_cannot_be_written_is_a_config_error(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    with pytest.raises(ConfigError, match="IDP_INSTANCE_PATH: cannot keep the generated"):
        load_settings(environ={"IDP_INSTANCE_PATH": str(blocked / "instance")})


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        ('[{"airline": "lufthansa", "issuer": "http://id.lh.example", "client_id": "c", '
         '"client_secret": "s"}]', "plain http only for loopback"),
        ('[{"airline": "luft hansa", "issuer": "https://id.lh.example", "client_id": "c", '
         '"client_secret": "s"}]', "must be a slug"),
        ('[{"airline": "swiss", "issuer": "https://id.lx.example", "client_id": "", '
         '"client_secret": "s"}]', "non-empty strings"),
        ('[{"airline": "swiss", "issuer": "https://id.lx.example", "client_id": "c", '
         '"client_secret": "s", "colour": "red"}]', "unknown keys colour"),
        ('[{"airline": "swiss", "issuer": "https://a.example", "client_id": "c", '
         '"client_secret": "s"}, {"airline": "swiss", "issuer": "https://b.example", '
         '"client_id": "c", "client_secret": "s"}]', "names an airline twice"),
    ],
    ids=["http-issuer", "slug", "empty-client-id", "unknown-key", "twice"],
)
def test_upstream_providers_are_checked_at_start(tmp_path, providers, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"IDP_LHG_PROVIDERS": providers}, instance_path=tmp_path)


def test_an_upstream_provider_gets_its_airlines_name_and_keeps_its_issuer(tmp_path):
    settings = load_settings(
        {"IDP_LHG_PROVIDERS": '[{"airline": "austrian", "issuer": "https://id.os.example/", '
                              '"client_id": "c", "client_secret": "s"}]'},
        instance_path=tmp_path,
    )
    [provider] = settings.lhg_providers
    assert (provider["name"], provider["issuer"]) == ("Austrian Airlines", "https://id.os.example/")
