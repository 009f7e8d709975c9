"""The Shared Signals part of the OpenAPI document: stream management (OpenID SSF 1.0 §8.1)
and poll delivery (RFC 8936 §2.4), at the paths the transmitter metadata names."""

from __future__ import annotations

from idp.models.ssf import POLL, PUSH, STATUSES
from idp.oauth.ssf_metadata import PATHS, POLL_PATH


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: str, description: str, media: str = "application/json") -> dict:
    return {"description": description, "content": {media: {"schema": _ref(schema)}}}


def _body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


ERRORS = {
    "400": _json("OAuthError", "A bad request: the body or a parameter (invalid_request)."),
    "401": _json("OAuthError", "No valid client credentials token (WWW-Authenticate: Bearer)."),
    "403": _json("OAuthError", "The token lacks ssf.manage or ssf.read (insufficient_scope)."),
    "404": _json("OAuthError", "No such stream of this client (not_found)."),
    "413": _json("Problem", "The body is over the size limit.", "application/problem+json"),
    "429": _json("OAuthError", "Too many requests, or a verification too soon."),
}
STREAM_ID = {"name": "stream_id", "in": "query", "required": False, "schema": {"type": "string"}}
SECURITY = [{"accessToken": []}]

_URIS = {"type": "array", "items": {"type": "string"}}
STREAM_CONFIGURATION = {
    "type": "object",
    "description": "SSF §8.1.1; the receiver supplies events_requested, delivery, description.",
    "properties": {
        "stream_id": {"type": "string"},
        "iss": {"type": "string"},
        "aud": {"type": "string"},
        "events_supported": _URIS,
        "events_requested": _URIS,
        "events_delivered": _URIS,
        "delivery": {
            "type": "object",
            "properties": {
                "method": {"type": "string", "enum": [PUSH, POLL]},
                "endpoint_url": {"type": ["string", "null"]},
                "authorization_header": {"type": "string", "description": "Push only; write-only."},
            },
        },
        "min_verification_interval": {"type": "integer"},
        "description": {"type": ["string", "null"]},
    },
}
STREAM_STATUS = {
    "type": "object",
    "properties": {
        "stream_id": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "reason": {"type": "string"},
    },
}
VERIFICATION_REQUEST = {
    "type": "object",
    "properties": {"stream_id": {"type": "string"}, "state": {"type": "string"}},
}
POLL_REQUEST = {
    "type": "object",
    "description": "RFC 8936 §2.4.",
    "properties": {
        "maxEvents": {"type": "integer", "minimum": 0},
        "returnImmediately": {"type": "boolean"},
        "ack": {"type": "array", "items": {"type": "string"}},
        "setErrs": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}
POLL_RESPONSE = {
    "type": "object",
    "required": ["sets", "moreAvailable"],
    "properties": {
        "sets": {"type": "object", "additionalProperties": {"type": "string"}},
        "moreAvailable": {"type": "boolean"},
    },
}
SCHEMAS = {
    "StreamConfiguration": STREAM_CONFIGURATION,
    "StreamConfigurations": {"type": "array", "items": _ref("StreamConfiguration")},
    "StreamStatus": STREAM_STATUS,
    "VerificationRequest": VERIFICATION_REQUEST,
    "PollRequest": POLL_REQUEST,
    "PollResponse": POLL_RESPONSE,
}


def _operation(operation_id: str, summary: str, responses: dict, body: str | None = None, **extra):
    operation = {
        "operationId": operation_id,
        "summary": summary,
        "security": SECURITY,
        "responses": {**responses, **ERRORS},
        **extra,
    }
    if body:
        operation["requestBody"] = _body(body)
    return operation


def ssf_paths() -> dict:
    stream = _json("StreamConfiguration", "The stream.")
    return {
        PATHS["configuration_endpoint"]: {
            "get": _operation(
                "readStream",
                "The client's stream (stream_id) or the list of its streams (SSF §8.1.1.2).",
                {
                    "200": {
                        "description": "The stream, or the list.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        _ref("StreamConfiguration"),
                                        _ref("StreamConfigurations"),
                                    ]
                                }
                            }
                        },
                    }
                },
                parameters=[STREAM_ID],
            ),
            "post": _operation(
                "createStream",
                "Create the client's stream (SSF §8.1.1.1).",
                {"201": stream, "409": _json("OAuthError", "The client has a stream.")},
                "StreamConfiguration",
            ),
            "patch": _operation(
                "updateStream",
                "Change the given properties (SSF §8.1.1.3).",
                {"200": stream},
                "StreamConfiguration",
            ),
            "put": _operation(
                "replaceStream",
                "Replace the receiver's properties (SSF §8.1.1.4).",
                {"200": stream},
                "StreamConfiguration",
            ),
            "delete": _operation(
                "deleteStream",
                "Delete the stream (SSF §8.1.1.5).",
                {"204": {"description": "Deleted."}},
                parameters=[STREAM_ID],
            ),
        },
        PATHS["status_endpoint"]: {
            "get": _operation(
                "readStreamStatus",
                "SSF §8.1.2.1.",
                {"200": _json("StreamStatus", "The status.")},
                parameters=[STREAM_ID],
            ),
            "post": _operation(
                "setStreamStatus",
                "Enable, pause or disable the stream (SSF §8.1.2.2).",
                {"200": _json("StreamStatus", "The new status.")},
                "StreamStatus",
            ),
        },
        PATHS["verification_endpoint"]: {
            "post": _operation(
                "verifyStream",
                "Send a verification event through the stream (SSF §8.1.4.2).",
                {"204": {"description": "The event is on its way."}},
                "VerificationRequest",
            )
        },
        POLL_PATH: {
            "post": _operation(
                "pollEvents",
                "Acknowledge SETs and poll for more (RFC 8936 §2.4).",
                {"200": _json("PollResponse", "The SETs by jti.")},
                "PollRequest",
            )
        },
    }
