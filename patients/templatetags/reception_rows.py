"""The repeated rows of the reception desk, rendered in Python.

The board is reloaded after every arrival and its search answers every pause in typing:
with Django's template engine, its 30 walk-ins, the 22 inputs of the harm-reduction form and
the purpose buttons of each search result cost more than the rest of the page (about 4 µs a
variable, some 600 of them). Here a row is one f-string. Every value that comes from the
database, a form or a translation goes through ``e()`` (the escaping of
django.utils.html.escape) before it is put in the HTML; the output is the one the template
gave, white space included.
"""


from django import template
from django.template.base import render_value_in_context
from django.template.context import Context
from django.urls import reverse
from django.utils import formats
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from alerts.rows import AlertLines
from mass.corrections import may_cancel
from mass.html import e
from patients.identity import Identity

register = template.Library()


def _url_with_pk(name: str):
    """``pk -> reverse(name, args=[pk])``, escaped, reversed once for all the rows."""
    head, tail = reverse(name, args=[0]).rsplit("/0/", 1)
    head, tail = e(f"{head}/"), e(f"/{tail}")
    return lambda pk: f"{head}{pk}{tail}"


@register.simple_tag
def visit_rows(visits, can_consult=False, show_photos=False, alerts=None, user=None) -> str:
    """The board's walk-ins (selectors.BoardVisit); for clinicians, a link to record a
    consultation with the person. Who is who: the photo (``show_photos``: the user may see
    them), or birth year, sex, last visit (patients.identity). A cancelled walk-in is struck
    through with who cancelled it, when and why; the others offer ``user`` to cancel those
    they may (mass.corrections)."""
    identity = Identity(show_photos=show_photos)
    lines, alerts = AlertLines(), alerts or {}
    cancel_url = _url_with_pk("patients:visit_cancel")
    back = e("?next=" + reverse("reception:board"))
    cancel_label = e(_("Cancel…"))
    overseer = user is not None and may_cancel(user, author_id=None)

    def struck(visit, html):
        return f"<del>{html}</del>" if visit.cancelled else html

    def correction(visit):
        if visit.cancelled:
            note = _("cancelled: %(reason)s — %(who)s, %(when)s") % {
                "reason": visit.cancelled["reason"], "who": visit.cancelled["by"],
                "when": formats.date_format(visit.cancelled["at"], "SHORT_DATETIME_FORMAT")}
            return f'<br><span class="cancelled-note" data-cancelled-note>{e(note)}</span>'
        if user is not None and (overseer or visit.logged_by_id == user.pk):
            return (f' <a class="small" href="{cancel_url(visit.visit_id)}{back}" '
                    f'data-cancel-visit>{cancel_label}</a>')
        return ""

    def who(visit):
        birth_year, sex, note, has_photo, last_visit = visit.identity
        return (identity.photo(visit.patient_id, visit.alias, has_photo),
                identity.facts(has_photo=has_photo, birth_year=birth_year, sex=sex,
                               last_visit=last_visit, note=note)
                + lines(alerts.get(visit.patient_id)))

    detail = _url_with_pk("patients:detail")
    if can_consult:
        new = e(reverse("consultations:create") + "?patient=")
        label = e(_("Consultation"))

        def consult(pk):
            return (f'            <td class="text-end"><a class="btn btn-sm btn-outline-primary"'
                    f' href="{new}{pk}" data-consult>{label}</a></td>\n')
    else:
        def consult(pk):
            return ""
    return mark_safe("".join([
        f'\n          <tr data-visit{" data-cancelled" if visit.cancelled else ""}>\n'
        f'            <td>{struck(visit, e(visit.time))}</td>\n'
        f'            <td>{thumbnail}<a href="{detail(visit.patient_id)}">{e(visit.alias)}</a> '
        f'<span class="text-muted small">{e(visit.file_number)}</span>{facts}</td>\n'
        f'            <td>{struck(visit, e(visit.purpose_label))}</td>\n'
        f'            <td>{e(visit.site)}</td>\n'
        f'            <td class="small">{e(visit.logged_by)}{correction(visit)}</td>\n'
        f'{consult(visit.patient_id)}'
        f'          </tr>\n        '
        for visit in visits for thumbnail, facts in [who(visit)]]))


def _errors(errors) -> str:
    return "".join(f'<div class="invalid-feedback d-block">{e(error)}</div>'
                   for error in errors)


def _shown(value) -> str:
    """What ``{{ value }}`` shows: localized (a number) and escaped."""
    return e(value) if isinstance(value, str) else render_value_in_context(value, Context())


def _value(value) -> str:
    """What ``{{ value|default_if_none:'' }}`` shows of a field's value."""
    return "" if value is None else _shown(value)


@register.simple_tag
def material_input_rows(rows) -> str:
    """The harm-reduction form's table rows (HarmReductionForm.rows()): per material, the
    quantity handed out and returned, with their errors."""
    html = []
    for label, fields in rows:
        html.append(f'\n            <tr><td><label for="{e(fields[0]["auto_id"])}">{e(label)}'
                    '</label></td>\n              ')
        for field in fields:
            invalid = " is-invalid" if field["errors"] else ""
            html.append(
                f'\n              <td><input type="number" name="{e(field["html_name"])}" '
                f'id="{e(field["auto_id"])}" min="0" max="10000"\n'
                f'                         class="form-control form-control-sm{invalid}"\n'
                f'                         value="{_value(field["value"])}" '
                f'aria-label="{e(field["label"])}">\n'
                f'                {_errors(field["errors"])}</td>\n              ')
        html.append("</tr>\n          ")
    return mark_safe("".join(html))


def _episode_mark(episode) -> str:
    """What the desk should know of a person's latest episode before logging the arrival:
    it has ended (a treatment request would open a resumption), or its TDI questionnaire is
    due. Nothing for a running episode with its questionnaire, or no episode."""
    if episode is None:
        return ""
    if episode.ended_on is not None:
        date = e(formats.date_format(episode.ended_on, "SHORT_DATE_FORMAT"))
        text = (_("Episode ended %(date)s by the 6-month rule") if episode.ended_by_rule
                else _("Episode ended %(date)s")) % {"date": date}
        return f' <span class="badge text-bg-info" data-episode-ended>{text}</span>'
    if not episode.tdi_filled:
        due = _("TDI questionnaire due")  # not inside the f-string: makemessages reads it
        return f' <span class="badge text-bg-warning" data-tdi-due>{e(due)}</span>'
    return ""


@register.simple_tag(takes_context=True)
def arrival_rows(context, results, purposes, episodes=None, show_photos=False,
                 alerts=None, usual=None) -> str:
    """The reception search's results (Patient, with merged_into): who it is, and for each
    person who may arrive, a button per purpose (numbered for the keyboard) that logs it.
    ``episodes`` (selectors.patients_desk_episodes) marks an ended episode or a TDI
    questionnaire due. ``usual`` (selectors.UsualPurposes): the button of what the person
    usually comes for is the highlighted one, which Enter presses (static/js/app.js); the
    numbers stay in the same order for everyone, so that a digit always means one purpose."""
    episodes = episodes or {}
    detail = _url_with_pk("patients:detail")
    arrival = e(reverse("reception:arrival"))
    csrf_token = context.get("csrf_token")
    csrf = (f'<input type="hidden" name="csrfmiddlewaretoken" value="{e(csrf_token)}">'
            if csrf_token and csrf_token != "NOTPROVIDED" else "")
    first = purposes[0][0] if purposes else ""
    # Said to screen readers: the highlighted button is the usual purpose.
    usually = _("usually")  # not inside the f-string: makemessages reads it
    hint = f' <span class="visually-hidden">({e(usually)})</span>'

    def button_row(default: str) -> str:
        return "".join(
            f'\n          <button type="submit" name="purpose" value="{e(value)}" '
            + ('class="btn btn-sm btn-primary" data-usual' if value == default
               else 'class="btn btn-sm btn-outline-primary"')
            + f'\n                  title="{number}"><kbd class="d-none d-md-inline">{number}'
            f'</kbd> {e(label)}{hint if value == default else ""}</button>\n          '
            for number, (value, label) in enumerate(purposes, start=1))

    button_rows: dict[str, str] = {}  # one rendering per purpose, shared by the rows

    def buttons_for(patient_id: int) -> str:
        default = usual.of(patient_id) if usual is not None else first
        if default not in button_rows:
            button_rows[default] = button_row(default)
        return button_rows[default]

    merged_into = _("merged into %(file)s")
    identity = Identity(show_photos=show_photos)
    lines, alerts = AlertLines(), alerts or {}
    html = []
    for patient in results:
        thumbnail, facts = identity.of_patient(patient)
        facts += lines(alerts.get(patient.pk))
        names = f" · {e(patient.last_name)} {e(patient.first_name)}" if patient.last_name else ""
        year = f" · {_shown(patient.birth_year)}" if patient.birth_year else ""
        badge = (f'<span class="badge text-bg-secondary">{e(patient.get_status_display())}'
                 '</span>' if patient.status != "active" else "")
        if not patient.merged_into:
            badge += _episode_mark(episodes.get(patient.pk))
        if patient.merged_into:
            kept = patient.merged_into
            action = (f'\n          <a href="{detail(kept.pk)}" class="small">'
                      f'{merged_into % {"file": e(kept.file_number)}}</a>\n        ')
        elif patient.status in ("active", "inactive"):
            action = (f'\n        <form method="post" action="{arrival}" '
                      'class="d-flex flex-wrap gap-1" data-arrival-form\n'
                      f'              hx-post="{arrival}" hx-target="#today" '
                      f'hx-swap="outerHTML">\n          {csrf}\n'
                      f'          <input type="hidden" name="patient" value="{patient.pk}">\n'
                      f'          {buttons_for(patient.pk)}\n        </form>\n        ')
        else:
            action = ""
        html.append(
            '\n      <div class="d-flex flex-wrap align-items-center gap-2 border-bottom py-2" '
            'data-arrival-row>\n        <div class="me-auto">\n'
            f'          {thumbnail}<a href="{detail(patient.pk)}" class="fw-semibold">'
            f'{e(patient.alias)}</a>\n'
            f'          <span class="text-muted small">{e(patient.file_number)}{names}{year}'
            f'</span>\n          {badge}{facts}\n        </div>\n        {action}\n      </div>\n'
            '      ')
    return mark_safe("".join(html))


@register.simple_tag
def search_rows(results, show_photos=False) -> str:
    """The patient search's results (Patient, with merged_into, has_photo, last_visit), one
    table row each."""
    detail = _url_with_pk("patients:detail")
    merged_into = _("merged into %(file)s")
    identity = Identity(show_photos=show_photos)
    html = []
    for patient in results:
        thumbnail, facts = identity.of_patient(patient)
        url = detail(patient.pk)
        first_name = f", {e(patient.first_name)}" if patient.first_name else ""
        year = _shown(patient.birth_year) if patient.birth_year else ""
        status = (merged_into % {"file": e(patient.merged_into.file_number)}
                  if patient.merged_into else e(patient.get_status_display()))
        html.append(
            f'\n      <tr data-result>\n        <td><a href="{url}">{e(patient.file_number)}'
            f'</a></td>\n        <td>{thumbnail}<a href="{url}">{e(patient.alias)}</a>{facts}'
            '</td>\n'
            f'        <td>{e(patient.last_name)}{first_name}</td>\n        <td>{year}</td>\n'
            f'        <td>{status}</td>\n      </tr>\n    ')
    return mark_safe("".join(html))
