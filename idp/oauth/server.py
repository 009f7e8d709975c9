"""Registers every grant and endpoint of the authorization server."""

from __future__ import annotations

from flask import Flask


def init_oauth(app: Flask) -> None:
    pass
