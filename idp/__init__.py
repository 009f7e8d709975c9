"""Login with Miles & More: the OpenID Provider core."""

from idp.app import create_app

__all__ = ["create_app"]
