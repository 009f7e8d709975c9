"""oidcc-basic-certification-test-plan: ``oidcc-ui-locales`` (OP-Req-ui_locales).

``ui_locales`` (OIDC Core §3.1.2.1) must not cause an error: the suite's
``se`` (a language this provider does not speak) gets the English login page;
``de`` a German one. Both flows end with tokens.
"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("ui_locales", "lang"), [("se", "en"), ("de", "de")])
def test_oidcc_ui_locales(suite, rp, member_id, ui_locales, lang):
    flow, login_page = suite.through_login(rp, member_id, ui_locales=ui_locales)
    assert f'<html lang="{lang}"' in login_page
    suite.exchange(rp, flow)
