"""The ``mam-idp`` console script: a Flask CLI group over ``idp.create_app``.

Every command that creates something accepts ``--json`` and then prints exactly
one JSON object on stdout; logs and warnings go to stderr.
"""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup


def emit(as_json: bool, payload: dict, text: str) -> None:
    """Print ``payload`` as one JSON object, or ``text`` for people."""
    if as_json:
        click.echo(json.dumps(payload, sort_keys=True))
    else:
        click.echo(text)


def register_commands(app: Flask) -> None:
    """Commands are attached to the app so ``flask --app idp`` sees them too."""
    app.cli.add_command(keys)


@click.group(cls=AppGroup)
def keys() -> None:
    """Signing keys of ID tokens and logout tokens."""


@keys.command("rotate")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rotate_keys_command(as_json: bool) -> None:
    """Add a new signing key per algorithm and make it current.

    The previous keys stay in the JWKS until every token they signed has expired.
    """
    from idp.services.signing_keys import rotate_keys

    kids = rotate_keys()
    emit(
        as_json,
        {"kid": kids["RS256"], "kids": kids},
        "\n".join(f"{alg}: {kid}" for alg, kid in sorted(kids.items())),
    )


def _create_app(*_args, **_kwargs) -> Flask:
    from idp import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Login with Miles & More: administer the identity provider."""
