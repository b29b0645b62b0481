"""Writes of vaccinations: each one transaction with its audit row; a refusal is a
``ValidationError`` naming the field (mass.refusals) and writes nothing."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mass.accounts.roles import Role
from mass.audit import Action, audit_record
from mass.corrections import cancellation_check
from vaccinations.models import (
    VACCINE_SCHEDULES,
    VaccinationCourse,
    VaccinationDose,
    VaccinationDoseCancellation,
    dose_earliest_on,
)
from vaccinations.selectors import course_state


def _refuse_merged(patient) -> None:
    if patient.merged_into_id is not None:
        raise ValidationError(_("This file was merged into %(kept)s: record it on that file.")
                              % {"kept": patient.merged_into}, code="merged")


@transaction.atomic
def vaccination_course_start(*, patient, vaccine: str, schedule: str, date: datetime.date,
                             product: str = "", batch: str = "", actor
                             ) -> VaccinationCourse:
    """Open a course of ``vaccine`` on ``schedule`` with its first dose, given on ``date``."""
    _refuse_merged(patient)
    if schedule not in VACCINE_SCHEDULES.get(vaccine, ()):
        raise ValidationError({"schedule": _("This schedule is not one of this vaccine's.")},
                              code="schedule")
    course = VaccinationCourse(patient=patient, vaccine=vaccine, schedule=schedule,
                               started_by=actor)
    course.full_clean()
    course.save()
    audit_record(actor=actor, action=Action.CREATE, obj=course,
                 summary=gettext_noop("vaccination course %(vaccine)s started"),
                 params={"vaccine": vaccine})
    _dose_add(course=course, number=1, date=date, product=product, batch=batch, given={},
              actor=actor)
    return course


@transaction.atomic
def vaccination_dose_record(*, course: VaccinationCourse, number: int, date: datetime.date,
                            product: str = "", batch: str = "", actor) -> VaccinationDose:
    """Record dose ``number`` of ``course``: the next one of its schedule, given on or after
    the one before it."""
    # Locked: two nurses recording the same dose at once are served one after the other.
    course = VaccinationCourse.objects.select_for_update().select_related("patient").get(
        pk=course.pk)
    _refuse_merged(course.patient)
    doses = list(course.doses.select_related("cancellation").order_by("number", "id"))
    state = course_state(course, doses)
    if state.complete:
        raise ValidationError({"number": _("This course is complete: every dose of its "
                                           "schedule is recorded.")}, code="complete")
    if number != state.next_number:
        raise ValidationError({"number": _(
            "The next dose of this course is dose %(next)s: dose %(number)s cannot be "
            "recorded before it.") % {"next": state.next_number, "number": number}},
            code="order")
    given = {dose.number: dose.date for dose in doses if not hasattr(dose, "cancellation")}
    return _dose_add(course=course, number=number, date=date, product=product, batch=batch,
                     given=given, actor=actor)


def _dose_add(*, course, number, date, product, batch, given, actor) -> VaccinationDose:
    """``given``: the course's standing doses, {number: date}."""
    if date > timezone.localdate():
        raise ValidationError({"date": _("The date given cannot be later than today.")},
                              code="future")
    previous = given.get(number - 1)
    if previous is not None and date <= previous:
        raise ValidationError({"date": _(
            "Dose %(number)s cannot be given on or before dose %(previous)s (%(day)s).") % {
            "number": number, "previous": number - 1, "day": previous}},
            code="order")
    # Given too soon, a dose does not count (models.SCHEDULE_MIN_INTERVALS).
    earliest = dose_earliest_on(course.schedule, number, given)
    if earliest is not None and date < earliest[0]:
        day, earlier = earliest
        raise ValidationError({"date": _(
            "Dose %(number)s may be given on %(earliest)s at the earliest: the minimum "
            "interval after dose %(earlier)s (%(day)s) of this schedule has not passed.") % {
            "number": number, "earliest": date_format(day, "SHORT_DATE_FORMAT"),
            "earlier": earlier, "day": date_format(given[earlier], "SHORT_DATE_FORMAT")}},
            code="interval")
    dose = VaccinationDose(course=course, number=number, date=date, product=product.strip(),
                           batch=batch.strip(), given_by=actor)
    dose.full_clean()
    dose.save()
    audit_record(actor=actor, action=Action.CREATE, patient=course.patient, obj=dose,
                 summary=gettext_noop("vaccination %(vaccine)s dose %(number)s %(date)s"),
                 params={"vaccine": course.vaccine, "number": number, "date": str(date)})
    return dose


@transaction.atomic
def vaccination_dose_cancel(*, dose: VaccinationDose, reason: str,
                            actor) -> VaccinationDoseCancellation:
    """Cancel a dose recorded by mistake: who gave it, or a doctor (mass.corrections), once,
    with a reason. Only the course's last standing dose: the doses after it were counted
    from it, so they are cancelled first (newest first), and the numbers stay 1..n."""
    # The course is locked (its doses are append-only, the application may not lock them):
    # two cancellations of its doses at once are served one after the other.
    course = VaccinationCourse.objects.select_for_update().select_related("patient").get(
        pk=dose.course_id)
    current = VaccinationDose.objects.get(pk=dose.pk)
    reason = cancellation_check(record=current, author_id=current.given_by_id, reason=reason,
                                actor=actor, overseer=Role.DOCTOR)
    if course.doses.standing().filter(number__gt=current.number).exists():
        raise ValidationError(_("A later dose of this course is recorded: cancel it first."),
                              code="later_dose")
    cancellation = VaccinationDoseCancellation.objects.create(dose=current, reason=reason,
                                                              cancelled_by=actor)
    audit_record(actor=actor, action=Action.CANCEL, patient=course.patient, obj=cancellation,
                 summary=gettext_noop("vaccination dose %(dose)s cancelled"),
                 params={"dose": current.pk}, details={"dose": current.pk})
    return cancellation
