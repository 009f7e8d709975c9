"""The airlines configured in ``IDP_LHG_PROVIDERS``, as this provider's views use them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class Upstream:
    """One airline's ID service (an OpenID provider) and this provider's client there."""

    airline: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    #: The partner (category ``lhg_airline``) this airline is on Connected apps, if set.
    partner_id: str | None = None

    def __repr__(self) -> str:  # never the secret in a log line
        return f"<Upstream {self.airline} {self.issuer}>"

    @property
    def redirect_uri(self) -> str:
        """``<IDP_ISSUER>/linking/<airline>/callback``: register exactly this upstream."""
        return f"{current_app.config['IDP'].issuer}/linking/{self.airline}/callback"


def configured() -> list[Upstream]:
    """Every configured airline, in the order of ``IDP_LHG_PROVIDERS``."""
    return [
        Upstream(
            airline=entry["airline"],
            name=entry["name"],
            issuer=entry["issuer"],
            client_id=entry["client_id"],
            client_secret=entry["client_secret"],
            partner_id=entry.get("partner_id"),
        )
        for entry in current_app.config["IDP"].lhg_providers
    ]


def find(airline: str) -> Upstream | None:
    return next((u for u in configured() if u.airline == airline), None)
