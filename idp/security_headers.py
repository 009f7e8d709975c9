"""Strict response headers on every response (SPEC.md §11), and the one no-store rule."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request

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


def security_headers(https: bool) -> tuple[tuple[str, str], ...]:
    """The headers every response carries unless its view set them itself."""
    headers = [
        # Forms post to this provider, and the authorization flow redirects back to
        # partners after a POST (consent), which form-action governs in some browsers.
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY.format(form_action="https: http:")),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        # same-origin: partners never see our URLs, while our own forms keep the
        # Referer that CSRF protection checks under https (WTF_CSRF_SSL_STRICT).
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if https:
        headers.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    return tuple(headers)


def security_headers_for(https: bool) -> Callable[[Response], Response]:
    """An ``after_request`` function adding ``security_headers(https)``, built once per app.

    It reads the response's header names once instead of looking each one up
    (a lookup of a missing header raises and catches an exception in Werkzeug).
    """
    defaults = tuple((name.lower(), name, value) for name, value in security_headers(https))

    def apply_security_headers(response: Response) -> Response:
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        for lowered, name, value in defaults:
            if lowered not in present:
                headers.add(name, value)
        endpoint = request.endpoint
        if endpoint and not endpoint.startswith("static") and "cache-control" not in present:
            # Pages carry personal data or one-time values: never cache them. A view
            # that allows caching (public key sets, metadata) sets its own Cache-Control.
            no_store(response)
        return response

    return apply_security_headers


def retry_after_only_when_limited(response: Response) -> Response:
    """``Retry-After`` only on 429 (RFC 6585 §4), the one answer that asks to wait.

    flask-limiter adds it next to its X-RateLimit-* headers on every response
    under a limit, where it would tell clients to back off from a success.
    """
    if response.status_code != 429 and response.headers.getlist("Retry-After"):
        response.headers.remove("Retry-After")
    return response
