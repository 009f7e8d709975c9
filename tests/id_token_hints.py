"""Hints that are no ID token of ours, for every endpoint that takes an ``id_token_hint``.

``malformed_hints(claims)`` needs an application context (it signs some with our
own current key, to get past the signature to what is wrong after it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from joserfc import jws, jwt
from joserfc.jwk import RSAKey

from idp.services import signing_keys

#: The names of ``malformed_hints``, for parametrize.
MALFORMED = (
    "garbage",
    "three_dots",
    "bad_base64",
    "header_not_json",
    "header_a_list",
    "alg_none",
    "alg_hs256_keyed_with_our_public_key",
    "alg_rs384_label",
    "alg_es256_on_an_rsa_key",
    "crit_not_a_list",
    "signed_by_another_key_with_our_kid",
    "signed_by_another_key",
    "tampered_payload",
    "payload_a_list",
    "payload_not_json",
    "payload_deeply_nested",
)


def _b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _our_key() -> tuple[str, RSAKey]:
    row = signing_keys.current_key("RS256")
    return row.kid, RSAKey.import_key(dict(row.private_jwk))


def malformed_hints(claims: dict) -> dict[str, str]:
    kid, ours = _our_key()
    good = signing_keys.sign(claims)
    header, payload, signature = good.split(".")
    public_pem = ours.as_pem(private=False)
    hs_header = _b64({"alg": "HS256", "kid": kid})
    hs_signature = hmac.new(public_pem, f"{hs_header}.{payload}".encode(), hashlib.sha256)
    foreign = RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)
    stranger = RSAKey.generate_key(2048, parameters={"kid": "stranger"}, private=True)
    other_claims = dict(claims, sub="someone-else")
    deep = ("[" * 2000 + "]" * 2000).encode()

    def ours_over(body: bytes, **extra) -> str:
        return jws.serialize_compact({"alg": "RS256", "kid": kid, **extra}, body, ours)

    hints = {
        "garbage": "garbage",
        "three_dots": "...",
        "bad_base64": "!!!.@@@.###",
        "header_not_json": f"{_b64(b'{not json')}.{payload}.{signature}",
        "header_a_list": f"{_b64([1, 2])}.{payload}.{signature}",
        "alg_none": f"{_b64({'alg': 'none'})}.{payload}.",
        "alg_hs256_keyed_with_our_public_key": (
            f"{hs_header}.{payload}.{_b64(hs_signature.digest())}"
        ),
        "alg_rs384_label": f"{_b64({'alg': 'RS384', 'kid': kid})}.{payload}.{signature}",
        "alg_es256_on_an_rsa_key": f"{_b64({'alg': 'ES256', 'kid': kid})}.{payload}.{signature}",
        "crit_not_a_list": f"{_b64({'alg': 'RS256', 'kid': kid, 'crit': 5})}.{payload}.{signature}",
        "signed_by_another_key_with_our_kid": jwt.encode(
            {"alg": "RS256", "kid": kid}, claims, foreign
        ),
        "signed_by_another_key": jwt.encode({"alg": "RS256", "kid": "stranger"}, claims, stranger),
        "tampered_payload": f"{header}.{_b64(other_claims)}.{signature}",
        "payload_a_list": ours_over(json.dumps([claims]).encode()),
        "payload_not_json": ours_over(b"\xff{"),
        "payload_deeply_nested": ours_over(b'{"x": ' + deep + b"}"),
    }
    assert tuple(hints) == MALFORMED
    return hints
