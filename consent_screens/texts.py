"""The consent screen's words: those of ``idp.web.texts``, which the account pages show too."""

from idp.web.texts import CATEGORY_TEXTS, LEGAL_BASIS_TEXTS, PURPOSE_TEXTS, SCOPE_TEXTS

__all__ = ["CATEGORY_TEXTS", "LEGAL_BASIS_TEXTS", "PURPOSE_TEXTS", "SCOPE_TEXTS"]
