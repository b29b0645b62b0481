"""Laboratory results, the HCV and HIV treatments they lead to, and the lab files imported.

Results are history: append-only in the database (a merge of two files moves them to the
kept file, nothing else changes); a result entered by mistake is cancelled
(``LabResultCancellation``, mass.corrections) and the right one entered as a new row. The
HCV and HIV screening tests of the consultations app (issue 14) are the first steps of the
cascades and stay where they are (docs/domain.md "The HCV and HIV cascades").
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mass.database.triggers import AppendOnly
from mass.models import CancellableQuerySet, Cancellation


class LabTest(models.TextChoices):
    HCV_ANTIBODY = "hcv_antibody", _("HCV antibody")
    HCV_RNA = "hcv_rna", _("HCV RNA (viral load)")
    HCV_GENOTYPE = "hcv_genotype", _("HCV genotype")
    HIV_TEST = "hiv_test", _("HIV test")
    HIV_CONFIRMATION = "hiv_confirmation", _("HIV confirmation")
    HBSAG = "hbsag", _("HBs antigen (HBsAg)")
    ANTI_HBS = "anti_hbs", _("Anti-HBs antibody")
    ANTI_HBC = "anti_hbc", _("Anti-HBc antibody")
    URINE_DRUG_SCREEN = "urine_drug_screen", _("Urine drug screen")


class Reading(models.TextChoices):
    """The lab's qualitative reading (for a viral load: detected or not)."""

    POSITIVE = "positive", _("Positive / detected")
    NEGATIVE = "negative", _("Negative / not detected")
    INDETERMINATE = "indeterminate", _("Indeterminate")


class Genotype(models.TextChoices):
    G1A = "1a", "1a"
    G1B = "1b", "1b"
    G2 = "2", "2"
    G3 = "3", "3"
    G4 = "4", "4"
    G5 = "5", "5"
    G6 = "6", "6"
    MIXED = "mixed", _("Mixed")


class Substance(models.TextChoices):
    OPIATES = "opiates", _("Opiates")
    METHADONE = "methadone", _("Methadone")
    BUPRENORPHINE = "buprenorphine", _("Buprenorphine")
    FENTANYL = "fentanyl", _("Fentanyl")
    COCAINE = "cocaine", _("Cocaine")
    AMPHETAMINES = "amphetamines", _("Amphetamines")
    BENZODIAZEPINES = "benzodiazepines", _("Benzodiazepines")
    CANNABIS = "cannabis", _("Cannabis")
    ALCOHOL = "alcohol", _("Alcohol (EtG)")


#: Tests whose result is a reading (positive, negative, indeterminate): all but the genotype
#: and the urine drug screen (whose reading is the substances found).
READ_TESTS = frozenset(LabTest.values) - {LabTest.HCV_GENOTYPE, LabTest.URINE_DRUG_SCREEN}


class LabImport(models.Model):
    """A lab's file imported at once (all its lines or none): what, by whom, its checksum."""

    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(_("results"))
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("imported by"))
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        triggers = [AppendOnly()]
        verbose_name = _("lab file import")
        verbose_name_plural = _("lab file imports")
        ordering = ["-imported_at", "-id"]
        # A file imported twice would record every result twice (labs.services).
        constraints = [models.UniqueConstraint(fields=["sha256"],
                                               name="labs_labimport_sha256_unique")]

    def __str__(self):
        return self.file_name


class LabResult(models.Model):
    """One result of one sample. ``reading`` is the lab's interpretation; ``value`` with its
    ``unit`` the measure when there is one (a viral load, an antibody titre), with the lab's
    reference range; the genotype and the substances found for the tests that give those."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="lab_results", verbose_name=_("patient"))
    test = models.CharField(_("test"), max_length=20, choices=LabTest.choices)
    sample_date = models.DateField(_("sample date"))
    reading = models.CharField(_("result"), max_length=15, choices=Reading.choices,
                               blank=True)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=3, null=True,
                                blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    reference_low = models.DecimalField(_("reference range from"), max_digits=14,
                                        decimal_places=3, null=True, blank=True)
    reference_high = models.DecimalField(_("reference range to"), max_digits=14,
                                         decimal_places=3, null=True, blank=True)
    genotype = models.CharField(_("genotype"), max_length=5, choices=Genotype.choices,
                                blank=True)
    substances = ArrayField(models.CharField(max_length=20, choices=Substance.choices),
                            verbose_name=_("substances found"), default=list, blank=True)
    laboratory = models.CharField(_("laboratory"), max_length=120)
    imported_from = models.ForeignKey(LabImport, on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="results",
                                      verbose_name=_("imported from"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = CancellableQuerySet.as_manager()

    class Meta:
        triggers = [AppendOnly(updatable=["patient_id"])]
        verbose_name = _("lab result")
        verbose_name_plural = _("lab results")
        permissions = [("view_care_figures", "Can view the yearly care figures")]
        ordering = ["-sample_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(test__in=LabTest.values),
                                   name="labs_labresult_test_valid"),
            # Every result says something: a reading, a value, a genotype or substances.
            models.CheckConstraint(
                condition=~Q(reading="") | Q(value__isnull=False) | ~Q(genotype="")
                | Q(test=LabTest.URINE_DRUG_SCREEN),
                name="labs_labresult_has_a_result"),
            # A value without its unit means nothing.
            models.CheckConstraint(condition=Q(value__isnull=True) | ~Q(unit=""),
                                   name="labs_labresult_value_has_unit"),
            models.CheckConstraint(
                condition=Q(reference_low__isnull=True) | Q(reference_high__isnull=True)
                | Q(reference_low__lte=models.F("reference_high")),
                name="labs_labresult_reference_range_ordered"),
        ]
        indexes = [
            # The patient file panel and the cascade: a patient's results, newest first.
            models.Index(fields=["patient", "-sample_date"], name="labs_result_patient"),
            # The yearly care figures: results of one test in a year.
            models.Index(fields=["test", "sample_date"], name="labs_result_test_date"),
        ]

    def __str__(self):
        return f"{self.patient} {self.get_test_display()} {self.sample_date}"

    @property
    def substance_labels(self) -> list[str]:
        labels = dict(Substance.choices)
        return [str(labels.get(substance, substance)) for substance in self.substances]

    @property
    def out_of_range(self) -> bool:
        if self.value is None:
            return False
        return ((self.reference_low is not None and self.value < self.reference_low)
                or (self.reference_high is not None and self.value > self.reference_high))


class LabResultCancellation(Cancellation):
    """A result entered by mistake (the wrong file, a typing error), cancelled."""

    result = models.OneToOneField(LabResult, on_delete=models.PROTECT,
                                  related_name="cancellation", verbose_name=_("lab result"))

    class Meta(Cancellation.Meta):
        verbose_name = _("lab result cancellation")
        verbose_name_plural = _("lab result cancellations")

    def __str__(self):
        return f"{self.result} cancelled"


class Treatment(models.Model):
    """A treatment of the cascades: an HCV direct-acting antiviral (DAA) course, or the link
    to HIV care (antiretroviral treatment followed at an HIV reference centre). Its end is
    written once (``ended_on``), the only change the database allows."""

    class Condition(models.TextChoices):
        HCV = "hcv", _("HCV (direct-acting antivirals)")
        HIV = "hiv", _("HIV (care at a reference centre)")

    class Regimen(models.TextChoices):
        SOFOSBUVIR_VELPATASVIR = "sof_vel", _("Sofosbuvir/velpatasvir (Epclusa)")
        GLECAPREVIR_PIBRENTASVIR = "gle_pib", _("Glecaprevir/pibrentasvir (Maviret)")
        SOF_VEL_VOXILAPREVIR = "sof_vel_vox", _("Sofosbuvir/velpatasvir/voxilaprevir "
                                                "(Vosevi)")
        LEDIPASVIR_SOFOSBUVIR = "led_sof", _("Ledipasvir/sofosbuvir (Harvoni)")
        ELBASVIR_GRAZOPREVIR = "elb_gra", _("Elbasvir/grazoprevir (Zepatier)")
        ANTIRETROVIRAL = "art", _("Antiretroviral treatment")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="cascade_treatments", verbose_name=_("patient"))
    condition = models.CharField(_("condition"), max_length=5, choices=Condition.choices)
    regimen = models.CharField(_("treatment"), max_length=12, choices=Regimen.choices)
    centre = models.CharField(_("followed at"), max_length=120, blank=True)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = CancellableQuerySet.as_manager()

    class Meta:
        # The end is written once; a merge moves the row. Nothing else ever changes.
        triggers = [AppendOnly(updatable=["patient_id", "ended_on"],
                               update_only_if="(OLD.ended_on IS NULL OR "
                                              "NEW.ended_on IS NOT DISTINCT FROM OLD.ended_on)")]
        verbose_name = _("cascade treatment")
        verbose_name_plural = _("cascade treatments")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(condition__in=["hcv", "hiv"]),
                                   name="labs_treatment_condition_valid"),
            models.CheckConstraint(
                condition=Q(condition="hiv", regimen="art") | (Q(condition="hcv")
                                                               & ~Q(regimen="art")),
                name="labs_treatment_regimen_of_its_condition"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="labs_treatment_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.patient} {self.get_regimen_display()} {self.started_on}"


class TreatmentCancellation(Cancellation):
    """A treatment recorded by mistake, cancelled."""

    treatment = models.OneToOneField(Treatment, on_delete=models.PROTECT,
                                     related_name="cancellation", verbose_name=_("treatment"))

    class Meta(Cancellation.Meta):
        verbose_name = _("cascade treatment cancellation")
        verbose_name_plural = _("cascade treatment cancellations")

    def __str__(self):
        return f"{self.treatment} cancelled"
