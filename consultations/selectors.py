"""Reads of consultations, groups, referrals and screening, and the ONE place that decides who
may read what (the medical secret between disciplines).

The rule, for the text of a consultation note and of its amendments:

============================  ===================================================
discipline                    readers of the text
============================  ===================================================
psychological, psychiatric    psychologists, psychiatrists, the author
social                        social workers, doctors (psychiatrists too), the author
medical, nursing              doctors, psychiatrists, nurses, the author
other                         every clinical role, the author
personal note (any)           the author only
============================  ===================================================

Reception and coordinators read no note text; with ``consultations.view_consultation`` they
see that a consultation took place, when, and its discipline. Screening results are under
medical confidentiality: doctors, psychiatrists and nurses.
"""

from dataclasses import dataclass, field

from django.db.models import CharField, Count, F, Prefetch, Q, QuerySet, TimeField, Value
from django.http import Http404
from django.utils import timezone

from consultations.models import (
    Consultation,
    ConsultationAmendment,
    GroupAttendance,
    GroupSession,
    Partner,
    Referral,
    ScreeningResultAmendment,
    ScreeningTest,
)
from mass.accounts.roles import CLINICAL_ROLES, Role, has_role, user_roles
from mass.contributions import TIMELINE_KINDS, TimelineKind

D = Consultation.Discipline

#: Which roles read the text of which discipline (besides the author).
TEXT_READERS: dict[str, frozenset[Role]] = {
    D.PSYCHOLOGICAL: frozenset({Role.PSYCHOLOGIST, Role.PSYCHIATRIST}),
    D.PSYCHIATRIC: frozenset({Role.PSYCHOLOGIST, Role.PSYCHIATRIST}),
    # Psychiatrists hold doctor rights (docs/domain.md), as in social.selectors.
    D.SOCIAL: frozenset({Role.SOCIAL_WORKER, Role.DOCTOR, Role.PSYCHIATRIST}),
    D.MEDICAL: frozenset({Role.DOCTOR, Role.PSYCHIATRIST, Role.NURSE}),
    D.NURSING: frozenset({Role.DOCTOR, Role.PSYCHIATRIST, Role.NURSE}),
    D.OTHER: frozenset(CLINICAL_ROLES),
}

#: Which disciplines a role writes in (and corrects others' notes of).
WRITTEN_BY: dict[Role, tuple[str, ...]] = {
    Role.NURSE: (D.NURSING, D.OTHER),
    Role.DOCTOR: (D.MEDICAL, D.OTHER),
    Role.PSYCHIATRIST: (D.PSYCHIATRIC, D.MEDICAL, D.OTHER),
    Role.PSYCHOLOGIST: (D.PSYCHOLOGICAL, D.OTHER),
    Role.SOCIAL_WORKER: (D.SOCIAL, D.OTHER),
}

#: Screening results (HCV/HIV): medical confidentiality.
SCREENING_READERS = frozenset({Role.DOCTOR, Role.PSYCHIATRIST, Role.NURSE})


# --- the rule -------------------------------------------------------------------------------


def readable_disciplines(user) -> set[str]:
    """Disciplines whose (non-personal) note text this user reads through their roles."""
    roles = set(user_roles(user))
    return {discipline for discipline, readers in TEXT_READERS.items() if roles & readers}


def writable_disciplines(user) -> list[str]:
    """Disciplines this user may write a note in, in the order of Consultation.Discipline."""
    written = {d for role in user_roles(user) for d in WRITTEN_BY.get(role, ())}
    return [d.value for d in D if d in written]


def consultation_text_visible_q(user, prefix: str = "") -> Q:
    """The consultations whose note text (and amendments' text) ``user`` may read.

    ``prefix`` reaches the consultation from another model (``"consultation__"``).
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    own = Q(**{f"{prefix}author": user})
    readable = readable_disciplines(user)
    if not readable:
        return own
    return own | Q(**{f"{prefix}is_personal_note": False,
                      f"{prefix}discipline__in": sorted(readable)})


def consultation_text_visible(user, consultation: Consultation) -> bool:
    """The same rule as :func:`consultation_text_visible_q`, for one loaded consultation."""
    if not user.is_authenticated:
        return False
    if consultation.author_id == user.pk:
        return True
    return (not consultation.is_personal_note
            and consultation.discipline in readable_disciplines(user))


def consultation_editable(user, consultation: Consultation) -> bool:
    """Only the author edits, and only until the note is locked."""
    return consultation.author_id == user.pk and not consultation.is_locked


def consultation_amendable(user, consultation: Consultation) -> bool:
    """A locked note is corrected by its author, or by a colleague who reads it and writes in
    its discipline (an author who left, an imported note). A personal note: its author only."""
    if not consultation.is_locked or not consultation_text_visible(user, consultation):
        return False
    if consultation.author_id == user.pk:
        return True
    return (user.has_perm("consultations.add_consultationamendment")
            and consultation.discipline in writable_disciplines(user))


def screening_visible(user) -> bool:
    return has_role(user, *SCREENING_READERS)


def referral_reason_visible(user, referral: Referral) -> bool:
    """Why someone was referred is clinical: clinical roles and whoever referred them."""
    return referral.referred_by_id == user.pk or has_role(user, *CLINICAL_ROLES)


def may_see_consultations(user) -> bool:
    return user.has_perm("consultations.view_consultation")


# --- consultations --------------------------------------------------------------------------


def _with_visibility(queryset: QuerySet, user) -> QuerySet:
    """Annotate ``text_visible`` (the rule, evaluated by the database) on consultations."""
    from django.db.models import BooleanField, Case, When
    return queryset.annotate(text_visible=Case(
        When(consultation_text_visible_q(user), then=Value(True)),
        default=Value(False), output_field=BooleanField(),
    ))


def _amendments_prefetch(user) -> Prefetch:
    # Amendments are shown only where their consultation's text is: same rule, same query.
    return Prefetch(
        "amendments",
        queryset=ConsultationAmendment.objects.filter(
            consultation_text_visible_q(user, "consultation__")
        ).select_related("author"),
        to_attr="visible_amendments",
    )


def consultations_for_user(user, patient, *, limit: int | None = None) -> QuerySet:
    """A patient's consultations as ``user`` may see them: every row carries ``text_visible``
    and ``visible_amendments``; templates show ``note`` only when ``text_visible``."""
    if not may_see_consultations(user):
        return Consultation.objects.none()
    queryset = _with_visibility(
        Consultation.objects.filter(patient=patient)
        .select_related("author", "site", "signed_by")
        .prefetch_related(_amendments_prefetch(user)),
        user,
    )
    return queryset[:limit] if limit else queryset


#: How many earlier notes the consultation form shows.
CONTEXT_NOTES = 3


def consultation_context_notes(user, patient, *, limit: int = CONTEXT_NOTES
                               ) -> list[Consultation]:
    """The patient's latest notes whose text ``user`` may read (the rule of
    :func:`consultation_text_visible_q`: their own, and their disciplines' non-personal
    ones), newest first, with their visible amendments: what the consultation form shows
    before one writes. Two queries, whatever the number of notes."""
    if not may_see_consultations(user):
        return []
    return list(_with_visibility(
        Consultation.objects.filter(consultation_text_visible_q(user), patient=patient)
        .select_related("author", "site", "signed_by")
        .prefetch_related(_amendments_prefetch(user)), user)
        .order_by("-date", "-time", "-id")[:limit])


def consultation_get_for_user(*, user, pk: int) -> Consultation:
    """One consultation, or 404 when the user may not know of it. The text may still be
    hidden: check ``text_visible``."""
    if not may_see_consultations(user):
        raise Http404
    try:
        return _with_visibility(
            Consultation.objects.select_related("patient", "author", "site", "signed_by")
            .prefetch_related(_amendments_prefetch(user)),
            user,
        ).get(pk=pk)
    except Consultation.DoesNotExist:
        raise Http404 from None


def consultations_authored(user) -> QuerySet:
    """The signed-in clinician's consultations, newest first (their own: text visible)."""
    return _with_visibility(
        Consultation.objects.filter(author=user).select_related("patient", "site"), user
    )


def notes_to_sign(user) -> QuerySet:
    """The author's notes not signed yet and still open (the day of the consultation and the
    next day); older ones are signed automatically."""
    oldest_open = timezone.localdate() - timezone.timedelta(days=1)
    return consultations_authored(user).filter(
        signed_at__isnull=True, imported=False, date__gte=oldest_open,
    ).order_by("date", "time", "id")


def notes_due_for_signature() -> QuerySet:
    """Notes past the end of the day after the consultation and still without a signature
    (``sign_due_notes`` signs them). Imported notes are locked as they are."""
    oldest_open = timezone.localdate() - timezone.timedelta(days=1)
    return Consultation.objects.filter(signed_at__isnull=True, imported=False,
                                       date__lt=oldest_open)


# --- contacts (the yearly figures) ----------------------------------------------------------


def contact_day_querysets() -> list[QuerySet]:
    """The (patient, date) pairs this app contributes to the contacts of docs/domain.md:
    consultations and group attendances (on the session's date). Each queryset has
    ``.values("patient_id", "date")``, unordered, so that reporting can UNION them. Order the
    union explicitly (``.order_by()`` or ``.order_by("date")``): Django would otherwise apply
    the first model's default ordering to the union and fail on columns it does not select."""
    return [
        Consultation.objects.order_by().values("patient_id", "date"),
        # an attendance left on a merged file repeats one of its kept file (patient merge)
        # a cancelled attendance was a recording mistake: no contact
        GroupAttendance.objects.standing().filter(patient__merged_into__isnull=True)
        .order_by()
        .annotate(date=F("session__date")).values("patient_id", "date"),
    ]


# --- groups ---------------------------------------------------------------------------------


def group_sessions() -> QuerySet:
    return (GroupSession.objects.select_related("site")
            .prefetch_related("facilitators")
            .annotate(attendance_count=Count(
                "attendances", filter=Q(attendances__patient__merged_into__isnull=True,
                                        attendances__cancellation__isnull=True)))
            .order_by("-date", "-time", "-id"))


def group_session_get(*, pk: int) -> GroupSession:
    try:
        session = GroupSession.objects.select_related("site").annotate(
            # as the groups list: a row left on a merged file is counted on the kept file
            standing_count=Count("attendances",
                                 filter=Q(attendances__cancellation__isnull=True,
                                          attendances__patient__merged_into__isnull=True)),
        ).prefetch_related(
            "facilitators",
            Prefetch("attendances",
                     # cancelled ones too: struck through, with who, when and why
                     queryset=GroupAttendance.objects.select_related(
                         "patient__merged_into", "cancellation__cancelled_by")
                     # a person recorded again: the cancelled attendance first
                     .order_by("patient__alias", "id")),
        ).get(pk=pk)
    except GroupSession.DoesNotExist:
        raise Http404 from None
    # A row left on a merged file counts when the kept file's own stands (the page says
    # which): the files with a standing attendance here.
    session.standing_patient_ids = {
        attendance.patient_id for attendance in session.attendances.all()
        if not hasattr(attendance, "cancellation")}
    return session


def group_attendance_get_for_user(*, user, pk: int) -> GroupAttendance:
    """An attendance of a session this user may see, of a file they may open; else 404."""
    if not (user.has_perm("consultations.view_groupattendance")
            and user.has_perm("patients.view_patient")):
        raise Http404
    try:
        return (GroupAttendance.objects
                .select_related("session", "patient", "recorded_by",
                                "cancellation__cancelled_by").get(pk=pk))
    except GroupAttendance.DoesNotExist:
        raise Http404 from None


# --- partners and referrals -----------------------------------------------------------------


def partner_list(*, query: str = "", kind: str = "") -> QuerySet:
    partners = Partner.objects.all()
    if query:
        partners = partners.filter(
            Q(name__unaccent__icontains=query) | Q(address__unaccent__icontains=query)
            | Q(contact_person__unaccent__icontains=query)
        )
    if kind:
        partners = partners.filter(kind=kind)
    return partners.order_by("-is_active", "kind", "name")


def partner_get(*, pk: int) -> Partner:
    try:
        return Partner.objects.get(pk=pk)
    except Partner.DoesNotExist:
        raise Http404 from None


def referrals_of_partner(*, partner) -> QuerySet:
    return (Referral.objects.filter(partner=partner)
            .select_related("patient", "referred_by").order_by("-date", "-id"))


def referrals_for_patient(*, patient) -> QuerySet:
    return (Referral.objects.filter(patient=patient)
            .select_related("partner", "referred_by").order_by("-date", "-id"))


def referral_get_for_user(*, user, pk: int) -> Referral:
    if not user.has_perm("consultations.view_referral"):
        raise Http404
    try:
        return (Referral.objects.select_related("patient", "partner", "referred_by")
                .get(pk=pk))
    except Referral.DoesNotExist:
        raise Http404 from None


def referral_letter_get_for_user(*, user, pk: int) -> Referral:
    """A referral to write its letter: the letter gives the reason, so only those who may
    read it (``referral_reason_visible``); anyone else gets a 404, as for the reason itself."""
    referral = referral_get_for_user(user=user, pk=pk)
    if not referral_reason_visible(user, referral):
        raise Http404
    return referral


# --- screening ------------------------------------------------------------------------------


def screening_tests_for_user(user, patient) -> QuerySet:
    if not screening_visible(user):
        return ScreeningTest.objects.none()
    return (ScreeningTest.objects.filter(patient=patient)
            .select_related("performed_by", "cancellation__cancelled_by")
            .prefetch_related(_screening_amendments())
            .order_by("-date", "-id"))


def _screening_amendments() -> Prefetch:
    return Prefetch("amendments", queryset=ScreeningResultAmendment.objects
                    .select_related("author").order_by("created_at", "id"))


def screening_test_get_for_user(*, user, pk: int) -> ScreeningTest:
    if not screening_visible(user):
        raise Http404
    try:
        return (ScreeningTest.objects
                .select_related("patient", "performed_by", "cancellation__cancelled_by")
                .prefetch_related(_screening_amendments()).get(pk=pk))
    except ScreeningTest.DoesNotExist:
        raise Http404 from None


# --- the patient timeline -------------------------------------------------------------------


@dataclass
class TimelineEntry:
    kind: str
    label: object
    date: object
    time: object
    obj: object = None
    detail: bool = False
    extra: dict = field(default_factory=dict)


def _entry_columns(queryset: QuerySet, kind: TimelineKind) -> QuerySet:
    # Every column is an annotation, in the same order, so the UNION lines up.
    if kind.time is None:
        time = Value(None, output_field=TimeField())
    else:
        time = F(kind.time) if isinstance(kind.time, str) else kind.time
    return (queryset.order_by()
            .annotate(entry_kind=Value(kind.key, output_field=CharField()),
                      entry_id=F("pk"), entry_date=F(kind.date), entry_time=time)
            .values("entry_kind", "entry_id", "entry_date", "entry_time"))


def _visits_kind(user) -> TimelineKind:
    from patients.models import Visit

    def load(ids):
        return {v.pk: (v, True) for v in Visit.objects.filter(pk__in=ids).select_related("site")}
    from django.utils.translation import gettext_lazy as _
    return TimelineKind("visit", _("Walk-in"),
                        lambda patient: Visit.objects.standing().filter(patient=patient), load)


def _harm_reduction_kind(user) -> TimelineKind:
    from patients.models import HarmReductionContact

    def load(ids):
        return {c.pk: (c, True)
                for c in HarmReductionContact.objects.filter(pk__in=ids).select_related("site")}
    from django.utils.translation import gettext_lazy as _
    return TimelineKind(
        "harm_reduction", _("Harm-reduction material"),
        lambda patient: HarmReductionContact.objects.standing().filter(patient=patient), load,
        time=None)


def _consultations_kind(user) -> TimelineKind:
    def load(ids):
        rows = _with_visibility(
            Consultation.objects.filter(pk__in=ids).select_related("author", "site")
            .prefetch_related(_amendments_prefetch(user)), user)
        return {c.pk: (c, c.text_visible) for c in rows}
    from django.utils.translation import gettext_lazy as _
    return TimelineKind("consultation", _("Consultation"),
                        lambda patient: Consultation.objects.filter(patient=patient), load)


def _groups_kind(user) -> TimelineKind:
    def load(ids):
        rows = GroupAttendance.objects.filter(pk__in=ids).select_related("session",
                                                                           "session__site")
        return {a.pk: (a, True) for a in rows}
    from django.utils.translation import gettext_lazy as _
    return TimelineKind("group", _("Group"),
                        lambda patient: GroupAttendance.objects.standing().filter(patient=patient),
                        load,
                        date="session__date", time="session__time")


def timeline_kinds(user) -> list[TimelineKind]:
    kinds = [_visits_kind(user), _harm_reduction_kind(user)]
    if may_see_consultations(user):
        kinds.append(_consultations_kind(user))
    if user.has_perm("consultations.view_groupattendance"):
        kinds.append(_groups_kind(user))
    # The other apps' entries (dispensary, social), each by its own read rule.
    kinds.extend(kind for contributed in TIMELINE_KINDS if (kind := contributed(user)))
    return kinds


def timeline_for_user(*, user, patient, page_number, per_page: int = 50):
    """One chronological page (newest first) of everything that happened with a patient,
    as ``user`` may see it.

    The page is found in SQL (a UNION ALL of each kind's (kind, id, date, time), ordered and
    sliced by the database: one count, one page query), then each kind present on the page is
    loaded in one query through its own read rule. The number of queries does not grow with
    the number of entries.
    """
    from django.core.paginator import Paginator

    kinds = {kind.key: kind for kind in timeline_kinds(user)}
    parts = [_entry_columns(kind.rows(patient), kind) for kind in kinds.values()]
    union = parts[0].union(*parts[1:], all=True).order_by(
        "-entry_date", F("entry_time").desc(nulls_last=True), "entry_kind", "-entry_id")
    page = Paginator(union, per_page).get_page(page_number)
    rows = list(page.object_list)
    ids_by_kind: dict[str, list[int]] = {}
    for row in rows:
        ids_by_kind.setdefault(row["entry_kind"], []).append(row["entry_id"])
    loaded = {key: kinds[key].load(ids) for key, ids in ids_by_kind.items()}
    entries = []
    for row in rows:
        obj, detail = loaded[row["entry_kind"]].get(row["entry_id"], (None, False))
        entries.append(TimelineEntry(kind=row["entry_kind"], label=kinds[row["entry_kind"]].label,
                                     date=row["entry_date"], time=row["entry_time"], obj=obj,
                                     detail=detail))
    page.object_list = entries
    return page
