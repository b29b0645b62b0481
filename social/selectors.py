"""Reads of the social file: who may see what, the situation as of a date, the caseload, and
the income figures of the yearly report."""

import datetime
from collections.abc import Iterable

from django.db.models import Case, Exists, F, IntegerField, OuterRef, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mass.accounts.roles import Role, has_role
from mass.contributions import TimelineKind
from patients.models import Patient
from social import sql
from social.filters import SocialActionFilter
from social.models import SITUATION_MODELS, IncomeRecord, SituationRecord, SocialAction

# --- who may see what -------------------------------------------------------------------------

#: Social notes (issue 4's rule): social workers, doctors and the author only. Psychiatrists
#: hold doctor rights (docs/domain.md), so they read them too; coordinators never do.
SOCIAL_NOTE_READERS = frozenset({Role.SOCIAL_WORKER, Role.DOCTOR, Role.PSYCHIATRIST})


def can_read_social_notes(user, *, author_id: int | None = None) -> bool:
    """Whether ``user`` may read the text of a social note written by ``author_id``."""
    if not user.is_authenticated:
        return False
    if has_role(user, *SOCIAL_NOTE_READERS):
        return True
    return author_id is not None and author_id == user.pk


def social_actions_timeline_kind(user) -> TimelineKind:
    """The patient's timeline: social actions on the day they were opened. Everyone sees the
    date and the type; the status, partner and notes follow :func:`can_read_social_notes`."""

    def load(ids):
        rows = SocialAction.objects.filter(pk__in=ids).select_related("partner",
                                                                        "social_worker")
        return {a.pk: (a, can_read_social_notes(user, author_id=a.created_by_id)) for a in rows}
    return TimelineKind("social_action", _("Social action"),
                        lambda patient: SocialAction.objects.filter(patient=patient), load,
                        date="opened_on", time=None)


def can_view_situation(user) -> bool:
    # The six view permissions are granted together (migration 0003); income stands for all.
    return user.has_perm("social.view_incomerecord")


def can_record_situation(user) -> bool:
    return user.has_perm("social.add_incomerecord")


def can_view_actions(user) -> bool:
    return user.has_perm("social.view_socialaction")


def can_change_actions(user) -> bool:
    return user.has_perm("social.change_socialaction")


def patient_get_for_social(*, user, pk: int, write: bool = False) -> Patient:
    """The patient whose social file ``user`` opens; 404 when not allowed or merged away
    (records go to the kept file, never to a merged stub)."""
    allowed = can_record_situation(user) if write else (
        can_view_situation(user) or can_view_actions(user))
    if not allowed:
        raise Http404
    try:
        return Patient.objects.exclude(status=Patient.Status.MERGED).get(pk=pk)
    except Patient.DoesNotExist:
        raise Http404 from None


# --- the situation as of a date ---------------------------------------------------------------


def effective(queryset: QuerySet) -> QuerySet:
    """Rows that no later row corrects: the history as it is now believed to be."""
    model = queryset.model
    return queryset.exclude(Exists(model.objects.filter(corrects=OuterRef("pk"))))


def situation_record_as_of(model: type[SituationRecord], *, patient,
                           as_of: datetime.date) -> SituationRecord | None:
    """The latest row of one dimension dated on or before ``as_of`` (corrections applied)."""
    return (effective(model.objects.filter(patient=patient, date__lte=as_of))
            .select_related("recorded_by").order_by("-date", "-id").first())


def income_as_of(*, patient, as_of: datetime.date | None = None) -> IncomeRecord | None:
    """The patient's income source on ``as_of`` (default today): the latest income record
    dated on or before it; records dated after are ignored. ``None`` if nothing is known."""
    return situation_record_as_of(IncomeRecord, patient=patient,
                                  as_of=as_of or timezone.localdate())


def situation_as_of(*, patient,
                    as_of: datetime.date | None = None) -> dict[str, SituationRecord | None]:
    """Every dimension of the situation on ``as_of``: one query per dimension."""
    as_of = as_of or timezone.localdate()
    return {key: situation_record_as_of(model, patient=patient, as_of=as_of)
            for key, model in SITUATION_MODELS.items()}


SITUATION_LABELS = {
    "income": _("Income"),
    "insurance": _("Health insurance"),
    "cpas": _("Reference CPAS/OCMW"),
    "housing": _("Housing"),
    "identity": _("Identity documents"),
    "address": _("Reference address"),
}


def situation_history(*, patient, as_of: datetime.date | None = None) -> dict[str, dict]:
    """Each dimension's whole history, newest first, with corrected rows marked, and the
    row in force on ``as_of`` (default today): the newest row dated on or before it that
    no correction replaced. One query per dimension."""
    as_of = as_of or timezone.localdate()
    history = {}
    for key, model in SITUATION_MODELS.items():
        rows = list(
            model.objects.filter(patient=patient)
            .annotate(is_corrected=Exists(model.objects.filter(corrects=OuterRef("pk"))))
            .select_related("recorded_by").order_by("-date", "-id")
        )
        current = next((r for r in rows if not r.is_corrected and r.date <= as_of), None)
        history[key] = {"label": SITUATION_LABELS[key], "rows": rows, "current": current}
    return history


def situation_record_get(*, user, patient, dimension: str, pk: int) -> SituationRecord:
    model = SITUATION_MODELS.get(dimension)
    if model is None or not can_view_situation(user):
        raise Http404
    try:
        return model.objects.select_related("patient").get(pk=pk, patient=patient)
    except model.DoesNotExist:
        raise Http404 from None


# --- income figures (reporting) ---------------------------------------------------------------

INCOME_KEYS = [choice.value for choice in IncomeRecord.Source]


def income_counts(*, patient_ids: QuerySet | Iterable[int],
                  as_of: datetime.date) -> dict[str, int]:
    """How many of the given patients are under each income source on ``as_of``.

    Each patient counts once, under the latest income source recorded on or before
    ``as_of`` (corrections applied: a correction counts at its own date), "unknown" when none
    is; all eight keys. ``patient_ids`` is a queryset (of patients, or of one id column) or a
    list of ids. One query: PostgreSQL picks the latest row per patient (DISTINCT ON) and
    counts.
    """
    rows = sql.income_sources_as_of(patient_ids=patient_ids, as_of=as_of)
    counts = dict.fromkeys(INCOME_KEYS, 0)
    counts.update({source: int(n) for source, n in rows})
    return counts


def largest_remainder_percent(counts: dict[str, int]) -> dict[str, float]:
    """Percentages with one decimal that add up to exactly 100.0 (largest-remainder rounding:
    each share is cut to a tenth of a percent, and the tenths left over go to the shares that
    lost most in the cut; a tie goes to the larger count, then to the order of ``counts``).
    All zero when the counts are."""
    total = sum(counts.values())
    if not total:
        return dict.fromkeys(counts, 0.0)
    # In tenths of a percent, in integers: no float error decides who gets a tenth.
    tenths = {key: divmod(1000 * n, total) for key, n in counts.items()}
    left = 1000 - sum(whole for whole, _rest in tenths.values())
    order = list(counts)
    ranked = sorted(counts, key=lambda key: (-tenths[key][1], -counts[key], order.index(key)))
    extra = set(ranked[:left])
    return {key: (whole + (key in extra)) / 10 for key, (whole, _rest) in tenths.items()}


def income_distribution(*, patient_ids: QuerySet | Iterable[int],
                        as_of: datetime.date) -> dict[str, float]:
    """Percent of the given patients under each income source on ``as_of`` (see
    :func:`income_counts`), one decimal, adding up to 100.0 (:func:`largest_remainder_percent`);
    all zero for nobody. One query."""
    return largest_remainder_percent(income_counts(patient_ids=patient_ids, as_of=as_of))


# --- actions and the caseload -----------------------------------------------------------------


def social_action_get_for_user(*, user, pk: int) -> SocialAction:
    if not can_view_actions(user):
        raise Http404
    try:
        return SocialAction.objects.select_related(
            "patient", "partner", "social_worker", "created_by").get(pk=pk)
    except SocialAction.DoesNotExist:
        raise Http404 from None


def social_action_updates(*, action) -> list:
    return list(action.updates.select_related("author").order_by("at", "id"))


def caseload(*, user, data, team: bool = False) -> SocialActionFilter:
    """The caseload: the user's actions (or the whole team's), overdue first, then by due
    date (none last). Without a status filter only open and in-progress actions show."""
    data = data.copy()
    if not data.get("status"):
        data["status"] = SocialActionFilter.ACTIVE
    today = timezone.localdate()
    queryset = (
        SocialAction.objects.select_related("patient", "partner", "social_worker")
        .annotate(overdue=Case(
            When(status__in=SocialAction.OPEN_STATUSES, due_on__lt=today, then=Value(0)),
            default=Value(1), output_field=IntegerField(),
        ))
        .order_by("overdue", F("due_on").asc(nulls_last=True), "opened_on", "id")
    )
    if not team:
        queryset = queryset.filter(social_worker=user)
    return SocialActionFilter(data, queryset=queryset, team=team)


def patient_social_actions(*, patient, limit: int = 20) -> list[SocialAction]:
    """A patient's actions for the patient file: open ones first, then the latest closed."""
    return list(
        SocialAction.objects.filter(patient=patient)
        .select_related("partner", "social_worker")
        .annotate(closed=Case(When(status__in=SocialAction.OPEN_STATUSES, then=Value(0)),
                              default=Value(1), output_field=IntegerField()))
        .order_by("closed", F("due_on").asc(nulls_last=True), "-opened_on", "-id")[:limit]
    )
