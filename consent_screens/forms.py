"""The consent form: optional scopes left ticked, the period, and the member's answer."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, InputRequired

DECISIONS = ("allow", "deny")


class ConsentForm(FlaskForm):
    #: Only the optional scopes of the request are valid choices (set per request).
    scopes = SelectMultipleField(choices=[])
    unlimited = BooleanField()
    #: Which button was pressed.
    decision = StringField(validators=[InputRequired(), AnyOf(DECISIONS)])

    def offer(self, optional_scopes, texts) -> None:
        self.scopes.choices = [(scope, str(texts[scope])) for scope in optional_scopes]
        if not self.is_submitted():
            self.scopes.data = list(optional_scopes)  # every optional scope starts ticked
