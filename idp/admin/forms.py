"""The console's forms. Actions are POST forms with a CSRF token; searches are GET forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, StopValidation

from idp.request_text import is_text
from idp.services.approval import MAX_REASON_LENGTH


class Text:
    """Refuses a value holding a NUL or characters that were not UTF-8."""

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and not is_text(field.data):
            raise StopValidation(_l("This holds characters that cannot be used."))


class ReasonForm(FlaskForm):
    """Reject or suspend a client: the operator's reason is required."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(_l("Give a reason.")),
            Text(),
            Length(max=MAX_REASON_LENGTH, message=_l("The reason is too long.")),
        ],
    )


class SearchForm(FlaskForm):
    """A GET form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False


class AuditSearchForm(SearchForm):
    member = StringField(
        _l("Member (id, email or card number)"),
        validators=[Optional(), Text(), Length(max=254)],
    )
    partner_id = SelectField(_l("Partner"), choices=[], default="", validate_choice=True)
    client_id = StringField(_l("Client id"), validators=[Optional(), Text(), Length(max=64)])
    event = StringField(
        _l("Event type"),
        validators=[Optional(), Text(), Length(max=64)],
        description=_l("For example consent.withdrawn, or login. for every login event."),
    )
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])


class AnalyticsForm(SearchForm):
    partner_id = SelectField(_l("Partner"), choices=[], default="", validate_choice=True)
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])


def partner_choices(partners, anyone: bool) -> list[SelectChoice]:
    choices = [SelectChoice("", str(_l("All partners")))] if anyone else []
    return choices + [SelectChoice(p.id, p.name) for p in partners]
