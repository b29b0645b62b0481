"""The rows of today's dispensing list, rendered by templates/jinja2/dispensary/rows.html
(mass/rows.py), for the list and the row an htmx action replaces; and their cells (missed
days, dose parts, buttons) on the pages of one patient (the dispensing record, the dispense
form, the prescriptions page: dispensary/templatetags/dispensary_rows.py).

The list is the busiest page of the dispensary, one row per patient due today (300 in the
benchmark, bench/dispensary.py). Most of what a row shows repeats from row to row (the same
doses, units, parts, missed-day counts, take-home days, buttons): :class:`DispensingPage`
renders each such cell once per page, from the macros of
templates/jinja2/dispensary/cells.html, and keeps it under a key of what it shows, so that a
row mostly places ready cells. The templates escape every value (autoescape); nothing here
writes HTML.

"""

from types import SimpleNamespace

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.middleware.csrf import get_token
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from markupsafe import Markup

from alerts.models import Alert
from alerts.rows import AlertLines
from alerts.rules import readable_kinds, recordable_kinds
from dispensary.selectors import DoseState
from mass.rows import Row, macros, once, render, url_with_pk
from patients.identity import Identity

#: Stand for the prescription's id and the page's CSRF token in the buttons made once for
#: many rows (:meth:`DispensingPage.actions`).
_PK, _CSRF = "\x00", "\x01"

#: The cells and values that hold nothing of a patient (a prescription's product and doses,
#: a count of missed days, a part due, a formatted dose or day, the buttons without their id
#: and token), made once per process for each content, language and right, and kept for the
#: next pages: the list is reloaded all day with the same few. Emptied when it reaches
#: _SHARED_MAX entries.
_shared: dict = {}
_SHARED_MAX = 20_000


@receiver(setting_changed)
def _forget_shared(**kwargs) -> None:
    """A changed setting (a test's language, formats or DEBUG) may change every cell."""
    _shared.clear()


def _time(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


class DispensingPage:
    """What every row of one page shares: URL patterns, the user's rights, the CSRF token,
    translated sentences, and the cells made once a page for each content. ``next``: where
    the buttons come back to (the list by default); ``hx``: the one-click form swaps its row
    (the list) or loads the page again (a patient's page)."""

    def __init__(self, request, *, next: str | None = None, hx: bool = True):
        self.patient_url = url_with_pk("dispensary:patient")
        self.dispense_url = url_with_pk("dispensary:dispense")
        self.review_url = url_with_pk("dispensary:review")
        self.alerts_url = url_with_pk("alerts:list")
        self.next = next or reverse("dispensary:today")
        self.hx = hx
        self.csrf = get_token(request)
        self.can_review = request.user.has_perm("dispensary.add_holdreview")
        self.ends_doctor_first = Alert.Kind.DOCTOR_FIRST in recordable_kinds(request.user)
        self.text = SimpleNamespace(
            strong=_("High overdose risk: tolerance is probably lost. Consider a reduced "
                     "dose."),
            held=_("Held: a doctor must review before the next dose."),
            reviewed=_("Reviewed by a doctor today."),
            given=_("given"), taken_home=_("taken home"), withheld=_("withheld"),
            due=_("due"), handed_for=_("Take-home handed today for:"),
            review=_("Review (doctor)"),
            call_doctor=_("Call a doctor: review needed before any dose."),
            withhold=_("Withhold…"), other=_("Withhold / other…"),
            take_home=_("Take-home:"),
            reassess=_("Assess again before giving…"),
            closed_take_home=_("Centre closed: taken home with today's dose:"),
            closed_plan=_("No take-home for the closed days: a doctor's plan is needed:"),
            closed_note=_("Doctor's plan for the closed days:"),
            doctor_first=_("Call a doctor: a doctor must see this person before any dose."),
            end_doctor_first=_("Seen by you? End the alert…"),
        )
        # Sentences with a value in them: translated once, filled per row.
        self.at_by = _("at %(time)s by %(who)s")
        self.handed = _("handed %(date)s")
        self.give = _("Give %(dose)s %(unit)s (%(part)s) — no signs of intoxication")
        self.split = _("split: %(morning)s morning + %(evening)s evening")
        self.withheld_at = _("Withheld at %(time)s: signs of intoxication.")
        self.top_up = _("top-up: %(given)s %(unit)s already given today under the replaced "
                        "prescription, daily dose %(daily)s %(unit)s")
        # Who is this: the photo, or birth year, sex, last visit (patients.identity).
        self.identity = Identity(show_photos=request.user.has_perm("patients.view_patientphoto"))
        # Alerts (alerts app): the kinds this user reads, their lines, once per page.
        self.alert_kinds = frozenset(readable_kinds(request.user))
        self.alert_lines = AlertLines()
        self.cells = macros("dispensary/cells.html")
        self._cache: dict = {}
        self._shared_key = (get_language(), self.can_review, self.ends_doctor_first)
        # Kept for the next pages: the list's cells only. A patient's page comes back to its
        # own address, which names the patient; with DEBUG on, an edited template shows on
        # the next page.
        self._share = next is None and hx and not settings.DEBUG

    def cached(self, key, compute):
        """``compute()``, once per page for each ``key``."""
        return once(self._cache, key, compute)

    def shared(self, key, compute):
        """``compute()``, once per process for each ``key``, language and right: for the
        list's cells that hold nothing of a patient (:data:`_shared`); once a page
        otherwise."""
        if not self._share:
            return self.cached(key, compute)
        if len(_shared) >= _SHARED_MAX:
            _shared.clear()
        return once(_shared, (self._shared_key, key), compute)

    # --- values repeated from row to row ----------------------------------------------------

    def amount(self, value) -> str:
        """A dose for the language of the page (60 -> "60", 0.4 -> "0,40" in French)."""
        return self.shared(("amount", value), lambda: floatformat(value, "-2"))

    def day(self, value) -> str:
        return self.shared(("day", value), lambda: date_format(value, "D d/m"))

    def missed_label(self, days: int) -> str:
        return self.shared(("missed_label", days), lambda: ngettext(
            "%(days)s day missed", "%(days)s days missed", days) % {"days": days})

    def cancelled(self, count: int) -> str:
        return self.shared(("cancelled", count), lambda: ngettext(
            "%(n)s cancelled entry", "%(n)s cancelled entries", count) % {"n": count})

    def query(self, part: str, action: str | None = None) -> str:
        """The query string of the links of a row (the part, the action, back here)."""
        def compute():
            values = {"part": part, "action": action, "next": self.next}
            if action is None:
                del values["action"]
            return urlencode(values)
        return self.shared(("query", part, action), compute)

    # --- the rows ----------------------------------------------------------------------------

    def row(self, state: DoseState) -> "Row":
        """What one row shows: its values and its cells, made ready for the template."""
        rx, patient = state.prescription, state.patient
        thumbnail, facts = self.identity.of_patient(patient)
        return Row(
            pk=rx.pk, desk_state=state.desk_state, alias=patient.alias,
            file_number=patient.file_number,
            filter_text=f"{patient.alias.lower()} {patient.file_number.lower()}",
            patient_url=self.patient_url(patient.pk),
            thumbnail=thumbnail, facts=facts, alerts=self.alerts(state),
            prescription=self.prescription(rx), instructions=rx.instructions,
            missed=self.missed(state), parts=self.parts(state),
            closed_days=self.closed_days(state), actions=self.actions(state))

    # --- the cells ---------------------------------------------------------------------------

    def alerts(self, state: DoseState) -> SafeString:
        """The patient's active alerts the viewer reads, under the name."""
        return self.alert_lines(state.alerts, self.alert_kinds) if state.alerts else ""

    def prescription(self, rx) -> Markup:
        """Product, daily dose, split, take-home days (instructions apart: free text)."""
        product = self.cached(("product", rx.product_id), lambda: str(rx.product))
        return self.shared(
            ("prescription", product, rx.product.unit, rx.daily_dose, rx.evening_dose,
             tuple(rx.take_home_weekdays)),
            lambda: self.cells.prescription(
                product, self.amount(rx.daily_dose), rx.product.unit,
                self.split % {"morning": self.amount(rx.morning_dose),
                              "evening": self.amount(rx.evening_dose)} if rx.is_split else "",
                rx.take_home_label() if rx.take_home_weekdays else "", self.text))

    def missed(self, state: DoseState) -> Markup:
        days = state.missed_days
        return self.shared(("missed", days, state.is_held, state.reviewed_today),
                           lambda: self._missed(state))

    def _missed(self, state: DoseState) -> Markup:
        days = state.missed_days
        if state.strong_warning:
            level = "strong"
        elif state.missed_enough_to_hold:
            level = "hold"
        else:
            level = "warn" if days else ""
        return self.cells.missed(days, level, self.missed_label(days), state.is_held,
                                 state.missed_enough_to_hold and state.reviewed_today,
                                 self.text)

    def parts(self, state: DoseState) -> Markup:
        rx = state.prescription
        unit, split = rx.product.unit, rx.is_split
        html = []
        for part in state.parts:
            if part.state == "due" and not part.cancelled and not part.is_top_up:
                # most rows: the same few cells
                html.append(self.shared(("due", part.part, part.label, part.dose, unit, split),
                                        lambda part=part: self._part(rx, part, unit, split)))
            else:
                html.append(self._part(rx, part, unit, split))
        withheld = state.intoxication_withheld
        if withheld is not None or state.handed_today:
            html.append(self.cells.after_parts(
                self.withheld_at % {"time": _time(withheld.dispensed_at)} if withheld else "",
                ", ".join(self._handed(entry, split) for entry in state.handed_today),
                self.text))
        # Markup's own join escapes each item again (a copy each): the items are safe.
        return Markup("".join(html))

    def _handed(self, entry, split: bool) -> str:
        """A take-home dose handed today: its day, and its part for a split dose."""
        day = self.day(entry.dose_date)
        return f"{day} ({entry.get_part_display()})" if split else day

    def _part(self, rx, part, unit: str, split: bool) -> Markup:
        entry, state = part.shown, part.state
        amount = detail = top_up = ""
        if state == "given":
            amount = self.amount(entry.quantity)
            detail = self.at_by % {"time": _time(entry.dispensed_at),
                                   "who": entry.dispensed_by or "—"}
        elif state == "taken_home":
            detail = self.handed % {"date": self.day(entry.date)}
        elif state == "withheld":
            detail = f"{entry.get_withheld_reason_display()} {_time(entry.dispensed_at)}"
            if entry.observations:
                detail += f" — {entry.observations}"
        else:
            amount = self.amount(part.dose)
            if part.is_top_up:  # a same-day change of dose: what was given counts
                top_up = self.top_up % {"given": self.amount(part.given_before), "unit": unit,
                                        "daily": self.amount(rx.daily_dose)}
        return self.cells.part(part.part, state, part.label if split else "", amount, unit,
                               detail, top_up,
                               self.cancelled(len(part.cancelled)) if part.cancelled else "",
                               self.text)

    def closed_days(self, state: DoseState) -> Markup | str:
        """The days the centre is closed that concern the row: those whose doses go home
        with today's dose, and those a doctor must plan (mass.sites.selectors.site_calendar).
        The eve of a closure every row has the same few: made once a page each."""
        if not state.closed_ahead:
            return ""
        taken_home, to_plan = state.closed_days_taken_home, state.closed_days_to_plan
        notes = state.closed_day_notes
        return self.cached(
            ("closed_days", tuple(taken_home), tuple(to_plan), tuple(notes)),
            lambda: self.cells.closed_days(self._closed_days(taken_home),
                                           self._closed_days(to_plan), notes, self.text))

    def _closed_days(self, closed_days) -> str:
        return ", ".join(f"{self.day(closed.day)} ({closed.reason})" for closed in closed_days)

    def actions(self, state: DoseState) -> Markup | str:
        """The buttons of a row. They differ from row to row only by the prescription's id,
        so they are made once a page for each kind of row, with ``_PK`` where the id goes."""
        part = state.next_part()
        if state.doctor_first is not None and part is not None:
            return self._doctor_first(state, part)
        if state.desk_state == "held":
            key = ("held", part.part)
        elif part is None:
            return ""
        elif state.intoxication_withheld is not None:
            key = ("reassess", part.part)
        else:
            key = ("give", part.part, part.label, part.dose, state.prescription.product.unit,
                   len(state.take_home_to_hand))
        pieces = self.cached(("pieces", key), lambda: str(self.shared(
            key, lambda: self._actions(state, part))).replace(_CSRF, self.csrf).split(_PK))
        return Markup(str(state.prescription.pk).join(pieces))

    def _actions(self, state: DoseState, part) -> Markup:
        dispense_url = self.dispense_url(_PK)
        if state.desk_state == "held":
            review_url = (f"{self.review_url(_PK)}?{urlencode({'next': self.next})}"
                          if self.can_review else "")
            return self.cells.held(review_url, dispense_url, self.query(part.part, "withhold"),
                                   self.text)
        if state.intoxication_withheld is not None:
            # No one-click give after a dose withheld for intoxication: the form asks the
            # question again (and hands no take-home dose).
            return self.cells.reassess(_PK, part.part, dispense_url, self.query(part.part),
                                       self.text)
        unit, days = state.prescription.product.unit, len(state.take_home_to_hand)
        label = self.give % {"dose": self.amount(part.dose), "unit": unit, "part": part.label}
        if days:
            label += " " + ngettext("+ %(days)s take-home day", "+ %(days)s take-home days",
                                    days) % {"days": days}
        return self.cells.give(_PK, part.part, label, dispense_url, self.query(part.part),
                               _CSRF, self.next, self.hx, self.text)

    def _doctor_first(self, state: DoseState, part) -> Markup:
        """An active "doctor before any dose" alert: no dose offered (dispensary.services
        refuses it too); a doctor is sent to the patient's alerts to end it after seeing
        them."""
        alerts_url = self.alerts_url(state.patient.pk) if self.ends_doctor_first else ""
        return self.cells.doctor_first(alerts_url, self.dispense_url(state.prescription.pk),
                                       self.query(part.part, "withhold"), self.text)


def dispensing_rows(request, states, *, message=None, level="info") -> SafeString:
    """The rows of ``states`` (all the list's, or the one an htmx action replaces), with
    ``message`` under the parts."""
    page = DispensingPage(request)
    # A generator: each row's values live only while the template writes that row.
    return render("dispensary/rows.html", rows=(page.row(state) for state in states),
                  message=message, level=level)
