"""Stream management (OpenID SSF 1.0 §8.1) and poll delivery (RFC 8936) for receivers.

- ``/ssf/stream``: POST creates the client's stream (201), GET reads it (with
  ``stream_id``: the stream; without: the list of the client's streams), PATCH
  updates and PUT replaces it (``stream_id`` in the body), DELETE removes it
  (``?stream_id=``, 204);
- ``/ssf/status``: GET ``?stream_id=`` reads, POST ``{"stream_id", "status",
  "reason"}`` sets ``enabled``, ``paused`` or ``disabled``;
- ``/ssf/verify``: POST ``{"stream_id", "state"}`` sends a verification
  event through the stream (204; 429 within ``min_verification_interval``);
- ``/ssf/poll``: RFC 8936 §2.4 poll requests of a poll stream.

A stream of another client is not found (404). Each view reads: authenticate
the receiver (``receiver.receiver_client``), read the body, call the service,
answer; a refusal changes nothing.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from idp.errors import render_oauth_error
from idp.extensions import csrf, db
from idp.models import SsfStream
from idp.models.ssf import POLL
from idp.oauth.registration_document import parse_body
from idp.oauth.resource import BearerError
from idp.oauth.ssf_metadata import PATHS, POLL_PATH, poll_url
from idp.security_headers import no_store
from idp.services import ssf_events, ssf_poll, ssf_streams
from idp.services.errors import Conflict, InvalidInput, NotFound, ServiceError
from idp.ssf import blueprint
from idp.ssf.receiver import receiver_client

STATUS_CODES = {NotFound: 404, Conflict: 409, ssf_streams.TooSoon: 429}
ERROR_CODES = {404: "not_found", 409: "conflict", 429: "too_many_requests"}


def _issuer() -> str:
    return current_app.config["IDP"].issuer


def stream_document(stream: SsfStream) -> dict:
    """SSF §8.1.1: the stream as the receiver reads it (never the authorization header)."""
    delivery = {"method": stream.delivery_method}
    if stream.delivery_method == POLL:
        delivery["endpoint_url"] = poll_url(_issuer())
    else:
        delivery["endpoint_url"] = stream.endpoint_url
    document = {
        "stream_id": stream.id,
        "iss": _issuer(),
        "aud": stream.audience,
        "events_supported": ssf_events.events_supported(),
        "events_requested": list(stream.events_requested or []),
        "events_delivered": ssf_events.events_delivered(stream),
        "delivery": delivery,
        "min_verification_interval": ssf_streams.MIN_VERIFICATION_INTERVAL,
    }
    if stream.description is not None:
        document["description"] = stream.description
    return document


def status_document(stream: SsfStream) -> dict:
    document = {"stream_id": stream.id, "status": stream.status}
    if stream.status_reason:
        document["reason"] = stream.status_reason
    return document


def _json(document, status: int = 200) -> Response:
    response = jsonify(document)
    response.status_code = status
    return no_store(response)


def _body() -> dict:
    if request.mimetype != "application/json":
        raise InvalidInput("Send the request as application/json.", "body")
    try:
        return parse_body(request.get_data(cache=True))
    except InvalidInput as exc:
        raise InvalidInput("The body must be one JSON object.", "body") from exc


def _refused(error: Exception) -> Response:
    """The one place refusals become answers; the transaction is rolled back first."""
    db.session.rollback()
    if isinstance(error, BearerError):
        return error.response()
    status = next((code for kind, code in STATUS_CODES.items() if isinstance(error, kind)), 400)
    response = render_oauth_error(status, ERROR_CODES.get(status, "invalid_request"), error.message)
    if status == 429:
        response.headers["Retry-After"] = str(ssf_streams.MIN_VERIFICATION_INTERVAL)
    return response


@blueprint.route(PATHS["configuration_endpoint"], methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
@csrf.exempt
def stream_configuration():
    try:
        client = receiver_client(write=request.method != "GET")
        if request.method == "GET":
            stream = ssf_streams.stream_of(client)
            if "stream_id" not in request.args:
                return _json([stream_document(stream)] if stream else [])
            return _json(stream_document(ssf_streams.find(client, request.args["stream_id"])))
        if request.method == "DELETE":
            ssf_streams.remove(client, request.args.get("stream_id"))
            return no_store(Response(status=204))
        if request.method == "POST":
            stream = ssf_streams.create(client, _body(), poll_url(_issuer()))
            return _json(stream_document(stream), 201)
        document = _body()
        current = ssf_streams.stream_of(client)
        stream = ssf_streams.change(
            client,
            document,
            poll_url(_issuer()),
            current=stream_document(current) if current else {},
            whole=request.method == "PUT",
        )
        return _json(stream_document(stream))
    except (BearerError, ServiceError) as error:
        return _refused(error)


@blueprint.route(PATHS["status_endpoint"], methods=["GET", "POST"])
@csrf.exempt
def stream_status():
    try:
        client = receiver_client(write=request.method == "POST")
        if request.method == "GET":
            return _json(status_document(ssf_streams.find(client, request.args.get("stream_id"))))
        return _json(status_document(ssf_streams.set_status(client, _body())))
    except (BearerError, ServiceError) as error:
        return _refused(error)


@blueprint.post(PATHS["verification_endpoint"])
@csrf.exempt
def stream_verification():
    try:
        client = receiver_client(write=True)
        ssf_streams.verify(client, _body())
    except (BearerError, ServiceError) as error:
        return _refused(error)
    return no_store(Response(status=204))


@blueprint.post(POLL_PATH)
@csrf.exempt
def poll():
    """RFC 8936 §2.4; the stream is the client's, and must deliver by poll."""
    try:
        client = receiver_client(write=False)
        stream = ssf_streams.stream_of(client)
        if stream is None or stream.delivery_method != POLL:
            raise NotFound("This client has no poll stream.", "stream_id")
        answer = ssf_poll.poll(stream, ssf_poll.read_request(_body()))
    except (BearerError, ServiceError) as error:
        return _refused(error)
    return _json(answer)
