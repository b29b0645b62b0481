"""The repeated rows of the reception desk, rendered by templates/jinja2/patients/ (mass/rows.py):
the board's walk-ins, the desk's search results with their purpose buttons, the patient
search's results and the harm-reduction form's inputs. The Django pages call them through the
tags of patients/templatetags/reception_rows.py.

The board is reloaded after every arrival and its search answers every pause in typing: with
Django's template engine these rows cost more than the rest of the page (about 4 µs a
variable, some 600 of them). Here each list is one Jinja2 loop (autoescaped); what repeats
from row to row (translated sentences, URL patterns, the purpose buttons) is made once per
page, and a row is an object of ready values. Nothing here writes HTML.
"""


from django.urls import reverse
from django.utils import formats
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from markupsafe import Markup

from alerts.rows import AlertLines
from mass.corrections import may_cancel
from mass.rows import Row, macros, render, url_with_pk
from patients.identity import Identity
from patients.models import Patient


def _statuses() -> dict[str, str]:
    """The statuses' labels, translated once a page (``get_status_display()`` looks them up
    again for every row)."""
    return {value: str(label) for value, label in Patient.Status.choices}


def _shown(value) -> str:
    """What ``{{ value }}`` shows in a Django template: a number or a date localized."""
    return value if isinstance(value, str) else str(formats.localize(value))


# --- the board's walk-ins ---------------------------------------------------------------------


def visit_rows(visits, *, can_consult=False, show_photos=False, alerts=None,
               user=None) -> SafeString:
    """The board's walk-ins (selectors.BoardVisit); for clinicians (``can_consult``), a link
    to record a consultation with the person. Who is who: the photo (``show_photos``: the
    user may see them), or birth year, sex, last visit (patients.identity), and the person's
    alerts the user reads (``alerts``: patient id -> alerts). A cancelled walk-in is struck
    through with who cancelled it, when and why; the others offer ``user`` to cancel those
    they may (mass.corrections)."""
    identity = Identity(show_photos=show_photos)
    lines, alerts = AlertLines(), alerts or {}
    patient_url = url_with_pk("patients:detail")
    cancel_url = url_with_pk("patients:visit_cancel")
    back = "?next=" + reverse("reception:board")
    cancelled_note = _("cancelled: %(reason)s — %(who)s, %(when)s")
    overseer = user is not None and may_cancel(user, author_id=None)
    consult_url = reverse("consultations:create") + "?patient=" if can_consult else ""

    def row(visit) -> Row:
        birth_year, sex, note, has_photo, last_visit = visit.identity
        if visit.cancelled:
            cancelled = cancelled_note % {
                "reason": visit.cancelled["reason"], "who": visit.cancelled["by"],
                "when": formats.date_format(visit.cancelled["at"], "SHORT_DATETIME_FORMAT")}
            cancel = ""
        else:
            cancelled = ""
            cancel = (cancel_url(visit.visit_id) + back
                      if user is not None and (overseer or visit.logged_by_id == user.pk)
                      else "")
        return Row(
            patient_url=patient_url(visit.patient_id), alias=visit.alias,
            file_number=visit.file_number, time=visit.time, purpose=visit.purpose_label,
            site=visit.site, logged_by=visit.logged_by, cancelled=cancelled, cancel_url=cancel,
            consult_url=f"{consult_url}{visit.patient_id}" if consult_url else "",
            thumbnail=identity.photo(visit.patient_id, visit.alias, has_photo),
            facts=identity.facts(has_photo=has_photo, birth_year=birth_year, sex=sex,
                                 last_visit=last_visit, note=note),
            alerts=lines(alerts[visit.patient_id]) if visit.patient_id in alerts else "")

    return render("patients/visit_rows.html", rows=[row(visit) for visit in visits],
                  text=Row(cancel=_("Cancel…"), consult=_("Consultation")))


# --- the harm-reduction form ------------------------------------------------------------------


def material_input_rows(rows) -> SafeString:
    """The harm-reduction form's table rows (HarmReductionForm.rows()): per material, the
    quantity handed out and returned, with their errors."""
    # Labels as text once (escaping a lazy translation goes through its proxy every time);
    # the errors' loop only where there are some.
    return render("patients/material_rows.html", rows=[
        Row(label=str(label), inputs=[
            Row(html_name=field["html_name"], auto_id=field["auto_id"],
                value="" if field["value"] is None else _shown(field["value"]),
                label=field["label"], errors=field["errors"])
            for field in fields])
        for label, fields in rows])


# --- the search results -----------------------------------------------------------------------


class _PurposeButtons:
    """The purpose buttons of the desk's search, numbered for the keyboard; the button of
    what the person usually comes for (``usual``: selectors.UsualPurposes) is the
    highlighted one, which Enter presses (static/js/app.js). The numbers stay in the same
    order for everyone, so that a digit always means one purpose. Made once a page for
    each usual purpose, shared by the rows."""

    def __init__(self, purposes, usual):
        self.purposes, self.usual = purposes, usual
        self.first = purposes[0][0] if purposes else ""
        self.usually = _("usually")  # said to screen readers on the highlighted button
        self.macro = macros("patients/purpose_buttons.html").buttons
        self.made: dict[str, Markup] = {}

    def __call__(self, patient_id: int) -> Markup:
        default = self.usual.of(patient_id) if self.usual is not None else self.first
        if default not in self.made:
            self.made[default] = self.macro(self.purposes, default, self.usually)
        return self.made[default]


class _EpisodeMarks:
    """What the desk should know of a person's latest episode before logging the arrival
    (``episodes``: selectors.patients_desk_episodes): it has ended (a treatment request
    would open a resumption), or its TDI questionnaire is due. Nothing for a running episode
    with its questionnaire, or no episode."""

    def __init__(self, episodes):
        self.episodes = episodes or {}
        self.ended = _("Episode ended %(date)s")
        self.ended_by_rule = _("Episode ended %(date)s by the 6-month rule")
        self.dates: dict = {}  # formatted once a page: many episodes ended the same day

    def ended_on(self, patient_id: int) -> str:
        episode = self.episodes.get(patient_id)
        if episode is None or episode.ended_on is None:
            return ""
        day = episode.ended_on
        if day not in self.dates:
            self.dates[day] = formats.date_format(day, "SHORT_DATE_FORMAT")
        return (self.ended_by_rule if episode.ended_by_rule else self.ended) % {
            "date": self.dates[day]}

    def tdi_due(self, patient_id: int) -> bool:
        episode = self.episodes.get(patient_id)
        return episode is not None and episode.ended_on is None and not episode.tdi_filled


def arrival_rows(results, purposes, *, csrf_token=None, episodes=None, show_photos=False,
                 alerts=None, usual=None) -> SafeString:
    """The reception search's results (Patient, with merged_into): who it is, and for each
    person who may arrive, a button per purpose that logs it (:class:`_PurposeButtons`);
    the marks of the latest episode (:class:`_EpisodeMarks`), the file a merged one went
    into."""
    patient_url = url_with_pk("patients:detail")
    buttons, marks = _PurposeButtons(purposes, usual), _EpisodeMarks(episodes)
    merged_into, statuses = _("merged into %(file)s"), _statuses()
    identity = Identity(show_photos=show_photos)
    lines, alerts = AlertLines(), alerts or {}
    rows = []
    for patient in results:
        thumbnail, facts = identity.of_patient(patient)
        kept = patient.merged_into
        arrives = not kept and patient.status in ("active", "inactive")
        rows.append(Row(
            pk=patient.pk, patient_url=patient_url(patient.pk), alias=patient.alias,
            file_number=patient.file_number, last_name=patient.last_name,
            first_name=patient.first_name,
            year=_shown(patient.birth_year) if patient.birth_year else "",
            status=statuses.get(patient.status, patient.status)
            if patient.status != "active" else "",
            episode_ended=marks.ended_on(patient.pk) if not kept else "",
            tdi_due=not kept and marks.tdi_due(patient.pk),
            thumbnail=thumbnail, facts=facts,
            alerts=lines(alerts[patient.pk]) if patient.pk in alerts else "",
            merged_url=patient_url(kept.pk) if kept else "",
            merged=merged_into % {"file": kept.file_number} if kept else "",
            arrives=arrives, buttons=buttons(patient.pk) if arrives else ""))
    csrf_token = str(csrf_token) if csrf_token and csrf_token != "NOTPROVIDED" else ""
    return render("patients/arrival_rows.html", rows=rows,
                  arrival_url=reverse("reception:arrival"), csrf_token=csrf_token,
                  text=Row(tdi_due=_("TDI questionnaire due")))


def search_rows(results, *, show_photos=False) -> SafeString:
    """The patient search's results (Patient, with merged_into, has_photo, last_visit), one
    table row each."""
    patient_url = url_with_pk("patients:detail")
    merged_into, statuses = _("merged into %(file)s"), _statuses()
    identity = Identity(show_photos=show_photos)
    rows = []
    for patient in results:
        thumbnail, facts = identity.of_patient(patient)
        rows.append(Row(
            patient_url=patient_url(patient.pk), alias=patient.alias,
            file_number=patient.file_number, last_name=patient.last_name,
            first_name=patient.first_name,
            year=_shown(patient.birth_year) if patient.birth_year else "",
            status=merged_into % {"file": patient.merged_into.file_number}
            if patient.merged_into else statuses.get(patient.status, patient.status),
            thumbnail=thumbnail, facts=facts))
    return render("patients/search_rows.html", rows=rows)
