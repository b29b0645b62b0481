"""The SQL of the yearly figures (docs/domain.md, "Definitions (binding)").

Everything is counted by PostgreSQL. The contacts of a year are the UNION of the (patient,
date) querysets that the apps publish as ``<app>.selectors.contact_day_querysets()``; their SQL
is taken from Django and wrapped here, so that a change of what an app counts as a contact
(e.g. a cancelled entry) is made once, in that app, and reaches every figure, export and
explanation list.

Table names come from the models' ``_meta`` rather than being typed, so that the SQL follows
the models.
"""

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import F, QuerySet
from django.utils import timezone

from mass.hooks import app_function

#: The apps whose records are contacts, in the order of docs/domain.md.
CONTACT_APPS = ("patients", "consultations", "dispensary")

#: Age groups of the breakdown by age (age reached in the year): (label, lowest, highest).
AGE_GROUPS = [("<25", None, 24), ("25-34", 25, 34), ("35-44", 35, 44), ("45-54", 45, 54),
              ("55+", 55, None)]


def year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def table(label: str) -> str:
    """The quoted table name of a model (``"patients.Episode"``)."""
    return connection.ops.quote_name(apps.get_model(label)._meta.db_table)


# --- contacts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactSource:
    """One queryset of (patient_id, date) pairs, e.g. walk-ins, consultations."""

    key: str  # the model's label, e.g. "patients.visit": the "route" of a contact
    label: object
    queryset: QuerySet
    site_path: str | None  # how to reach the site of the record, if it has one


def _site_path(model) -> str | None:
    """``site_id`` for records with a site; ``session__site_id`` for group attendances."""
    for path in ("site", "session__site"):
        current, found = model, True
        for part in path.split("__"):
            try:
                field = current._meta.get_field(part)
            except FieldDoesNotExist:
                found = False
                break
            current = field.related_model
        if found:
            return f"{path}_id"
    return None


def contact_sources() -> tuple[list[ContactSource], list[str]]:
    """The contact querysets of every app, and the apps that publish none (yet)."""
    sources, missing = [], []
    for app in CONTACT_APPS:
        function = app_function(app, "selectors", "contact_day_querysets")
        if function is None:
            missing.append(app)
            continue
        for queryset in function():
            meta = queryset.model._meta
            sources.append(ContactSource(meta.label_lower, meta.verbose_name, queryset,
                                         _site_path(queryset.model)))
    return sources, missing


#: Contact records that name no site because they are only ever made at the centre's own
#: desk: a dispensation is given at the MASS (a prescription for a partner pharmacy is not
#: dispensed here). The breakdown by site counts them at the centre.
AT_THE_CENTRE = frozenset({"dispensary.dispensation"})


def centre_site_sql() -> str:
    """The site of the centre (MASS Woeringen, created by the migrations), as an SQL scalar.
    The MASS has one centre; should a second one dispense, dispensations would need a site of
    their own."""
    return (f"(SELECT min(centre.id) FROM {table('mass.Site')} AS centre "
            f"WHERE centre.kind = 'centre')")


def contacts_union_sql(sources: list[ContactSource], start: datetime.date, end: datetime.date,
                       *, route: bool = False, site: bool = False) -> tuple[str, list]:
    """``SELECT patient_id, date [, route] [, site_id]`` of every contact record dated from
    ``start`` to ``end`` (UNION ALL: one row per record, not yet per (patient, date)).

    ``site_id`` is the record's site; for the records of ``AT_THE_CENTRE``, the centre; NULL
    when none was recorded. Every source is included either way, so that the contacts by site
    are all the contacts.

    Each app's SQL is wrapped in a subquery whose date condition PostgreSQL pushes down to the
    app's own index on the date.
    """
    parts, params = [], []
    for source in sources:
        queryset = source.queryset.order_by()
        site_column = "s.report_site_id"
        if site and source.site_path is not None:
            queryset = queryset.values("patient_id", "date",
                                       report_site_id=F(source.site_path))
        elif site:
            site_column = (centre_site_sql() if source.key in AT_THE_CENTRE
                           else "NULL::bigint")
        inner_sql, inner_params = queryset.query.sql_with_params()
        columns = "s.patient_id, s.date"
        route_params = []
        if route:
            columns += ", %s::text AS route"
            route_params = [source.key]
        if site:
            columns += f", {site_column} AS site_id"
        parts.append(f"SELECT {columns} FROM ({inner_sql}) AS s "
                     f"WHERE s.date BETWEEN %s AND %s")
        params += [*route_params, *inner_params, start, end]
    if not parts:
        columns = "NULL::bigint AS patient_id, NULL::date AS date"
        if route:
            columns += ", NULL::text AS route"
        if site:
            columns += ", NULL::bigint AS site_id"
        return f"SELECT {columns} WHERE false", []
    return "\nUNION ALL\n".join(parts), params


def contacts_cte(sources, start, end, *, route: bool = False) -> tuple[str, list]:
    """``contacts``: one row per (patient, date) pair, with the routes when asked."""
    union_sql, params = contacts_union_sql(sources, start, end, route=route)
    routes = ", array_agg(DISTINCT u.route ORDER BY u.route) AS routes" if route else ""
    return (f"contacts AS MATERIALIZED (SELECT u.patient_id, u.date{routes} "
            f"FROM ({union_sql}) AS u GROUP BY u.patient_id, u.date)", params)


# --- the figures of a year ------------------------------------------------------------------

FIGURE_COLUMNS = [
    "patient_contacts", "annual_active_patients", "activity_days",
    "monthly_active_patients_avg", "weekly_active_patients_avg", "consultations",
    "new_requests", "resumption_requests", "kind_mismatches", "patients_in_treatment",
    "dispensations", "patients_on_substitution", "group_attendances",
    "harm_reduction_contacts", "harm_reduction_items_handed_out",
    "harm_reduction_items_returned",
]


def episode_end_sql(alias: str) -> str:
    """The day an episode ended, with the 6-month rule of docs/domain.md applied as of the
    parameter ``%(today)s`` (NULL while it runs): the SQL of ``Episode.objects.with_end()``'s
    ``ended_on``, for the hand-written queries of the figures and their lists."""
    return (f"CASE WHEN {alias}.lapsed_on IS NOT NULL THEN {alias}.lapsed_on "
            f"WHEN {alias}.closed_on IS NOT NULL THEN {alias}.closed_on "
            f"WHEN patients_six_months_after({alias}.last_contact_on) <= %(today)s "
            f"THEN {alias}.last_contact_on END")


def episode_overlaps_sql(alias: str) -> str:
    """The episode overlaps ``%(start)s``–``%(end)s`` (patients in treatment), its end taken
    from the 6-month rule where that comes first."""
    return (f"{alias}.opened_on <= %(end)s AND coalesce({episode_end_sql(alias)}, "
            f"'infinity'::date) >= %(start)s")


def episode_counted_sql(alias: str) -> str:
    """The episode counts in the figures and their lists: a treatment episode
    (:func:`treatment_episode_sql`) not joined into another one by a merge of two files with
    overlapping episodes (one stay: patients.services.patient_merge; that part alone is
    ``Episode.objects.counted()``)."""
    return f"{alias}.joined_into_id IS NULL AND {treatment_episode_sql(alias)}"


def treatment_episode_sql(alias: str) -> str:
    """The episode is a treatment episode: its current TDI questionnaire (its newest row) does
    not say harm-reduction-only or outreach-only. Those are not treatment episodes for TDI
    (docs/domain.md), so they count nowhere: not as new or resumption requests, not in the
    patients in treatment, not as the earlier episode that makes a later one a resumption —
    exactly as the TDI file leaves them out. An episode without a questionnaire counts."""
    return (f"coalesce((SELECT t.setting FROM {table('reporting.TdiRecord')} AS t "
            f"WHERE t.episode_id = {alias}.id ORDER BY t.id DESC LIMIT 1), 'treatment') "
            f"= 'treatment'")


def _earlier_episode_sql(alias: str) -> str:
    """An earlier treatment episode of the same person (same day: the one recorded first)."""
    return (f"EXISTS (SELECT 1 FROM {table('patients.Episode')} AS prev "
            f"WHERE prev.patient_id = {alias}.patient_id AND {episode_counted_sql('prev')} "
            f"AND (prev.opened_on < {alias}.opened_on"
            f" OR (prev.opened_on = {alias}.opened_on AND prev.id < {alias}.id)))")


def _dispensing_sql(year: int) -> tuple[str, dict]:
    """The dispensary's own definitions (``dispensary.selectors``): doses given in the year,
    not cancelled; patients given a substitution product at least once."""
    try:
        from dispensary.selectors import dispensations_in_year, patients_on_substitution
    except ImportError:
        return ("SELECT NULL::bigint AS dispensations, "
                "NULL::bigint AS patients_on_substitution"), {}
    given_sql, given = embed(dispensations_in_year(year).values("pk"), "d")
    patients_sql, patients = embed(patients_on_substitution(year).values("pk"), "p")
    return (f"SELECT (SELECT count(*) FROM ({given_sql}) AS d) AS dispensations, "
            f"(SELECT count(*) FROM ({patients_sql}) AS p) AS patients_on_substitution",
            {**given, **patients})


def _age_group_sql(age: str) -> str:
    cases = []
    for label, low, high in AGE_GROUPS:
        conditions = []
        if low is not None:
            conditions.append(f"{age} >= {int(low)}")
        if high is not None:
            conditions.append(f"{age} <= {int(high)}")
        cases.append(f"WHEN {' AND '.join(conditions)} THEN '{label}'")
    return f"CASE WHEN {age} IS NULL THEN 'unknown' {' '.join(cases)} END"


def _breakdowns_sql() -> tuple[str, str]:
    """For the page and the spreadsheet: (extra CTEs, extra columns) of the figures query.

    The columns are JSON: active patients and consultations per month, consultations and
    patients per discipline, active patients per sex and per age group (age reached in the
    year, from the birth year or the birth date)."""
    age = "(%(year)s - coalesce(p.birth_year, extract(year FROM p.birth_date)::int))"
    ctes = f""",
year_consultations AS MATERIALIZED (
    SELECT discipline, extract(month FROM date)::int AS month, patient_id
    FROM {table("consultations.Consultation")} WHERE date BETWEEN %(start)s AND %(end)s
),
consulted AS (
    -- Patients per discipline by grouping (discipline, patient) first: a hash, not a sort.
    SELECT 0 AS by_month, discipline, NULL::int AS month, sum(n) AS consultations,
           count(*) AS patients
    FROM (SELECT discipline, patient_id, count(*) AS n FROM year_consultations
          GROUP BY 1, 2) AS per_patient
    GROUP BY discipline
    UNION ALL
    SELECT 1, NULL, month, count(*), NULL FROM year_consultations GROUP BY month
),
people AS (
    SELECT GROUPING(sex) AS by_age, sex, age_group, count(*) AS patients
    FROM (SELECT p.sex, {_age_group_sql(age)} AS age_group
          FROM (SELECT patient_id FROM contacts GROUP BY patient_id) AS active
          JOIN {table("patients.Patient")} AS p ON p.id = active.patient_id) AS a
    GROUP BY GROUPING SETS ((sex), (age_group))
)"""
    columns = """,
    (SELECT json_object_agg(extract(month FROM month)::int, n) FROM active_months)
        AS active_by_month,
    (SELECT json_object_agg(month, consultations) FROM consulted WHERE by_month = 1)
        AS consultations_by_month,
    (SELECT json_agg(json_build_object('discipline', discipline,
                                       'consultations', consultations, 'patients', patients)
                     ORDER BY consultations DESC, discipline)
     FROM consulted WHERE by_month = 0) AS disciplines,
    (SELECT json_object_agg(sex, patients) FROM people WHERE by_age = 0) AS sexes,
    (SELECT json_object_agg(age_group, patients) FROM people WHERE by_age = 1) AS ages"""
    return ctes, columns


def figures_sql(sources, year: int, *, breakdowns: bool = False) -> tuple[str, dict]:
    """One query: every figure of ``year`` but the income distribution (social's selector);
    with ``breakdowns``, also those of the page (see :func:`_breakdowns_sql`)."""
    start, end = year_bounds(year)
    union_sql, named = positional_to_named(*contacts_union_sql(sources, start, end), "u")
    dispensing_sql, dispensing_params = _dispensing_sql(year)
    episode = table("patients.Episode")
    extra_ctes, extra_columns = _breakdowns_sql() if breakdowns else ("", "")
    sql = f"""
WITH contacts AS MATERIALIZED (
    SELECT u.patient_id, u.date FROM ({union_sql}) AS u GROUP BY u.patient_id, u.date
),
-- Distinct counts by grouping first (hash aggregates) rather than count(DISTINCT ...) (sorts).
contact_figures AS (
    SELECT (SELECT count(*) FROM contacts) AS patient_contacts,
           (SELECT count(*) FROM (SELECT patient_id FROM contacts GROUP BY patient_id) AS p)
               AS annual_active_patients,
           (SELECT count(*) FROM (SELECT date FROM contacts GROUP BY date) AS d)
               AS activity_days
),
active_months AS (
    SELECT month, count(*) AS n
    FROM (SELECT date_trunc('month', date::timestamp) AS month, patient_id
          FROM contacts GROUP BY 1, 2) AS pairs
    GROUP BY month
),
monthly AS (
    SELECT coalesce(avg(n), 0)::float8 AS monthly_active_patients_avg FROM active_months
),
weekly AS (
    -- date_trunc('week') is the Monday of the ISO week; only days of the year are in
    -- contacts, so a week straddling the new year counts its days of this year only.
    SELECT coalesce(avg(n), 0)::float8 AS weekly_active_patients_avg
    FROM (SELECT count(*) AS n
          FROM (SELECT date_trunc('week', date::timestamp) AS week, patient_id
                FROM contacts GROUP BY 1, 2) AS pairs
          GROUP BY week) AS w
),
consultation_figures AS (
    SELECT count(*) AS consultations FROM {table("consultations.Consultation")}
    WHERE date BETWEEN %(start)s AND %(end)s
),
episode_figures AS (
    SELECT count(*) FILTER (WHERE NOT e.has_earlier) AS new_requests,
           count(*) FILTER (WHERE e.has_earlier) AS resumption_requests,
           count(*) FILTER (WHERE e.kind <> CASE WHEN e.has_earlier THEN 'resumption'
                                                 ELSE 'new' END) AS kind_mismatches
    FROM (SELECT e.kind, {_earlier_episode_sql("e")} AS has_earlier
          FROM {episode} AS e WHERE e.opened_on BETWEEN %(start)s AND %(end)s
                                    AND {episode_counted_sql("e")}
          OFFSET 0) AS e  -- OFFSET 0: the EXISTS is evaluated once per episode
),
treatment AS (
    SELECT count(DISTINCT e.patient_id) AS patients_in_treatment FROM {episode} AS e
    WHERE {episode_overlaps_sql("e")} AND {episode_counted_sql("e")}
),
dispensing AS ({dispensing_sql}),
groups AS (
    SELECT count(*) AS group_attendances
    FROM {table("consultations.GroupAttendance")} AS a
    JOIN {table("consultations.GroupSession")} AS s ON s.id = a.session_id
    -- an attendance left on a merged file repeats one of its kept file (patients.services)
    JOIN {table("patients.Patient")} AS p ON p.id = a.patient_id AND p.merged_into_id IS NULL
    WHERE s.date BETWEEN %(start)s AND %(end)s
),
harm_reduction AS (
    -- One hand-out at the desk is recorded as one row per kind of material, in one go: the
    -- rows of one contact share day, site, person (or none: anonymous), staff member and the
    -- second they were recorded.
    SELECT count(DISTINCT (date, site_id, patient_id, logged_by_id,
                           date_trunc('second', created_at))) AS harm_reduction_contacts,
           coalesce(sum(handed_out), 0) AS harm_reduction_items_handed_out,
           coalesce(sum(returned), 0) AS harm_reduction_items_returned
    FROM {table("patients.HarmReductionContact")}
    WHERE date BETWEEN %(start)s AND %(end)s
){extra_ctes}
SELECT {", ".join(FIGURE_COLUMNS)}{extra_columns}
FROM contact_figures, monthly, weekly, consultation_figures, episode_figures, treatment,
     dispensing, groups, harm_reduction"""
    return sql, {**named, **dispensing_params, "start": start, "end": end, "year": year,
                 "today": timezone.localdate()}


def fetch_one(sql: str, params) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def fetch_all(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def embed(queryset: QuerySet, prefix: str) -> tuple[str, dict]:
    """The SQL of a queryset, with named parameters, to embed as a subquery."""
    return positional_to_named(*queryset.order_by().query.sql_with_params(), prefix)


def positional_to_named(sql: str, params: list, prefix: str) -> tuple[str, dict]:
    """Rename the ``%s`` placeholders of Django-generated SQL to ``%(prefixN)s`` so that it
    can be embedded in a query that uses named parameters."""
    named = {f"{prefix}{i}": value for i, value in enumerate(params)}
    sql = sql.replace("%%", "%%%%")
    return sql % tuple(f"%({prefix}{i})s" for i in range(len(params))), named
