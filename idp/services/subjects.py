"""Subject identifiers (OIDC Core §8): pairwise per sector by default, public for our own sites.

The subject is derived from the member's stable internal identifier, never
from the card number, which changes over a membership. A pairwise subject is
a keyed hash of the sector and the member, with a salt of the member's own, so
partners in different sectors cannot link a member, and nobody who knows a
public subject can compute a pairwise one.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from idp.models import Client, Member


def sector_identifier(client: Client) -> str:
    """The host of the registered sector_identifier_uri, else of the redirect URIs (§8.1)."""
    if client.sector_identifier_uri:
        return urlsplit(client.sector_identifier_uri).hostname or ""
    hosts = {urlsplit(uri).hostname or urlsplit(uri).scheme for uri in client.redirect_uris or []}
    # Registration refuses pairwise clients whose redirect URIs span several hosts
    # without a sector_identifier_uri; sorting keeps the choice stable regardless.
    return sorted(hosts)[0] if hosts else client.client_id


def subject_for(member: Member, client: Client) -> str:
    if client.subject_type == "public":
        return member.id
    material = f"{sector_identifier(client)}|{member.id}|{member.pairwise_salt}".encode()
    digest = hashlib.sha256(material).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
