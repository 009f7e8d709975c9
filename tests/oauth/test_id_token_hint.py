"""The one ``id_token_hint`` verifier: ours, expired or not; anything else an ``InvalidHint``."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idp.oauth.id_token_hint import InvalidHint, verify
from idp.services import signing_keys
from tests.id_token_hints import MALFORMED, malformed_hints

ISSUER = "http://127.0.0.1:5000"


def hint(**overrides) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "member-1", "aud": "client-1", "iat": now, "exp": now + 60}
    claims.update(overrides)
    return signing_keys.sign({k: v for k, v in claims.items() if v is not None})


def reason(value: str) -> str:
    with pytest.raises(InvalidHint) as caught:
        verify(value)
    return caught.value.reason


def test_a_hint_of_ours_names_subject_client_and_session(app_ctx):
    verified = verify(hint(sid="sid-1"))
    assert verified.subject == "member-1"
    assert verified.client_id == "client-1" and verified.issued_to("client-1")
    assert verified.sid == "sid-1"


def test_an_expired_hint_is_accepted(app_ctx):
    now = int(time.time())
    assert verify(hint(iat=now - 7200, exp=now - 3600)).subject == "member-1"


def test_an_es256_hint_is_accepted(app_ctx):
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "member-1", "aud": "client-1", "iat": now}
    assert verify(signing_keys.sign(claims, alg="ES256")).client_id == "client-1"


def test_with_several_audiences_azp_names_the_client(app_ctx):
    verified = verify(hint(aud=["client-1", "client-2"], azp="client-2"))
    assert verified.client_id == "client-2"
    assert verified.issued_to("client-1") and verified.issued_to("client-2")
    assert verify(hint(aud=["client-1", "client-2"])).client_id is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"iss": "https://other-issuer.example"}, InvalidHint.ISSUER),
        ({"iss": None}, InvalidHint.ISSUER),
        ({"sub": None}, InvalidHint.SUBJECT),
        ({"sub": 42}, InvalidHint.SUBJECT),
        ({"aud": None}, InvalidHint.AUDIENCE),
        ({"aud": []}, InvalidHint.AUDIENCE),
        ({"aud": 7}, InvalidHint.AUDIENCE),
    ],
)
def test_wrong_claims_say_what_is_wrong(app_ctx, overrides, expected):
    assert reason(hint(**overrides)) == expected


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_hint_is_not_signed_by_us(app_ctx, name):
    claims = {"iss": ISSUER, "sub": "member-1", "aud": "client-1"}
    assert reason(malformed_hints(claims)[name]) == InvalidHint.SIGNATURE


_SEGMENT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/")


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.lists(_SEGMENT, min_size=1, max_size=6).map(".".join),
    )
)
def test_nothing_sent_raises_anything_but_invalid_hint(app, value):
    with app.app_context():
        with pytest.raises(InvalidHint):
            verify(value)
