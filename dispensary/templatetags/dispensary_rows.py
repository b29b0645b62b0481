"""The rows of today's dispensing list, rendered in Python.

The list is the busiest page of the dispensary, one row per patient due today (300 in the
benchmark, bench/dispensary.py). Django's template engine spends about 0.4 ms on such a row;
building it here takes a tenth of that. The price is care with escaping: every value that
comes from the database or a translation goes through ``e()`` (django.utils.html.escape)
before it is put in the HTML, and sentences are translated once per page.

A row shows what ``dispensary/_missed.html``, ``_parts.html`` and ``_dose_actions.html`` show
on the patient file; keep them in step (the tests assert the same markers on both).
"""

from django import template
from django.middleware.csrf import get_token
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape as e
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dispensary.selectors import DoseState

register = template.Library()


class _Page:
    """What every row of one page shares: URL patterns, the user's rights, the CSRF token,
    translated sentences and formatted doses, each computed once."""

    def __init__(self, request):
        self.patient_url = reverse("dispensary:patient", args=[0])
        self.dispense_url = reverse("dispensary:dispense", args=[0])
        self.review_url = reverse("dispensary:review", args=[0])
        self.next = reverse("dispensary:today")
        self.csrf = e(get_token(request))
        self.can_review = request.user.has_perm("dispensary.add_holdreview")
        self.text = {key: e(value) for key, value in {
            "strong": _("High overdose risk: tolerance is probably lost. Consider a reduced "
                        "dose."),
            "held": _("Held: a doctor must review before the next dose."),
            "reviewed": _("Reviewed by a doctor today."),
            "given": _("given"), "taken_home": _("taken home"), "withheld": _("withheld"),
            "due": _("due"), "handed_for": _("Take-home handed today for:"),
            "review": _("Review (doctor)"),
            "call_doctor": _("Call a doctor: review needed before any dose."),
            "withhold": _("Withhold…"), "other": _("Withhold / other…"),
            "take_home": _("Take-home:"),
        }.items()}
        self._amounts = {}

    @staticmethod
    def fill(pattern: str, pk: int) -> str:
        return pattern.replace("/0/", f"/{pk}/", 1)

    def amount(self, value) -> str:
        """A dose for the language of the page (60 -> "60", 0.4 -> "0,40" in French)."""
        text = self._amounts.get(value)
        if text is None:
            text = self._amounts[value] = e(floatformat(value, "-2"))
        return text


def _missed(state: DoseState, page: _Page) -> str:
    days = state.missed_days
    label = e(ngettext("%(days)s day missed", "%(days)s days missed", days) % {"days": days})
    if state.strong_warning:
        html = (f'<span class="badge text-bg-danger" data-missed="{days}">{label}</span>'
                f'<div class="small text-danger fw-bold">{page.text["strong"]}</div>')
    elif days >= 3:
        html = f'<span class="badge text-bg-danger" data-missed="{days}">{label}</span>'
    elif days:
        html = f'<span class="badge text-bg-warning" data-missed="{days}">{label}</span>'
    else:
        html = '<span class="text-muted small" data-missed="0">0</span>'
    if state.is_held:
        html += f'<div class="small text-danger">{page.text["held"]}</div>'
    elif days >= 3 and state.reviewed_today:
        html += f'<div class="small text-success">{page.text["reviewed"]}</div>'
    return html


def _time(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def _parts(state: DoseState, page: _Page) -> str:
    unit = e(state.prescription.product.unit)
    split = state.prescription.is_split
    html = []
    for part in state.parts:
        entry = part.entry
        prefix = f'<span class="text-muted">{e(part.label)}:</span> ' if split else ""
        if part.state == "given":
            who = e(_("at %(time)s by %(who)s") % {"time": _time(entry.dispensed_at),
                                                  "who": entry.dispensed_by or "—"})
            body = (f'<span class="badge text-bg-success">{page.text["given"]}</span> '
                    f'{page.amount(entry.quantity)} {unit} {who}')
        elif part.state == "taken_home":
            handed = e(_("handed %(date)s") % {"date": date_format(entry.date, "D d/m")})
            body = (f'<span class="badge text-bg-info">{page.text["taken_home"]}</span> '
                    f'{handed}')
        elif part.state == "withheld":
            observations = f" — {e(entry.observations)}" if entry.observations else ""
            body = (f'<span class="badge text-bg-warning">{page.text["withheld"]}</span> '
                    f'{e(entry.get_withheld_reason_display())} {_time(entry.dispensed_at)}'
                    f'{observations}')
        else:
            body = (f'<span class="badge text-bg-secondary">{page.text["due"]}</span> '
                    f'{page.amount(part.dose)} {unit}')
        if part.cancelled:
            count = len(part.cancelled)
            body += (' <span class="text-muted">(' + e(ngettext(
                "%(n)s cancelled entry", "%(n)s cancelled entries", count) % {"n": count})
                + ")</span>")
        html.append(f'<div class="small" data-part="{e(part.part)}" '
                    f'data-part-state="{part.state}">{prefix}{body}</div>')
    if state.handed_today:
        days = e(", ".join(date_format(entry.dose_date, "D d/m")
                           for entry in state.handed_today))
        html.append(f'<div class="small text-muted">{page.text["handed_for"]} {days}</div>')
    return "".join(html)


def _actions(state: DoseState, page: _Page) -> str:
    rx = state.prescription
    part = state.next_part()
    detail = e(page.fill(page.dispense_url, rx.pk))
    if state.desk_state == "held":
        withhold = e(urlencode({"part": part.part, "action": "withhold", "next": page.next}))
        if page.can_review:
            review = e(page.fill(page.review_url, rx.pk) + "?"
                       + urlencode({"next": page.next}))
            first = (f'<a class="btn btn-sm btn-danger" href="{review}" data-review>'
                     f'{page.text["review"]}</a>')
        else:
            first = f'<span class="text-danger small">{page.text["call_doctor"]}</span>'
        return (f'{first} <a class="btn btn-sm btn-outline-secondary" '
                f'href="{detail}?{withhold}">{page.text["withhold"]}</a>')
    if part is None:
        return ""
    label = _("Give %(dose)s %(unit)s (%(part)s) — no signs of intoxication") % {
        "dose": page.amount(part.dose), "unit": rx.product.unit, "part": part.label}
    if state.take_home_to_hand:
        count = len(state.take_home_to_hand)
        label += " " + ngettext("+ %(days)s take-home day", "+ %(days)s take-home days",
                                count) % {"days": count}
    query = e(urlencode({"part": part.part, "next": page.next}))
    return (f'<form method="post" action="{detail}" class="d-inline" hx-post="{detail}" '
            'hx-target="closest tr" hx-swap="outerHTML" hx-disabled-elt="find button">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{page.csrf}">'
            f'<input type="hidden" name="part" value="{e(part.part)}">'
            '<input type="hidden" name="intoxication" value="none">'
            '<input type="hidden" name="action" value="give">'
            '<input type="hidden" name="hand_take_home" value="on">'
            f'<input type="hidden" name="next" value="{e(page.next)}">'
            f'<button type="submit" class="btn btn-sm btn-success" '
            f'data-give="{rx.pk}-{e(part.part)}">{e(label)}</button></form> '
            f'<a class="btn btn-sm btn-outline-secondary" href="{detail}?{query}">'
            f'{page.text["other"]}</a>')


def _row(state: DoseState, page: _Page, message, level) -> str:
    rx, patient = state.prescription, state.patient
    details = ""
    if rx.is_split:
        details += '<div class="small">' + e(_(
            "split: %(morning)s morning + %(evening)s evening") % {
            "morning": page.amount(rx.morning_dose),
            "evening": page.amount(rx.evening_dose)}) + "</div>"
    if rx.take_home_weekdays:
        details += (f'<div class="small text-muted">{page.text["take_home"]} '
                    f'{e(rx.take_home_label())}</div>')
    if rx.instructions:
        details += f'<div class="small fst-italic">{e(rx.instructions)}</div>'
    note = ""
    if message:
        note = (f'<div class="alert alert-{e(level)} py-1 px-2 mb-0 mt-1 small" role="alert">'
                f'{e(message)}</div>')
    alias, file_number = e(patient.alias), e(patient.file_number)
    return (f'<tr id="rx-{rx.pk}" class="dose-row dose-{state.desk_state}" '
            f'data-state="{state.desk_state}" '
            f'data-filter-text="{e(patient.alias.lower())} {e(patient.file_number.lower())}">'
            f'<td><a href="{e(page.fill(page.patient_url, patient.pk))}" class="fw-bold">'
            f'{alias}</a><div class="small text-muted">{file_number}</div></td>'
            f'<td>{e(rx.product)} <strong>{page.amount(rx.daily_dose)} '
            f'{e(rx.product.unit)}</strong>{details}</td>'
            f'<td>{_missed(state, page)}</td><td>{_parts(state, page)}{note}</td>'
            f'<td>{_actions(state, page)}</td></tr>\n')


@register.simple_tag(takes_context=True)
def dispensing_rows(context, states, message=None, level="info"):
    """All rows of the list (or the one row an htmx action replaces)."""
    page = _Page(context["request"])
    return mark_safe("".join(_row(state, page, message, level) for state in states))
