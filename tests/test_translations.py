"""The catalogues: complete, current, and used by the pages.

Every string the code marks for translation is in the template and in the German,
Dutch and Polish catalogues, translated, with the same placeholders; a page in
each language shows its own words, and the signed-in member's language is kept
on every page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select

from idp.extensions import db
from idp.models import OutgoingMail
from tests.factories import log_in, make_member
from tests.login_flow import enter_password, h1, post_form

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "idp" / "translations"
LANGUAGES = ("de", "nl", "pl")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _key(message_id) -> str:
    return message_id[0] if isinstance(message_id, tuple) else message_id


@pytest.fixture(scope="module")
def source_messages() -> set[str]:
    with open(ROOT / "babel.cfg") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    keywords = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(_key(message))
    return found


def _catalog(path: Path):
    with open(path, "rb") as handle:
        return read_po(handle)


def _messages(catalog) -> dict[str, object]:
    return {_key(m.id): m for m in catalog if m.id}


def test_the_template_matches_the_code(source_messages):
    template = set(_messages(_catalog(TRANSLATIONS / "messages.pot")))
    assert source_messages - template == set(), "run make extract-messages"
    assert template - source_messages == set(), "run make extract-messages"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(source_messages, language):
    catalog = _catalog(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    messages = _messages(catalog)
    assert set(messages) == source_messages, "run make extract-messages"
    assert not catalog.obsolete, "obsolete entries left in the catalogue"
    for key, message in messages.items():
        assert not message.fuzzy, f"{language}: fuzzy: {key!r}"
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        expected_forms = catalog.num_plurals if isinstance(message.id, tuple) else 1
        assert len(targets) == expected_forms, f"{language}: plural forms of {key!r}"
        wanted = set(PLACEHOLDER.findall(sources[-1]))
        for target in targets:
            assert target.strip(), f"{language}: untranslated: {key!r}"
            # A singular form may spell the number out; every other placeholder stays.
            assert set(PLACEHOLDER.findall(target)) - wanted == set(), f"{language}: {key!r}"
            assert wanted - {"num"} <= set(PLACEHOLDER.findall(target)), f"{language}: {key!r}"


LOGIN_HEADINGS = {
    "en": "Log in with Miles & More",
    "de": "Mit Miles & More anmelden",
    "nl": "Inloggen met Miles & More",
    "pl": "Zaloguj się przez Miles & More",
}


@pytest.mark.parametrize("language", sorted(LOGIN_HEADINGS))
def test_the_login_page_speaks_the_requested_language(client, language):
    html = client.get(f"/login?ui_locales={language}").get_data(as_text=True)
    assert f'<html lang="{language}"' in html
    assert h1(html) == LOGIN_HEADINGS[language]


def test_accept_language_chooses_when_nothing_else_does(client):
    html = client.get("/login", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert h1(html.get_data(as_text=True)) == LOGIN_HEADINGS["pl"]


def test_error_pages_are_translated_and_json_keeps_the_standard_title(client):
    page = client.get("/no-such-page?ui_locales=de").get_data(as_text=True)
    assert h1(page) == "Seite nicht gefunden"
    problem = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "de"})
    assert problem.status_code == 404
    assert problem.json["title"] == "Not Found"


def test_the_signed_in_members_language_holds_on_every_page(client, app_ctx):
    member, _password, _key = make_member(locale="nl")
    db.session.commit()
    log_in(client, member)
    page = client.get("/no-such-page", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nl"' in page
    assert h1(page) == "Pagina niet gevonden"


def test_the_login_code_mail_is_written_in_the_members_language(client, app_ctx):
    member, password, _key = make_member(locale="de", given_name="Jonas")
    enter_password(client, member.email, password)
    # The browser asks for Dutch; the mail goes to the member, in the member's language.
    client.get("/login/verify/email", headers={"Accept-Language": "nl"})
    post_form(client, "/login/verify/email/send", {}, page="/login/verify/email")
    mail = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id.desc())).first()
    assert mail.recipient == member.email
    catalog = _catalog(TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po")
    assert mail.subject == catalog.get("Your Miles & More login code").string
    assert mail.subject != "Your Miles & More login code"
