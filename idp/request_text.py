"""Text as it arrives over HTTP, made safe to look at before any view reads it.

A request may carry bytes that are not UTF-8, or a NUL character, in its query
string, body, path or headers. PostgreSQL cannot store a NUL in a text column,
and a value that was not UTF-8 must not be echoed back to a partner as if it
were what the partner sent. So:

- ``ProviderRequest`` decodes the query string and form bodies the same way
  everywhere, turning every byte sequence that is not UTF-8 into U+FFFD
  (Werkzeug would keep it percent-encoded, indistinguishable from a literal
  ``%FF``, or fail on raw bytes), and cleans the User-Agent it hands out, which
  sessions store, and an address (from a proxy's header) that is no address;
- ``is_text`` tells a usable value from one holding a NUL, U+FFFD or a lone
  surrogate; each endpoint refuses the latter in its own way (an OAuth
  ``invalid_request``, a form message, an error page);
- route arguments that are not text match no route (404) through
  ``TextConverter`` and ``TextPathConverter``.
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote_from_bytes

from flask import Flask, Request
from werkzeug.formparser import FormDataParser
from werkzeug.routing import PathConverter, UnicodeConverter, ValidationError
from werkzeug.user_agent import UserAgent
from werkzeug.utils import cached_property

#: NUL, the replacement character (what undecodable bytes became) and lone surrogates
#: (a JSON string can carry one).
_NOT_TEXT = re.compile("[\x00\ufffd\ud800-\udfff]")
#: Controls and DEL, removed from headers that are stored.
_CONTROL = re.compile("[\x00-\x1f\x7f]")
#: Printable ASCII stays as it is in a query string; anything else is percent-encoded.
_QUERY_SAFE = string.punctuation
MAX_USER_AGENT_LENGTH = 512
#: The longest textual IPv6 address (with an embedded IPv4 part).
MAX_ADDRESS_LENGTH = 45


def is_text(value: str | None) -> bool:
    """True for a value the provider can store, look up and echo; None counts as text."""
    return value is None or _NOT_TEXT.search(value) is None


def first_unusable_name(values) -> str | None:
    """The first parameter (of a MultiDict) whose name or any value is not text."""
    for name in values:
        if not is_text(name) or not all(is_text(v) for v in values.getlist(name)):
            return name
    return None


def all_text(values: Iterable[str | None]) -> bool:
    return all(is_text(v) for v in values)


def printable_header(value: str, limit: int) -> str:
    """A header value with its control characters removed, cut to ``limit`` characters."""
    return _CONTROL.sub("", value)[:limit]


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _parse_pairs(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")


class _FormDataParser(FormDataParser):
    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        # Werkzeug decodes the body strictly and silently drops every field when one
        # byte is not UTF-8; here that byte becomes U+FFFD and the field is refused.
        items = _parse_pairs(stream.read().decode("utf-8", "replace"))
        return stream, self.cls(items), self.cls()


class _CleanUserAgent(UserAgent):
    def __init__(self, string: str) -> None:
        super().__init__(printable_header(string, MAX_USER_AGENT_LENGTH))


class ProviderRequest(Request):
    form_data_parser_class = _FormDataParser
    user_agent_class = _CleanUserAgent

    def __init__(self, environ, populate_request: bool = True, shallow: bool = False):
        super().__init__(environ, populate_request, shallow)
        # Raw bytes beyond ASCII (a client that did not percent-encode) would make
        # Werkzeug's strict decoding of the query fail wherever it is read.
        if not self.query_string.isascii():
            self.query_string = quote_from_bytes(self.query_string, safe=_QUERY_SAFE).encode()
        # The audit log stores the address; behind a proxy it comes from a header.
        if self.remote_addr and not _is_address(self.remote_addr):
            self.remote_addr = printable_header(self.remote_addr, MAX_ADDRESS_LENGTH)

    @cached_property
    def args(self):
        return self.parameter_storage_class(_parse_pairs(self.query_string.decode("ascii")))


class TextConverter(UnicodeConverter):
    """The default route argument: one path segment of text."""

    def to_python(self, value: str) -> str:
        if not is_text(value):
            raise ValidationError()
        return value


class TextPathConverter(PathConverter):
    def to_python(self, value: str) -> str:
        if not is_text(value):
            raise ValidationError()
        return value


def accept_only_text(app: Flask) -> None:
    """Install the request class and converters; before any blueprint adds its routes.

    Flask's static route exists already; a file name that is not text names no file
    there (404) either.
    """
    app.request_class = ProviderRequest
    app.url_map.converters.update(
        default=TextConverter, string=TextConverter, path=TextPathConverter
    )
