"""The peer in the side-by-side run: panva's ``oidc-provider``, one Node process.

The version is pinned in ``bench/peer/package.json`` and its lock file;
``install`` runs ``npm ci`` into ``bench/peer/node_modules`` (ignored by git)
when that folder does not hold the pinned version yet. ``bench/peer/server.mjs``
configures it from a JSON file written here: the same two clients as ours
(a confidential service client for client credentials and introspection, the
shop's client for the code flow), the same scopes and claims, the member, and
RS256 and ES256 signing keys; an in-memory store that keeps every entry until
it expires (oidc-provider's own drops entries beyond 1,000); 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

from bench.side_by_side.browser import Browser, FlowError, authorization_url, pkce_pair
from bench.side_by_side.ours import REDIRECT_URI, SCOPE, SERVICE_REDIRECT_URI, Seeded
from bench.side_by_side.processes import Cleanup, free_port, run_command, wait_until

FOLDER = Path(__file__).resolve().parents[1] / "peer"
#: The oldest Node the pinned oidc-provider runs on.
NODE_MAJOR = 20


def pinned_version() -> str:
    return json.loads((FOLDER / "package.json").read_text())["dependencies"]["oidc-provider"]


def installed_version() -> str | None:
    manifest = FOLDER / "node_modules" / "oidc-provider" / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


def node_version() -> str | None:
    node = shutil.which("node")
    if node is None:
        return None
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)  # noqa: S603
    return done.stdout.strip() if done.returncode == 0 else None


def why_not_available() -> str | None:
    """Why the peer cannot run here, or None when it can (once installed)."""
    version = node_version()
    if version is None:
        return "node is not installed (make bench-tools installs it)"
    if int(version.lstrip("v").split(".")[0]) < NODE_MAJOR:
        return f"node {version} is older than the {NODE_MAJOR}.x oidc-provider needs"
    if installed_version() != pinned_version() and shutil.which("npm") is None:
        return "npm is not installed (make bench-tools installs it)"
    return None


def install() -> None:
    """``npm ci`` of the pinned version, unless it is installed already."""
    if installed_version() == pinned_version():
        return
    status, out, err = run_command(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        dict(os.environ), FOLDER, timeout=600,
    )
    if status != 0 or installed_version() != pinned_version():
        raise RuntimeError(f"npm ci in {FOLDER} failed ({status}):\n{out}\n{err}")


class PeerProvider:
    name = "peer"

    def __init__(self, workdir: Path, seeded: Seeded, cleanup: Cleanup):
        self.workdir = workdir
        self.cleanup = cleanup
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The same client ids as ours, fresh secrets of the same length.
        self.seeded = Seeded(
            service_id=seeded.service_id,
            service_secret=secrets.token_urlsafe(len(seeded.service_secret) * 3 // 4),
            shop_id=seeded.shop_id,
            shop_secret=secrets.token_urlsafe(len(seeded.shop_secret) * 3 // 4),
            member_id=seeded.member_id,
            email=seeded.email,
            totp_key=seeded.totp_key,
        )
        self.running = None
        #: The discovery document, read once it answers.
        self.endpoints: dict = {}

    def config(self) -> dict:
        s = self.seeded
        return {
            "port": self.port,
            "issuer": self.url,
            "clients": [
                {
                    "client_id": s.service_id,
                    "client_secret": s.service_secret,
                    "grant_types": ["client_credentials"],
                    "response_types": [],
                    "redirect_uris": [SERVICE_REDIRECT_URI],
                    "token_endpoint_auth_method": "client_secret_basic",
                },
                {
                    "client_id": s.shop_id,
                    "client_secret": s.shop_secret,
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                    "redirect_uris": [REDIRECT_URI],
                    "token_endpoint_auth_method": "client_secret_basic",
                },
            ],
            "scopes": SCOPE.split(),
            "claims": {
                "openid": ["sub"],
                "profile": ["name", "given_name", "family_name"],
                "email": ["email", "email_verified"],
            },
            "member": {
                "sub": s.member_id,
                "claims": {
                    "name": "Bench Mark",
                    "given_name": "Bench",
                    "family_name": "Mark",
                    "email": s.email,
                    "email_verified": True,
                },
            },
        }

    def start(self) -> None:
        config = self.workdir / "peer.json"
        config.write_text(json.dumps(self.config()))
        env = {**os.environ, "NODE_ENV": "production"}
        self.running = self.cleanup.start(
            "oidc-provider", ["node", str(FOLDER / "server.mjs"), str(config)],
            self.workdir / "peer.log", env, FOLDER,
        )

        def ready() -> bool:
            return Browser(self.url, timeout=2).get("/.well-known/openid-configuration").status == 200

        wait_until(ready, self.running, timeout=60)

    def session_for(self, browser: Browser) -> None:
        """Log the member in and give the standing consent (the interaction route does both)."""
        _verifier, challenge = pkce_pair()
        url = authorization_url(self.endpoints["authorization_endpoint"], self.seeded.shop_id,
                                challenge, SCOPE, REDIRECT_URI)
        for _ in range(6):
            answer = browser.get(url)
            if answer.status not in (302, 303):
                raise FlowError(f"interaction: {answer.status} {answer.text[:200]}")
            if answer.location.startswith(REDIRECT_URI):
                return
            url = answer.location
        raise FlowError("the interaction did not end at the redirect URI")
