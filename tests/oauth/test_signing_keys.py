"""Key rotation without downtime: tokens signed before a rotation still verify after it."""

from __future__ import annotations

import json

from joserfc import jwt


def test_id_tokens_signed_before_a_rotation_verify_after_it(oauth, rp, runner, member_id):
    oauth.login(member_id)
    before = oauth.tokens(rp)["id_token"]
    old_kid = jwt.decode(before, oauth.keys()).header["kid"]

    result = runner.invoke(args=["keys", "rotate", "--json"])
    assert result.exit_code == 0, result.output
    rotated = json.loads(result.output)
    assert set(rotated) == {"kid", "kids"}
    assert rotated["kid"] == rotated["kids"]["RS256"] != old_kid

    keys = oauth.keys()
    assert jwt.decode(before, keys).claims["aud"] == rp.client_id
    after = oauth.tokens(rp)["id_token"]
    assert jwt.decode(after, keys).header["kid"] == rotated["kid"]
    published = {k["kid"] for k in oauth.http.get("/oauth/jwks.json").get_json()["keys"]}
    assert {old_kid, rotated["kid"], rotated["kids"]["ES256"]} <= published


def test_keys_rotate_for_people(runner):
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0
    assert result.output.startswith("ES256: ") and "RS256: " in result.output
