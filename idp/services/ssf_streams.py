"""A client's Shared Signals stream: its configuration, status and verification (SSF 1.0 §8).

One stream per client (SSF §8.1.1: a transmitter may refuse a second stream
with 409). The receiver supplies ``events_requested``, ``delivery`` and
``description``; the provider supplies the rest (``stream_id``, ``iss``,
``aud``, ``events_supported``, ``events_delivered``,
``min_verification_interval``). An update (PATCH) or replacement (PUT) that
names a provider-supplied property with another value is refused (§8.1.1.3,
§8.1.1.4). Delivery is push (RFC 8935) to an https URL (plain http for
loopback hosts only) with an optional ``authorization_header``, stored
encrypted and never shown again; or poll (RFC 8936) at the provider's poll
endpoint, which is also the default when the receiver names no method.

Every refusal raises before anything is written (``InvalidInput``, ``NotFound``,
``Conflict``, ``TooSoon``); each change is audited and committed here. A
client whose stream is deleted falls back to its ``security_event_uri``, if it
registered one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from idp import defaults
from idp.extensions import db
from idp.models import Client, SsfStream
from idp.models.ssf import POLL, PUSH, STATUSES
from idp.models.types import utcnow
from idp.request_text import is_text
from idp.services import audit, ssf_events
from idp.services.client_metadata import check_https
from idp.services.errors import Conflict, InvalidInput, NotFound, ServiceError

#: SSF §8.1.4.2: verification requests closer together than this are refused (429).
MIN_VERIFICATION_INTERVAL = defaults.SSF_MIN_VERIFICATION_SECONDS
RECEIVER_FIELDS = ("events_requested", "delivery", "description")
TRANSMITTER_FIELDS = (
    "stream_id",
    "iss",
    "aud",
    "events_supported",
    "events_delivered",
    "min_verification_interval",
)
MAX_EVENTS_REQUESTED = 50
MAX_TEXT = 500
MAX_HEADER = 2048
MAX_ID = 64


class TooSoon(ServiceError):
    """A verification asked for within ``min_verification_interval`` of the last one."""

    code = "too_soon"


@dataclass(frozen=True)
class Delivery:
    method: str
    endpoint_url: str | None
    authorization_header: str | None


def stream_of(client: Client) -> SsfStream | None:
    return ssf_events.stream_of(client)


def find(client: Client, stream_id) -> SsfStream:
    """The client's stream named ``stream_id``; another client's stream is not found."""
    check_stream_id(stream_id)
    stream = stream_of(client)
    if stream is None or stream.id != stream_id:
        raise NotFound("There is no such stream.", "stream_id")
    return stream


def check_stream_id(stream_id) -> str:
    if not isinstance(stream_id, str) or not stream_id:
        raise InvalidInput("stream_id is required.", "stream_id")
    if len(stream_id) > MAX_ID or not is_text(stream_id):
        raise NotFound("There is no such stream.", "stream_id")
    return stream_id


# -- checking the receiver's properties --------------------------------------------


def _events_requested(value) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_EVENTS_REQUESTED:
        raise InvalidInput(
            f"events_requested must be a list of at most {MAX_EVENTS_REQUESTED} event type URIs.",
            "events_requested",
        )
    for item in value:
        if not isinstance(item, str) or not item or len(item) > MAX_TEXT or not is_text(item):
            raise InvalidInput("events_requested must hold event type URIs.", "events_requested")
    return list(dict.fromkeys(value))


def _description(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT or not is_text(value):
        raise InvalidInput(f"description must be text of at most {MAX_TEXT} characters.")
    return value


def _delivery(value, poll_url: str) -> Delivery:
    if value is None:
        return Delivery(POLL, None, None)
    if not isinstance(value, dict):
        raise InvalidInput("delivery must be an object.", "delivery")
    method = value.get("method")
    if method not in (PUSH, POLL):
        raise InvalidInput(f"delivery.method must be {PUSH} or {POLL}.", "delivery")
    url = value.get("endpoint_url")
    header = value.get("authorization_header")
    if method == POLL:
        # RFC 8936: the transmitter's own endpoint; the receiver may only echo it.
        if url is not None and url != poll_url:
            raise InvalidInput("A poll stream is polled at the provider's endpoint.", "delivery")
        if header is not None:
            raise InvalidInput("authorization_header is for push delivery.", "delivery")
        return Delivery(POLL, None, None)
    if url is None:
        raise InvalidInput("Push delivery needs delivery.endpoint_url.", "delivery")
    try:
        url = check_https(url, "delivery.endpoint_url")
    except InvalidInput as exc:
        raise InvalidInput(exc.message, "delivery") from exc
    if header is not None and (
        not isinstance(header, str)
        or not header.strip()
        or len(header) > MAX_HEADER
        or not header.isprintable()
        or not header.isascii()
    ):
        raise InvalidInput("authorization_header must be a header value.", "delivery")
    return Delivery(PUSH, url, header)


def _check_document(document) -> dict:
    if not isinstance(document, dict):
        raise InvalidInput("The stream configuration must be a JSON object.")
    return document


def _check_provider_fields(stream: SsfStream, document: dict, current: dict) -> None:
    """§8.1.1.3/§8.1.1.4: provider-supplied properties may be echoed, never changed."""
    for name in TRANSMITTER_FIELDS:
        if name in document and document[name] != current.get(name):
            raise InvalidInput(f"{name} is set by the transmitter and cannot be changed.", name)


def _apply(stream: SsfStream, document: dict, poll_url: str, whole: bool) -> None:
    """Check every property given (``whole``: the absent ones take their defaults), then
    write them; nothing is written when one fails."""
    values = {}
    if whole or "events_requested" in document:
        values["events_requested"] = _events_requested(document.get("events_requested", []))
    if whole or "description" in document:
        values["description"] = _description(document.get("description"))
    if whole or "delivery" in document:
        delivery = _delivery(document.get("delivery"), poll_url)
        values.update(
            delivery_method=delivery.method,
            endpoint_url=delivery.endpoint_url,
            authorization_header=delivery.authorization_header,
        )
    for name, value in values.items():
        setattr(stream, name, value)
    stream.updated_at = utcnow()


# -- the operations of §8.1.1 --------------------------------------------------------


def create(client: Client, document, poll_url: str) -> SsfStream:
    """§8.1.1.1: a new stream for the client (409 when it has one). Commits."""
    document = _check_document(document)
    if stream_of(client) is not None:
        raise Conflict("This client has a stream already; update or delete it.")
    stream = SsfStream(client_id=client.id, audience=client.client_id, status="enabled")
    stream.client = client
    _apply(stream, document, poll_url, whole=True)
    db.session.add(stream)
    db.session.flush()
    _audit("ssf.stream_created", stream)
    db.session.commit()
    return stream


def change(client: Client, document, poll_url: str, current: dict, whole: bool) -> SsfStream:
    """§8.1.1.3 (PATCH, ``whole`` false) and §8.1.1.4 (PUT, ``whole`` true). Commits.

    ``current`` is the stream's configuration document as the receiver reads it.
    """
    document = _check_document(document)
    stream = find(client, document.get("stream_id"))
    _check_provider_fields(stream, document, current)
    method_before = stream.delivery_method
    _apply(stream, document, poll_url, whole)
    if stream.delivery_method != method_before:
        ssf_events.release(stream)  # what waited for a poll goes the new way
    _audit("ssf.stream_updated", stream)
    db.session.commit()
    return stream


def remove(client: Client, stream_id) -> None:
    """§8.1.1.5: the stream and what it holds go; pushes not yet delivered are dropped."""
    stream = find(client, stream_id)
    _audit("ssf.stream_deleted", stream)
    ssf_events.forget(stream)
    db.session.commit()


def set_status(client: Client, document) -> SsfStream:
    """§8.1.2.2: enable, pause or disable; enabling delivers what a pause held. Commits."""
    document = _check_document(document)
    stream = find(client, document.get("stream_id"))
    status = document.get("status")
    if status not in STATUSES:
        raise InvalidInput("status must be enabled, paused or disabled.", "status")
    reason = document.get("reason")
    if reason is not None and (
        not isinstance(reason, str) or len(reason) > MAX_TEXT or not is_text(reason)
    ):
        raise InvalidInput(f"reason must be text of at most {MAX_TEXT} characters.", "reason")
    before = stream.status
    stream.status = status
    stream.status_reason = reason
    stream.updated_at = utcnow()
    if status == "disabled":
        ssf_events.drop_held(stream)
    elif status == "enabled" and before != "enabled":
        ssf_events.release(stream)
    _audit("ssf.stream_status", stream, before=before)
    db.session.commit()
    return stream


def verify(client: Client, document) -> SsfStream:
    """§8.1.4.2: a verification event with the receiver's ``state``, through the stream.

    Refused with ``TooSoon`` within ``MIN_VERIFICATION_INTERVAL`` of the last one.
    Commits.
    """
    document = _check_document(document)
    stream = find(client, document.get("stream_id"))
    state = document.get("state")
    if state is not None and (
        not isinstance(state, str) or len(state) > MAX_TEXT or not is_text(state)
    ):
        raise InvalidInput(f"state must be text of at most {MAX_TEXT} characters.", "state")
    now = utcnow()
    interval = timedelta(seconds=MIN_VERIFICATION_INTERVAL)
    if stream.last_verification_at is not None and now - stream.last_verification_at < interval:
        raise TooSoon("Verification was asked for a moment ago; wait and try again.")
    stream.last_verification_at = now
    body = {"state": state} if state is not None else {}
    claims = {
        "iss": ssf_events.provider_issuer(),
        "aud": stream.audience,
        "sub_id": {"format": "opaque", "id": stream.id},
        "events": {ssf_events.VERIFICATION: body},
    }
    ssf_events.send(stream, ssf_events.VERIFICATION, claims)
    _audit("ssf.stream_verification", stream)
    db.session.commit()
    return stream


def _audit(event: str, stream: SsfStream, **extra) -> None:
    audit.record(
        event,
        client_id=stream.client.client_id,
        stream_id=stream.id,
        status=stream.status,
        delivery_method=stream.delivery_method,
        **extra,
    )
