"""Reads of vaccinations, and who may read them.

Vaccinations are medical records: the readers of screening results (doctors, psychiatrists
and nurses) read and record them; the others never see that a course exists (404).
"""

import datetime
from dataclasses import dataclass

from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from mass.accounts.roles import Role, has_role
from mass.contributions import TimelineKind
from patients.models import Patient
from vaccinations.models import (
    SCHEDULE_OFFSETS,
    VaccinationCourse,
    VaccinationDose,
    Vaccine,
    dose_due_on,
    dose_earliest_on,
)

#: Who reads and records vaccinations (the medical readers, as screening).
VACCINATION_READERS = (Role.DOCTOR, Role.PSYCHIATRIST, Role.NURSE)


def vaccinations_visible(user) -> bool:
    return has_role(user, *VACCINATION_READERS)


@dataclass(frozen=True)
class CourseState:
    """Where a course stands: doses given (standing), the next dose and when it is due."""

    course: VaccinationCourse
    doses: list  # standing and cancelled, in order (cancelled ones shown struck through)
    given: int
    next_number: int | None
    due_on: datetime.date | None

    @property
    def complete(self) -> bool:
        return self.next_number is None

    @property
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < timezone.localdate()


def course_state(course: VaccinationCourse, doses: list) -> CourseState:
    """The state of ``course`` from its doses (prefetched: no query). The next dose is due
    on the schedule's day counted from the first dose given, or later when a dose given late
    puts its minimum interval after that day (``dose_earliest_on``); a course whose doses
    were all cancelled waits for its first dose since it was opened."""
    standing = [dose for dose in doses if not _cancelled(dose)]
    given = len(standing)
    if given >= course.doses_planned:
        return CourseState(course, doses, given, None, None)
    first = standing[0].date if standing else timezone.localtime(course.created_at).date()
    due_on = dose_due_on(course.schedule, given + 1, first)
    earliest = dose_earliest_on(course.schedule, given + 1,
                                {dose.number: dose.date for dose in standing})
    if earliest is not None:
        due_on = max(due_on, earliest[0])
    return CourseState(course, doses, given, given + 1, due_on)


def _cancelled(dose) -> bool:
    try:
        return dose.cancellation is not None
    except VaccinationDose.cancellation.RelatedObjectDoesNotExist:
        return False


def _doses() -> Prefetch:
    return Prefetch("doses", queryset=VaccinationDose.objects
                    .select_related("cancellation__cancelled_by", "given_by")
                    .order_by("number", "id"))


def courses_for_user(user, patient) -> list[CourseState]:
    """A patient's courses with their state, newest first (two queries), or none for a user
    who may not read vaccinations."""
    if not vaccinations_visible(user):
        return []
    courses = (VaccinationCourse.objects.filter(patient=patient)
               .select_related("started_by").prefetch_related(_doses()))
    return [course_state(course, list(course.doses.all())) for course in courses]


def course_get_for_user(*, user, pk: int) -> CourseState:
    if not vaccinations_visible(user):
        raise Http404
    try:
        course = (VaccinationCourse.objects.select_related("patient", "started_by")
                  .prefetch_related(_doses()).get(pk=pk))
    except VaccinationCourse.DoesNotExist:
        raise Http404 from None
    return course_state(course, list(course.doses.all()))


def dose_get_for_user(*, user, pk: int) -> VaccinationDose:
    if not vaccinations_visible(user):
        raise Http404
    try:
        return (VaccinationDose.objects
                .select_related("course__patient", "given_by", "cancellation")
                .get(pk=pk))
    except VaccinationDose.DoesNotExist:
        raise Http404 from None


def week_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Monday and Sunday of the week of ``day``."""
    monday = day - datetime.timedelta(days=day.weekday())
    return monday, monday + datetime.timedelta(days=6)


def doses_due_by(*, until: datetime.date) -> list[CourseState]:
    """The courses of living people's files whose next dose is due on or before ``until`` (overdue
    ones included, earliest first): the nurses' "due this week" list. Two queries whatever
    the number of courses (the courses not complete, then their doses)."""
    open_courses = (
        VaccinationCourse.objects
        # Nobody to vaccinate on a merged file (its courses moved) or after a death.
        .exclude(patient__status__in=[Patient.Status.MERGED, Patient.Status.DECEASED])
        .annotate(standing=Count("doses", filter=Q(doses__cancellation__isnull=True)),
                  planned=_planned("schedule"))
        .filter(standing__lt=F("planned"))
        .select_related("patient").prefetch_related(_doses()))
    states = [course_state(course, list(course.doses.all())) for course in open_courses]
    states = [state for state in states if state.due_on <= until]
    return sorted(states, key=lambda state: (state.due_on, state.course.patient.alias))


def _planned(schedule_field: str) -> Case:
    """The number of doses of the schedule named by ``schedule_field``, in SQL."""
    return Case(*[When(**{schedule_field: schedule}, then=Value(len(offsets)))
                  for schedule, offsets in SCHEDULE_OFFSETS.items()],
                output_field=IntegerField())


def hbv_courses_completed_in(year: int) -> QuerySet:
    """HBV courses completed in ``year``, as rows (patient_id, date) of the dose that
    completed them: the last dose of the course's schedule, standing, given that year
    (docs/domain.md "Care figures"). Standing doses are numbered 1..n without a gap: only a
    course's last standing dose may be cancelled (services.vaccination_dose_cancel)."""
    return (VaccinationDose.objects.standing()
            .filter(course__vaccine=Vaccine.HEPATITIS_B, date__year=year)
            .annotate(planned=_planned("course__schedule")).filter(number=F("planned"))
            .values_list("course__patient_id", "date"))


def doses_timeline_kind(user) -> TimelineKind | None:
    """The patient's timeline: the doses given (not the cancelled ones: recording mistakes),
    for who reads vaccinations; no entry for the others."""
    if not vaccinations_visible(user):
        return None

    def load(ids):
        rows = VaccinationDose.objects.filter(pk__in=ids).select_related("course", "given_by")
        return {dose.pk: (dose, True) for dose in rows}
    return TimelineKind(
        "vaccination_dose", gettext_lazy("Vaccination"),
        lambda patient: VaccinationDose.objects.standing().filter(course__patient=patient),
        load, time=None)
