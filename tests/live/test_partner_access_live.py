"""What a partner reads is counted exactly under load: parallel UserInfo calls against
``mam-idp serve --workers 2``, on SQLite and PostgreSQL.

Every call is one atomic upsert of (member, partner, data scope, day); a count
lost to a race, or a call refused because two workers wrote at once, fails here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.live.load import UNLIMITED, Partner, run_at_once
from tests.live.server import SCRIPT, live_provider

pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="mam-idp is not installed")

READS = 120
CONNECTIONS = 16


def test_parallel_userinfo_reads_are_each_counted_once(backend, redis_url, tmp_path):
    with live_provider(tmp_path, backend, redis_url, **UNLIMITED) as provider:
        partner = Partner.seed(provider, members=2, tokens=2)
        reader, bystander = partner.members
        jobs = [lambda http, t=reader.access_token: partner.userinfo(http, t)] * READS
        outcome = run_at_once(jobs, connections=CONNECTIONS, deadline=120)
        print("\n" + outcome.summary(f"{READS} UserInfo reads at {CONNECTIONS} connections"))
        assert outcome.failures == []
        assert [r.status_code for r in outcome.responses] == [200] * READS
        assert all("email" in r.json() for r in outcome.responses)

        from idp.extensions import db
        from idp.models import Client, PartnerAccess
        from idp.models.types import utcnow

        with provider.app().app_context():
            partner_id = db.session.scalar(
                select(Client.partner_id).where(Client.client_id == partner.client_id)
            )
            rows = db.session.scalars(select(PartnerAccess)).all()
            counted = {(r.member_id, r.partner_id, r.category, r.day): r.count for r in rows}
            db.session.remove()
        today = utcnow().date()
        # The seeded client's scopes: profile and email, each read once per call.
        assert counted == {
            (reader.member_id, partner_id, "profile", today): READS,
            (reader.member_id, partner_id, "email", today): READS,
        }
        assert not any(key[0] == bystander.member_id for key in counted)
