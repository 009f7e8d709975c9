"""The consent form: optional scopes and claims left ticked, the period, and the member's answer."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, InputRequired

DECISIONS = ("allow", "deny")


class ConsentForm(FlaskForm):
    #: Only the optional scopes of the request are valid choices (set per request).
    scopes = SelectMultipleField(choices=[])
    #: Claims asked for only through the ``claims`` parameter, each an optional item.
    claims = SelectMultipleField(choices=[])
    unlimited = BooleanField()
    #: Which button was pressed.
    decision = StringField(validators=[InputRequired(), AnyOf(DECISIONS)])

    def offer(self, optional_scopes, texts, optional_claims=(), claim_texts=None) -> None:
        self.scopes.choices = [(scope, str(texts[scope])) for scope in optional_scopes]
        self.claims.choices = [(name, str(claim_texts[name])) for name in optional_claims]
        if not self.is_submitted():
            self.scopes.data = list(optional_scopes)  # every optional item starts ticked
            self.claims.data = list(optional_claims)
