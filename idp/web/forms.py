"""Forms more than one blueprint shows. Every form carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token: one button that does one thing."""
