"""What the console reads: partner notifications (with ``Retry now``), the audit log and
the login analytics, each with its export."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.admin import blueprint, chart
from idp.admin.forms import AnalyticsForm, AuditSearchForm, partner_choices
from idp.admin.views import refusal_text, refused
from idp.models.types import utcnow
from idp.services import analytics, audit_log, outbox, ssf_console
from idp.services.errors import ServiceError
from idp.services.partners import all_partners, find_partner
from idp.web.forms import ConfirmForm

NOTIFICATION_STATUS_TEXTS = {
    "pending": _l("Pending"),
    "retrying": _l("Retrying"),
    "delivered": _l("Delivered"),
    "abandoned": _l("Abandoned"),
}
NOTIFICATION_KIND_TEXTS = {
    "backchannel_logout": _l("Back-channel logout"),
    "security_event": _l("Security event"),
}
STREAM_STATUS_TEXTS = {
    "enabled": _l("Enabled"),
    "paused": _l("Paused"),
    "disabled": _l("Disabled"),
}
OUTCOME_TEXTS = {
    "delivered": _l("The notification was delivered."),
    "failed": _l("The partner did not accept the notification; it will be tried again."),
    "abandoned": _l("The partner did not accept the notification; it was the last attempt."),
    "skipped": _l("Another delivery of this notification is under way."),
}
#: The default period of the analytics: the last four weeks.
DEFAULT_DAYS = 28


def _download(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- partner notifications ------------------------------------------------------------


def _notifications_page(partner_id: str, alert=None):
    partner = find_partner(partner_id)
    if partner is None:
        abort(404)
    return render_template(
        "admin/notifications.html",
        partner=partner,
        partners=all_partners(),
        entries=outbox.for_partner(partner.id),
        streams=ssf_console.for_partner(partner.id),
        stream_status_texts=STREAM_STATUS_TEXTS,
        confirm_form=ConfirmForm(),
        status_texts=NOTIFICATION_STATUS_TEXTS,
        kind_texts=NOTIFICATION_KIND_TEXTS,
        alert=alert,
    )


@blueprint.route("/notifications")
def notifications_index():
    """Choose a partner; its notifications are listed on a page of their own."""
    partner_id = request.args.get("partner_id", "")
    if partner_id:
        if find_partner(partner_id) is None:
            return render_template(
                "admin/notifications.html",
                partner=None,
                partners=all_partners(),
                alert=_("No partner with this id."),
            ), 404
        return redirect(url_for(".notifications", partner_id=partner_id))
    return render_template("admin/notifications.html", partner=None, partners=all_partners())


@blueprint.route("/partners/<partner_id>/notifications")
def notifications(partner_id: str):
    return _notifications_page(partner_id)


@blueprint.post("/partners/<partner_id>/notifications/<notification_id>/retry")
def retry(partner_id: str, notification_id: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _notifications_page(partner_id, _("The form has expired. Please try again.")), 400
    # Read as text and checked here, so an id that is no number is a form message too.
    number = int(notification_id) if notification_id.isascii() and notification_id.isdigit() else 0
    try:
        status = outbox.retry_now(number, partner_id, operator_id=g.operator_id)
    except ServiceError as error:
        if find_partner(partner_id) is None:
            abort(404)
        return refused(lambda alert: _notifications_page(partner_id, alert), error)
    flash(str(OUTCOME_TEXTS[status]), "error" if status != "delivered" else "message")
    return redirect(url_for(".notifications", partner_id=partner_id))


# -- the audit log --------------------------------------------------------------------


def _audit_query(form: AuditSearchForm) -> audit_log.AuditQuery:
    return audit_log.AuditQuery(
        member=(form.member.data or "").strip(),
        partner_id=form.partner_id.data or "",
        client_id=(form.client_id.data or "").strip(),
        event=(form.event.data or "").strip(),
        since=form.since.data,
        until=form.until.data,
    )


@blueprint.route("/audit")
def audit():
    form = AuditSearchForm(request.args)
    form.partner_id.choices = partner_choices(all_partners(), anyone=True)
    export = request.args.get("format")
    entries, alert, status = [], None, 200
    if export not in (None, "csv", "json"):
        alert, status = _("Export as CSV or JSON."), 400
    elif not form.validate():
        status = 400
    else:
        try:
            limit = audit_log.EXPORT_ROWS if export else audit_log.PAGE_ROWS
            entries = audit_log.search(_audit_query(form), limit=limit)
        except ServiceError as error:
            alert, status = refusal_text(error), 400
    if status == 200 and export == "csv":
        return _download(audit_log.as_csv(entries), "text/csv", "audit-events.csv")
    if status == 200 and export == "json":
        return _download(audit_log.as_json(entries), "application/json", "audit-events.json")
    query = {k: v for k, v in request.args.items() if k != "format" and v}
    return render_template(
        "admin/audit.html",
        form=form,
        entries=entries,
        alert=alert,
        query=query,
        searched=bool(query),
        limit=audit_log.PAGE_ROWS,
    ), status


# -- login analytics ------------------------------------------------------------------


@blueprint.route("/analytics")
def analytics_page():
    partners = all_partners()
    form = AnalyticsForm(request.args)
    form.partner_id.choices = partner_choices(partners, anyone=False)
    if not request.args.get("partner_id") and partners:
        form.partner_id.data = partners[0].id
    today = utcnow().date()
    export = request.args.get("format")
    alert, status, days = None, 200, []
    if not partners:
        return render_template(
            "admin/analytics.html",
            form=form,
            partner=None,
            days=[],
            chart=None,
            alert=None,
            query={},
        )
    if export not in (None, "csv", "json"):
        alert, status = _("Export as CSV or JSON."), 400
    elif not form.validate():
        status = 400
    else:
        until = form.until.data or today
        since = form.since.data or until - timedelta(days=DEFAULT_DAYS - 1)
        try:
            days = analytics.report(form.partner_id.data, since, until)
        except ServiceError as error:
            alert, status = refusal_text(error), 400
    partner = find_partner(form.partner_id.data or "")
    if status == 200 and export == "json":
        body = {"partner_id": partner.id, "days": [d.as_dict() for d in days]}
        return _download(
            json.dumps(body, sort_keys=True), "application/json", "login-analytics.json"
        )
    if status == 200 and export == "csv":
        return _download(analytics.as_csv(days), "text/csv", "login-analytics.csv")
    query = {k: v for k, v in request.args.items() if k != "format" and v}
    query.setdefault("partner_id", partner.id if partner else "")
    return render_template(
        "admin/analytics.html",
        form=form,
        partner=partner,
        days=days,
        chart=chart.draw(days) if days else None,
        alert=alert,
        query=query,
        totals=_totals(days),
    ), status


def _totals(days) -> dict:
    return {
        name: sum(getattr(d, name) for d in days)
        for name in ("logins", "new_consents", "withdrawals")
    }
