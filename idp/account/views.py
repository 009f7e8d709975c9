"""The member's overview (``/account``) and Connected apps (``/account/apps``)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.account import blueprint
from idp.services import connected_apps as connected_apps_service
from idp.services import narrowing, restriction, second_factor, sso, withdrawal
from idp.services.errors import NotFound, ServiceError
from idp.services.partners import find_partner
from idp.web.forms import ConfirmForm
from idp.web.guards import login_required
from idp.web.texts import CLAIM_TEXTS, PURPOSE_TEXTS, SCOPE_TEXTS

STATUS_TIER_NAMES = {
    "base": _l("Base"),
    "frequent_traveller": _l("Frequent Traveller"),
    "senator": _l("Senator"),
    "hon_circle": _l("HON Circle"),
}

HISTORY_ACTIONS = {
    "given": _l("Consent given"),
    "changed": _l("Consent changed"),
    "withdrawn": _l("Consent withdrawn"),
    "narrowed": _l("Stopped sharing an item"),
    "paused": _l("Access paused"),
    "resumed": _l("Access resumed"),
}
#: An event the partner caused, named so (Grant Management: the partner released its grant).
PARTNER_HISTORY_ACTIONS = {
    "withdrawn": _l("Consent withdrawn by the partner"),
}


def history_event(record) -> str:
    """The words of one consent history row."""
    if record.actor == "partner" and record.action in PARTNER_HISTORY_ACTIONS:
        return PARTNER_HISTORY_ACTIONS[record.action]
    return HISTORY_ACTIONS.get(record.action, record.action)


#: Consent history rows shown before the rest is folded away.
HISTORY_SHOWN = 5


@blueprint.before_request
def use_member_language():
    member = sso.current_member()
    if member is not None and member.locale:
        g.member_locale = member.locale


@blueprint.route("/")
def home():
    return redirect(url_for(".overview"))


@blueprint.route("/account")
@login_required
def overview():
    member = sso.current_member()
    connected = sum(1 for p in connected_apps_service.connected_partners(member.id) if p.connected)
    return render_template(
        "account/overview.html",
        member=member,
        email=second_factor.mask_email(member.email),
        card_number=mask_card_number(member.card_number or ""),
        card_ending=(member.card_number or "")[-4:],
        connected_summary=ngettext(
            "%(num)d partner receives data from your account.",
            "%(num)d partners receive data from your account.",
            connected,
        )
        if connected
        else _("No partner receives data from your account."),
        status_tier=STATUS_TIER_NAMES.get(member.status_tier, member.status_tier),
        miles_balance=format_decimal(member.miles_balance),
        logout_form=ConfirmForm(),
    )


def mask_card_number(number: str) -> str:
    """``992 •••• •••• 9012``: enough to recognise the card, not to use it."""
    if len(number) != 15:
        return number
    return " ".join([number[:3], "••••", "••••", number[11:]])


def format_card_number(number: str) -> str:
    """``992 1234 5678 9012``: the grouping printed on the card."""
    if len(number) != 15:
        return number
    return " ".join([number[:3], number[3:7], number[7:11], number[11:]])


# -- Connected apps --------------------------------------------------------------


@blueprint.route("/account/apps")
@login_required
def connected_apps():
    return _connected_apps_page()


def _connected_apps_page(alert: str | None = None, status: int = 200):
    member = sso.current_member()
    if alert:
        flash(alert, "error")
    page = render_template(
        "account/apps.html",
        partners=connected_apps_service.connected_partners(member.id),
        scope_texts=SCOPE_TEXTS,
        claim_texts=CLAIM_TEXTS,
        purpose_texts=PURPOSE_TEXTS,
        history_event=history_event,
        reads_days=connected_apps_service.READS_DAYS,
        history_shown=HISTORY_SHOWN,
        form=ConfirmForm(),
    )
    return page, status


@blueprint.route("/account/apps/<partner_id>/stop-sharing", methods=["POST"])
@login_required
def stop_sharing(partner_id: str):
    """Stop sharing one optional item (a scope, or a claim granted by itself) with a partner;
    it keeps the rest."""
    member = sso.current_member()
    if not ConfirmForm().validate_on_submit():
        return _connected_apps_page(_("Your request could not be read. Please try again."), 400)
    partner = find_partner(partner_id)
    if partner is None:
        abort(404)
    scope, claim = request.form.get("scope", ""), request.form.get("claim")
    try:
        if claim is not None:
            narrowing.stop_sharing_claim(member.id, partner.id, claim)
        else:
            narrowing.stop_sharing(member.id, partner.id, scope)
    except NotFound:
        abort(404)
    except narrowing.RequiredItem:
        message = _("This item is needed for the service and cannot be stopped on its own.")
        return _connected_apps_page(message, 400)
    except ServiceError:
        message = _("%(partner)s does not receive this item.", partner=partner.name)
        return _connected_apps_page(message, 400)
    flash(
        _(
            "%(partner)s no longer receives: %(item)s. It keeps the rest.",
            partner=partner.name,
            item=CLAIM_TEXTS.get(claim, claim)
            if claim is not None
            else SCOPE_TEXTS.get(scope, scope),
        ),
        "info",
    )
    return redirect(url_for(".connected_apps"), 303)


@blueprint.route("/account/apps/<partner_id>/pause", methods=["POST"])
@login_required
def pause_app(partner_id: str):
    """Restrict processing (GDPR Art. 18): the partner's tokens stop working until Resume."""
    return _restrict(partner_id, pausing=True)


@blueprint.route("/account/apps/<partner_id>/resume", methods=["POST"])
@login_required
def resume_app(partner_id: str):
    return _restrict(partner_id, pausing=False)


def _restrict(partner_id: str, pausing: bool):
    member = sso.current_member()
    if not ConfirmForm().validate_on_submit():
        return _connected_apps_page(_("Your request could not be read. Please try again."), 400)
    partner = find_partner(partner_id)
    if partner is None:
        abort(404)
    change = restriction.pause_partner if pausing else restriction.resume_partner
    try:
        change(member.id, partner.id)
    except NotFound:
        abort(404)
    except ServiceError as error:
        if error.code == "conflict":
            message = (
                _("Access for %(partner)s is paused already.", partner=partner.name)
                if pausing
                else _("Access for %(partner)s is not paused.", partner=partner.name)
            )
        else:
            message = _("%(partner)s receives no data from your account.", partner=partner.name)
        return _connected_apps_page(message, 400)
    if pausing:
        message = _(
            "Access for %(partner)s is paused. It receives no data until you resume it.",
            partner=partner.name,
        )
    else:
        message = _("Access for %(partner)s is resumed.", partner=partner.name)
    flash(message, "info")
    return redirect(url_for(".connected_apps"), 303)


@blueprint.route("/account/apps/<partner_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_app(partner_id: str):
    """GET asks for confirmation on a page of its own; POST withdraws (scripts may POST at once)."""
    member = sso.current_member()
    form = ConfirmForm()
    if request.method == "GET":
        partner = find_partner(partner_id)
        if partner is None:
            abort(404)
        entry = next(
            (
                e
                for e in connected_apps_service.connected_partners(member.id)
                if e.partner.id == partner.id
            ),
            None,
        )
        if entry is None or not entry.connected:
            flash(
                _("%(partner)s receives no data from your account.", partner=partner.name), "info"
            )
            return redirect(url_for(".connected_apps"), 303)
        return render_template(
            "account/revoke_confirm.html",
            entry=entry,
            scope_texts=SCOPE_TEXTS,
            claim_texts=CLAIM_TEXTS,
            form=form,
        )
    if not form.validate_on_submit():
        flash(_("Your request could not be read. Please try again."), "error")
        return redirect(url_for(".connected_apps"), 303)
    partner = find_partner(partner_id)
    if partner is None:
        abort(404)
    withdrawal.withdraw_partner_access(member.id, partner.id, actor="member")
    flash(
        _(
            "You have revoked access for %(partner)s. "
            "It no longer receives your data from Miles & More.",
            partner=partner.name,
        ),
        "info",
    )
    return redirect(url_for(".connected_apps"), 303)
