"""Finding a partner by the id a page or a command was given."""

from __future__ import annotations

from idp.services.partners import find_partner
from tests.factories import make_partner


def test_a_partner_is_found_by_its_id(app_ctx):
    partner = make_partner("Sky Hotels")
    assert find_partner(partner.id) is partner


def test_an_unknown_or_overlong_id_finds_no_partner(app_ctx):
    partner = make_partner("Sky Hotels")
    assert find_partner("0" * 32) is None
    assert find_partner(partner.id + "0") is None  # longer than any id: not looked up
    assert find_partner("") is None
