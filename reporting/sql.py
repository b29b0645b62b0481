"""The SQL of the yearly figures (docs/domain.md, "Definitions (binding)").

Everything is counted by PostgreSQL. The contacts of a year are the UNION of the (patient,
date) querysets that the apps register in ``mass.contributions.CONTACT_SOURCES``; their SQL
is taken from Django and wrapped here, so that a change of what an app counts as a contact
(e.g. a cancelled entry) is made once, in that app, and reaches every figure, export and
explanation list.

Table names come from the models' ``_meta`` rather than being typed, so that the SQL follows
the models.

Every hand-written statement of the reporting app is here (docs/style.md, "Where SQL lives"):
the figures, the lists behind them (reporting.explain), the consistency checks, the lock of a
declaration. Why SQL: a year's figures are one statement over the union of every app's
contacts (CTEs, GROUPING, JSON aggregates, per-transaction settings), which the ORM cannot
say; docs/benchmarks.md measures the page against hand-written SQL (0.95x for a year).
"""

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from dispensary.selectors import given_dispensations
from mass.contributions import CONTACT_SOURCES

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


def contact_sources() -> list[ContactSource]:
    """The contact querysets of every app (in the order of docs/domain.md: INSTALLED_APPS)."""
    sources = []
    for querysets in CONTACT_SOURCES:
        for queryset in querysets():
            meta = queryset.model._meta
            sources.append(ContactSource(meta.label_lower, meta.verbose_name, queryset,
                                         _site_path(queryset.model)))
    return sources


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


def episode_overlaps_sql(alias: str, start: str = "%(start)s", end: str = "%(end)s") -> str:
    """The episode overlaps ``start``–``end`` (patients in treatment; SQL expressions, by
    default the parameters ``%(start)s`` and ``%(end)s``), its end taken from the 6-month
    rule where that comes first."""
    return (f"{alias}.opened_on <= {end} AND coalesce({episode_end_sql(alias)}, "
            f"'infinity'::date) >= {start}")


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


def _dispensing_sql(years: list[int]) -> tuple[str, dict]:
    """The dispensary's own definitions (``dispensary.selectors``), one row per year: doses
    given in the year, not cancelled (``dispensations_in_year``); patients given a substitution
    product at least once (``patients_on_substitution``). Both from one read of the given
    doses of the years (``given_dispensations``), grouped by year and patient first."""
    given = given_dispensations().filter(
        date__range=(year_bounds(years[0])[0], year_bounds(years[-1])[1]),
    ).values("patient_id", "date", substitution=F("product__is_substitution"))
    given_sql, params = embed(given, "d")
    return (f"SELECT year, sum(n)::bigint AS dispensations, "
            f"count(*) FILTER (WHERE substitution) AS patients_on_substitution "
            f"FROM (SELECT extract(year FROM d.date)::int AS year, d.patient_id, "
            f"d.substitution, count(*) AS n FROM ({given_sql}) AS d GROUP BY 1, 2, 3) AS p "
            f"GROUP BY year"), params


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

    The columns are JSON: per year, active patients and consultations per month; for the
    year asked only (the page compares the months of both, the rest is for one year),
    consultations and patients per discipline, active patients per sex and per age group
    (age reached in the year, from the birth year or the birth date)."""
    age = "(a.year - coalesce(p.birth_year, extract(year FROM p.birth_date)::int))"
    ctes = f""",
consulted AS (
    -- Patients per discipline by grouping (discipline, patient) first: a hash, not a sort.
    SELECT %(year)s AS year, 0 AS by_month, discipline, NULL::int AS month,
           sum(n) AS consultations, count(*) AS patients
    FROM (SELECT discipline, patient_id, count(*) AS n
          FROM {table("consultations.Consultation")}
          WHERE date BETWEEN %(year_start)s AND %(end)s GROUP BY 1, 2) AS per_patient
    GROUP BY discipline
    UNION ALL
    SELECT year, 1, NULL, month, consultations, NULL FROM consultation_months
),
people AS (
    SELECT %(year)s AS year, GROUPING(sex) AS by_age, sex, age_group, count(*) AS patients
    FROM (SELECT p.sex, {_age_group_sql(age)} AS age_group
          FROM active AS a JOIN {table("patients.Patient")} AS p ON p.id = a.patient_id
          WHERE a.year = %(year)s) AS a
    GROUP BY GROUPING SETS ((sex), (age_group))
)"""
    columns = """,
    (SELECT json_object_agg(extract(month FROM month)::int, n) FROM month_counts AS m
     WHERE m.year = y.year) AS active_by_month,
    (SELECT json_object_agg(month, consultations) FROM consulted AS c
     WHERE c.year = y.year AND by_month = 1) AS consultations_by_month,
    (SELECT json_agg(json_build_object('discipline', discipline,
                                       'consultations', consultations, 'patients', patients)
                     ORDER BY consultations DESC, discipline)
     FROM consulted AS c WHERE c.year = y.year AND by_month = 0) AS disciplines,
    (SELECT json_object_agg(sex, patients ORDER BY array_position(%(sex_order)s, sex::text))
     FROM people AS g WHERE g.year = y.year AND by_age = 0) AS sexes,
    (SELECT json_object_agg(age_group, patients
                            ORDER BY array_position(%(age_order)s, age_group::text))
     FROM people AS g WHERE g.year = y.year AND by_age = 1) AS ages"""
    return ctes, columns


def _breakdown_orders() -> dict[str, list[str]]:
    """The order of the sexes (the model's) and of the age groups (youngest first, then
    unknown) in the breakdowns: the spreadsheet's rows and the page's, the same every time."""
    from patients.models import Patient
    return {"sex_order": list(Patient.Sex.values),
            "age_order": [label for label, _low, _high in AGE_GROUPS] + ["unknown"]}


def contacts_with_site_cte(union_sql: str) -> str:
    """``contacts``: one row per (patient, date) pair with the site it counts under in the
    breakdown by site (see ``reporting.selectors.site_breakdown``): ``site_id`` when the
    records of the day name exactly one site, ``several_sites`` when they name more. min and
    max of the sites in one hash aggregate tell both, without a DISTINCT (a sort)."""
    return f"""contacts AS MATERIALIZED (
    SELECT u.patient_id, u.date,
           CASE WHEN min(u.site_id) = max(u.site_id) THEN min(u.site_id) END AS site_id,
           coalesce(min(u.site_id) <> max(u.site_id), false) AS several_sites
    FROM ({union_sql}) AS u GROUP BY u.patient_id, u.date
)"""


def sites_sql(per_patient: str = "(SELECT site_id, several_sites, patient_id, count(*) AS n "
                                  "FROM contacts GROUP BY 1, 2, 3)") -> str:
    """The breakdown by site: one row per site (or "several sites", or none), with its
    distinct patients and its contacts, in the order of the page. ``per_patient`` gives
    (site_id, several_sites, patient_id, n: contacts), by default from the ``contacts`` of
    :func:`contacts_with_site_cte`."""
    return f"""
SELECT c.site_id, c.several_sites, s.name AS site_name, s.kind AS site_kind,
       count(*) AS patients, sum(c.n)::bigint AS contacts
FROM {per_patient} AS c
LEFT JOIN {table("mass.Site")} AS s ON s.id = c.site_id
GROUP BY c.site_id, c.several_sites, s.name, s.kind
ORDER BY c.site_id IS NULL, c.several_sites DESC, contacts DESC, s.name"""


def check_ctes_sql(start: str = "%(start)s", end: str = "%(end)s") -> str:
    """The CTEs of the consistency checks that read contacts (reporting.declaring):
    ``check_cohort``, the patients in treatment from ``start`` to ``end`` (SQL expressions),
    and ``deaths``, each person's earliest closure for death (the file records no date of
    death)."""
    return f"""check_cohort AS (
    SELECT DISTINCT e.patient_id FROM {table("patients.Episode")} AS e
    WHERE {episode_overlaps_sql("e", start, end)} AND {episode_counted_sql("e")}
),
{deaths_cte_sql()}"""


def deaths_cte_sql() -> str:
    """``deaths``: each person's earliest closure of an episode for death (the file records
    no date of death), for the check "contacts after a death"."""
    return f"""deaths AS (
    SELECT patient_id, min(closed_on) AS died_on FROM {table("patients.Episode")}
    WHERE closure_reason = 'deceased' GROUP BY patient_id
)"""


def figures_sql(sources, year: int, *, breakdowns: bool = False, year_before: bool = False,
                sites: bool = False, checks: bool = False) -> tuple[str, dict]:
    """One query: every figure of ``year`` but the income distribution (social's selector),
    one row with a ``year`` column; with ``year_before``, a second row for the year before
    (the page compares both: the contacts of both years are read and aggregated once); with
    ``breakdowns``, also those of the page (see :func:`_breakdowns_sql`); with ``sites``, a
    ``sites`` column: the breakdown by site of ``year`` (:func:`sites_sql`) as JSON; with
    ``checks``, the two consistency checks of ``year`` that read its contacts
    (``in_treatment_without_contact``, ``contacts_after_death``: reporting.declaring), from
    the contacts this query has read already."""
    years = [year - 1, year] if year_before else [year]
    start, end = year_bounds(years[0])[0], year_bounds(year)[1]
    union_sql, named = positional_to_named(
        *contacts_union_sql(sources, start, end, site=sites), "u")
    dispensing_sql, dispensing_params = _dispensing_sql(years)
    episode = table("patients.Episode")
    extra_ctes, extra_columns = _breakdowns_sql() if breakdowns else ("", "")
    if sites:
        contacts = contacts_with_site_cte(union_sql)
        extra_ctes += f""",
site_rows AS ({sites_sql("(SELECT site_id, several_sites, patient_id, count(*) AS n "
                         "FROM contacts WHERE date >= %(year_start)s GROUP BY 1, 2, 3)")})"""
        extra_columns += """,
    (SELECT json_agg(r ORDER BY r.site_id IS NULL, r.several_sites DESC, r.contacts DESC,
                     r.site_name) FROM site_rows AS r) AS sites"""
    else:
        contacts = (f"contacts AS MATERIALIZED (SELECT u.patient_id, u.date "
                    f"FROM ({union_sql}) AS u GROUP BY u.patient_id, u.date)")
    if checks:
        extra_ctes += ",\n" + check_ctes_sql("%(year_start)s", "%(end)s")
        extra_columns += """,
    (SELECT count(*) FROM check_cohort AS c WHERE NOT EXISTS (
         SELECT 1 FROM active AS a WHERE a.year = %(year)s AND a.patient_id = c.patient_id))
        AS in_treatment_without_contact,
    (SELECT count(*) FROM contacts AS k JOIN deaths AS d ON d.patient_id = k.patient_id
      WHERE k.date >= %(year_start)s AND k.date > d.died_on) AS contacts_after_death"""
    sql = f"""
WITH {contacts},
-- Distinct counts by grouping first (hash aggregates) rather than count(DISTINCT ...) (sorts);
-- each year's figures from the (month, patient) pairs, which carry the patient's contacts.
active_months AS MATERIALIZED (
    SELECT extract(year FROM month)::int AS year, month, patient_id, n
    FROM (SELECT date_trunc('month', date::timestamp) AS month, patient_id, count(*) AS n
          FROM contacts GROUP BY 1, 2) AS pairs
),
active AS MATERIALIZED (
    SELECT year, patient_id, sum(n) AS n FROM active_months GROUP BY year, patient_id
),
contact_figures AS (
    SELECT year, sum(n)::bigint AS patient_contacts, count(*) AS annual_active_patients
    FROM active GROUP BY year
),
days AS (
    SELECT extract(year FROM date)::int AS year, count(*) AS activity_days
    FROM (SELECT date FROM contacts GROUP BY date) AS d GROUP BY 1
),
month_counts AS (
    SELECT year, month, count(*) AS n FROM active_months GROUP BY year, month
),
monthly AS (
    SELECT year, avg(n)::float8 AS monthly_active_patients_avg FROM month_counts
    GROUP BY year
),
weekly AS (
    -- date_trunc('week') is the Monday of the ISO week; a week straddling the new year
    -- counts, in each year, its days of that year only.
    SELECT year, avg(n)::float8 AS weekly_active_patients_avg
    FROM (SELECT year, count(*) AS n
          FROM (SELECT extract(year FROM date)::int AS year,
                       date_trunc('week', date::timestamp) AS week, patient_id
                FROM contacts GROUP BY 1, 2, 3) AS pairs
          GROUP BY year, week) AS w
    GROUP BY year
),
consultation_months AS MATERIALIZED (
    -- Counted per day first: in the order of the index on the date, without a hash.
    SELECT extract(year FROM date)::int AS year, extract(month FROM date)::int AS month,
           sum(n)::bigint AS consultations
    FROM (SELECT date, count(*) AS n FROM {table("consultations.Consultation")}
          WHERE date BETWEEN %(start)s AND %(end)s GROUP BY date) AS per_day
    GROUP BY 1, 2
),
consultation_figures AS (
    SELECT year, sum(consultations)::bigint AS consultations FROM consultation_months
    GROUP BY year
),
episode_figures AS (
    SELECT extract(year FROM e.opened_on)::int AS year,
           count(*) FILTER (WHERE NOT e.has_earlier) AS new_requests,
           count(*) FILTER (WHERE e.has_earlier) AS resumption_requests,
           count(*) FILTER (WHERE e.kind <> CASE WHEN e.has_earlier THEN 'resumption'
                                                 ELSE 'new' END) AS kind_mismatches
    FROM (SELECT e.kind, e.opened_on, {_earlier_episode_sql("e")} AS has_earlier
          FROM {episode} AS e WHERE e.opened_on BETWEEN %(start)s AND %(end)s
                                    AND {episode_counted_sql("e")}
          OFFSET 0) AS e  -- OFFSET 0: the EXISTS is evaluated once per episode
    GROUP BY 1
),
treatment AS (
    SELECT year, count(*) AS patients_in_treatment
    FROM (SELECT y.year, e.patient_id
          FROM unnest(%(years)s::int[]) AS y(year)
          JOIN {episode} AS e ON {episode_overlaps_sql(
              "e", "make_date(y.year, 1, 1)", "make_date(y.year, 12, 31)")}
                              AND {episode_counted_sql("e")}
          GROUP BY 1, 2) AS t
    GROUP BY year
),
dispensing AS ({dispensing_sql}),
groups AS (
    SELECT extract(year FROM s.date)::int AS year, count(*) AS group_attendances
    FROM {table("consultations.GroupAttendance")} AS a
    JOIN {table("consultations.GroupSession")} AS s ON s.id = a.session_id
    -- an attendance left on a merged file repeats one of its kept file (patients.services)
    JOIN {table("patients.Patient")} AS p ON p.id = a.patient_id AND p.merged_into_id IS NULL
    WHERE s.date BETWEEN %(start)s AND %(end)s
      -- a cancelled attendance was a recording mistake (consultations.services)
      AND NOT EXISTS (SELECT 1 FROM {table("consultations.GroupAttendanceCancellation")} AS x
                       WHERE x.attendance_id = a.id)
    GROUP BY 1
),
harm_reduction AS (
    -- One hand-out at the desk is recorded as one row per kind of material, in one go: the
    -- rows of one contact share day, site, person (or none: anonymous), staff member and the
    -- second they were recorded.
    -- Grouped to the contact first (a hash) rather than count(DISTINCT (...)) (a sort).
    SELECT year, count(*) AS harm_reduction_contacts,
           coalesce(sum(handed_out), 0)::bigint AS harm_reduction_items_handed_out,
           coalesce(sum(returned), 0)::bigint AS harm_reduction_items_returned
    FROM (SELECT extract(year FROM date)::int AS year, sum(handed_out) AS handed_out,
                 sum(returned) AS returned
          FROM {table("patients.HarmReductionContact")} AS h
          WHERE date BETWEEN %(start)s AND %(end)s
            -- a cancelled entry was a recording mistake (patients.services)
            AND NOT EXISTS (SELECT 1 FROM {table("patients.HarmReductionContactCancellation")}
                             AS x WHERE x.contact_id = h.id)
          GROUP BY date, site_id, patient_id, logged_by_id, date_trunc('second', created_at)
         ) AS hand_outs
    GROUP BY year
){extra_ctes}
SELECT y.year, {", ".join(f"{_coalesced(c, dispensing_params)} AS {c}" for c in FIGURE_COLUMNS)}
       {extra_columns}
FROM unnest(%(years)s::int[]) AS y(year)
LEFT JOIN contact_figures USING (year) LEFT JOIN days USING (year)
LEFT JOIN monthly USING (year) LEFT JOIN weekly USING (year)
LEFT JOIN consultation_figures USING (year) LEFT JOIN episode_figures USING (year)
LEFT JOIN treatment USING (year) LEFT JOIN dispensing USING (year)
LEFT JOIN groups USING (year) LEFT JOIN harm_reduction USING (year)
ORDER BY y.year DESC"""
    orders = _breakdown_orders() if breakdowns else {}
    return sql, {**named, **dispensing_params, **orders, "start": start, "end": end,
                 "years": years,
                 "year_start": year_bounds(year)[0], "year": year,
                 "today": timezone.localdate()}


def _coalesced(column: str, dispensing_params: dict | None) -> str:
    """A year without any row of a kind counts 0 (the averages too), as a count over no rows
    does; the dispensing figures stay NULL without a dispensary app (no parameters)."""
    if column in ("dispensations", "patients_on_substitution") and not dispensing_params:
        return column
    return f"coalesce({column}, 0)"


#: For the page's query only, set for its transaction (``set_config(..., true)``): its hash
#: aggregates fit in memory rather than spill to disk (PostgreSQL cannot estimate how many
#: contacts the union of the apps' records groups into, and plans for 40,000 where a decade
#: at ten times the seed has 260,000 for two years); and no parallel workers: the union is
#: read in a fraction of the time of its aggregation, which workers would only hand back to
#: the leader to aggregate again (measured on two cores: 1.4 s with workers, 1.0 s without).
PAGE_SETTINGS = {"work_mem": "64MB", "max_parallel_workers_per_gather": "0"}


def fetch_all_with_settings(sql: str, params, settings: dict[str, str]) -> list[dict]:
    """:func:`fetch_all` with PostgreSQL ``settings`` for this query's transaction (one more
    query; inside a transaction already, to its end: no savepoint needed for settings)."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(settings)),
                       [value for item in settings.items() for value in item])
        return fetch_all(sql, params)


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


# --- what the figures' pages read besides the figures ---------------------------------------
#
# SQL: each is built on the contacts' union above, so that it counts what the figures count.


def site_breakdown_rows(*, year: int) -> list[dict]:
    """Distinct patients and contacts per site in ``year`` (reporting.selectors.site_breakdown
    says how a contact is placed). One query."""
    start, end = year_bounds(year)
    union, params = positional_to_named(
        *contacts_union_sql(contact_sources(), start, end, site=True), "u")
    return fetch_all(f"WITH {contacts_with_site_cte(union)}{sites_sql()}", params)


def first_record_day() -> datetime.date | None:
    """The earliest day of an episode's opening or of a contact of any app, None when there
    is none. One query: each source's earliest date is read from its date index."""
    parts, params = [f"(SELECT min(opened_on) FROM {table('patients.Episode')})"], []
    for source in contact_sources():
        statement, source_params = source.queryset.order_by().query.sql_with_params()
        parts.append(f"(SELECT min(s.date) FROM ({statement}) AS s)")
        params += source_params
    return fetch_one(f"SELECT least({', '.join(parts)}) AS first", params)["first"]


def outreach_arrival_rows(*, year: int) -> list[dict]:
    """The people whose first contact ever was on outreach and whose first contact at the
    centre after it falls in ``year`` (reporting.selectors.outreach_arrivals), with the
    days in between, the quickest first. Two queries: the outreach sites, then the contacts
    up to the end of the year (a person's first contact may be years before) of the people
    with a record at one of them, the only ones who can have been met there first.

    The sites' ids are given as values, not as a subquery, so that PostgreSQL sees how few
    records name them and finds them by the site's index; with a subquery it read every
    contact of ten years (2 s at ten times seed 000's volumes, 0.05 s so: docs/benchmarks.md).
    """
    from mass.models import Site

    start, end = year_bounds(year)
    union, params = positional_to_named(
        *contacts_union_sql(contact_sources(), datetime.date(1900, 1, 1), end, site=True), "u")
    outside = list(Site.objects.exclude(kind=Site.Kind.CENTRE).values_list("id", flat=True))
    statement = f"""
WITH met_outside AS (
    SELECT DISTINCT u.patient_id FROM ({union}) AS u WHERE u.site_id = ANY(%(outside)s)
),
c AS MATERIALIZED (
    SELECT u.patient_id, u.date, coalesce(s.kind = %(centre)s, false) AS at_centre,
           coalesce(s.kind <> %(centre)s, false) AS on_outreach
    FROM ({union}) AS u LEFT JOIN {table("mass.Site")} AS s ON s.id = u.site_id
    WHERE u.patient_id = ANY(ARRAY(SELECT patient_id FROM met_outside))
),
first_days AS (
    SELECT patient_id, min(date) AS first_day FROM c GROUP BY patient_id
),
first_on_outreach AS (
    SELECT f.patient_id, f.first_day FROM first_days AS f
    JOIN c ON c.patient_id = f.patient_id AND c.date = f.first_day
    GROUP BY f.patient_id, f.first_day
    HAVING bool_or(c.on_outreach) AND NOT bool_or(c.at_centre)
),
arrivals AS (
    SELECT o.patient_id, o.first_day, min(c.date) AS centre_day
    FROM first_on_outreach AS o
    JOIN c ON c.patient_id = o.patient_id AND c.at_centre AND c.date > o.first_day
    GROUP BY o.patient_id, o.first_day
)
SELECT a.patient_id, p.alias, p.file_number, a.first_day, a.centre_day,
       (a.centre_day - a.first_day) AS days
FROM arrivals AS a JOIN {table("patients.Patient")} AS p ON p.id = a.patient_id
WHERE a.centre_day BETWEEN %(start)s AND %(end)s AND p.merged_into_id IS NULL
ORDER BY days, p.alias, p.id"""
    return fetch_all(statement, {**params, "outside": outside, "centre": Site.Kind.CENTRE,
                                 "start": start, "end": end})


def check_counts(*, year: int, today: datetime.date) -> dict:
    """``in_treatment_without_contact`` (patients in treatment without a contact in the
    year) and ``contacts_after_death`` (contacts dated after the person's death: the
    earliest closure of an episode with reason "deceased", the patient file records no date
    of death), the 6-month rule applied as of ``today``. One query."""
    start, end = year_bounds(year)
    union, params = positional_to_named(
        *contacts_union_sql(contact_sources(), start, end), "u")
    # No contacts CTE grouped by (patient, date): the anti-join reads the records once and
    # stops at a patient's first one; only the contacts of the dead are grouped (half the
    # time of the grouped CTE at ten times seed 000's volumes).
    statement = f"""
WITH {check_ctes_sql()}
SELECT (SELECT count(*) FROM check_cohort AS c WHERE NOT EXISTS (
            SELECT 1 FROM ({union}) AS k WHERE k.patient_id = c.patient_id))
           AS in_treatment_without_contact,
       (SELECT count(*) FROM (SELECT DISTINCT k.patient_id, k.date FROM ({union}) AS k
                              JOIN deaths AS d ON d.patient_id = k.patient_id
                              WHERE k.date > d.died_on) AS after_death)
           AS contacts_after_death"""
    return fetch_one(statement, {**params, "start": start, "end": end, "today": today})


# --- the lists behind the figures (reporting.explain) ---------------------------------------
#
# SQL: each list is computed by the same SQL as its figure (the same contacts' union, the same
# episode rule), so that a questioned number can be checked row by row.


class SqlListing:
    """Rows of an SQL query (named parameters), counted and sliced by PostgreSQL, so that
    ``django.core.paginator.Paginator`` pages it like a queryset."""

    def __init__(self, statement: str, params: dict):
        self.sql, self.params = statement, params

    def count(self) -> int:
        return fetch_one(f"SELECT count(*) AS n FROM ({self.sql}) AS listing",
                         self.params)["n"]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("SqlListing supports slices only")
        start = key.start or 0
        limit = "" if key.stop is None else f" LIMIT {int(key.stop) - int(start)}"
        return fetch_all(f"{self.sql}{limit} OFFSET {int(start)}", self.params)

    def rows_and_count(self, offset: int, limit: int) -> tuple[list[dict], int]:
        """At most ``limit`` rows from ``offset``, and the number of rows in all, in one
        statement: the listing's query is most of the cost, and a Paginator runs it twice
        (the count, then the page). ``([], 0)`` past the last row: count apart then.

        The rows keep the listing's order: PostgreSQL reads the subquery in its order, as
        the window without ORDER BY needs no sort (tests/reporting/test_explain.py compares
        the pages with Paginator's slices)."""
        # A column name with a space: none of the listings' columns can take it.
        rows = fetch_all(f'SELECT listing.*, count(*) OVER () AS "listing count" '
                         f"FROM ({self.sql}) AS listing LIMIT {int(limit)} OFFSET {int(offset)}",
                         self.params)
        count = rows[0]["listing count"] if rows else 0
        for row in rows:
            del row["listing count"]
        return rows, count


class ListingPaginator(Paginator):
    """A Paginator that reads a page of an :class:`SqlListing` and its count in one statement
    (:meth:`SqlListing.rows_and_count`). A page past the end, a page number that is not one,
    and any other object list are paged as Paginator does."""

    def get_page(self, number):
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            wanted = 1
        # PostgreSQL's OFFSET is a bigint: a page beyond it is past the end anyway.
        if (isinstance(self.object_list, SqlListing) and not self.orphans
                and wanted >= 1 and (wanted - 1) * self.per_page < 2**63):
            rows, count = self.object_list.rows_and_count((wanted - 1) * self.per_page,
                                                          self.per_page)
            if rows:
                self.count = count  # Paginator.count is a cached_property: no count query
                return self._get_page(rows, wanted, self)
        return super().get_page(number)


def _contacts_cte(start: datetime.date, end: datetime.date, *, route: bool = False
                  ) -> tuple[str, dict]:
    union, params = positional_to_named(
        *contacts_union_sql(contact_sources(), start, end, route=route), "u")
    routes = ", array_agg(DISTINCT u.route ORDER BY u.route) AS routes" if route else ""
    return (f"contacts AS MATERIALIZED (SELECT u.patient_id, u.date{routes} "
            f"FROM ({union}) AS u GROUP BY u.patient_id, u.date)", params)


def _patient_join(alias: str = "c") -> str:
    return f"JOIN {table('patients.Patient')} AS p ON p.id = {alias}.patient_id"


def active_patients_listing(*, start: datetime.date, end: datetime.date) -> SqlListing:
    """One row per patient with a contact from ``start`` to ``end``."""
    cte, params = _contacts_cte(start, end)
    statement = f"""WITH {cte}
SELECT c.patient_id, p.file_number, p.alias, count(*) AS days, min(c.date) AS first_contact,
       max(c.date) AS last_contact
FROM contacts AS c {_patient_join()}
GROUP BY c.patient_id, p.file_number, p.alias ORDER BY p.alias, c.patient_id"""
    return SqlListing(statement, params)


def months_listing(*, year: int) -> SqlListing:
    """One row per month of ``year`` with a contact."""
    cte, params = _contacts_cte(*year_bounds(year))
    statement = f"""WITH {cte}
SELECT extract(month FROM date)::int AS month, count(DISTINCT patient_id) AS patients,
       count(DISTINCT date) AS activity_days, count(*) AS contacts
FROM contacts GROUP BY 1 ORDER BY 1"""
    return SqlListing(statement, params)


def weeks_listing(*, year: int) -> SqlListing:
    """One row per ISO week with a contact in ``year``."""
    cte, params = _contacts_cte(*year_bounds(year))
    statement = f"""WITH {cte}
SELECT date_trunc('week', date::timestamp)::date AS week,
       to_char(date_trunc('week', date::timestamp), 'IYYY-"W"IW') AS iso_week,
       min(date) AS first_day, max(date) AS last_day, count(DISTINCT date) AS activity_days,
       count(DISTINCT patient_id) AS patients
FROM contacts GROUP BY 1, 2 ORDER BY 1"""
    return SqlListing(statement, params)


def days_listing(*, start: datetime.date, end: datetime.date) -> SqlListing:
    """One row per day with a contact from ``start`` to ``end``, with its consultations."""
    cte, params = _contacts_cte(start, end)
    statement = f"""WITH {cte},
consulted AS (
    SELECT date, count(*) AS n FROM {table("consultations.Consultation")}
    WHERE date BETWEEN %(start)s AND %(end)s GROUP BY date
)
SELECT c.date AS day, count(*) AS patients, coalesce(k.n, 0) AS consultations
FROM contacts AS c LEFT JOIN consulted AS k ON k.date = c.date
GROUP BY c.date, k.n ORDER BY c.date"""
    return SqlListing(statement, {**params, "start": start, "end": end})


def contact_pairs_listing(*, start: datetime.date, end: datetime.date) -> SqlListing:
    """One row per contact (patient and day) from ``start`` to ``end``, with what recorded it."""
    cte, params = _contacts_cte(start, end, route=True)
    statement = f"""WITH {cte}
SELECT c.date AS day, c.patient_id, p.file_number, p.alias, c.routes
FROM contacts AS c {_patient_join()} ORDER BY c.date, p.alias, c.patient_id"""
    return SqlListing(statement, params)


def episodes_listing(*, start: datetime.date, end: datetime.date, new: bool,
                     today: datetime.date) -> SqlListing:
    """The treatment episodes opened from ``start`` to ``end``: new requests (``new``: no
    earlier counted episode of the person) or resumptions, the 6-month rule applied as of
    ``today``."""
    episode = table("patients.Episode")
    earlier = (f"prev.patient_id = e.patient_id AND {episode_counted_sql('prev')} "
               "AND (prev.opened_on < e.opened_on "
               "OR (prev.opened_on = e.opened_on AND prev.id < e.id))")
    statement = f"""
SELECT e.id, e.opened_on, e.patient_id, p.file_number, p.alias, e.kind,
       {episode_end_sql("e")} AS closed_on,
       (SELECT max(prev.opened_on) FROM {episode} AS prev WHERE {earlier})
           AS previous_opened_on
FROM {episode} AS e {_patient_join("e")}
WHERE e.opened_on BETWEEN %(start)s AND %(end)s AND {episode_counted_sql("e")}
  AND {"NOT " if new else ""}EXISTS (SELECT 1 FROM {episode} AS prev WHERE {earlier})
ORDER BY e.opened_on, e.id"""
    return SqlListing(statement, {"start": start, "end": end, "today": today})


def in_treatment_listing(*, year: int, today: datetime.date) -> SqlListing:
    """One row per patient in treatment in ``year`` (the 6-month rule applied as of
    ``today``)."""
    start, end = year_bounds(year)
    statement = f"""
SELECT e.patient_id, p.file_number, p.alias, count(*) AS episodes,
       min(e.opened_on) AS opened_on,
       CASE WHEN bool_or(e.ended_on IS NULL) THEN NULL ELSE max(e.ended_on) END AS closed_on
FROM (SELECT e.*, {episode_end_sql("e")} AS ended_on
      FROM {table("patients.Episode")} AS e
      WHERE {episode_overlaps_sql("e")} AND {episode_counted_sql("e")}) AS e
     {_patient_join("e")}
GROUP BY e.patient_id, p.file_number, p.alias ORDER BY p.alias, e.patient_id"""
    return SqlListing(statement, {"start": start, "end": end, "today": today})


def income_listing(*, year: int, source: str, today: datetime.date) -> SqlListing:
    """The patients in treatment in ``year`` with their income source on 31 December (only
    those under ``source`` when given). The same rule as
    ``social.selectors.income_distribution``: the latest income record on or before 31
    December that no later record corrects."""
    start, end = year_bounds(year)
    episode, income = table("patients.Episode"), table("social.IncomeRecord")
    only = "WHERE coalesce(latest.source, 'unknown') = %(source)s" if source else ""
    statement = f"""
WITH cohort AS (
    SELECT DISTINCT e.patient_id AS id FROM {episode} AS e
    WHERE {episode_overlaps_sql("e")} AND {episode_counted_sql("e")}
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
    return SqlListing(statement, {"start": start, "end": end, "source": source,
                                  "today": today})


def harm_reduction_listing(*, start: datetime.date, end: datetime.date) -> SqlListing:
    """The harm-reduction entries from ``start`` to ``end`` not cancelled, one row per
    entry as the form recorded it (its materials together)."""
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
    return SqlListing(statement, {"start": start, "end": end})


def in_treatment_without_contact_listing(*, year: int, today: datetime.date) -> SqlListing:
    """A consistency check (``reporting.declaring``): in treatment in ``year``, yet no
    contact in it."""
    start, end = year_bounds(year)
    cte, params = _contacts_cte(start, end)
    statement = f"""WITH {cte}
SELECT e.patient_id, p.file_number, p.alias, min(e.opened_on) AS opened_on,
       max(e.last_contact_on) AS last_contact
FROM {table("patients.Episode")} AS e {_patient_join("e")}
WHERE {episode_overlaps_sql("e")} AND {episode_counted_sql("e")}
  AND NOT EXISTS (SELECT 1 FROM contacts AS k WHERE k.patient_id = e.patient_id)
GROUP BY e.patient_id, p.file_number, p.alias ORDER BY p.alias, e.patient_id"""
    return SqlListing(statement, {**params, "start": start, "end": end, "today": today})


def contacts_after_death_listing(*, start: datetime.date, end: datetime.date) -> SqlListing:
    """A consistency check (``reporting.declaring``): contacts from ``start`` to ``end``
    after the closure of an episode for death."""
    cte, params = _contacts_cte(start, end, route=True)
    statement = f"""WITH {cte},
{deaths_cte_sql()}
SELECT c.date AS day, c.patient_id, p.file_number, p.alias, c.routes, d.died_on
FROM contacts AS c JOIN deaths AS d ON d.patient_id = c.patient_id {_patient_join()}
WHERE c.date > d.died_on ORDER BY c.date, p.alias, c.patient_id"""
    return SqlListing(statement, params)


# --- declaring a year -----------------------------------------------------------------------

#: First key of the advisory lock taken while declaring a year (the second is the year).
DECLARE_LOCK = 1106


def year_declare_lock(*, year: int) -> None:
    """Wait for any other declaration of ``year`` to commit, until this transaction ends.
    SQL: an advisory lock is a function call, and there is no row to lock with
    ``select_for_update`` (the first version of a year has no row yet)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [DECLARE_LOCK, year])
