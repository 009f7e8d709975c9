"""The shared layout renders in a real browser, with the strict CSP breaking nothing."""

from __future__ import annotations


def test_unknown_page_shows_a_product_error_page(live_server, page, artifacts):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    response = page.goto(f"{live_server.url}/no-such-page")
    assert response.status == 404
    assert page.locator("h1").count() == 1
    assert page.get_by_role("alert").is_visible()
    # The stylesheet loaded under the Content-Security-Policy: the header is navy.
    header_colour = page.locator(".site-header").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert header_colour == "rgb(5, 22, 77)"
    assert not [e for e in errors if "Content Security Policy" in e]
    page.screenshot(path=str(artifacts / "error-page.png"), full_page=True)
