"""Explainability: for each figure, the list of what it counts, so that a questioned number
can be checked by hand (e.g. the 162 new requests, one row each).

Each list is computed by the same SQL as its figure (the same contact sources, the same
episode rule; the statements are in reporting/sql.py, next to the figures') and paged by the
database: one count and one page query. This module says what each list shows.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import F, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from reporting import sql
from reporting.catalogue import CHECK_LISTS, FIGURES, Figure
from reporting.sql import year_bounds


@dataclass(frozen=True)
class Column:
    key: str
    label: object
    kind: str = "text"  # text, number, date, patient, routes, discipline, income, link


@dataclass
class Explanation:
    key: str
    figure: Figure
    columns: list[Column]
    rows: object  # an sql.SqlListing or a values() QuerySet: rows are dicts
    filters_used: list[str] = field(default_factory=list)
    #: For a row's drill-down link: (explain key, filter name, row key of the value).
    drill: tuple[str, str, str] | None = None


PATIENT = Column("patient", _("Patient"), "patient")


def _today() -> datetime.date:
    """The day as of which the 6-month rule is applied (``sql.episode_end_sql``)."""
    from django.utils import timezone
    return timezone.localdate()


@dataclass
class Filters:
    """The drill-down of a list: a month, an ISO week, a day, a discipline, an income source."""

    month: int | None = None
    week: datetime.date | None = None  # its Monday
    day: datetime.date | None = None
    discipline: str = ""
    source: str = ""

    def range(self, year: int) -> tuple[datetime.date, datetime.date]:
        """The days of the year the list is narrowed to."""
        start, end = year_bounds(year)
        if self.month:
            start = max(start, datetime.date(year, self.month, 1))
            following = (datetime.date(year + 1, 1, 1) if self.month == 12
                         else datetime.date(year, self.month + 1, 1))
            end = min(end, following - datetime.timedelta(days=1))
        if self.week:
            start = max(start, self.week)
            end = min(end, self.week + datetime.timedelta(days=6))
        if self.day:
            start, end = max(start, self.day), min(end, self.day)
        return start, end

    def used(self) -> list[str]:
        return [name for name in ("month", "week", "day", "discipline", "source")
                if getattr(self, name)]


# --- one builder per list -------------------------------------------------------------------


def _active_patients(year, filters):
    start, end = filters.range(year)
    return sql.active_patients_listing(start=start, end=end), [
        PATIENT, Column("days", _("Contact days"), "number"),
        Column("first_contact", _("First contact"), "date"),
        Column("last_contact", _("Last contact"), "date")]


def _months(year, filters):
    return sql.months_listing(year=year), [
        Column("month", _("Month"), "month"), Column("patients", _("Active patients"), "link"),
        Column("activity_days", _("Activity days"), "number"),
        Column("contacts", _("Patient contacts"), "number")]


def _weeks(year, filters):
    return sql.weeks_listing(year=year), [
        Column("iso_week", _("ISO week")), Column("first_day", _("First activity day"), "date"),
        Column("last_day", _("Last activity day"), "date"),
        Column("activity_days", _("Activity days"), "number"),
        Column("patients", _("Active patients"), "link")]


def _days(year, filters):
    start, end = filters.range(year)
    return sql.days_listing(start=start, end=end), [
        Column("day", _("Day"), "date"), Column("patients", _("Distinct patients"), "link"),
        Column("consultations", _("Consultations"), "number")]


def _contact_pairs(year, filters):
    start, end = filters.range(year)
    return sql.contact_pairs_listing(start=start, end=end), [
        Column("day", _("Day"), "date"), PATIENT, Column("routes", _("Recorded as"), "routes")]


def _consultations(year, filters) -> tuple[QuerySet, list]:
    from consultations.models import Consultation
    start, end = filters.range(year)
    rows = Consultation.objects.filter(date__range=(start, end))
    if filters.discipline:
        rows = rows.filter(discipline=filters.discipline)
    rows = rows.order_by("date", "time", "id").values(
        "id", "date", "time", "patient_id", "discipline", "form",
        file_number=F("patient__file_number"), alias=F("patient__alias"),
        site_name=F("site__name"))
    return rows, [Column("date", _("Day"), "date"), Column("time", _("Time"), "time"),
                  PATIENT, Column("discipline", _("Discipline"), "discipline"),
                  Column("form", _("Form"), "form"), Column("site_name", _("Site"))]


def _episodes(new: bool):
    def build(year, filters):
        start, end = filters.range(year)
        return sql.episodes_listing(start=start, end=end, new=new, today=_today()), [
            Column("opened_on", _("Opened on"), "date"), PATIENT,
            Column("previous_opened_on", _("Previous episode opened on"), "date"),
            Column("kind", _("Kind recorded at opening"), "kind"),
            Column("closed_on", _("Ended on (6-month rule applied)"), "date")]
    return build


def _in_treatment(year, filters):
    return sql.in_treatment_listing(year=year, today=_today()), [
        PATIENT, Column("episodes", _("Episodes overlapping the year"), "number"),
        Column("opened_on", _("Opened on"), "date"),
        Column("closed_on", _("Ended on (empty: runs; 6-month rule applied)"), "date")]


def _income(year, filters):
    return sql.income_listing(year=year, source=filters.source, today=_today()), [
        PATIENT, Column("source", _("Income source"), "income"),
        Column("since", _("Recorded as of"), "date")]


def _dispensations(year, filters, *, doses_visible: bool = False):
    """``doses_visible``: the reader may see what a patient is given (the dispensary's rule,
    ``dispensary.selectors.can_see_dispensing``); otherwise product and quantity are not even
    read, and the list shows who came for a dose on which day, as the figure counts."""
    from dispensary.selectors import dispensations_in_year
    start, end = filters.range(year)
    fields = ["id", "date", "dose_date", "patient_id"]
    names = {"file_number": F("patient__file_number"), "alias": F("patient__alias")}
    if doses_visible:
        fields.append("quantity")
        names["product_name"] = F("product__name")
    rows = (dispensations_in_year(year).filter(date__range=(start, end))
            .order_by("date", "dispensed_at", "id").values(*fields, **names))
    columns = [Column("date", _("Day"), "date"), PATIENT]
    if doses_visible:
        columns += [Column("product_name", _("Product")),
                    Column("quantity", _("Quantity"), "number")]
    return rows, [*columns, Column("dose_date", _("Dose for"), "date")]


def _on_substitution(year, filters):
    from dispensary.selectors import patients_on_substitution
    rows = (patients_on_substitution(year).order_by("alias", "id")
            .values("file_number", "alias", patient_id=F("id")))
    return rows, [PATIENT]


def _group_attendances(year, filters):
    from consultations.models import GroupAttendance
    start, end = filters.range(year)
    rows = (GroupAttendance.objects.standing()
            .filter(session__date__range=(start, end), patient__merged_into__isnull=True)
            .order_by("session__date", "session_id", "patient__alias", "id")
            .values("patient_id", date=F("session__date"),
                    group_kind=F("session__kind"), theme=F("session__theme"),
                    file_number=F("patient__file_number"),
                    alias=F("patient__alias")))
    return rows, [Column("date", _("Day"), "date"), Column("group_kind", _("Group"), "group"),
                  Column("theme", _("Theme")), PATIENT]


def _harm_reduction(year, filters):
    start, end = filters.range(year)
    return sql.harm_reduction_listing(start=start, end=end), [
        Column("day", _("Day"), "date"), Column("site_name", _("Site")), PATIENT,
        Column("material", _("Material (handed out / returned)"), "material"),
        Column("handed_out", _("Handed out"), "number"),
        Column("returned", _("Returned"), "number")]


def _in_treatment_without_contact(year, filters):
    """A consistency check (``reporting.declaring``): in treatment, yet no contact."""
    return sql.in_treatment_without_contact_listing(year=year, today=_today()), [
        PATIENT, Column("opened_on", _("Opened on"), "date"),
        Column("last_contact", _("Last contact in the episode"), "date")]


def _contacts_after_death(year, filters):
    """A consistency check (``reporting.declaring``): contacts after the closure of an
    episode for death."""
    start, end = filters.range(year)
    return sql.contacts_after_death_listing(start=start, end=end), [
        Column("day", _("Day"), "date"), PATIENT, Column("routes", _("Recorded as"), "routes"),
        Column("died_on", _("Episode closed for death on"), "date")]


#: figure key -> (builder, the filters it accepts, drill-down of a row)
EXPLANATIONS = {
    "annual_active_patients": (_active_patients, ("month", "week", "day"), None),
    "monthly_active_patients_avg": (_months, (), ("annual_active_patients", "month", "month")),
    "weekly_active_patients_avg": (_weeks, (), ("annual_active_patients", "week", "week")),
    "daily_distinct_patients_avg": (_days, ("month",), ("patient_contacts", "day", "day")),
    "daily_consultations_avg": (_days, ("month",), ("patient_contacts", "day", "day")),
    "activity_days": (_days, ("month",), ("patient_contacts", "day", "day")),
    "patient_contacts": (_contact_pairs, ("month", "week", "day"), None),
    "consultations": (_consultations, ("month", "day", "discipline"), None),
    "new_requests": (_episodes(new=True), ("month",), None),
    "resumption_requests": (_episodes(new=False), ("month",), None),
    "patients_in_treatment": (_in_treatment, (), None),
    "income_in_treatment": (_income, ("source",), None),
    "dispensations": (_dispensations, ("month", "day"), None),
    "patients_on_substitution": (_on_substitution, (), None),
    "group_attendances": (_group_attendances, ("month", "day"), None),
    "harm_reduction_contacts": (_harm_reduction, ("month", "day"), None),
    "harm_reduction_items_handed_out": (_harm_reduction, ("month", "day"), None),
    "harm_reduction_items_returned": (_harm_reduction, ("month", "day"), None),
    # the lists of two consistency checks (catalogue.CHECK_LISTS)
    "in_treatment_without_contact": (_in_treatment_without_contact, (), None),
    "contacts_after_death": (_contacts_after_death, ("month",), None),
}


def explanation(*, year: int, key: str, filters: Filters, user) -> Explanation:
    """The list behind figure ``key`` of ``year``, as ``user`` may read it; 404 for an
    unknown figure."""
    from dispensary.selectors import can_see_dispensing

    if key not in EXPLANATIONS:
        raise Http404
    builder, accepted, drill = EXPLANATIONS[key]
    narrowed = Filters(**{name: getattr(filters, name) for name in accepted})
    # The coordinators read the figures, not the doses: the dispensary's own read rule decides
    # who sees what each patient was given, here as on the dispensary's pages.
    options = {"doses_visible": can_see_dispensing(user)} if builder is _dispensations else {}
    rows, columns = builder(year, narrowed, **options)
    figure = FIGURES.get(key) or CHECK_LISTS[key]
    return Explanation(key=key, figure=figure, columns=columns, rows=rows,
                       filters_used=narrowed.used(), drill=drill)
