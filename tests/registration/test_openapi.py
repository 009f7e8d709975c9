"""The OpenAPI 3.1 document of the partner APIs: valid, and true of every answer.

``openapi-spec-validator`` checks the document against the OpenAPI 3.1
specification; ``schemathesis`` generates requests from it for every
operation (on SQLite, and on PostgreSQL with Redis when configured) and checks
that no answer is a 5xx and that each answer's status, media type and body are
the ones the document lists. Registration requests carry a valid initial
access token half of the time, so the metadata rules are reached too.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from idp.services.dynamic_registration import issue_initial_access_token
from tests.factories import make_partner
from tests.registration.conftest import basic

EXAMPLES = 40
#: No 5xx, and every status, media type, header and body as the document says. (Not
#: schemathesis's guesses at what a server should accept or refuse: a bearer token
#: with characters RFC 6750 forbids is a 400 here, which the document lists.)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert document["servers"] == [{"url": "http://127.0.0.1:5000"}]
    for path in (
        "/oauth/register",
        "/oauth/register/{client_id}",
        "/oauth/par",
        "/oauth/token",
        "/oauth/introspect",
        "/oauth/revoke",
        "/oauth/userinfo",
        "/api/v1/me/miles",
        "/oauth/grants/{grant_id}",
        "/ssf/stream",
        "/ssf/status",
        "/ssf/verify",
        "/ssf/poll",
    ):
        assert path in document["paths"], path


def test_the_paths_are_the_ones_discovery_names(client):
    discovery = client.get("/.well-known/openid-configuration").get_json()
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for name in (
        "registration_endpoint",
        "pushed_authorization_request_endpoint",
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "userinfo_endpoint",
    ):
        assert discovery[name].removeprefix("http://127.0.0.1:5000") in paths, name
    grants = discovery["grant_management_endpoint"].removeprefix("http://127.0.0.1:5000")
    assert grants + "/{grant_id}" in paths


@pytest.fixture
def initial_token(app):
    with app.app_context():
        return issue_initial_access_token(make_partner("Fuzzed", "partner_company").id)


def fuzz(operation, initial_token: str, answers: Counter) -> None:
    """Generated requests to one operation; a registration has a valid token half the time."""
    registering = operation.path == "/oauth/register"

    @given(case=operation.as_strategy(), valid_token=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case, valid_token):
        if registering and valid_token:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {initial_token}"}
        response = case.call_and_validate(checks=CHECKS)
        answers[(operation.label, response.status_code)] += 1

    answers_as_documented()


def test_every_answer_matches_the_document(app, initial_token):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 22
    answers: Counter = Counter()

    for operation in operations:
        fuzz(operation, initial_token, answers)
    note = "\n".join(f"{label} {status}: {n}" for (label, status), n in sorted(answers.items()))
    print(note)
    # The registration rules were reached, not only the token check.
    assert answers[("POST /oauth/register", 400)] > 0, note


def test_the_successful_answers_match_the_document(app, initial_token):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    register = schema["/oauth/register"]["POST"]
    configure = schema["/oauth/register/{client_id}"]
    document = {
        "client_name": "Documented Shop",
        "redirect_uris": ["https://shop.example/cb"],
        "scope": "openid email",
        "policy_uri": "https://shop.example/privacy",
        "grant_types": ["authorization_code", "client_credentials"],
    }
    created = register.Case(
        body=document,
        headers={"Authorization": f"Bearer {initial_token}"},
        media_type="application/json",
    ).call_and_validate(checks=CHECKS)
    assert created.status_code == 201
    client = created.json()
    path = {"client_id": client["client_id"]}
    token = {"Authorization": f"Bearer {client['registration_access_token']}"}
    shown = (
        configure["GET"].Case(path_parameters=path, headers=token).call_and_validate(checks=CHECKS)
    )
    assert shown.status_code == 200
    replaced = (
        configure["PUT"]
        .Case(
            path_parameters=path,
            headers=token,
            body={**document, "client_name": "Renamed"},
            media_type="application/json",
        )
        .call_and_validate(checks=CHECKS)
    )
    assert replaced.status_code == 200
    token = {"Authorization": f"Bearer {replaced.json()['registration_access_token']}"}
    token_answer = (
        schema["/oauth/token"]["POST"]
        .Case(
            body={"grant_type": "client_credentials"},
            headers=basic(client["client_id"], client["client_secret"]),
            media_type="application/x-www-form-urlencoded",
        )
        .call_and_validate(checks=CHECKS)
    )
    assert token_answer.status_code == 200
    introspected = (
        schema["/oauth/introspect"]["POST"]
        .Case(
            body={"token": token_answer.json()["access_token"]},
            headers=basic(client["client_id"], client["client_secret"]),
            media_type="application/x-www-form-urlencoded",
        )
        .call_and_validate(checks=CHECKS)
    )
    assert introspected.json()["active"] is True
    deleted = (
        configure["DELETE"]
        .Case(path_parameters=path, headers=token)
        .call_and_validate(checks=CHECKS)
    )
    assert deleted.status_code == 204
