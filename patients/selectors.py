"""Reads of patient files, walk-ins, contacts and episodes."""

import datetime
import importlib
import re
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Greatest
from django.http import Http404
from django.utils import timezone

from mass.models import Site
from patients.models import Episode, HarmReductionContact, Patient, Visit, unaccent_lower

SEARCH_LIMIT = 20
YEAR = re.compile(r"^(19|20)\d\d$")

# --- patient files --------------------------------------------------------------------------


def patient_get_for_user(*, user, pk: int) -> Patient:
    """A patient file this user may open; anything else is a 404 (not even "it exists")."""
    if not user.has_perm("patients.view_patient"):
        raise Http404
    try:
        return Patient.objects.select_related("merged_into").get(pk=pk)
    except Patient.DoesNotExist:
        raise Http404 from None


def patient_search(*, q: str, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Files matching what reception typed, best first.

    ``q`` may hold an alias or names (accents, case and a misspelt letter do not matter:
    trigram word similarity on ``Patient.search_text``), part of a file number, a four-digit
    birth year, or a mix ("dupont 1978"). A file number typed in full is the only result
    (one query more for anything that looks like a file number); merged stubs are only found
    by their exact file number (they point at the kept file).
    Returns at most ``limit + 1`` files so the caller can say "more: refine".
    """
    q = " ".join(q.split())[:100]
    if not q:
        return []
    if " " not in q and any(ch.isdigit() for ch in q) and not YEAR.match(q):
        # Looks like a file number: typed in full, it is the one file wanted.
        exact = list(Patient.objects.select_related("merged_into").filter(file_number__iexact=q))
        if exact:
            return exact
    tokens = q.split()
    years = [int(t) for t in tokens if YEAR.match(t)]
    words = [t for t in tokens if not YEAR.match(t)][:5]
    exact = Q(file_number__iexact=q)
    match = Q()
    similarity = Value(0.0)
    if len(words) == 1 and len(words[0]) == 1:
        # One letter: only a whole alias, not every name that contains it.
        match &= Q(alias__iexact=words.pop())
    for word in words:
        # Every word must be found (misspelt or not) somewhere in the file's names: "jean
        # dupont" finds Jean Dupont, not every Jean and every Dupont.
        typed = unaccent_lower(Value(word))
        found = Q(search_text__trigram_word_similar=typed)
        if len(word) >= 3:  # a substring of a file number or a name ("1004", "dup")
            found |= Q(search_text__contains=typed)
        match &= found
        similarity = similarity + TrigramWordSimilarity(typed, "search_text")
    if years:
        match &= Q(birth_year__in=years)
    queryset = (
        Patient.objects.filter(exact | (match & ~Q(status=Patient.Status.MERGED)))
        .annotate(
            exact_rank=Case(When(exact, then=Value(1)), default=Value(0),
                            output_field=IntegerField()),
            similarity=similarity,
        )
        .select_related("merged_into")
        .order_by("-exact_rank", "-similarity", "alias", "id")
    )
    return list(queryset[: limit + 1])


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
                                         default=Value(0), output_field=IntegerField()))
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

#: Apps whose ``selectors.contact_day_querysets()`` count as contacts (docs/domain.md):
#: walk-ins here, consultations and group attendance, dispensations.
CONTACT_APPS = ("patients", "consultations", "dispensary")


def contact_day_querysets() -> list[QuerySet]:
    """What counts as a contact in this app: walk-in visits, as (patient_id, date) rows."""
    return [Visit.objects.order_by().values("patient_id", "date")]


def all_contact_day_querysets() -> list[QuerySet]:
    """The contact querysets of every app that records contacts. The other apps are imported
    lazily: a missing app (or one without the function yet) contributes nothing."""
    querysets = list(contact_day_querysets())
    for app in CONTACT_APPS[1:]:
        try:
            module = importlib.import_module(f"{app}.selectors")
        except ModuleNotFoundError:
            continue
        function = getattr(module, "contact_day_querysets", None)
        if function is not None:
            querysets.extend(function())
    return querysets


def patient_last_contact(*, patient_id: int, before: datetime.date | None = None
                         ) -> datetime.date | None:
    """The latest day with a contact of any kind, strictly before ``before`` when given."""
    latest = None
    for queryset in all_contact_day_querysets():
        queryset = queryset.filter(patient_id=patient_id)
        if before is not None:
            queryset = queryset.filter(date__lt=before)
        day = queryset.aggregate(latest=Max("date"))["latest"]
        if day is not None and (latest is None or day > latest):
            latest = day
    return latest


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same calendar day ``months`` earlier (the last day of a shorter month)."""
    import calendar
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


#: The TDI rule: after this long without any contact a person starts a new episode.
CONTACT_GAP_MONTHS = 6


def contact_gap_exceeded(*, since: datetime.date | None, on: datetime.date) -> bool:
    """True when the last contact ``since`` lies 6 months or more before ``on``."""
    return since is None or since <= months_before(on, CONTACT_GAP_MONTHS)


def patient_without_contact_for_six_months(*, patient, on: datetime.date) -> bool:
    """The "6 months without contact" rule of docs/domain.md, over every kind of contact
    (walk-ins, consultations, group attendance, dispensations) before the day ``on``."""
    return contact_gap_exceeded(
        since=patient_last_contact(patient_id=patient.pk, before=on), on=on)


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
    for _ in range(months):
        count = sum(1 for d in days if d.year == month.year and d.month == month.month)
        by_month.append({"month": month, "days": count})
        month = months_before(month, 1)
    last = max(days) if days else patient_last_contact(patient_id=patient.pk)
    return {"by_month": by_month, "last_contact": last, "contact_days": len(days)}


# --- the patient file -----------------------------------------------------------------------

RECENT_VISITS = 20


def patient_file(*, patient) -> dict:
    """What the patient file shows of this app, in a fixed number of queries."""
    episodes = list(patient.episodes.select_related("opened_by", "closed_by"))
    visits = list(patient.visits.select_related("site", "logged_by")[:RECENT_VISITS])
    merges = list(patient.merges_received.select_related("merged", "merged_by"))
    timeline = patient_contact_timeline(patient=patient)
    open_episode = next((e for e in episodes if e.is_open), None)
    today = timezone.localdate()
    return {
        "episodes": episodes,
        "open_episode": open_episode,
        "visits": visits,
        "merges": merges,
        "timeline": timeline,
        "lost_contact": (open_episode is not None and contact_gap_exceeded(
            since=max(filter(None, [timeline["last_contact"], open_episode.opened_on])),
            on=today)),
    }


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

BOARD_ROWS = 30


def reception_sites() -> list[Site]:
    return list(Site.objects.filter(is_active=True).order_by("-kind", "name"))


def board_today(*, day: datetime.date, site: Site | None = None, rows: int = BOARD_ROWS
                ) -> dict:
    """Today's walk-ins, newest first (the last ``rows``), with counts per purpose and the
    anonymous harm-reduction material of the day. Four queries whatever the day holds."""
    visits = Visit.objects.filter(date=day)
    contacts = HarmReductionContact.objects.filter(date=day)
    if site is not None:
        visits = visits.filter(site=site)
        contacts = contacts.filter(site=site)
    latest = list(visits.select_related("patient", "site", "logged_by")
                  .order_by("-time", "-id")[:rows])
    counts = visits.aggregate(
        total=Count("id"), people=Count("patient_id", distinct=True),
        **{purpose: Count("id", filter=Q(purpose=purpose)) for purpose in Visit.Purpose.values},
    )
    material = list(contacts.values("material").annotate(
        handed_out=Sum("handed_out"), returned=Sum("returned"), contacts=Count("id"),
    ).order_by("material"))
    labels = dict(HarmReductionContact.Material.choices)
    for row in material:
        row["label"] = labels.get(row["material"], row["material"])
    total = counts.pop("total")
    return {
        "visits": latest,
        "total": total,
        "people": counts.pop("people"),
        "by_purpose": [(label, counts[value]) for value, label in Visit.Purpose.choices],
        "material": material,
        "earlier": total - len(latest),
    }
