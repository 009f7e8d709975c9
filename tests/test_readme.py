"""The README stays true: every setting and command is documented, every named file exists."""

from __future__ import annotations

import re
from pathlib import Path

import click

from idp.config import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


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
            "members",
            "partners",
            "clients",
            "keys",
            "demo",
            "serve",
            "worker",
            "purge",
            "mail",
            "notifications",
        )
        if name in app.cli.commands
        for path in walk(app.cli.commands[name], (name,))
    ]
    assert "members create" in ours
    for path in ours:
        assert f"`mam-idp {path}" in README, path


def _section(title: str) -> str:
    text = README
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start : end if end != -1 else None]


def test_every_path_in_the_where_is_table_exists():
    table = _section("### Where is")
    paths = re.findall(r"`([\w./]+\.py)`", table)
    assert len(paths) > 15
    missing = [p for p in paths if not (ROOT / p).is_file()]
    assert not missing, f"the README's 'Where is' table names files that do not exist: {missing}"


def test_every_entry_of_the_architecture_picture_exists():
    picture = _section("## Architecture").split("```")[1]
    parents: list[str] = []
    missing = []
    for line in picture.splitlines():
        match = re.match(r"( *)(\S+)\s{2,}", line)
        if not match:
            continue
        depth = len(match.group(1)) // 2
        parents[depth:] = []
        path = ROOT.joinpath(*parents, match.group(2).rstrip("/"))
        if not path.exists():
            missing.append(str(path.relative_to(ROOT)))
        if match.group(2).endswith("/"):
            parents.append(match.group(2).rstrip("/"))
    assert not missing, f"the README's architecture picture names what does not exist: {missing}"
