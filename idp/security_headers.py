"""Strict response headers on every response (SPEC.md §11), and the one no-store rule."""

from __future__ import annotations

from flask import Response, current_app, request

#: No inline script or style, no third-party origins; images may come from partners
#: over https (logos on the consent screen).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self' {form_action}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)


def no_store(response: Response) -> Response:
    """Never cached: ``Cache-Control: no-store`` and, for HTTP/1.0 caches, ``Pragma: no-cache``.

    RFC 6749 §5.1 asks this of every answer carrying tokens or secrets; pages
    carrying personal data or one-time values get it too.
    """
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def apply_security_headers(response: Response) -> Response:
    headers = response.headers
    # Forms post to this provider, and the authorization flow redirects back to
    # partners after a POST (consent), which form-action governs in some browsers.
    headers.setdefault(
        "Content-Security-Policy", CONTENT_SECURITY_POLICY.format(form_action="https: http:")
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # same-origin: partners never see our URLs, while our own forms keep the
    # Referer that CSRF protection checks under https (WTF_CSRF_SSL_STRICT).
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["IDP"].issuer_is_https:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if request.endpoint and not request.endpoint.startswith("static"):
        # Pages carry personal data or one-time values: never cache them. A view that
        # allows caching (public key sets, metadata) sets its own Cache-Control.
        if "Cache-Control" not in headers:
            no_store(response)
    return response


def retry_after_only_when_limited(response: Response) -> Response:
    """``Retry-After`` only on 429 (RFC 6585 §4), the one answer that asks to wait.

    flask-limiter adds it next to its X-RateLimit-* headers on every response
    under a limit, where it would tell clients to back off from a success.
    """
    if response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response
