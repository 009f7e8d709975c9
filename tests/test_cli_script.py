"""The installed ``mam-idp`` console script, run as operators run it, in a subprocess."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from idp.config import new_data_key

SCRIPT = Path(sys.executable).with_name("mam-idp")

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")


def mam_idp(instance: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
    environ.update(IDP_INSTANCE_PATH=str(instance), **env)
    return subprocess.run(
        [str(SCRIPT), *args], env=environ, capture_output=True, text=True, timeout=120
    )


def one_json_object(stdout: str) -> dict:
    payload, end = json.JSONDecoder().raw_decode(stdout)
    assert stdout[end:].strip() == "", stdout
    assert isinstance(payload, dict)
    return payload


def new_member(instance: Path, email: str, *extra: str, **env: str):
    return mam_idp(
        instance,
        "members",
        "create",
        "--email",
        email,
        "--password",
        "script password",
        "--given-name",
        "Piet",
        "--family-name",
        "Jansen",
        *extra,
        "--json",
        **env,
    )


def test_db_upgrade_then_members_create_json(tmp_path):
    upgraded = mam_idp(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "idp.sqlite3").exists()
    for name in ("secret_key", "data_key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600

    created = new_member(tmp_path, "piet@example.nl")
    assert created.returncode == 0, created.stderr
    payload = one_json_object(created.stdout)
    assert set(payload) == {"member_id", "card_number", "totp_secret"}
    assert len(payload["card_number"]) == 15 and payload["card_number"].startswith("992")

    refused = new_member(tmp_path, "piet@example.nl")
    assert refused.returncode == 1
    assert one_json_object(refused.stdout)["error"] == "conflict"
    assert "Traceback" not in refused.stderr


def test_data_key_rotation_through_the_environment(tmp_path):
    old, new = new_data_key(), new_data_key()
    assert mam_idp(tmp_path, "db", "upgrade", IDP_DATA_KEY=old).returncode == 0
    created = one_json_object(new_member(tmp_path, "anna@example.de", IDP_DATA_KEY=old).stdout)

    rotated = mam_idp(tmp_path, "keys", "rotate-data-key", "--json", IDP_DATA_KEY=f"{new},{old}")
    assert rotated.returncode == 0, rotated.stderr
    report = one_json_object(rotated.stdout)
    assert report["indexes_recomputed"] == 2  # one email, one card number
    assert report["reencrypted"] >= 4

    # With the old key gone, lookups by email and card number still find the member.
    again = new_member(tmp_path, "ANNA@example.de", IDP_DATA_KEY=new)
    assert again.returncode == 1
    assert one_json_object(again.stdout)["field"] == "email"
    card = new_member(
        tmp_path, "other@example.de", "--card-number", created["card_number"], IDP_DATA_KEY=new
    )
    assert card.returncode == 1
    assert one_json_object(card.stdout)["field"] == "card_number"

    # Nothing personal is readable in the database file.
    stored = (tmp_path / "idp.sqlite3").read_bytes()
    for plaintext in ("anna@example.de", created["card_number"], "Jansen"):
        assert plaintext.encode() not in stored


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("IDP_ISSUER", "http://login.miles-and-more.example"),
        ("IDP_DATA_KEY", "not-a-key"),
        ("IDP_LOGIN_RATE_LIMIT", "as many as you like"),
    ],
)
def test_bad_configuration_stops_the_script_with_a_clear_message(tmp_path, variable, value):
    result = new_member(tmp_path, "x@example.com", **{variable: value})
    assert result.returncode == 78
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: the configuration is not usable:")
    assert variable in result.stderr
    assert one_json_object(result.stdout)["error"] == "configuration"


def test_help_lists_flask_migrate_and_provider_commands(tmp_path):
    result = mam_idp(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    commands = {
        line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()
    }
    assert {
        "run",
        "shell",
        "routes",
        "db",
        "members",
        "partners",
        "clients",
        "keys",
        "demo",
    } <= commands
