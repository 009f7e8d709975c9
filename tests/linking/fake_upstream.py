"""A small OpenID provider in the test process, for the answers a real one never gives.

It serves discovery, a key set and a token endpoint; what the token endpoint
answers (the ID token's claims, the key that signs it, a delay) is set by the
test through ``answer``. The authorization step is skipped: the test reads
``state`` and ``nonce`` from the authorization URL this provider built and
calls the callback itself.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, jsonify
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from tests.live.server import free_port


class FakeUpstream:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client_id = "mam-at-swiss"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig"})
        self.published = [self.key]
        #: Set by the test: the ID token's claims, the signing key, a delay in seconds.
        self.answer: dict = {}
        self.send_iss_parameter = True
        self._server = make_server("127.0.0.1", self.port, self._app(), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def close(self):
        self._server.shutdown()
        self._thread.join(timeout=5)

    def claims(self, sent_nonce: str, **changes) -> dict:
        now = int(time.time())
        claims = {"iss": self.url, "sub": "swiss-profile-1", "aud": self.client_id,
                  "iat": now, "exp": now + 300, "nonce": sent_nonce}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def _app(self) -> Flask:
        app = Flask("fake-upstream")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(
                issuer=self.url,
                authorization_endpoint=self.url + "/authorize",
                token_endpoint=self.url + "/token",
                jwks_uri=self.url + "/jwks",
                response_types_supported=["code"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                authorization_response_iss_parameter_supported=self.send_iss_parameter,
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet(self.published).as_dict(private=False))

        @app.post("/token")
        def token():
            time.sleep(self.answer.get("delay", 0))
            key = self.answer.get("key", self.key)
            header = {"alg": "RS256", "kid": key.kid}
            id_token = jwt.encode(header, self.answer["claims"], key)
            return jsonify(access_token="opaque", token_type="Bearer", expires_in=300,
                           id_token=id_token)

        return app
