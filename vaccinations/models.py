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
