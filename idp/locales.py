"""The languages the provider speaks: its pages, mail, consent texts and claims."""

from __future__ import annotations

#: Every supported language; the first is the fallback (and the source language).
LOCALES = ("en", "de", "nl", "pl")
