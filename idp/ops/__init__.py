"""Operations endpoints: liveness, readiness and metrics (INTERFACE.md, Operations)."""

from idp.ops.views import blueprint

__all__ = ["blueprint"]
