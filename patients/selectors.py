"""Reads of patient files, walk-ins, contacts and episodes."""

import datetime
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection, models
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Greatest
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from mass import contributions
from mass.accounts.roles import CLINICAL_ROLES, has_role
from mass.database.querysets import built_once_a_day
from mass.models import Site
from patients import sql
from patients.models import (
    Episode,
    HarmReductionContact,
    OutreachAttempt,
    Patient,
    PatientPhoto,
    PhotoConsent,
    Visit,
    VisitCancellation,
    WorklistThresholds,
    unaccent_lower,
)

SEARCH_LIMIT = 20
YEAR = re.compile(r"^(19|20)\d\d$")

# --- patient files --------------------------------------------------------------------------


def patient_get_for_user(*, user, pk: int) -> Patient:
    """A patient file this user may open; anything else is a 404 (not even "it exists")."""
    if not user.has_perm("patients.view_patient"):
        raise Http404
    try:
        # With its photo's row (or None), which the file and the dispense form show.
        return Patient.objects.select_related("merged_into", "photo").get(pk=pk)
    except Patient.DoesNotExist:
        raise Http404 from None


def patient_named_by_form(request) -> Patient:
    """The patient a record's form names in ``?patient=`` (or its posted ``patient``), as this
    user may read it: 404 when the value is not a file's number, or names a file the user may
    not read (a consultation, a lab result, a vaccination started from the file)."""
    try:
        pk = int(request.GET.get("patient") or request.POST.get("patient"))
    except (TypeError, ValueError):
        raise Http404 from None
    return patient_get_for_user(user=request.user, pk=pk)


def patient_search(*, q: str, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Files matching what reception typed, best first.

    ``q`` may hold an alias or names (accents, case and a misspelt letter do not matter:
    trigram word similarity on ``Patient.search_text``), part of a file number, a four-digit
    birth year, or a mix ("dupont 1978"). A file number typed in full is the only result
    (one query more for anything that looks like a file number); merged stubs are only found
    by their exact file number (they point at the kept file).
    Returns at most ``limit + 1`` files (with ``merged_into``) so the caller can say "more:
    refine".
    """
    q = " ".join(q.split())[:100]
    if not q:
        return []
    if exact := _file_typed_in_full(q):
        return exact
    tokens = q.split()
    years = [int(t) for t in tokens if YEAR.match(t)]
    rows = sql.patient_search_rows(
        typed=q, words=[t for t in tokens if not YEAR.match(t)][:5], years=years,
        limit=limit + 1, day=timezone.localdate())
    return [_patient_with_kept_file(row) for row in rows]


def _file_typed_in_full(q: str) -> list[Patient]:
    """What looks like a file number (one word with a digit, not a birth year), typed in
    full, is the one file wanted: that file, or none."""
    if " " in q or not any(ch.isdigit() for ch in q) or YEAR.match(q):
        return []
    return list(Patient.objects.select_related("merged_into")
                .filter(file_number__iexact=q).annotate(**identity_annotations()))


def _patient_with_kept_file(row: tuple) -> Patient:
    """A row of ``sql.patient_search_rows`` as the file, with ``merged_into`` (the kept file
    of a merged stub, or None) as select_related would give it."""
    fields, count = sql.SEARCH_FIELDS, len(sql.SEARCH_FIELDS)
    patient = Patient.from_db(connection.alias, fields, row[:count])
    patient.merged_into = (Patient.from_db(connection.alias, fields, row[count:2 * count])
                           if row[count] is not None else None)
    # What tells same-alias files apart on the results (patients.identity).
    patient.has_photo, patient.last_visit = row[2 * count:]
    return patient


def identity_annotations(patient: str = "pk", *, day: datetime.date | None = None) -> dict:
    """``has_photo`` and ``last_visit`` (the last walk-in standing before ``day``, today by
    default) of the patient ``patient`` names (``"pk"`` on a queryset of patients,
    ``"patient"`` on one of their records), as patients.sql.identity_columns_sql gives them:
    what tells same-alias files apart (patients.identity), in the list's own query."""
    # ORDER BY ... LIMIT 1, not max(), and NOT EXISTS, not standing()'s LEFT JOIN: this walks
    # the (patient, date) index backwards and stops at the first walk-in standing; the others
    # read every walk-in of the person (4 ms more on the dispensing list's 300 rows).
    last = (Visit.objects.filter(~Exists(VisitCancellation.objects.filter(visit=OuterRef("pk"))),
                                 patient=OuterRef(patient), date__lt=day or timezone.localdate())
            .order_by("-date").values("date")[:1])
    return {"has_photo": Exists(PatientPhoto.objects.filter(patient=OuterRef(patient))),
            "last_visit": Subquery(last)}


@dataclass
class Duplicate:
    patient: Patient
    reasons: list[str]


def patient_duplicates(*, alias: str, last_name: str = "", first_name: str = "",
                       birth_date: datetime.date | None = None, birth_year: int | None = None,
                       niss: str = "", exclude_pk: int | None = None,
                       limit: int = 10) -> list[Duplicate]:
    """Files that may be the same person as the one being registered: same NISS, an alias
    or name that reads almost the same, or the same birth date with a similar name."""
    from django.utils.translation import gettext as _

    alias_typed = unaccent_lower(Value(alias))
    condition = Q(search_text__trigram_word_similar=alias_typed)
    scores = [TrigramWordSimilarity(alias_typed, "search_text")]
    full_name = f"{last_name} {first_name}".strip()
    if full_name:
        name_typed = unaccent_lower(Value(full_name))
        condition |= Q(search_text__trigram_word_similar=name_typed)
        scores.append(TrigramWordSimilarity(name_typed, "search_text"))
    if niss:
        condition |= Q(niss=niss)
    if birth_date:
        condition |= Q(birth_date=birth_date) & Q(search_text__trigram_word_similar=alias_typed)
    queryset = (Patient.objects.filter(condition).exclude(status=Patient.Status.MERGED)
                .annotate(score=Greatest(*scores) if len(scores) > 1 else scores[0],
                          same_niss=Case(When(Q(niss=niss) & ~Q(niss=""), then=Value(1)),
                                         default=Value(0), output_field=IntegerField()),
                          # what tells the files shown apart (patients.identity)
                          **identity_annotations())
                .order_by("-same_niss", "-score", "alias"))
    if exclude_pk:
        queryset = queryset.exclude(pk=exclude_pk)
    duplicates = []
    for patient in queryset[:limit]:
        reasons = []
        if niss and patient.niss == niss:
            reasons.append(_("same NISS/INSZ"))
        if patient.score >= 0.6:
            reasons.append(_("similar alias or name"))
        if birth_date and patient.birth_date == birth_date:
            reasons.append(_("same birth date"))
        elif birth_year and patient.birth_year == birth_year:
            reasons.append(_("same birth year"))
        duplicates.append(Duplicate(patient, reasons))
    return duplicates


# --- contacts -------------------------------------------------------------------------------

def contact_day_querysets() -> list[QuerySet]:
    """What counts as a contact in this app: walk-in visits not cancelled, as
    (patient_id, date) rows."""
    return [Visit.objects.standing().order_by().values("patient_id", "date")]


def all_contact_day_querysets() -> list[QuerySet]:
    """The contact querysets of every app that records contacts (docs/domain.md): walk-ins
    here, consultations and group attendance, dispensations (mass.contributions)."""
    return [queryset for querysets in contributions.CONTACT_SOURCES for queryset in querysets()]


def patient_last_contact(*, patient_id: int, before: datetime.date | None = None
                         ) -> datetime.date | None:
    """The latest day with a contact of any kind, strictly before ``before`` when given. One
    query: ``patients_contact_days``, the contacts as the 6-month rule reads them (patients
    migration 0008; tests/patients/test_six_month_rule.py checks they are the apps')."""
    return sql.last_contact_day(patient_id=patient_id, before=before)


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same calendar day ``months`` earlier (the last day of a shorter month)."""
    return months_after(day, -months)


def months_after(day: datetime.date, months: int) -> datetime.date:
    """The same calendar day ``months`` later (the last day of a shorter month): six months
    after 31 August is the last day of February, as in PostgreSQL's
    ``patients_six_months_after``."""
    import calendar
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


#: The TDI rule: after this long without any contact an episode has ended.
CONTACT_GAP_MONTHS = 6


def contact_gap_exceeded(*, since: datetime.date | None, on: datetime.date) -> bool:
    """True when six calendar months or more have passed from the contact ``since`` to
    ``on`` (docs/domain.md: no contact from 15 March to 15 September)."""
    return since is None or months_after(since, CONTACT_GAP_MONTHS) <= on


def patient_without_contact_for_six_months(*, patient, on: datetime.date) -> bool:
    """The "6 months without contact" rule of docs/domain.md, over every kind of contact
    (walk-ins, consultations, group attendance, dispensations) before the day ``on``."""
    return contact_gap_exceeded(
        since=patient_last_contact(patient_id=patient.pk, before=on), on=on)


@dataclass
class Lapse:
    """A person whose last episode has ended (by hand or by the 6-month rule): what the
    desk, a consultation or the counter tells staff when they come back."""

    episode: Episode
    ended_on: datetime.date
    ended_by_rule: bool
    last_contact: datetime.date | None

    @property
    def months_since_contact(self) -> int | None:
        if self.last_contact is None:
            return None
        today = timezone.localdate()
        months = (today.year - self.last_contact.year) * 12 + today.month - self.last_contact.month
        return months - (today.day < self.last_contact.day)


def patient_episodes(*, patient, today: datetime.date | None = None) -> list[Episode]:
    """The patient's episodes, newest first, with the 6-month rule applied
    (``Episode.objects.with_end``) and who opened and closed them. One query."""
    return list(Episode.objects.counted().filter(patient=patient).with_end(today=today)
                .select_related("opened_by", "closed_by").order_by("-opened_on", "-id"))


_NOT_GIVEN = object()


def patient_lapse(*, patient, episodes: list[Episode] | None = None,
                  last_before_today=_NOT_GIVEN) -> Lapse | None:
    """The lapse of a person who had an episode and has none running now, or None (never
    in treatment, or in treatment). ``episodes`` as ``patient_episodes`` gives them.

    The last contact is the last one *before today* (a walk-in logged a moment ago is the
    return itself, not the last contact), or the episode's own last contact (its opening day
    counts) when there is none. ``last_before_today``: that day (or None: no contact before
    today) when the caller has read it already."""
    if episodes is None:
        episodes = patient_episodes(patient=patient)
    if not episodes or episodes[0].ended_on is None:
        return None
    latest = episodes[0]
    before_today = (last_before_today if last_before_today is not _NOT_GIVEN
                    else patient_last_contact(patient_id=patient.pk,
                                              before=timezone.localdate()))
    last_contact = max(filter(None, [before_today, latest.last_contact_on]), default=None)
    return Lapse(episode=latest, ended_on=latest.ended_on,
                 ended_by_rule=latest.ended_by_rule, last_contact=last_contact)


def patient_return_lapse(*, patient, today: datetime.date | None = None) -> Lapse | None:
    """What the desk, a consultation or the counter tells staff when a person whose last
    episode has ended comes back: that episode and the last contact *before* ``today`` (a
    walk-in logged a moment ago is the return itself, not the last contact). None for a
    merged stub, a person never in treatment, or one in treatment. Reads only: an episode
    opens on a recorded request (``services.episode_open``), never here."""
    if patient.is_merged:
        return None
    today = today or timezone.localdate()
    episodes = patient_episodes(patient=patient, today=today)
    if not episodes or episodes[0].ended_on is None:
        return None
    return patient_lapse(patient=patient, episodes=episodes)


class EpisodeMark(NamedTuple):
    """What the desk's marks read of a person's latest episode (patients.rows)."""

    ended_on: datetime.date | None
    ended_by_rule: bool
    tdi_filled: bool


def patients_desk_episodes(*, patient_ids) -> dict[int, EpisodeMark]:
    """The latest episode of each of these patients: ``ended_on`` and ``ended_by_rule`` (the
    6-month rule applied) and ``tdi_filled`` (its TDI questionnaire exists; True when no app
    records questionnaires): the desk's search results mark a person whose episode has
    ended, or whose questionnaire is due. One query, whatever the number of patients; three
    values each, not the episodes (a search shows up to 30)."""
    latest = (_latest_episodes(timezone.localdate()).filter(patient_id__any=list(patient_ids))
              .values_list("patient_id", *EpisodeMark._fields))
    return {patient_id: EpisodeMark(*mark) for patient_id, *mark in latest}


@built_once_a_day  # the 6-month rule's expressions: 1.5 ms to build, 0.03 ms to run
def _latest_episodes(today: datetime.date) -> QuerySet:
    return (Episode.objects.counted().with_end(today=today)
            .order_by("patient_id", "-opened_on", "-id").distinct("patient_id")
            .annotate(tdi_filled=contributions.tdi_filled()))


def patient_contact_timeline(*, patient, months: int = 12) -> dict:
    """Contact days of the last ``months`` months by month, newest first, and the last
    contact. One query per kind of contact."""
    today = timezone.localdate()
    since = months_before(today.replace(day=1), months - 1)
    days: set[datetime.date] = set()
    for queryset in all_contact_day_querysets():
        days.update(queryset.filter(patient_id=patient.pk, date__gte=since, date__lte=today)
                    .values_list("date", flat=True).distinct())
    by_month = []
    month = today.replace(day=1)
    for _month in range(months):
        count = sum(1 for d in days if d.year == month.year and d.month == month.month)
        by_month.append({"month": month, "days": count})
        month = months_before(month, 1)
    # The last contact before today: one query always, so the file's query count does not
    # depend on the history (it tells a person back after a lapse when they were last seen).
    before_today = patient_last_contact(patient_id=patient.pk, before=today)
    last = max(days) if days else before_today
    return {"by_month": by_month, "last_contact": last, "contact_days": len(days),
            "last_before_today": before_today}


# --- corrections: one walk-in or harm-reduction entry -------------------------------------


def visit_get_for_user(*, user, pk: int) -> Visit:
    """A walk-in of a file this user may open (else a 404), with its cancellation if any."""
    if not (user.has_perm("patients.view_patient") and user.has_perm("patients.view_visit")):
        raise Http404
    try:
        return Visit.objects.select_related("patient", "site", "logged_by",
                                            "cancellation__cancelled_by").get(pk=pk)
    except Visit.DoesNotExist:
        raise Http404 from None


def harm_reduction_contact_get_for_user(*, user, pk: int) -> HarmReductionContact:
    if not user.has_perm("patients.view_harmreductioncontact"):
        raise Http404
    try:
        return HarmReductionContact.objects.select_related(
            "patient", "site", "logged_by", "cancellation__cancelled_by").get(pk=pk)
    except HarmReductionContact.DoesNotExist:
        raise Http404 from None


def harm_reduction_of_day(*, day: datetime.date) -> QuerySet:
    """The harm-reduction entries of a day, newest first, cancelled ones too (the list shows
    them struck through), with what the list shows of each in the same query."""
    return (HarmReductionContact.objects.filter(date=day)
            .select_related("patient", "site", "logged_by", "cancellation__cancelled_by")
            .order_by("-created_at", "-id"))


# --- the patient file -----------------------------------------------------------------------

RECENT_VISITS = 20
#: The walk-ins a printed summary lists.
SUMMARY_VISITS = 10


def patient_file(*, patient) -> dict:
    """What the patient file shows of this app, in a fixed number of queries."""
    episodes = patient_episodes(patient=patient)
    # cancelled ones too, struck through with who cancelled them and why
    visits = list(patient.visits.select_related(
        "site", "logged_by", "cancellation__cancelled_by")[:RECENT_VISITS])
    merges = list(patient.merges_received.select_related("merged", "merged_by"))
    for merge in merges:  # the stays a merge joined, their dates as dates
        merge.joins = [{**join, "opened_on": datetime.date.fromisoformat(join["opened_on"])}
                       for join in merge.joined_episodes]
    timeline = patient_contact_timeline(patient=patient)
    running = next((e for e in episodes if e.ended_on is None), None)
    return {
        "episodes": episodes,
        "open_episode": running,
        "visits": visits,
        "merges": merges,
        "timeline": timeline,
        # An episode the 6-month rule has ended, whose closure the nightly job has not
        # written yet: the file says so.
        "lost_contact": any(e.closed_on is None and e.ended_on is not None for e in episodes),
        "lapse": patient_lapse(patient=patient, episodes=episodes,
                               last_before_today=timeline["last_before_today"]),
    }


def patient_summary(*, patient) -> dict:
    """What every reader of the file sees on its printed summary: the episodes and the last
    walk-ins (the other apps add their sections, mass.contributions.SUMMARY_SECTIONS)."""
    return {
        "episodes": patient_episodes(patient=patient),
        # A walk-in cancelled as a mistake is not one of this person's (mass.corrections).
        "visits": list(patient.visits.filter(cancellation__isnull=True).select_related("site")
                       .order_by("-date", "-time")[:SUMMARY_VISITS]),
    }


# --- merging two files: overlapping episodes -------------------------------------------------


def episode_end_among(episode: Episode, days: list[datetime.date], today: datetime.date
                      ) -> tuple[datetime.date | None, bool]:
    """(ended_on, ended_by_rule) of ``episode`` if ``days`` (sorted) were its person's contact
    days: the 6-month rule as migration 0008's ``patients_episode_refresh`` and
    ``Episode.objects.with_end()`` apply it to the records. A merge needs it before the
    records are moved: two files of one person, seen apart, may each look lapsed when
    together the person never stayed away six months."""
    inside = [episode.opened_on] + [
        day for day in days if day > episode.opened_on
        and (episode.closed_on is None or day <= episode.closed_on)]
    for day, following in zip(inside, inside[1:], strict=False):
        if following >= months_after(day, CONTACT_GAP_MONTHS):
            return day, True
    last = inside[-1]
    rule_day = months_after(last, CONTACT_GAP_MONTHS)
    if episode.closed_on is not None:
        if episode.closed_on >= rule_day:
            return last, True
        return episode.closed_on, episode.closure_reason == Episode.ClosureReason.SIX_MONTHS
    return (last, True) if rule_day <= today else (None, False)


@dataclass
class EpisodeJoin:
    """Episodes of two files of one person that overlap: one stay, which a merge makes one
    episode. ``kept`` (the earliest opened) goes on with the latest end; the ``joined`` ones
    stay recorded, marked as joined into it, and count no more."""

    kept: Episode
    joined: list[Episode]
    opened_on: datetime.date
    ended_on: datetime.date | None  # None: the stay runs
    ended_by_rule: bool
    #: The episode whose end (closure or the rule's) the stay takes.
    end_from: Episode
    #: What ``kept`` was before the merge joined the stay (filled by the merge).
    before: dict = field(default_factory=dict)


@dataclass
class MergeEpisodes:
    joins: list[EpisodeJoin]
    #: Every counted episode of the two files, with ``ended_on`` / ``ended_by_rule`` as the
    #: person's contacts on both files give them (episode_end_among).
    episodes: list[Episode]


def merge_episodes(*, kept: Patient, merged: Patient, today: datetime.date | None = None
                   ) -> MergeEpisodes:
    """What merging ``merged`` into ``kept`` does to their episodes (two queries): each
    group of overlapping episodes (one day in common is enough, as for "in treatment in a
    year") that holds episodes of both files becomes one stay. Episodes that overlap nothing
    of the other file are moved as they are."""
    today = today or timezone.localdate()
    days = sql.contact_days(patient_ids=[kept.pk, merged.pk])
    episodes = sorted(Episode.objects.counted().filter(patient__in=[kept.pk, merged.pk])
                      .select_related("patient"),
                      key=lambda e: (e.opened_on, e.patient_id != kept.pk, e.pk))
    for episode in episodes:
        episode.ended_on, episode.ended_by_rule = episode_end_among(episode, days, today)
    groups: list[list[Episode]] = []
    group_end: datetime.date | None = None
    for episode in episodes:
        if groups and (group_end is None or episode.opened_on <= group_end):
            groups[-1].append(episode)
        else:
            groups.append([episode])
            group_end = episode.ended_on
            continue
        if episode.ended_on is None or group_end is None:
            group_end = None
        else:
            group_end = max(group_end, episode.ended_on)
    joins = []
    for group in groups:
        if len({episode.patient_id for episode in group}) < 2:
            continue
        end_from = max(group, key=lambda e: (e.ended_on is None, e.ended_on or today))
        joins.append(EpisodeJoin(kept=group[0], joined=group[1:], opened_on=group[0].opened_on,
                                 ended_on=end_from.ended_on,
                                 ended_by_rule=end_from.ended_by_rule, end_from=end_from))
    return MergeEpisodes(joins=joins, episodes=episodes)


#: The records a merge moves, in words ("2 walk-ins"), by the key of the counts that
#: services.patient_merge_preview gives and PatientMerge.moved keeps.
_RECORDS_IN_WORDS = {
    "patients.patient.merged_into": ngettext_lazy(
        "%(count)s file merged earlier", "%(count)s files merged earlier", "count"),
    "patients.episode": ngettext_lazy("%(count)s episode", "%(count)s episodes", "count"),
    "patients.visit": ngettext_lazy("%(count)s walk-in", "%(count)s walk-ins", "count"),
    "patients.harmreductioncontact": ngettext_lazy(
        "%(count)s harm-reduction contact", "%(count)s harm-reduction contacts", "count"),
    "patients.outreachattempt": ngettext_lazy(
        "%(count)s outreach attempt", "%(count)s outreach attempts", "count"),
    "patients.patientphoto": ngettext_lazy("%(count)s photo", "%(count)s photos", "count"),
    "patients.photoconsent": ngettext_lazy(
        "%(count)s photo consent", "%(count)s photo consents", "count"),
    "consultations.consultation": ngettext_lazy(
        "%(count)s consultation", "%(count)s consultations", "count"),
    "consultations.groupattendance": ngettext_lazy(
        "%(count)s group attendance", "%(count)s group attendances", "count"),
    "consultations.referral": ngettext_lazy("%(count)s referral", "%(count)s referrals",
                                            "count"),
    "consultations.screeningtest": ngettext_lazy(
        "%(count)s screening test", "%(count)s screening tests", "count"),
    "dispensary.prescription": ngettext_lazy(
        "%(count)s prescription", "%(count)s prescriptions", "count"),
    "dispensary.dispensation": ngettext_lazy(
        "%(count)s dispensation", "%(count)s dispensations", "count"),
    "social.socialaction": ngettext_lazy(
        "%(count)s social action", "%(count)s social actions", "count"),
    "alerts.alert": ngettext_lazy("%(count)s alert", "%(count)s alerts", "count"),
}


def records_in_words(counts: dict[str, int]) -> list[str]:
    """``{"patients.visit": 2}`` as the merge preview and the merged stub say it: "2
    walk-ins". A kind of record without its own sentence is named by its model's name
    (verbose_name, singular or plural), with the number after it."""
    from django.apps import apps

    words = []
    for key, count in counts.items():
        if key in _RECORDS_IN_WORDS:
            words.append(_RECORDS_IN_WORDS[key] % {"count": count})
            continue
        try:
            meta = apps.get_model(".".join(key.split(".")[:2]))._meta
        except (LookupError, ValueError):
            words.append(f"{key}: {count}")
            continue
        name = meta.verbose_name if count == 1 else meta.verbose_name_plural
        words.append(f"{name}: {count}")
    return words


def patient_merge_record(*, patient):
    """How a merged stub came to be (None for a file that was never merged)."""
    from patients.models import PatientMerge
    return (PatientMerge.objects.select_related("kept", "merged_by")
            .filter(merged=patient).first())


def episode_get_for_user(*, user, pk: int) -> Episode:
    if not user.has_perm("patients.view_episode"):
        raise Http404
    try:
        return Episode.objects.select_related("patient").get(pk=pk)
    except Episode.DoesNotExist:
        raise Http404 from None


# --- the reception board --------------------------------------------------------------------

#: How far back "what this person usually comes for" looks.
USUAL_PURPOSE_DAYS = 90

@dataclass(frozen=True)
class UsualPurposes:
    """What people usually come to the desk for: ``of(patient_id)`` is that person's most
    frequent walk-in purpose over the last ``USUAL_PURPOSE_DAYS`` days, else the centre's
    (``centre``: the most frequent purpose of everyone's walk-ins over those days, Dispensing
    when nobody came)."""

    by_patient: dict[int, str]
    centre: str

    def of(self, patient_id: int | None) -> str:
        return self.by_patient.get(patient_id, self.centre)


def usual_purposes(*, patient_ids=(), today: datetime.date | None = None) -> UsualPurposes:
    """The usual purpose of each of these people and of the centre (:class:`UsualPurposes`),
    in one query whatever the number of people: the desk's search shows it on every row, so
    that Enter logs what the person usually comes for."""
    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=USUAL_PURPOSE_DAYS)
    rows = sql.usual_purpose_rows(patient_ids=list(patient_ids), since=since)
    centre = next((purpose for patient_id, purpose in rows if patient_id is None),
                  Visit.Purpose.DISPENSING.value)
    return UsualPurposes(by_patient={patient_id: purpose for patient_id, purpose in rows
                                     if patient_id is not None}, centre=centre)


BOARD_ROWS = 30


def reception_sites() -> list[Site]:
    return list(Site.objects.filter(is_active=True).order_by("-kind", "name"))


@dataclass
class BoardVisit:
    """A walk-in as the board shows it: who, when ("HH:MM", or "" when not known), what
    for, where and who logged it (names, "" when none)."""

    patient_id: int
    alias: str
    file_number: str
    identity: tuple  # (birth_year, sex, distinguishing_note, has_photo, last_visit ISO or None)
    time: str
    purpose: str
    purpose_label: str
    site: str
    logged_by: str
    visit_id: int = 0
    logged_by_id: int | None = None
    # cancelled (a mistake): who, when, why; the board shows it struck through, uncounted
    cancelled: dict | None = None


def board_today(*, day: datetime.date, site: Site | None = None, rows: int = BOARD_ROWS
                ) -> dict:
    """Today's walk-ins, newest first (the last ``rows``), with counts per purpose and the
    anonymous harm-reduction material of the day, and the sites a desk may be at
    (``reception_sites()``, with their name and kind only), in one query whatever the day
    holds.

    The board is the desk's page, reloaded after every arrival: the ORM took longer to
    build its three queries (and 30 walk-ins with their patient, site and staff member as
    model instances) than PostgreSQL took to answer them, hence one SQL statement."""
    total, people, *counts, visits, material, sites, logged = sql.board_row(
        day=day, site_id=site.pk if site is not None else None, rows=rows)
    purposes = {value: str(label) for value, label in Visit.Purpose.choices}
    staff: dict[int, str] = {}
    latest = []
    for (patient_id, alias, file_number, identity, time, purpose, site_name, user_id,
         username, first_name, last_name, visit_id, reason, cancelled_at, canceller_id,
         *canceller) in visits:
        for pk, person in ((user_id, (username, first_name, last_name)),
                           (canceller_id, canceller)):
            if pk is not None and pk not in staff:
                staff[pk] = str(_staff_member(pk, *person))
        cancelled = None if reason is None else {
            "reason": reason, "by": staff.get(canceller_id, ""),
            "at": timezone.localtime(datetime.datetime.fromisoformat(cancelled_at))}
        latest.append(BoardVisit(
            patient_id=patient_id, alias=alias, file_number=file_number,
            identity=tuple(identity), time=time or "",
            purpose=purpose, purpose_label=purposes.get(purpose, purpose),
            site=site_name or "", logged_by=staff.get(user_id, ""), visit_id=visit_id,
            logged_by_id=user_id,
            cancelled=cancelled))
    labels = dict(HarmReductionContact.Material.choices)
    return {
        "sites": [Site.from_db(connection.alias, ["id", "name", "kind"], row) for row in sites],
        "visits": latest,
        "total": total,
        "people": people,
        "by_purpose": list(zip(purposes.values(), counts, strict=False)),
        "material": [{"material": value, "label": labels.get(value, value),
                      "handed_out": handed_out, "returned": returned, "contacts": contacts}
                     for value, handed_out, returned, contacts in material],
        # walk-ins of the day not listed (cancelled ones included: they are listed too)
        "earlier": logged - len(latest),
    }


def _staff_member(pk: int, username: str, first_name: str, last_name: str):
    """The staff member, as far as their name goes (str() shows it as everywhere else)."""
    user_model = Visit._meta.get_field("logged_by").related_model
    return user_model(pk=pk, username=username, first_name=first_name, last_name=last_name)


# --- who have we lost -----------------------------------------------------------------------
#
# People in treatment (an episode running, the 6-month rule applied) not seen for a number of
# days, so that the team reaches out before the rule ends the episode. The page is one SQL
# statement whatever the number of rows: per person the ORM would need a query for each
# column (last place, usual contact, doctor, social worker, last attempt).


class Team(models.TextChoices):
    """Who follows a person, for the worklist's filter. A person belongs to every team that
    follows them, from their records (not from a list kept by hand):

    - substitution: a substitution prescription running today (at the MASS or a pharmacy);
    - medical: a medical or nursing consultation since the episode opened;
    - psy: a psychological or psychiatric consultation since the episode opened;
    - social: an open social action, or a social consultation since the episode opened.
    """

    SUBSTITUTION = "substitution", _("Substitution")
    MEDICAL = "medical", _("Medical and nursing")
    PSY = "psy", _("Psychological and psychiatric")
    SOCIAL = "social", _("Social")


@dataclass(frozen=True)
class WorklistSight:
    """What a user may see of the worklist, from their roles (the medical secret between
    disciplines applies to a list of names too):

    - ``dispensing`` (those who see the dispensary: nurses, doctors, psychiatrists): the
      substitution badge and filter, dispensing as what someone usually comes for, the
      prescriber as their doctor, and why the threshold is shorter for someone;
    - ``doctor_disciplines``: the consultations whose author is shown as the doctor
      (psychiatric ones only to those who read psychiatric notes);
    - ``clinical`` (the clinical roles, not coordinators): the medical team, what someone
      usually comes for and their doctor. Coordinators see identity, contacts, places, the
      rule's end, attempts and the social worker only;
    - ``teams``: the team filters offered (psy to those who read psychological notes).
    """

    dispensing: bool
    clinical: bool
    doctor_disciplines: tuple[str, ...]
    teams: tuple[str, ...]


def worklist_sight(user) -> WorklistSight:
    """The :class:`WorklistSight` of ``user``, by the dispensary's and the consultations' own
    rules (``can_see_dispensing``, ``readable_disciplines``)."""
    dispensing = contributions.can_see_dispensing(user)
    readable = contributions.readable_disciplines(user)
    psy = "psychological" in readable and "psychiatric" in readable
    clinical = has_role(user, *CLINICAL_ROLES)
    teams = [Team.SUBSTITUTION] if dispensing else []
    teams += [Team.MEDICAL] if clinical else []
    teams += [Team.PSY] if psy else []
    teams.append(Team.SOCIAL)
    doctor_disciplines = (("medical", "psychiatric") if psy else ("medical",)) if clinical else ()
    return WorklistSight(dispensing=dispensing, clinical=clinical,
                         doctor_disciplines=doctor_disciplines,
                         teams=tuple(team.value for team in Team if team in teams))


#: What a person usually comes for: a walk-in's purpose, or the kind of the contact.
USUAL_KINDS = {**dict(Visit.Purpose.choices), "group": _("Group")}

WORKLIST_ROWS = 300

def worklist_thresholds() -> WorklistThresholds:
    """The coordinators' thresholds, or the defaults (7 and 30 days) before anyone set them."""
    return WorklistThresholds.objects.filter(pk=WorklistThresholds.ROW).first() or \
        WorklistThresholds()


@dataclass
class LostPerson:
    """A row of "who have we lost". Names are "" when unknown; ``usual`` is a label."""

    patient_id: int
    alias: str
    file_number: str
    last_contact: datetime.date
    days_since: int
    rule_ends_on: datetime.date
    threshold: int | None  # None for those who may not see the dispensary (it would say why)
    substitution_here: bool
    place: str
    usual: str
    doctor: str
    social_worker: str
    last_attempt_on: datetime.date | None
    last_attempt_result: str


def worklist(*, thresholds: WorklistThresholds, sight: WorklistSight, days: int | None = None,
             team: str | None = None, site_id: int | None = None,
             patient_id: int | None = None, today: datetime.date | None = None,
             rows: int = WORKLIST_ROWS) -> list[LostPerson]:
    """People in treatment today (``Episode.objects.running()``: the 6-month rule applied;
    not a harm-reduction-only or outreach-only episode, as in the yearly figures) whose last
    contact is ``thresholds.substitution_days`` days old or more when their substitution
    treatment is dispensed at the MASS, ``thresholds.other_days`` otherwise (``days``, when
    given, for everyone), the soonest end by the 6-month rule first. The last contact is the
    episode's (its opening day counts as one, as in the rule). An outreach attempt is not a
    contact and moves nothing here.

    ``sight`` (:func:`worklist_sight`) says what the rows show: the thresholds apply to
    everyone's list, but the row of a user who may not see the dispensary says nothing of
    why (no badge, no threshold, no dispensing, no prescriber).

    ``team`` (a :class:`Team` of ``sight.teams``) and ``site_id`` (the last known place)
    narrow the list; ``patient_id`` gives that person's row whatever the thresholds (the row
    of someone who was on the list, after an attempt). At most ``rows + 1`` rows, so the
    caller can say there are more. One query."""
    if team and team not in sight.teams:
        raise ValueError(f"team {team!r} is not offered to this user")
    today = today or timezone.localdate()
    found = sql.worklist_rows(
        running=(Episode.objects.running(today=today).order_by()
                 .values("id", "patient_id", "opened_on", "last_contact_on", "joined_into_id")),
        today=today, since=months_before(today, CONTACT_GAP_MONTHS),
        substitution_days=thresholds.substitution_days, other_days=thresholds.other_days,
        days=days, patient_id=patient_id, site_id=site_id, team=team, limit=rows + 1,
        dispensing=sight.dispensing, clinical=sight.clinical,
        doctor_disciplines=list(sight.doctor_disciplines))
    results = dict(OutreachAttempt.Result.choices)
    return [
        LostPerson(patient_id=pk, alias=alias, file_number=file_number,
                   last_contact=last_contact, days_since=days_since, rule_ends_on=rule_ends_on,
                   threshold=threshold if sight.dispensing else None,
                   substitution_here=substitution_here and sight.dispensing,
                   place=place or "", usual=str(USUAL_KINDS.get(usual, "")) if usual else "",
                   doctor=doctor or "", social_worker=social_worker or "",
                   last_attempt_on=attempt_on,
                   last_attempt_result=str(results.get(attempt_result, "")))
        for (pk, alias, file_number, last_contact, days_since, rule_ends_on, threshold,
             substitution_here, _place_id, place, usual, doctor, social_worker, attempt_on,
             attempt_result) in found
    ]


OUTREACH_ON_FILE = 10


def patient_outreach_attempts(*, user, patient) -> list[OutreachAttempt] | None:
    """The latest outreach attempts of a person, for those who see the worklist (None for
    the others). One query."""
    if not user.has_perm("patients.view_outreachattempt"):
        return None
    return list(patient.outreach_attempts.select_related("site", "made_by")[:OUTREACH_ON_FILE])


# --- identification photos -------------------------------------------------------------------


def photo_consent(*, patient) -> PhotoConsent | None:
    """The person's current decision about an identification photo (their latest), or None
    when never asked."""
    return PhotoConsent.objects.filter(patient=patient).order_by("-recorded_at", "-id").first()


def photo_consents(*, patient) -> list[PhotoConsent]:
    """Every decision recorded, newest first, with who recorded it."""
    return list(PhotoConsent.objects.filter(patient=patient).select_related("recorded_by")
                .order_by("-recorded_at", "-id"))


def patient_photo_of(patient) -> PatientPhoto | None:
    """The photo's row of a patient read by ``patient_get_for_user`` (no query), or None."""
    try:
        return patient.photo
    except PatientPhoto.DoesNotExist:
        return None


def patient_photo_for_user(*, user, pk: int) -> PatientPhoto:
    """The identification photo of the file ``pk``, for staff who may see photos (those who
    identify people: at the desk, the counter, in care) and the file; anything else, a file
    without a photo included, is a 404."""
    if not user.has_perm("patients.view_patientphoto"):
        raise Http404
    photo = patient_photo_of(patient_get_for_user(user=user, pk=pk))
    if photo is None:
        raise Http404
    return photo
