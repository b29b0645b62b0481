"""The rows of today's dispensing list, rendered in Python.

The list is the busiest page of the dispensary, one row per patient due today (300 in the
benchmark, bench/dispensary.py). Django's template engine spends about 0.4 ms on such a row;
building it here takes a tenth of that. The price is care with escaping: every value that
comes from the database or a translation goes through ``e()`` (the escaping of
django.utils.html.escape) before it is put in the HTML, and sentences are translated once per
page.

Most of what a row shows repeats from row to row (the same doses, units, parts, missed-day
counts, take-home days, links): :class:`_Page` translates, formats and escapes each such
value once per page and keeps it, so that a row only joins ready pieces. Without that, the
escaping and translation calls alone cost more than the rest of the row.

A row shows what ``dispensary/_missed.html``, ``_parts.html`` and ``_dose_actions.html`` show
on the patient file; keep them in step (the tests assert the same markers on both).
"""


from django import template
from django.middleware.csrf import get_token
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alerts.models import Alert
from alerts.rows import AlertLines
from alerts.rules import readable_kinds, recordable_kinds
from dispensary.selectors import DoseState
from mass.html import e
from patients.identity import Identity

register = template.Library()


class _Page:
    """What every row of one page shares: URL patterns, the user's rights, the CSRF token,
    translated sentences and formatted values, each computed once."""

    def __init__(self, request):
        self.patient_url = self._split(reverse("dispensary:patient", args=[0]))
        self.dispense_url = self._split(reverse("dispensary:dispense", args=[0]))
        self.review_url = self._split(reverse("dispensary:review", args=[0]))
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
            "reassess": _("Assess again before giving…"),
            "closed_take_home": _("Centre closed: taken home with today's dose:"),
            "closed_plan": _("No take-home for the closed days: a doctor's plan is needed:"),
            "closed_note": _("Doctor's plan for the closed days:"),
        }.items()}
        # Sentences with a value in them: translated once, filled per row.
        self.at_by = _("at %(time)s by %(who)s")
        self.handed = _("handed %(date)s")
        self.give = _("Give %(dose)s %(unit)s (%(part)s) — no signs of intoxication")
        self.split = _("split: %(morning)s morning + %(evening)s evening")
        self.withheld_at = _("Withheld at %(time)s: signs of intoxication.")
        self.next_escaped = e(self.next)
        # Who is this: the photo, or birth year, sex, last visit (patients.identity).
        self.identity = Identity(show_photos=request.user.has_perm("patients.view_patientphoto"))
        self._cache: dict = {}
        # Alerts (alerts app): the kinds this user reads, their labels, once per page.
        self.alert_kinds = frozenset(readable_kinds(request.user))
        self.alert_lines = AlertLines()
        self.alerts_url = self._split(reverse("alerts:list", args=[0]))
        self.ends_doctor_first = Alert.Kind.DOCTOR_FIRST in recordable_kinds(request.user)
        self.text.update({
            "doctor_first": e(_("Call a doctor: a doctor must see this person before any "
                                "dose.")),
            "end_doctor_first": e(_("Seen by you? End the alert…")),
        })

    @staticmethod
    def _split(url: str) -> tuple[str, str]:
        """A URL reversed with the id 0, as the escaped text before and after that id."""
        head, tail = url.split("/0/", 1)
        return e(f"{head}/"), e(f"/{tail}")

    @staticmethod
    def fill(pattern: tuple[str, str], pk: int) -> str:
        """The escaped URL of the object ``pk``."""
        return f"{pattern[0]}{pk}{pattern[1]}"

    def cached(self, key, compute):
        """``compute()``, once per page for each ``key``."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = compute()
            return value

    def amount(self, value) -> str:
        """A dose for the language of the page (60 -> "60", 0.4 -> "0,40" in French)."""
        return self.cached(("amount", value), lambda: e(floatformat(value, "-2")))

    def escaped(self, value) -> str:
        """A value repeated from row to row (a product, a unit, a part's name), escaped."""
        return self.cached(("escaped", value), lambda: e(value))

    def day(self, value) -> str:
        return self.cached(("day", value), lambda: date_format(value, "D d/m"))

    def missed(self, days: int) -> str:
        return self.cached(("missed", days), lambda: e(ngettext(
            "%(days)s day missed", "%(days)s days missed", days) % {"days": days}))

    def cancelled(self, count: int) -> str:
        return self.cached(("cancelled", count), lambda: e(ngettext(
            "%(n)s cancelled entry", "%(n)s cancelled entries", count) % {"n": count}))

    def query(self, part: str, action: str | None = None) -> str:
        """The query string of the links of a row (the part, the action, back here)."""
        def compute():
            values = {"part": part, "action": action, "next": self.next}
            if action is None:
                del values["action"]
            return e(urlencode(values))
        return self.cached(("query", part, action), compute)

    def query_next(self) -> str:
        return self.cached(("query_next",), lambda: e(urlencode({"next": self.next})))


def _missed(state: DoseState, page: _Page) -> str:
    days = state.missed_days
    return page.cached(("missed_cell", days, state.is_held, state.reviewed_today),
                       lambda: _missed_cell(state, page))


def _missed_cell(state: DoseState, page: _Page) -> str:
    days = state.missed_days
    if state.strong_warning:
        html = (f'<span class="badge text-bg-danger" data-missed="{days}">'
                f'{page.missed(days)}</span>'
                f'<div class="small text-danger fw-bold">{page.text["strong"]}</div>')
    elif state.missed_enough_to_hold:
        html = (f'<span class="badge text-bg-danger" data-missed="{days}">'
                f'{page.missed(days)}</span>')
    elif days:
        html = (f'<span class="badge text-bg-warning" data-missed="{days}">'
                f'{page.missed(days)}</span>')
    else:
        html = '<span class="text-muted small" data-missed="0">0</span>'
    if state.is_held:
        html += f'<div class="small text-danger">{page.text["held"]}</div>'
    elif state.missed_enough_to_hold and state.reviewed_today:
        html += f'<div class="small text-success">{page.text["reviewed"]}</div>'
    return html


def _time(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def _parts(state: DoseState, page: _Page, unit: str) -> str:
    split = state.prescription.is_split
    html = []
    for part in state.parts:
        part_state = part.state
        if part_state == "due" and not part.cancelled and not part.is_top_up:
            # most rows: the same few cells
            html.append(page.cached(("due", part.part, part.label, part.dose, unit, split),
                                    lambda part=part: _part(part, page, unit, split)))
        else:
            html.append(_part(part, page, unit, split))
    if state.intoxication_withheld is not None:
        time = _time(state.intoxication_withheld.dispensed_at)
        withheld = e(page.withheld_at % {"time": time})
        html.append(f'<div class="small text-danger fw-bold" data-withheld-intoxication>'
                    f'{withheld}</div>')
    if state.handed_today:
        days = e(", ".join(page.day(entry.dose_date) for entry in state.handed_today))
        html.append(f'<div class="small text-muted">{page.text["handed_for"]} {days}</div>')
    return "".join(html)


def _part(part, page: _Page, unit: str, split: bool) -> str:
    entry, part_state = part.shown, part.state
    prefix = f'<span class="text-muted">{page.escaped(part.label)}:</span> ' if split else ""
    if part_state == "given":
        who = e(page.at_by % {"time": _time(entry.dispensed_at),
                              "who": entry.dispensed_by or "—"})
        body = (f'<span class="badge text-bg-success">{page.text["given"]}</span> '
                f'{page.amount(entry.quantity)} {unit} {who}')
    elif part_state == "taken_home":
        handed = e(page.handed % {"date": page.day(entry.date)})
        body = (f'<span class="badge text-bg-info">{page.text["taken_home"]}</span> '
                f'{handed}')
    elif part_state == "withheld":
        observations = f" — {e(entry.observations)}" if entry.observations else ""
        body = (f'<span class="badge text-bg-warning">{page.text["withheld"]}</span> '
                f'{e(entry.get_withheld_reason_display())} {_time(entry.dispensed_at)}'
                f'{observations}')
    else:
        body = (f'<span class="badge text-bg-secondary">{page.text["due"]}</span> '
                f'{page.amount(part.dose)} {unit}')
        if part.is_top_up:  # a same-day change of dose: what was given counts
            body += (' <span class="text-muted" data-top-up>'
                     + e(_("top-up: %(given)s %(unit)s already given today under the "
                           "replaced prescription")) % {"given": page.amount(part.given_before),
                                                        "unit": unit}
                     + "</span>")
    if part.cancelled:
        body += f' <span class="text-muted">({page.cancelled(len(part.cancelled))})</span>'
    return (f'<div class="small" data-part="{page.escaped(part.part)}" '
            f'data-part-state="{part_state}">{prefix}{body}</div>')


def _give_label(page: _Page, part, unit: str, take_home_days: int) -> str:
    """The escaped label of the one-click button."""
    label = page.give % {"dose": page.amount(part.dose), "unit": unit, "part": part.label}
    if take_home_days:
        label += " " + ngettext("+ %(days)s take-home day", "+ %(days)s take-home days",
                                take_home_days) % {"days": take_home_days}
    return e(label)


#: Stands for the prescription's id in the action buttons kept per page (see ``_actions``).
_PK = "\x00"


def _actions(state: DoseState, page: _Page, raw_unit: str) -> str:
    """The buttons of a row. They differ from row to row only by the prescription's id, so
    they are built once per page for each kind of row, with ``_PK`` where the id goes."""
    part = state.next_part()
    if state.doctor_first is not None and part is not None:
        return _doctor_first_actions(state, page, part)
    if state.desk_state == "held":
        key = ("held", part.part)
    elif part is None:
        return ""
    elif state.intoxication_withheld is not None:
        key = ("reassess", part.part)
    else:
        key = ("give", part.part, part.label, part.dose, raw_unit, len(state.take_home_to_hand))
    pieces = page.cached(key, lambda: _actions_html(state, page, raw_unit).split(_PK))
    return str(state.prescription.pk).join(pieces)


def _actions_html(state: DoseState, page: _Page, raw_unit: str) -> str:
    part = state.next_part()
    detail = page.fill(page.dispense_url, _PK)
    if state.desk_state == "held":
        withhold = page.query(part.part, "withhold")
        if page.can_review:
            review = f"{page.fill(page.review_url, _PK)}?{page.query_next()}"
            first = (f'<a class="btn btn-sm btn-danger" href="{review}" data-review>'
                     f'{page.text["review"]}</a>')
        else:
            first = f'<span class="text-danger small">{page.text["call_doctor"]}</span>'
        return (f'{first} <a class="btn btn-sm btn-outline-secondary" '
                f'href="{detail}?{withhold}">{page.text["withhold"]}</a>')
    part_name = page.escaped(part.part)
    if state.intoxication_withheld is not None:
        # No one-click give after a dose withheld for intoxication: the form asks the
        # question again (and hands no take-home dose).
        return (f'<a class="btn btn-sm btn-outline-danger" href="{detail}?'
                f'{page.query(part.part)}" data-reassess="{_PK}-{part_name}">'
                f'{page.text["reassess"]}</a>')
    label = _give_label(page, part, raw_unit, len(state.take_home_to_hand))
    return (f'<form method="post" action="{detail}" class="d-inline" hx-post="{detail}" '
            'hx-target="closest tr" hx-swap="outerHTML" hx-disabled-elt="find button">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{page.csrf}">'
            f'<input type="hidden" name="part" value="{part_name}">'
            '<input type="hidden" name="intoxication" value="none">'
            '<input type="hidden" name="action" value="give">'
            '<input type="hidden" name="hand_take_home" value="on">'
            f'<input type="hidden" name="next" value="{page.next_escaped}">'
            f'<button type="submit" class="btn btn-sm btn-success" '
            f'data-give="{_PK}-{part_name}">{label}</button></form> '
            f'<a class="btn btn-sm btn-outline-secondary" href="{detail}?'
            f'{page.query(part.part)}">{page.text["other"]}</a>')


def _doctor_first_actions(state: DoseState, page: _Page, part) -> str:
    """An active "doctor before any dose" alert: no dose offered (dispensary.services
    refuses it too); a doctor is sent to the patient's alerts to end it after seeing them."""
    if page.ends_doctor_first:
        alerts = page.fill(page.alerts_url, state.patient.pk)
        first = (f'<a class="btn btn-sm btn-danger" href="{alerts}" data-doctor-first>'
                 f'{page.text["end_doctor_first"]}</a>')
    else:
        first = (f'<span class="text-danger small fw-bold" data-doctor-first>'
                 f'{page.text["doctor_first"]}</span>')
    withhold = (f'{page.fill(page.dispense_url, state.prescription.pk)}?'
                f'{page.query(part.part, "withhold")}')
    return (f'{first} <a class="btn btn-sm btn-outline-secondary" href="{withhold}">'
            f'{page.text["withhold"]}</a>')


def _alerts(state: DoseState, page: _Page) -> str:
    """The patient's active alerts the viewer reads, under the name."""
    if not state.alerts:
        return ""
    items = page.alert_lines(state.alerts, page.alert_kinds)
    return f'<div class="dose-alerts" data-alert-banner>{items}</div>' if items else ""


def _prescription(rx, page: _Page, unit: str) -> str:
    """The prescription's cell: product, daily dose, split, take-home days (instructions
    apart: they are free text)."""
    details = ""
    if rx.is_split:
        details += ('<div class="small">' + e(page.split % {
            "morning": page.amount(rx.morning_dose),
            "evening": page.amount(rx.evening_dose)}) + "</div>")
    if rx.take_home_weekdays:
        details += page.cached(("take_home", tuple(rx.take_home_weekdays)), lambda: (
            f'<div class="small text-muted">{page.text["take_home"]} '
            f'{e(rx.take_home_label())}</div>'))
    product = page.cached(("product", rx.product_id), lambda: e(rx.product))
    return f'{product} <strong>{page.amount(rx.daily_dose)} {unit}</strong>{details}'


def _closed_days(state: DoseState, page: _Page) -> str:
    """The days the centre is closed that concern the row: those whose doses go home with
    today's dose, and those a doctor must plan (mass.sites.selectors.site_calendar)."""
    if not state.closed_ahead:
        return ""
    # The eve of a closure every row has the same few markers: made once a page each.
    key = ("closed_days", tuple(state.closed_days_taken_home),
           tuple(state.closed_days_to_plan), tuple(state.closed_day_notes))
    return page.cached(key, lambda: _closed_days_html(state, page))


def _closed_days_html(state: DoseState, page: _Page) -> str:
    html = ""
    if state.closed_days_taken_home:
        days = ", ".join(_closed_day(closed, page) for closed in state.closed_days_taken_home)
        html += (f'<div class="small text-info-emphasis" data-closed-take-home>'
                 f'{page.text["closed_take_home"]} {days}</div>')
    if state.closed_days_to_plan:
        days = ", ".join(_closed_day(closed, page) for closed in state.closed_days_to_plan)
        html += (f'<div class="small text-danger fw-bold" data-closed-day-plan>'
                 f'{page.text["closed_plan"]} {days}</div>')
    for note in state.closed_day_notes:
        html += (f'<div class="small fst-italic" data-closed-day-note>'
                 f'{page.text["closed_note"]} {e(note)}</div>')
    return html


def _closed_day(closed, page: _Page) -> str:
    return page.cached(("closed_day", closed), lambda: (
        f'{e(page.day(closed.day))} ({e(closed.reason)})'))


def _row(state: DoseState, page: _Page, message, level) -> str:
    rx, patient = state.prescription, state.patient
    raw_unit = rx.product.unit
    unit = page.escaped(raw_unit)
    prescription = page.cached(
        ("prescription", rx.product_id, rx.daily_dose, rx.evening_dose,
         tuple(rx.take_home_weekdays)), lambda: _prescription(rx, page, unit))
    if rx.instructions:
        prescription += f'<div class="small fst-italic">{e(rx.instructions)}</div>'
    note = ""
    if message:
        note = (f'<div class="alert alert-{e(level)} py-1 px-2 mb-0 mt-1 small" role="alert">'
                f'{e(message)}</div>')
    alias, file_number = patient.alias, patient.file_number
    desk_state = state.desk_state
    thumbnail, facts = page.identity.of_patient(patient)
    return (f'<tr id="rx-{rx.pk}" class="dose-row dose-{desk_state}" '
            f'data-state="{desk_state}" '
            f'data-filter-text="{e(alias.lower())} {e(file_number.lower())}">'
            f'<td>{thumbnail}<a href="{page.fill(page.patient_url, patient.pk)}" '
            f'class="fw-bold">{e(alias)}</a><div class="small text-muted">{e(file_number)}'
            f'</div>{facts}{_alerts(state, page)}</td>'
            f'<td>{prescription}</td>'
            f'<td>{_missed(state, page)}</td><td>{_parts(state, page, unit)}'
            f'{_closed_days(state, page)}{note}</td>'
            f'<td>{_actions(state, page, raw_unit)}</td></tr>\n')


@register.simple_tag(takes_context=True)
def dispensing_rows(context, states, message=None, level="info"):
    """All rows of the list (or the one row an htmx action replaces)."""
    page = _Page(context["request"])
    return mark_safe("".join([_row(state, page, message, level) for state in states]))
