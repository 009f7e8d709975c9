"""The browser fixtures of the browser tests, for the one that drives the live demo."""

from tests.e2e.conftest import artifacts, browser, context, page  # noqa: F401
