"""Consent receipts (Connected apps): one signed receipt per consent record.

``GET /account/apps/receipts/<record>`` downloads a JSON file holding the
readable receipt (``receipt``: Kantara Consent Receipt 1.1 fields) and the
same receipt signed by the provider (``jws``: a compact JWS, ``typ:
consent-receipt+jwt``, verifiable with the key of that ``kid`` in the JWKS at
the discovery's ``jwks_uri``). Another member's record is 404.
"""

from __future__ import annotations

import json

from flask import Response, abort

from idp.account import blueprint
from idp.services import consent_receipts, sso
from idp.services.errors import NotFound
from idp.web.guards import login_required


@blueprint.route("/account/apps/receipts/<record_id>", endpoint="consent_receipt")
@login_required
def consent_receipt(record_id: str):
    member = sso.current_member()
    # Any text reaches this view, so that every unknown id gets the same 404.
    if not record_id.isascii() or not record_id.isdigit() or len(record_id) > 18:
        abort(404)
    try:
        signed = consent_receipts.signed_receipt(member.id, int(record_id))
    except NotFound:
        abort(404)
    body = json.dumps({"receipt": signed.receipt, "jws": signed.jws}, indent=2, sort_keys=True)
    filename = f"consent-receipt-{signed.receipt['consentReceiptID']}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
