"""Reads of the reporting app: the yearly figures, their breakdowns, the years that have data,
and the TDI questionnaires of episodes.

The figures follow docs/domain.md ("Definitions (binding)") word for word; the SQL is in
:mod:`reporting.sql`. A year's figures take two queries: one for everything counted from
the contacts, episodes, consultations, dispensations, groups and harm-reduction contacts, and
one for the income distribution (``social.selectors.income_distribution``). The page's two
years and its breakdown by site come from one query of the first kind
(:func:`file_active_years`).
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from patients.models import Episode
from reporting import sql
from reporting.models import TdiRecord
from reporting.sql import year_bounds

#: The keys of the ``file_active`` JSON, in order: those of docs/interfaces.md, then the other
#: figures of the issue.
FIGURE_KEYS = [
    "year", "annual_active_patients", "monthly_active_patients_avg",
    "weekly_active_patients_avg", "daily_distinct_patients_avg", "daily_consultations_avg",
    "new_requests", "resumption_requests", "patient_contacts", "consultations",
    "activity_days", "patients_in_treatment", "income_in_treatment",
    "income_in_treatment_counts", "dispensations", "patients_on_substitution", "group_attendances",
    "harm_reduction_contacts", "harm_reduction_items_handed_out",
    "harm_reduction_items_returned",
]

#: The keys every export adds after the figures: the declared version it holds, when it was
#: declared and the snapshot's SHA-256; all null for figures computed from today's records.
VERSION_KEYS = ["declared_version", "declared_at", "sha256"]

INCOME_KEYS = ["pension", "salary", "sickness_benefit", "unemployment", "cpas", "none",
               "other", "unknown"]


@dataclass
class YearFigures:
    year: int
    figures: dict
    #: Episodes opened in the year whose recorded kind (new/resumption) disagrees with the
    #: history of the person; the figures follow the history (docs/domain.md).
    kind_mismatches: int = 0
    #: With ``breakdowns=True``: months, disciplines, sexes, age groups (see below).
    breakdowns: dict | None = None
    #: From the page's query: the consistency checks that read the year's contacts.
    check_counts: dict | None = None


def treatment_episodes() -> QuerySet:
    """Episodes that are treatment episodes: the ORM twin of ``sql.treatment_episode_sql``
    (harm-reduction-only and outreach-only episodes, by their current TDI questionnaire, are
    not)."""
    from django.db.models import Subquery
    latest = TdiRecord.objects.filter(episode=OuterRef("pk")).order_by("-id")
    return (Episode.objects.annotate(current_tdi_setting=Subquery(latest.values("setting")[:1]))
            .filter(Q(current_tdi_setting__isnull=True) | Q(current_tdi_setting="treatment")))


def patients_in_treatment_ids(year: int) -> QuerySet:
    """Patients with a treatment episode that overlaps the year, its end taken from the
    6-month rule where that comes first (one id column, for subqueries)."""
    start, end = year_bounds(year)
    return (treatment_episodes().counted().filter(opened_on__lte=end).with_end()
            .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=start))
            .order_by().values("patient_id"))


def income_in_treatment_counts(year: int) -> dict[str, int]:
    """Patients in treatment in ``year`` per income source on 31 December (one query)."""
    from social.selectors import income_counts
    counts = income_counts(patient_ids=patients_in_treatment_ids(year),
                           as_of=year_bounds(year)[1])
    return {key: counts.get(key, 0) for key in INCOME_KEYS}


def file_active_figures(year: int, *, breakdowns: bool = False) -> YearFigures:
    """The figures of ``year`` as the ``file_active`` JSON has them (two queries).

    With ``breakdowns``, the same first query also returns, per month, the active patients
    and the consultations; per discipline, the consultations and their patients; the active
    patients per sex and per age group (age reached in the year)."""
    sources = sql.contact_sources()
    row = sql.fetch_one(*sql.figures_sql(sources, year, breakdowns=breakdowns))
    return _year_figures(row, breakdowns=breakdowns)


def file_active_years(year: int, *, year_before: bool = True
                      ) -> tuple[YearFigures, YearFigures | None]:
    """The figures of ``year`` with its breakdowns, those of the year before with its
    monthly one (the page compares the months), and the breakdown by site of ``year``
    (``current.breakdowns["sites"]``, as :func:`site_breakdown`) and the consistency checks
    that read the contacts (``current.check_counts``): what the yearly figures page shows, in
    four queries. The contacts of both years are read and aggregated once, in
    one query (its settings, ``sql.PAGE_SETTINGS``, are one more); each year's income
    distribution is one more.

    Without ``year_before`` (the year before is read elsewhere, e.g. from what was declared),
    the year alone: ``before`` is None, three queries, half the contacts to read."""
    sources = sql.contact_sources()
    rows = sql.fetch_all_with_settings(
        *sql.figures_sql(sources, year, breakdowns=True, year_before=year_before,
                             sites=True, checks=True),
        sql.PAGE_SETTINGS)
    current = _year_figures(rows[0], breakdowns=True)
    current.breakdowns["sites"] = rows[0]["sites"] or []
    current.check_counts = {key: rows[0][key] for key in ("in_treatment_without_contact",
                                                         "contacts_after_death")}
    if not year_before:
        return current, None
    before = _year_figures(rows[1], breakdowns=True)
    before.breakdowns = {"monthly": before.breakdowns["monthly"]}
    return current, before


def _year_figures(row: dict, *, breakdowns: bool) -> YearFigures:
    """A row of ``sql.figures_sql`` as the figures of its year (the income distribution:
    one more query)."""
    from social.selectors import largest_remainder_percent
    year, days = row["year"], row["activity_days"]
    income_counts = income_in_treatment_counts(year)
    figures = {
        "year": year,
        "annual_active_patients": row["annual_active_patients"],
        "monthly_active_patients_avg": float(row["monthly_active_patients_avg"]),
        "weekly_active_patients_avg": float(row["weekly_active_patients_avg"]),
        "daily_distinct_patients_avg": row["patient_contacts"] / days if days else 0.0,
        "daily_consultations_avg": row["consultations"] / days if days else 0.0,
        "new_requests": row["new_requests"],
        "resumption_requests": row["resumption_requests"],
        "patient_contacts": row["patient_contacts"],
        "consultations": row["consultations"],
        "activity_days": days,
        "patients_in_treatment": row["patients_in_treatment"],
        "income_in_treatment": largest_remainder_percent(income_counts),
        "income_in_treatment_counts": income_counts,
        "dispensations": row["dispensations"],
        "patients_on_substitution": row["patients_on_substitution"],
        "group_attendances": row["group_attendances"],
        "harm_reduction_contacts": row["harm_reduction_contacts"],
        "harm_reduction_items_handed_out": row["harm_reduction_items_handed_out"],
        "harm_reduction_items_returned": row["harm_reduction_items_returned"],
    }
    result = YearFigures(year=year, figures=figures, kind_mismatches=row["kind_mismatches"])
    if breakdowns:
        active = row["active_by_month"] or {}
        consulted = row["consultations_by_month"] or {}
        result.breakdowns = {
            "monthly": [{"month": month, "patients": active.get(str(month), 0),
                         "consultations": consulted.get(str(month), 0)}
                        for month in range(1, 13)],
            "disciplines": row["disciplines"] or [],
            "people": {"sex": row["sexes"] or {}, "age": row["ages"] or {}},
        }
    return result


def declared_year_figures(year: int) -> YearFigures | None:
    """The figures of ``year`` as last declared, with the monthly breakdown stored with them
    (what the page of the year after compares with), or None when the year was not declared.
    One query, which reads only that part of the declaration's lists."""
    from reporting.models import DeclaredYear
    row = (DeclaredYear.objects.filter(year=year).order_by("-version")
           .values("figures", "lists__breakdowns__monthly").first())
    if row is None or not row["lists__breakdowns__monthly"]:
        return None
    return YearFigures(year=year, figures=row["figures"],
                       breakdowns={"monthly": row["lists__breakdowns__monthly"]})


def declaration_for(*, year: int, version: int | str | None = None):
    """Which declaration of ``year`` to show or export: None (the default) the latest, if the
    year was declared; ``"current"`` none (today's records); a number that version
    (``DeclaredYear.DoesNotExist`` when there is none). One query."""
    from reporting.models import DeclaredYear
    if version == "current":
        return None
    # The lists are read only when a reconciliation or a spreadsheet needs them (they are
    # large: every contact of the year).
    declarations = (DeclaredYear.objects.filter(year=year).select_related("declared_by")
                    .defer("lists"))
    if version is None:
        return declarations.order_by("-version").first()
    return declarations.get(version=int(version))


# --- breakdowns -----------------------------------------------------------------------------


def monthly_series(current: YearFigures, before: YearFigures) -> list[dict]:
    """Active patients and consultations per month of a year and of the year before."""
    return [{**now, "patients_before": then["patients"],
             "consultations_before": then["consultations"]}
            for now, then in zip(current.breakdowns["monthly"], before.breakdowns["monthly"],
                                 strict=True)]


def site_breakdown(year: int) -> list[dict]:
    """Distinct patients and contacts (patient-days) per site. Each contact counts once, so
    that the contacts of the rows add up to ``patient_contacts``: under the site its records
    name (dispensations: the centre, ``sql.AT_THE_CENTRE``), under "several sites"
    (``several_sites`` true) when they name more than one, under "no site recorded"
    (``site_id`` None) when none names one. A patient may be in several rows. One query (the
    page and the spreadsheet have it from the query of their figures)."""
    return sql.site_breakdown_rows(year=year)


def file_active_report(year: int) -> tuple[YearFigures, dict]:
    """The figures of ``year`` and its breakdowns (months, disciplines, people, sites), for
    the spreadsheet: two queries."""
    sources = sql.contact_sources()
    row = sql.fetch_one(*sql.figures_sql(sources, year, breakdowns=True, sites=True))
    current = _year_figures(row, breakdowns=True)
    return current, {**current.breakdowns, "sites": row["sites"] or []}


def declared_versions() -> dict[int, int]:
    """The latest declared version of each declared year (one query)."""
    from django.db.models import Max

    from reporting.models import DeclaredYear
    return dict(DeclaredYear.objects.values("year").annotate(latest=Max("version"))
                .values_list("year", "latest"))


def years_with_data() -> list[int]:
    """The years from the first contact or episode to this year, newest first (one query:
    each source's earliest date is read from its date index)."""
    from django.utils import timezone

    first = sql.first_record_day()
    this_year = timezone.localdate().year
    first_year = min(first.year, this_year) if first else this_year
    return list(range(this_year, first_year - 1, -1))


# --- TDI ------------------------------------------------------------------------------------


def tdi_current_record(*, episode) -> TdiRecord | None:
    """The episode's questionnaire as it stands: its newest row (corrections included)."""
    return (TdiRecord.objects.filter(episode=episode).select_related("recorded_by")
            .order_by("-id").first())


def tdi_filled(episode_ref: str = "pk") -> Exists:
    """An episode (``OuterRef(episode_ref)``) has a TDI questionnaire: for other apps'
    queries (the reception desk marks a questionnaire due)."""
    return Exists(TdiRecord.objects.filter(episode=OuterRef(episode_ref)))


def tdi_record_ids(*, episode_ids) -> list[int]:
    """Every TDI questionnaire row (originals and corrections) of these episodes, oldest
    first: a merge lists those of the episodes it joins."""
    return list(TdiRecord.objects.filter(episode_id__in=episode_ids).order_by("id")
                .values_list("id", flat=True))


def tdi_episode_get_for_user(*, user, pk: int) -> Episode:
    """The episode whose questionnaire ``user`` fills in, or 404."""
    if not user.has_perm("reporting.add_tdirecord"):
        raise Http404
    try:
        return Episode.objects.select_related("patient").get(pk=pk)
    except Episode.DoesNotExist:
        raise Http404 from None


def tdi_episodes_of_patient(*, user, patient) -> list[Episode] | None:
    """The patient's episodes, newest first, each with ``tdi_filled`` (a questionnaire
    exists), and those a merge joined into them (``joined_into`` set, with their own
    questionnaire: one stay, every questionnaire kept); ``None`` when the user may not see
    TDI questionnaires. One query."""
    if not user.has_perm("reporting.view_tdirecord"):
        return None
    return list(
        Episode.objects.filter(Q(patient=patient) | Q(joined_into__patient=patient))
        .with_end().select_related("joined_into", "patient")
        .annotate(tdi_filled=Exists(TdiRecord.objects.filter(episode=OuterRef("pk"))))
        .order_by("-opened_on", "-id")
    )


def tdi_year_episodes(year: int) -> QuerySet:
    """The episodes opened in ``year``, oldest first, with ``tdi_filled`` and the current
    questionnaire's ``tdi_setting`` (None when not filled)."""
    from django.db.models import Subquery
    start, end = year_bounds(year)
    latest = TdiRecord.objects.filter(episode=OuterRef("pk")).order_by("-id")
    return (Episode.objects.counted().filter(opened_on__range=(start, end))
            .select_related("patient")
            .annotate(tdi_setting=Subquery(latest.values("setting")[:1]))
            .order_by("opened_on", "id"))


def tdi_current_records(episode_ids) -> dict[int, TdiRecord]:
    """The current questionnaire of each episode (one query: DISTINCT ON episode)."""
    records = (TdiRecord.objects.filter(episode_id__in=episode_ids)
               .order_by("episode_id", "-id").distinct("episode_id"))
    return {record.episode_id: record for record in records}


def tdi_file_rows(year: int) -> list[dict]:
    """The rows of the TDI file of ``year``: every treatment episode opened in the year, with
    its current questionnaire; episodes marked harm-reduction-only or outreach-only are left
    out (not treatment episodes for TDI). Two queries."""
    from reporting import exports
    from reporting.tdi_codes import Setting
    episodes = list(Episode.objects.counted().filter(opened_on__range=year_bounds(year))
                    .select_related("patient").order_by("opened_on", "id"))
    records = tdi_current_records([episode.pk for episode in episodes])
    key = exports.pseudonym_key()
    centre_id = exports.tdi_setting("TDI_CENTRE_ID", "MASS-BXL")
    centre_type = exports.tdi_setting("TDI_CENTRE_TYPE", "3")
    rows = []
    for episode in episodes:
        record = records.get(episode.pk)
        if record is not None and record.setting != Setting.TREATMENT:
            continue
        rows.append(exports.tdi_row(episode=episode, record=record, key=key,
                                    centre_id=centre_id, centre_type=centre_type))
    return rows


def tdi_year_counts(year: int) -> dict[str, int]:
    """Episodes opened in ``year``: how many, how many with a questionnaire, how many left
    out of the TDI file (harm reduction or outreach only), how many in the file (one query)."""
    from django.db.models import Count

    from reporting.tdi_codes import Setting
    counts = tdi_year_episodes(year).order_by().aggregate(
        episodes=Count("id"),
        filled=Count("id", filter=Q(tdi_setting__isnull=False)),
        excluded=Count("id", filter=Q(tdi_setting__in=[Setting.OUTREACH_ONLY,
                                                       Setting.HARM_REDUCTION_ONLY])),
    )
    counts["missing"] = counts["episodes"] - counts["filled"]
    counts["in_file"] = counts["episodes"] - counts["excluded"]
    return counts


# --- from outreach to the centre ----------------------------------------------------------------


@dataclass
class OutreachArrivals:
    """People whose first contact was on outreach and who came to the centre in ``year``."""

    year: int
    #: One row per person: patient_id, alias, file_number, first_day (the first outreach
    #: contact), centre_day (the first contact at the centre after it), days between them.
    rows: list[dict]

    @property
    def median_days(self) -> float | None:
        import statistics
        return statistics.median(row["days"] for row in self.rows) if self.rows else None


def outreach_arrivals(year: int) -> OutreachArrivals:
    """How outreach brings people in (docs/domain.md "How this project applies the
    definitions", "From outreach to the centre"): the people whose first contact ever was on
    outreach (a contact at an outreach site that day, none at the centre) and whose first
    contact at the centre after it falls in ``year``,
    with the days in between. Counted in the year they came, so a finished year does not
    change when someone met on outreach long ago comes later. Two queries (the outreach
    sites, then the contacts up to the end of the year of the people with a record at one:
    reporting.sql.outreach_arrival_rows)."""
    rows = sql.outreach_arrival_rows(year=year)
    return OutreachArrivals(year=year, rows=rows)
