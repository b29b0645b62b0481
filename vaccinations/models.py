"""Vaccinations: a course of doses of one vaccine on one schedule, chosen per course.

A course and its doses are history: append-only in the database (a merge of two files
moves a course to the kept file, nothing else changes); a dose recorded by mistake is
cancelled (``VaccinationDoseCancellation``, mass.corrections) and the right one recorded
again as a new row.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mass.database.triggers import AppendOnly
from mass.models import CancellableQuerySet, Cancellation


class Vaccine(models.TextChoices):
    HEPATITIS_B = "hbv", _("Hepatitis B")
    HEPATITIS_A = "hav", _("Hepatitis A")
    TETANUS = "tetanus", _("Tetanus (diphtheria-tetanus booster)")
    INFLUENZA = "influenza", _("Influenza")
    COVID_19 = "covid19", _("COVID-19")


class Schedule(models.TextChoices):
    STANDARD = "standard", _("Standard: 0, 1 and 6 months")
    ACCELERATED = "accelerated", _("Accelerated: days 0, 7 and 21, then 12 months")
    TWO_DOSES = "two_doses", _("Two doses: 0 and 6 months")
    SINGLE = "single", _("One dose")


#: When each dose of a schedule is due, counted from the first dose: (months, days) after
#: it. The hepatitis B schedules of the product information (Engerix-B: 0-1-6 months;
#: accelerated 0-7-21 days with a booster at 12 months, for people hard to reach); hepatitis
#: A (Havrix) in two doses 6 months apart.
SCHEDULE_OFFSETS: dict[str, tuple[tuple[int, int], ...]] = {
    Schedule.STANDARD: ((0, 0), (1, 0), (6, 0)),
    Schedule.ACCELERATED: ((0, 0), (0, 7), (0, 21), (12, 0)),
    Schedule.TWO_DOSES: ((0, 0), (6, 0)),
    Schedule.SINGLE: ((0, 0),),
}

#: The shortest time between two doses of a schedule, below which the later dose does not
#: count: {dose number: ((earlier dose number, months, days), ...)}. A dose is refused before
#: the latest of its minimums, and a dose given late moves the next one's due day (see
#: ``dose_earliest_on``). Hepatitis B, standard schedule: 4 weeks between doses 1 and 2,
#: 8 weeks between 2 and 3, 16 weeks between 1 and 3 (CDC, "Epidemiology and Prevention of
#: Vaccine-Preventable Diseases" (the Pink Book), chapter Hepatitis B, and its table of
#: minimum intervals; the Belgian Superior Health Council's advice on hepatitis B
#: vaccination follows it). The accelerated schedule: its own 7 and 14 days between doses 1,
#: 2 and 3 (Engerix-B product information, 0-7-21 days); its booster at 12 months has no
#: minimum of its own beyond its due day. Hepatitis A: 6 months between the two doses (CDC
#: Pink Book, chapter Hepatitis A; Havrix product information). The Pink Book's 4-day grace
#: period is not applied: a dose early by a day is refused and given on the right day.
SCHEDULE_MIN_INTERVALS: dict[str, dict[int, tuple[tuple[int, int, int], ...]]] = {
    Schedule.STANDARD: {2: ((1, 0, 28),), 3: ((2, 0, 56), (1, 0, 112))},
    Schedule.ACCELERATED: {2: ((1, 0, 7),), 3: ((2, 0, 14),)},
    Schedule.TWO_DOSES: {2: ((1, 6, 0),)},
    Schedule.SINGLE: {},
}

#: The schedules each vaccine may follow (the accelerated one is hepatitis B's).
VACCINE_SCHEDULES: dict[str, tuple[str, ...]] = {
    Vaccine.HEPATITIS_B: (Schedule.STANDARD, Schedule.ACCELERATED),
    Vaccine.HEPATITIS_A: (Schedule.TWO_DOSES, Schedule.SINGLE),
    Vaccine.TETANUS: (Schedule.SINGLE,),
    Vaccine.INFLUENZA: (Schedule.SINGLE,),
    Vaccine.COVID_19: (Schedule.SINGLE,),
}


def dose_due_on(schedule: str, number: int, first_dose: datetime.date) -> datetime.date:
    """The day dose ``number`` (1-based) of ``schedule`` is due, the first one given on
    ``first_dose``."""
    # Imported here: patients.selectors reads the models, which are not loaded yet when
    # this module is.
    from patients.selectors import months_after
    months, days = SCHEDULE_OFFSETS[schedule][number - 1]
    return months_after(first_dose, months) + datetime.timedelta(days=days)


def dose_earliest_on(schedule: str, number: int, given: dict[int, datetime.date]
                     ) -> tuple[datetime.date, int] | None:
    """The first day dose ``number`` of ``schedule`` may be given after the doses ``given``
    ({number: date}), and the earlier dose that sets it; ``None`` when no minimum applies."""
    from patients.selectors import months_after
    earliest = None
    for earlier, months, days in SCHEDULE_MIN_INTERVALS[schedule].get(number, ()):
        if earlier not in given:
            continue
        day = months_after(given[earlier], months) + datetime.timedelta(days=days)
        if earliest is None or day > earliest[0]:
            earliest = (day, earlier)
    return earliest


class VaccinationCourse(models.Model):
    """One person's course of one vaccine on one schedule, started with its first dose."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="vaccination_courses", verbose_name=_("patient"))
    vaccine = models.CharField(_("vaccine"), max_length=12, choices=Vaccine.choices)
    schedule = models.CharField(_("schedule"), max_length=12, choices=Schedule.choices)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("started by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        triggers = [AppendOnly(updatable=["patient_id"])]
        verbose_name = _("vaccination course")
        verbose_name_plural = _("vaccination courses")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(vaccine__in=Vaccine.values),
                                   name="vaccinations_vaccinationcourse_vaccine_valid"),
            models.CheckConstraint(condition=Q(schedule__in=Schedule.values),
                                   name="vaccinations_vaccinationcourse_schedule_valid"),
        ]

    def __str__(self):
        return f"{self.patient} {self.get_vaccine_display()}"

    def get_absolute_url(self):
        return reverse("vaccinations:dose_create", args=[self.pk])

    @property
    def doses_planned(self) -> int:
        return len(SCHEDULE_OFFSETS[self.schedule])


class VaccinationDose(models.Model):
    """A dose given: its number in the course, the day, the product and batch, who gave it."""

    course = models.ForeignKey(VaccinationCourse, on_delete=models.PROTECT,
                               related_name="doses", verbose_name=_("course"))
    number = models.PositiveSmallIntegerField(_("dose number"))
    date = models.DateField(_("date given"))
    product = models.CharField(_("product"), max_length=80, blank=True)
    batch = models.CharField(_("batch"), max_length=40, blank=True)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("given by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = CancellableQuerySet.as_manager()

    class Meta:
        triggers = [AppendOnly()]
        verbose_name = _("vaccination dose")
        verbose_name_plural = _("vaccination doses")
        ordering = ["course", "number", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(number__gte=1),
                                   name="vaccinations_vaccinationdose_number_positive"),
        ]
        indexes = [
            # The nurses' "due this week" list and the yearly figures: a course's doses.
            models.Index(fields=["course", "number"], name="vaccinations_dose_course"),
            # The yearly figure "HBV courses completed": doses given in a year.
            models.Index(fields=["date"], name="vaccinations_dose_date"),
        ]

    def __str__(self):
        return f"{self.course} #{self.number} {self.date}"


class VaccinationDoseCancellation(Cancellation):
    """A dose recorded by mistake (the wrong file, the wrong day): cancelled, then recorded
    again if it was given."""

    dose = models.OneToOneField(VaccinationDose, on_delete=models.PROTECT,
                                related_name="cancellation", verbose_name=_("dose"))

    class Meta(Cancellation.Meta):
        verbose_name = _("vaccination dose cancellation")
        verbose_name_plural = _("vaccination dose cancellations")

    def __str__(self):
        return f"{self.dose} cancelled"
