"""The README stays true: every setting and every command of the code is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click

from idp.config import ENVIRONMENT

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table():
    documented = set(re.findall(r"^\| `(IDP_\w+)` \|", README, flags=re.MULTILINE))
    assert documented == set(ENVIRONMENT)


def test_every_provider_command_is_documented(app):
    def walk(command: click.Command, path: tuple[str, ...]):
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, (*path, name))
        else:
            yield " ".join(path)

    ours = [
        path
        for name in (
            "members", "partners", "clients", "keys", "demo", "serve", "worker", "purge", "mail",
            "notifications",
        )
        if name in app.cli.commands
        for path in walk(app.cli.commands[name], (name,))
    ]
    assert "members create" in ours
    for path in ours:
        assert f"`mam-idp {path}" in README, path
