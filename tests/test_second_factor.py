"""The subtle parts of the second factors, with the clock held still."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from idp.extensions import db
from idp.models import Credential
from idp.services import second_factor
from tests.factories import make_member

NOW = datetime(2026, 5, 4, 12, 0, 15, tzinfo=UTC)  # 15 s into a step


@pytest.fixture
def frozen(monkeypatch):
    clock = {"now": NOW}
    monkeypatch.setattr("idp.services.second_factor.utcnow", lambda: clock["now"])
    return clock


def _code(key: str, moment: datetime) -> str:
    return pyotp.TOTP(key).at(moment)


def test_totp_accepts_one_step_either_side_and_no_further(app_ctx, frozen):
    member, _password, key = make_member()
    step = timedelta(seconds=30)
    assert not second_factor.verify_totp(member, _code(key, NOW - 2 * step))
    assert not second_factor.verify_totp(member, _code(key, NOW + 2 * step))
    assert second_factor.verify_totp(member, _code(key, NOW - step))
    assert second_factor.verify_totp(member, _code(key, NOW))
    assert second_factor.verify_totp(member, _code(key, NOW + step))


def test_totp_never_accepts_a_step_at_or_before_the_last_one(app_ctx, frozen):
    member, _password, key = make_member()
    step = timedelta(seconds=30)
    assert second_factor.verify_totp(member, _code(key, NOW + step))
    # The same code again, and an earlier step still inside the window: both refused.
    assert not second_factor.verify_totp(member, _code(key, NOW + step))
    assert not second_factor.verify_totp(member, _code(key, NOW))
    frozen["now"] = NOW + 2 * step
    assert second_factor.verify_totp(member, _code(key, NOW + 2 * step))
    credential = db.session.get(Credential, member.id)
    assert credential.totp_last_step == int((NOW + 2 * step).timestamp()) // 30


def test_the_used_step_is_claimed_in_one_conditional_update(app_ctx, frozen):
    """Two requests that both matched the code: only the first claim of the step wins."""
    member, _password, _key = make_member()
    step = second_factor.current_step()
    assert second_factor._claim_step(member.id, step)
    assert not second_factor._claim_step(member.id, step)
    assert not second_factor._claim_step(member.id, step - 1)
    assert second_factor._claim_step(member.id, step + 1)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12a456", None])
def test_malformed_totp_codes_are_refused(app_ctx, frozen, code):
    member, _password, _key = make_member()
    assert not second_factor.verify_totp(member, code)


def test_member_without_totp_has_no_totp_to_verify(app_ctx, frozen):
    member, _password, _none = make_member(totp=False)
    assert not second_factor.has_totp(member)
    assert not second_factor.verify_totp(member, "123456")


def test_recovery_codes_are_80_bit_base32_and_single_use(app_ctx):
    member, _password, _key = make_member()
    codes = second_factor.new_recovery_codes(member)
    db.session.commit()
    assert len(codes) == 10
    for code in codes:
        raw = code.replace("-", "")
        assert len(raw) == 16 and set(raw) <= set(second_factor.BASE32)  # 16 × 5 = 80 bits
    assert second_factor.remaining_recovery_codes(member) == 10
    assert second_factor.use_recovery_code(member, codes[0])
    assert not second_factor.use_recovery_code(member, codes[0])
    assert second_factor.remaining_recovery_codes(member) == 9
    assert not second_factor.use_recovery_code(member, "not a code")


def test_group_and_mask_helpers():
    assert second_factor.group_key("ABCDEFGHIJKLMNOP") == "ABCD EFGH IJKL MNOP"
    assert second_factor.mask_email("anna@example.com") == "a•••@example.com"
