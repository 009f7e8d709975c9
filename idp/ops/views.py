"""Operations endpoints: liveness, readiness and metrics. Never rate limited, never cached.

``/healthz`` never touches the database: the process is up. ``/readyz`` checks
the database and Redis. ``/metrics`` is the Prometheus text of every worker
process; keep both behind the proxy, away from the public.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from idp.config import shared_metrics_directory
from idp.extensions import limiter
from idp.ops import readiness
from idp.security_headers import no_store

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
@limiter.exempt
def healthz():
    response = jsonify(status="ok")
    return no_store(response)


@blueprint.get("/readyz")
@limiter.exempt
def readyz():
    checks = readiness.check_services()
    ok = readiness.ready(checks)
    response = jsonify(status="ok" if ok else "unavailable", checks=checks)
    response.status_code = 200 if ok else 503
    return no_store(response)


@blueprint.get("/metrics")
@limiter.exempt
def metrics():
    # Imported here: see idp.observability.metrics on when prometheus_client loads.
    from idp.observability.metrics import exposition

    body, content_type = exposition(shared_metrics_directory())
    response = Response(body, content_type=content_type)
    return no_store(response)
