from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinical.icd10 import SUBSTANCES
from clinical.rules import MEASURES
from mass.database.triggers import AppendOnly


class Problem(models.Model):
    """A problem of the patient's problem list (a diagnosis, coded in ICD-10 or in free text).
    What it says is in its versions (ProblemVersion): the current one is the latest, the
    earlier ones are its history. The problem itself only says whose it is, who may read it
    (its discipline, fixed: clinical.rules) and who recorded it first (who always reads it)."""

    class Discipline(models.TextChoices):
        MEDICAL = "medical", _("Medical")
        PSYCHIATRIC = "psychiatric", _("Psychiatric")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="problems", verbose_name=_("patient"))
    discipline = models.CharField(_("discipline"), max_length=20, choices=Discipline.choices)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        # History: never deleted nor changed; a merge of two files moves it.
        triggers = [AppendOnly(updatable=["patient_id"])]
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(discipline__in=["medical", "psychiatric"]),
                                   name="clinical_problem_discipline_valid"),
        ]

    def __str__(self):
        return f"{_('problem')} {self.pk}"

    def get_absolute_url(self):
        from django.urls import reverse
        return reverse("clinical:problem_detail", args=[self.pk])


class ProblemVersion(models.Model):
    """What a problem says, as recorded or corrected: a correction is a new version with its
    reason, never an edit (the database refuses UPDATE and DELETE)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        IN_REMISSION = "in_remission", _("In remission")
        RESOLVED = "resolved", _("Resolved")

    class Certainty(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        PROVISIONAL = "provisional", _("Provisional")
        RULED_OUT = "ruled_out", _("Ruled out")

    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="versions",
                                verbose_name=_("problem"))
    # Empty: a problem in free text (no ICD-10 code fits, or none is known yet).
    code = models.CharField(_("ICD-10 code"), max_length=8, blank=True)
    # The WHO's English label of the code when it was recorded (kept: the package may change).
    code_label = models.CharField(_("ICD-10 label"), max_length=300, blank=True)
    # The clinician's words, in their language; required without a code.
    label = models.CharField(_("label"), max_length=200, blank=True)
    # F10-F19: the ICD-10 category naming the substance (clinical.icd10.SUBSTANCES).
    substance = models.CharField(_("substance"), max_length=3, blank=True)
    onset = models.DateField(_("onset"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    certainty = models.CharField(_("certainty"), max_length=20, choices=Certainty.choices)
    # Empty for the first version; why it was corrected for the others.
    reason = models.CharField(_("reason for the correction"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        triggers = [AppendOnly()]
        verbose_name = _("problem version")
        verbose_name_plural = _("problem versions")
        ordering = ["problem", "recorded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(code="") | ~Q(label=""),
                                   name="clinical_problemversion_code_or_label"),
            models.CheckConstraint(condition=Q(status__in=["active", "in_remission", "resolved"]),
                                   name="clinical_problemversion_status_valid"),
            models.CheckConstraint(
                condition=Q(certainty__in=["confirmed", "provisional", "ruled_out"]),
                name="clinical_problemversion_certainty_valid"),
            # The substance is the code's own category, for F10-F19 only.
            models.CheckConstraint(
                condition=Q(substance="", code__regex=r"^([^F]|F[02-9]|F1$|$)")
                | Q(substance__regex=r"^F1[0-9]$", code__startswith=F("substance")),
                name="clinical_problemversion_substance_of_code"),
        ]
        indexes = [
            # The problem list: the latest version of each problem of a patient.
            models.Index(fields=["problem", "-recorded_at", "-id"],
                         name="clinical_problem_latest"),
        ]

    def __str__(self):
        return f"{self.code} {self.shown_label}".strip()

    @property
    def shown_label(self) -> str:
        return self.label or self.code_label

    @property
    def substance_name(self) -> str:
        return SUBSTANCES.get(self.substance, "")


def _in_range(measure) -> Q:
    return (Q(**{f"{measure.field}__isnull": True})
            | Q(**{f"{measure.field}__gte": measure.low, f"{measure.field}__lte": measure.high}))


class Measurement(models.Model):
    """Measures taken at one time (vital signs, an ECG's QTc): each optional, at least one.
    History: the database refuses UPDATE and DELETE (a merge moves it)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="measurements", verbose_name=_("patient"))
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=4, decimal_places=1,
                                    null=True, blank=True)
    systolic_mmhg = models.PositiveSmallIntegerField(_("systolic (mmHg)"), null=True,
                                                     blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(_("diastolic (mmHg)"), null=True,
                                                      blank=True)
    pulse_bpm = models.PositiveSmallIntegerField(_("pulse (/min)"), null=True, blank=True)
    temperature_c = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1,
                                        null=True, blank=True)
    spo2_percent = models.PositiveSmallIntegerField(_("SpO2 (%)"), null=True, blank=True)
    qtc_ms = models.PositiveSmallIntegerField(_("ECG QTc (ms)"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        triggers = [AppendOnly(updatable=["patient_id"])]
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        ordering = ["-taken_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=False) | Q(systolic_mmhg__isnull=False)
                | Q(pulse_bpm__isnull=False) | Q(temperature_c__isnull=False)
                | Q(spo2_percent__isnull=False) | Q(qtc_ms__isnull=False),
                name="clinical_measurement_something_measured"),
            # A blood pressure is both figures, the diastolic below the systolic.
            models.CheckConstraint(
                condition=Q(systolic_mmhg__isnull=True, diastolic_mmhg__isnull=True)
                | Q(systolic_mmhg__isnull=False, diastolic_mmhg__isnull=False,
                    diastolic_mmhg__lt=F("systolic_mmhg")),
                name="clinical_measurement_blood_pressure_whole"),
            *[models.CheckConstraint(condition=_in_range(measure),
                                     name=f"clinical_measurement_{measure.field}_plausible")
              for measure in MEASURES],
        ]
        indexes = [
            # The patient's measures, newest first (panel, charts, the last QTc of the rule).
            models.Index(fields=["patient", "-taken_at"], name="clinical_measure_patient"),
        ]

    def __str__(self):
        return f"{_('measurement')} {self.pk}"


class MeasurementWithdrawal(models.Model):
    """A measurement entered in error (a mistyped QTc, the wrong patient), withdrawn with why:
    it stays on the measures' list, struck through, and counts nowhere else (charts, last
    values, the QTc/dose rule). The right figures are a new measurement. Append-only."""

    measurement = models.OneToOneField(Measurement, on_delete=models.PROTECT,
                                       related_name="withdrawal",
                                       verbose_name=_("measurement"))
    reason = models.CharField(_("why it is withdrawn"), max_length=300)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), default=timezone.now)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("withdrawn by"))

    class Meta:
        triggers = [AppendOnly()]
        verbose_name = _("withdrawn measurement")
        verbose_name_plural = _("withdrawn measurements")
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""),
                                   name="clinical_measurementwithdrawal_reason_set"),
        ]

    def __str__(self):
        return f"{_('withdrawn measurement')} {self.measurement_id}"
