from idp.extensions import db
from idp.models import Member
from tests.factories import make_client, make_member


def test_member_and_client_factories(app_ctx):
    member, password, key = make_member()
    client, secret = make_client()
    db.session.expire_all()
    stored = db.session.get(Member, member.id)
    assert stored.card_number.startswith("992") and len(stored.card_number) == 15
    assert client.check_client_secret(secret)
    assert not client.check_client_secret(secret + "x")
