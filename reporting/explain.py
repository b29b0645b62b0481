"""Explainability: for each figure, the list of what it counts, so that a questioned number
can be checked by hand (e.g. the 162 new requests, one row each).

Each list is computed by the same SQL as its figure (the same contact sources, the same
episode rule) and paged by the database: one count and one page query.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import F, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from reporting import sql
from reporting.catalogue import CHECK_LISTS, FIGURES, Figure
from reporting.sql import table, year_bounds


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
    rows: object  # a SqlListing or a values() QuerySet: rows are dicts
    filters_used: list[str] = field(default_factory=list)
    #: For a row's drill-down link: (explain key, filter name, row key of the value).
    drill: tuple[str, str, str] | None = None


class SqlListing:
    """Rows of an SQL query (named parameters), counted and sliced by PostgreSQL, so that
    ``django.core.paginator.Paginator`` pages it like a queryset."""

    def __init__(self, statement: str, params: dict):
        self.sql, self.params = statement, params

    def count(self) -> int:
        return sql.fetch_one(f"SELECT count(*) AS n FROM ({self.sql}) AS listing",
                                 self.params)["n"]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("SqlListing supports slices only")
        start = key.start or 0
        limit = "" if key.stop is None else f" LIMIT {int(key.stop) - int(start)}"
        return sql.fetch_all(f"{self.sql}{limit} OFFSET {int(start)}", self.params)


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


def _contacts(year: int, filters: Filters, *, route: bool = False) -> tuple[str, dict]:
    sources = sql.contact_sources()
    start, end = filters.range(year)
    union, params = sql.positional_to_named(
        *sql.contacts_union_sql(sources, start, end, route=route), "u")
    routes = ", array_agg(DISTINCT u.route ORDER BY u.route) AS routes" if route else ""
    return (f"contacts AS MATERIALIZED (SELECT u.patient_id, u.date{routes} "
            f"FROM ({union}) AS u GROUP BY u.patient_id, u.date)", params)


def _patient_join(alias: str = "c") -> str:
    return f"JOIN {table('patients.Patient')} AS p ON p.id = {alias}.patient_id"


# --- one builder per list -------------------------------------------------------------------


def _active_patients(year, filters):
    cte, params = _contacts(year, filters)
    statement = f"""WITH {cte}
SELECT c.patient_id, p.file_number, p.alias, count(*) AS days, min(c.date) AS first_contact,
       max(c.date) AS last_contact
FROM contacts AS c {_patient_join()}
GROUP BY c.patient_id, p.file_number, p.alias ORDER BY p.alias, c.patient_id"""
    return SqlListing(statement, params), [
        PATIENT, Column("days", _("Contact days"), "number"),
        Column("first_contact", _("First contact"), "date"),
        Column("last_contact", _("Last contact"), "date")]


def _months(year, filters):
    cte, params = _contacts(year, Filters())
    statement = f"""WITH {cte}
SELECT extract(month FROM date)::int AS month, count(DISTINCT patient_id) AS patients,
       count(DISTINCT date) AS activity_days, count(*) AS contacts
FROM contacts GROUP BY 1 ORDER BY 1"""
    return SqlListing(statement, params), [
        Column("month", _("Month"), "month"), Column("patients", _("Active patients"), "link"),
        Column("activity_days", _("Activity days"), "number"),
        Column("contacts", _("Patient contacts"), "number")]


def _weeks(year, filters):
    cte, params = _contacts(year, Filters())
    statement = f"""WITH {cte}
SELECT date_trunc('week', date::timestamp)::date AS week,
       to_char(date_trunc('week', date::timestamp), 'IYYY-"W"IW') AS iso_week,
       min(date) AS first_day, max(date) AS last_day, count(DISTINCT date) AS activity_days,
       count(DISTINCT patient_id) AS patients
FROM contacts GROUP BY 1, 2 ORDER BY 1"""
    return SqlListing(statement, params), [
        Column("iso_week", _("ISO week")), Column("first_day", _("First activity day"), "date"),
        Column("last_day", _("Last activity day"), "date"),
        Column("activity_days", _("Activity days"), "number"),
        Column("patients", _("Active patients"), "link")]


def _days(year, filters):
    cte, params = _contacts(year, filters)
    statement = f"""WITH {cte},
consulted AS (
    SELECT date, count(*) AS n FROM {table("consultations.Consultation")}
    WHERE date BETWEEN %(start)s AND %(end)s GROUP BY date
)
SELECT c.date AS day, count(*) AS patients, coalesce(k.n, 0) AS consultations
FROM contacts AS c LEFT JOIN consulted AS k ON k.date = c.date
GROUP BY c.date, k.n ORDER BY c.date"""
    start, end = filters.range(year)
    return SqlListing(statement, {**params, "start": start, "end": end}), [
        Column("day", _("Day"), "date"), Column("patients", _("Distinct patients"), "link"),
        Column("consultations", _("Consultations"), "number")]


def _contact_pairs(year, filters):
    cte, params = _contacts(year, filters, route=True)
    statement = f"""WITH {cte}
SELECT c.date AS day, c.patient_id, p.file_number, p.alias, c.routes
FROM contacts AS c {_patient_join()} ORDER BY c.date, p.alias, c.patient_id"""
    return SqlListing(statement, params), [
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
        episode = table("patients.Episode")
        earlier = (f"prev.patient_id = e.patient_id AND {sql.episode_counted_sql('prev')} "
                   "AND (prev.opened_on < e.opened_on "
                   "OR (prev.opened_on = e.opened_on AND prev.id < e.id))")
        statement = f"""
SELECT e.id, e.opened_on, e.patient_id, p.file_number, p.alias, e.kind,
       {sql.episode_end_sql("e")} AS closed_on,
       (SELECT max(prev.opened_on) FROM {episode} AS prev WHERE {earlier})
           AS previous_opened_on
FROM {episode} AS e {_patient_join("e")}
WHERE e.opened_on BETWEEN %(start)s AND %(end)s AND {sql.episode_counted_sql("e")}
  AND {"NOT " if new else ""}EXISTS (SELECT 1 FROM {episode} AS prev WHERE {earlier})
ORDER BY e.opened_on, e.id"""
        return SqlListing(statement, {"start": start, "end": end, "today": _today()}), [
            Column("opened_on", _("Opened on"), "date"), PATIENT,
            Column("previous_opened_on", _("Previous episode opened on"), "date"),
            Column("kind", _("Kind recorded at opening"), "kind"),
            Column("closed_on", _("Ended on (6-month rule applied)"), "date")]
    return build


def _in_treatment(year, filters):
    start, end = year_bounds(year)
    statement = f"""
SELECT e.patient_id, p.file_number, p.alias, count(*) AS episodes,
       min(e.opened_on) AS opened_on,
       CASE WHEN bool_or(e.ended_on IS NULL) THEN NULL ELSE max(e.ended_on) END AS closed_on
FROM (SELECT e.*, {sql.episode_end_sql("e")} AS ended_on
      FROM {table("patients.Episode")} AS e
      WHERE {sql.episode_overlaps_sql("e")} AND {sql.episode_counted_sql("e")}) AS e
     {_patient_join("e")}
GROUP BY e.patient_id, p.file_number, p.alias ORDER BY p.alias, e.patient_id"""
    return SqlListing(statement, {"start": start, "end": end, "today": _today()}), [
        PATIENT, Column("episodes", _("Episodes overlapping the year"), "number"),
        Column("opened_on", _("Opened on"), "date"),
        Column("closed_on", _("Ended on (empty: runs; 6-month rule applied)"), "date")]


def _income(year, filters):
    """The same rule as ``social.selectors.income_distribution``: the latest income record
    on or before 31 December that no later record corrects."""
    start, end = year_bounds(year)
    episode, income = table("patients.Episode"), table("social.IncomeRecord")
    only = "WHERE coalesce(latest.source, 'unknown') = %(source)s" if filters.source else ""
    statement = f"""
WITH cohort AS (
    SELECT DISTINCT e.patient_id AS id FROM {episode} AS e
    WHERE {sql.episode_overlaps_sql("e")} AND {sql.episode_counted_sql("e")}
),
latest AS (
    SELECT DISTINCT ON (r.patient_id) r.patient_id, r.source, r.date
    FROM {income} AS r
    WHERE r.patient_id IN (SELECT id FROM cohort) AND r.date <= %(end)s
      AND NOT EXISTS (SELECT 1 FROM {income} AS c WHERE c.corrects_id = r.id)
    ORDER BY r.patient_id, r.date DESC, r.id DESC
)
SELECT cohort.id AS patient_id, p.file_number, p.alias,
       coalesce(latest.source, 'unknown') AS source, latest.date AS since
FROM cohort JOIN {table("patients.Patient")} AS p ON p.id = cohort.id
LEFT JOIN latest ON latest.patient_id = cohort.id
{only}
ORDER BY p.alias, cohort.id"""
    return SqlListing(statement, {"start": start, "end": end, "source": filters.source,
                            "today": _today()}), [
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
    hr = table("patients.HarmReductionContact")
    statement = f"""
SELECT h.date AS day, s.name AS site_name, h.patient_id, p.file_number, p.alias,
       array_agg(h.material || ':' || h.handed_out || ':' || h.returned ORDER BY h.material)
           AS material,
       sum(h.handed_out) AS handed_out, sum(h.returned) AS returned
FROM {hr} AS h
LEFT JOIN {table("mass.Site")} AS s ON s.id = h.site_id
LEFT JOIN {table("patients.Patient")} AS p ON p.id = h.patient_id
WHERE h.date BETWEEN %(start)s AND %(end)s
  AND NOT EXISTS (SELECT 1 FROM {table("patients.HarmReductionContactCancellation")} AS x
                   WHERE x.contact_id = h.id)
GROUP BY h.date, h.site_id, s.name, h.patient_id, p.file_number, p.alias, h.logged_by_id,
         date_trunc('second', h.created_at)
ORDER BY h.date, min(h.id)"""
    return SqlListing(statement, {"start": start, "end": end}), [
        Column("day", _("Day"), "date"), Column("site_name", _("Site")), PATIENT,
        Column("material", _("Material (handed out / returned)"), "material"),
        Column("handed_out", _("Handed out"), "number"),
        Column("returned", _("Returned"), "number")]


def _in_treatment_without_contact(year, filters):
    """A consistency check (``reporting.declaring``): in treatment, yet no contact."""
    start, end = year_bounds(year)
    cte, params = _contacts(year, Filters())
    statement = f"""WITH {cte}
SELECT e.patient_id, p.file_number, p.alias, min(e.opened_on) AS opened_on,
       max(e.last_contact_on) AS last_contact
FROM {table("patients.Episode")} AS e {_patient_join("e")}
WHERE {sql.episode_overlaps_sql("e")} AND {sql.episode_counted_sql("e")}
  AND NOT EXISTS (SELECT 1 FROM contacts AS k WHERE k.patient_id = e.patient_id)
GROUP BY e.patient_id, p.file_number, p.alias ORDER BY p.alias, e.patient_id"""
    return SqlListing(statement, {**params, "start": start, "end": end, "today": _today()}), [
        PATIENT, Column("opened_on", _("Opened on"), "date"),
        Column("last_contact", _("Last contact in the episode"), "date")]


def _contacts_after_death(year, filters):
    """A consistency check (``reporting.declaring``): contacts after the closure of an
    episode for death."""
    cte, params = _contacts(year, filters, route=True)
    statement = f"""WITH {cte},
{sql.deaths_cte_sql()}
SELECT c.date AS day, c.patient_id, p.file_number, p.alias, c.routes, d.died_on
FROM contacts AS c JOIN deaths AS d ON d.patient_id = c.patient_id {_patient_join()}
WHERE c.date > d.died_on ORDER BY c.date, p.alias, c.patient_id"""
    return SqlListing(statement, params), [
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
