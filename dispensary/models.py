"""Substitution prescriptions, the dispensing ledger and the controlled-drug register.

The safety rules of the dispensary are enforced in three layers, so that a bug in one does not
give a patient a second dose:

1. :mod:`dispensary.services` locks the patient's row, then checks every rule (active
   prescription, dose, missed-days hold, stock) and says why it refuses;
2. the constraints below (one entry per prescription, day and dose part; no dose given with
   signs of intoxication; a balance never below zero);
3. the database's rules, declared in each model's ``Meta.triggers`` (dispensary/triggers.py):
   the ledger tables are append-only, a dispensation must match the prescription of the
   patient in force that day and, with the other doses of the substance for that day, never
   exceed its daily dose, and the register's running balance must follow from the previous
   entry of the product; the hold after missed days; a new assessment before any dose after
   one withheld for intoxication that day, and no take-home dose that day.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from dispensary.triggers import (
    AFTER_INTOXICATION,
    PRESCRIPTION_GUARD,
    PRODUCT_GUARD,
    REGISTER_CHECK,
    dispensation_check,
)
from mass.database.triggers import AppendOnly, moved_only_by_a_merge
from patients.triggers import AFTER_CANCELLATIONS, AFTER_CONTACTS, episode_refresh

DOSE_DIGITS = {"max_digits": 8, "decimal_places": 2}
STOCK_DIGITS = {"max_digits": 12, "decimal_places": 2}


#: The products the project seeds (migration 0003_products_and_roles), as named there. A
#: product's name is the coordinator's data, typed in their language and shown as typed; the
#: seeded ones are named by the project in English, so they are translated like any other
#: string of the project (marked here for the catalogues). A coordinator who renames one
#: takes it out of this list: their name is then shown as they wrote it.
SEEDED_PRODUCT_NAMES = frozenset({
    gettext_noop("Methadone syrup 1 mg/ml"),
    gettext_noop("Methadone capsules"),
    gettext_noop("Buprenorphine sublingual tablets"),
    gettext_noop("Buprenorphine/naloxone sublingual tablets"),
    gettext_noop("Diazepam tablets"),
})


def product_display_name(name: str) -> str:
    """A product's name in the reader's language: translated if the project seeded it."""
    return gettext(name) if name in SEEDED_PRODUCT_NAMES else name


class Product(models.Model):
    """A medication dispensed on site (reference data)."""

    class Form(models.TextChoices):
        SYRUP = "syrup", _("Syrup")
        CAPSULE = "capsule", _("Capsules")
        TABLET = "tablet", _("Tablets")
        SUBLINGUAL = "sublingual", _("Sublingual tablets")
        FILM = "film", _("Sublingual film")
        OTHER = "other", _("Other")

    class Unit(models.TextChoices):
        MG = "mg", _("mg")
        ML = "ml", _("ml")
        UNIT = "unit", _("unit")

    name = models.CharField(_("name"), max_length=100, unique=True)
    # Products of one substance share the daily limits: methadone syrup and methadone
    # capsules are one treatment, so a switch between them the same day cannot double a dose.
    substance = models.SlugField(
        _("substance"), max_length=40,
        help_text=_("Products of the same substance count together for the daily dose."),
    )
    form = models.CharField(_("form"), max_length=20, choices=Form.choices)
    unit = models.CharField(_("unit"), max_length=5, choices=Unit.choices, default=Unit.MG)
    is_substitution = models.BooleanField(
        _("substitution treatment"), default=False,
        help_text=_("Counted in the patients on substitution (methadone, buprenorphine)."),
    )
    is_controlled = models.BooleanField(
        _("controlled drug"), default=True,
        help_text=_("Kept in the controlled-drug register: stock may never go below zero."),
    )
    max_daily_dose = models.DecimalField(
        _("highest daily dose"), **DOSE_DIGITS,
        help_text=_("A prescription above this daily dose is refused (typing errors)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    #: What cannot change once the product is prescribed or in the register: how its doses
    #: are grouped (substance) and measured (unit), whether the register keeps it and whether
    #: it counts as substitution. Refused by the form, services.product_save and a trigger
    #: (migration 0004); a new product is made instead.
    LOCKED_WHEN_USED = ("substance", "unit", "is_controlled", "is_substitution")

    class Meta:
        triggers = [PRODUCT_GUARD]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["-is_substitution", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(max_daily_dose__gt=0),
                                   name="dispensary_product_max_dose_positive"),
        ]

    def __str__(self):
        return product_display_name(self.name)


#: The source of the default induction rules (seeded by a data migration): a doctor reading a
#: rule reads where its figures come from.
WHO_2009 = ("WHO, Guidelines for the psychosocially assisted pharmacological treatment of "
            "opioid dependence, Geneva 2009, Annex 12 (Prescribing guidelines)")


class InductionRule(models.Model):
    """How a substitution product is started or restarted safely: the starting-dose ceiling,
    the first days without take-home doses and the size of increases while the dose is being
    found. Reference data a doctor can read (the rules page); the prescribing service checks
    every first prescription of the product's substance, and every one after the missed-day
    hold, against it, and going above needs the prescriber's confirmation with a reason
    (``Prescription.induction_overrides``).

    Defaults (WHO 2009, Annex 12, "Methadone maintenance treatment: Induction"): the initial
    daily dose of methadone "should generally not be more than 20 mg, except in cases of
    higher tolerance to opioids, and even then should not be more than 30 mg" (10-15 mg for
    low or uncertain tolerance)."""

    product = models.OneToOneField(Product, on_delete=models.PROTECT,
                                   related_name="induction_rule", verbose_name=_("product"))
    max_starting_dose = models.DecimalField(
        _("highest starting dose"), **DOSE_DIGITS,
        help_text=_("Daily dose of a first prescription, or of one after the missed-day hold. "
                    "WHO 2009: methadone generally not above 20 mg, never above 30 mg "
                    "(10-15 mg for low or uncertain tolerance)."))
    induction_days = models.PositiveSmallIntegerField(
        _("induction period (days)"),
        help_text=_("From the first dose of a (re)start: increases during these days are "
                    "checked against the largest step."))
    max_increase = models.DecimalField(
        _("largest increase per step"), **DOSE_DIGITS,
        help_text=_("During the induction period."))
    min_days_between_increases = models.PositiveSmallIntegerField(
        _("days between increases"), default=0,
        help_text=_("During the induction period, at least this many days after the last "
                    "change before an increase. 0: not checked."))
    supervised_days = models.PositiveSmallIntegerField(
        _("first days without take-home doses"),
        help_text=_("From the first dose of a (re)start: every dose of these days is taken "
                    "under supervision."))
    source = models.CharField(_("source"), max_length=300,
                              help_text=_("The guideline (or the team's decision) these "
                                          "figures come from."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("updated by"))

    class Meta:
        verbose_name = _("induction rule")
        verbose_name_plural = _("induction rules")
        ordering = ["product__name"]
        constraints = [
            models.CheckConstraint(condition=Q(max_starting_dose__gt=0) & Q(max_increase__gt=0),
                                   name="dispensary_inductionrule_doses_positive"),
            models.CheckConstraint(condition=Q(induction_days__gt=0),
                                   name="dispensary_inductionrule_period_set"),
            models.CheckConstraint(condition=~Q(source=""),
                                   name="dispensary_inductionrule_source_set"),
        ]

    def __str__(self):
        return str(self.product)


class Pharmacy(models.Model):
    """A partner pharmacy where a patient of the MASS may collect the doses instead."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    address = models.CharField(_("address"), max_length=250, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner pharmacy")
        verbose_name_plural = _("partner pharmacies")
        ordering = ["name"]

    def __str__(self):
        return self.name


class InductionCheck(models.TextChoices):
    """The induction rules a prescription may go beyond (with a confirmation and a reason)."""

    STARTING_DOSE = "starting_dose", _("Starting dose above the ceiling")
    INCREASE = "increase", _("Increase larger than the step")
    INCREASE_INTERVAL = "increase_interval", _("Increase too soon after the last change")
    TAKE_HOME = "take_home", _("Take-home doses in the first days")


class PrescriptionQuerySet(models.QuerySet):
    def running_on(self, day: datetime.date):
        """The prescriptions running on ``day`` (started, not ended before it)."""
        return self.filter(Q(start_date__lte=day)
                           & (Q(end_date__isnull=True) | Q(end_date__gte=day)))

    def in_force_on(self, day: datetime.date):
        """The prescriptions in force on ``day``: running, and no newer one of the same
        patient and substance (by start, then id) runs that day (see Prescription; the same
        rule as ``dispensation_check``, dispensary/triggers.py)."""
        newer = Prescription.objects.running_on(day).filter(
            Q(start_date__gt=models.OuterRef("start_date"))
            | Q(start_date=models.OuterRef("start_date"), id__gt=models.OuterRef("id")),
            patient=models.OuterRef("patient"),
            product__substance=models.OuterRef("product__substance"))
        return self.running_on(day).filter(~models.Exists(newer))


class Prescription(models.Model):
    """A doctor's substitution (or other) prescription. A change of dose is a new
    prescription that ends the previous one (``replaces``); history is never rewritten.

    Replaced the day it is in force, the previous one ends that day (doses may have been
    given under it): of a patient's prescriptions of a substance running on a day, the
    newest (by start, then id) is the one in force, which alone gives doses, and the doses
    given that day under all of them count towards its daily dose (migration 0005)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="prescriptions", verbose_name=_("patient"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"))
    daily_dose = models.DecimalField(_("daily dose"), **DOSE_DIGITS,
                                     validators=[MinValueValidator(Decimal("0.01"))])
    # A split dose: the evening part is given apart; the morning part is the rest.
    # Zero: not split, the whole daily dose at once.
    evening_dose = models.DecimalField(_("evening part"), **DOSE_DIGITS, default=Decimal(0))
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True,
                                help_text=_("Empty: until a new prescription ends it."))
    # Weekdays (0 = Monday ... 6 = Sunday) whose dose is handed the day before, to take home.
    take_home_weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list,
                                    blank=True, verbose_name=_("take-home days"))
    # Empty: dispensed at the MASS. Else the partner pharmacy that dispenses it.
    pharmacy = models.ForeignKey(Pharmacy, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("dispensed at"))
    instructions = models.CharField(_("instructions"), max_length=500, blank=True)
    replaces = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="replaced_by",
                                    verbose_name=_("replaces"))
    # First day of the unbroken run of prescriptions of this substance this one belongs to.
    # Missed days are counted from the last dose given of the substance, whatever the
    # prescription; from this day only when the patient never had a dose of it.
    course_started_on = models.DateField(_("treatment running since"))
    end_reason = models.CharField(_("reason for ending"), max_length=300, blank=True)
    prescribed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      null=True, blank=True, related_name="+",
                                      verbose_name=_("prescribed by"))
    # The induction rules (InductionRule) this prescription goes beyond, each confirmed by the
    # prescriber, and why: a starting dose above the ceiling after a break, take-home doses
    # in the first days. Empty for a prescription within the rules.
    induction_overrides = ArrayField(
        models.CharField(max_length=20, choices=InductionCheck.choices), default=list,
        db_default=[], blank=True, verbose_name=_("induction rules overridden"))
    # Database defaults too: rows written by SQL (the benchmark's load) are within the rules.
    induction_override_reason = models.CharField(_("reason for going above the induction "
                                                   "rules"), max_length=500, blank=True,
                                                 db_default="")
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name=_("ended by"))

    objects = PrescriptionQuerySet.as_manager()

    class Meta:
        triggers = [PRESCRIPTION_GUARD, moved_only_by_a_merge()]
        verbose_name = _("prescription")
        verbose_name_plural = _("prescriptions")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(evening_dose__gte=0) & Q(evening_dose__lt=F("daily_dose")),
                name="dispensary_prescription_evening_part_below_daily",
            ),
            models.CheckConstraint(condition=Q(daily_dose__gt=0),
                                   name="dispensary_prescription_dose_positive"),
            # end = start - 1: written but never active (replaced before it began).
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date") - datetime.timedelta(days=1)),
                name="dispensary_prescription_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(take_home_weekdays__contained_by=[0, 1, 2, 3, 4, 5, 6]),
                name="dispensary_prescription_take_home_weekdays_valid",
            ),
            models.CheckConstraint(condition=Q(course_started_on__lte=F("start_date")),
                                   name="dispensary_prescription_course_before_start"),
            # Going above an induction rule is confirmed with a reason; a reason alone says
            # nothing was overridden.
            models.CheckConstraint(
                condition=Q(induction_overrides__len=0, induction_override_reason="")
                | Q(induction_overrides__len__gt=0) & ~Q(induction_override_reason=""),
                name="dispensary_prescription_override_has_reason",
            ),
        ]
        indexes = [
            # Today's dispensing list: prescriptions active today (start <= today <= end).
            # The end first: "no end, or not ended yet" finds the running few, where the
            # start (all of ten years' prescriptions started before today) finds them all.
            models.Index(fields=["end_date", "start_date"],
                         name="dispensary_rx_active"),
            # A patient's prescription history (panel, dose plot), newest first.
            models.Index(fields=["patient", "-start_date"], name="dispensary_rx_patient"),
        ]

    def __str__(self):
        return f"{self.product} {self.daily_dose} {self.product.unit}"

    @property
    def is_split(self) -> bool:
        return self.evening_dose > 0

    @property
    def morning_dose(self) -> Decimal:
        return self.daily_dose - self.evening_dose

    @property
    def is_at_mass(self) -> bool:
        return self.pharmacy_id is None

    def is_active_on(self, day: datetime.date) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)

    def parts(self) -> list[str]:
        """The dose parts due each day, in order."""
        if self.is_split:
            return [Dispensation.Part.MORNING, Dispensation.Part.EVENING]
        return [Dispensation.Part.DAY]

    def part_dose(self, part: str) -> Decimal:
        return {Dispensation.Part.DAY: self.daily_dose,
                Dispensation.Part.MORNING: self.morning_dose,
                Dispensation.Part.EVENING: self.evening_dose}[part]

    def induction_override_labels(self) -> list[str]:
        return [str(InductionCheck(code).label) for code in self.induction_overrides
                if code in InductionCheck.values]

    def take_home_label(self) -> str:
        from django.utils.dates import WEEKDAYS_ABBR
        return ", ".join(str(WEEKDAYS_ABBR[d]) for d in sorted(self.take_home_weekdays))


class HoldReview(models.Model):
    """A doctor's review of a patient held after missed days: lifts the hold on that day,
    at the same dose or a lower one (a new prescription). Append-only."""

    class Decision(models.TextChoices):
        RESUME = "resume", _("Resume at the prescribed dose")
        LOWER = "lower", _("Resume at a lower dose")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="hold_reviews", verbose_name=_("patient"))
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT,
                                     related_name="reviews", verbose_name=_("prescription"))
    substance = models.SlugField(_("substance"), max_length=40)
    reviewed_on = models.DateField(_("valid on"))
    missed_days = models.PositiveSmallIntegerField(_("missed days"))
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    new_prescription = models.OneToOneField(Prescription, on_delete=models.PROTECT,
                                            null=True, blank=True, related_name="+",
                                            verbose_name=_("new prescription"))
    full_dose_confirmed = models.BooleanField(_("full dose confirmed"), default=False)
    note = models.CharField(_("clinical reasoning"), max_length=1000)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), auto_now_add=True)

    class Meta:
        triggers = [AppendOnly(updatable=["patient_id"])]
        verbose_name = _("hold review")
        verbose_name_plural = _("hold reviews")
        ordering = ["-reviewed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="dispensary_holdreview_note_set"),
            models.CheckConstraint(
                condition=Q(decision="resume", new_prescription__isnull=True)
                | Q(decision="lower", new_prescription__isnull=False),
                name="dispensary_holdreview_lower_has_prescription",
            ),
        ]
        indexes = [
            # Is this patient's hold lifted today (dispensing list, dispensing).
            models.Index(fields=["patient", "substance", "reviewed_on"],
                         name="dispensary_review_lookup"),
        ]

    def __str__(self):
        return f"{self.patient} {self.reviewed_on} {self.get_decision_display()}"


class ClosedDayPlan(models.Model):
    """A doctor's decision for the doses of a patient on days the centre is closed, for a
    patient the dispensing list flags (no take-home right): take the closed days' doses
    home with the dose of the day before, or not (another arrangement, said in the note).
    Per substance, so that a change of dose keeps it. Append-only: a new decision for the
    same days is read instead of the earlier one (the latest wins)."""

    class Decision(models.TextChoices):
        TAKE_HOME = "take_home", _("Take-home with the dose of the day before")
        NO_TAKE_HOME = "no_take_home", _("No take-home: another arrangement (in the note)")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="closed_day_plans", verbose_name=_("patient"))
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT,
                                     related_name="closed_day_plans",
                                     verbose_name=_("prescription"))
    substance = models.SlugField(_("substance"), max_length=40)
    first_day = models.DateField(_("first closed day"))
    last_day = models.DateField(_("last closed day"))
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    note = models.CharField(_("note"), max_length=500)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        triggers = [AppendOnly(updatable=["patient_id"])]
        verbose_name = _("closed-day plan")
        verbose_name_plural = _("closed-day plans")
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(last_day__gte=F("first_day")),
                                   name="dispensary_closeddayplan_last_after_first"),
            models.CheckConstraint(condition=~Q(note=""),
                                   name="dispensary_closeddayplan_note_set"),
            models.CheckConstraint(condition=Q(decision__in=["take_home", "no_take_home"]),
                                   name="dispensary_closeddayplan_decision_valid"),
        ]
        indexes = [
            # The dispensing list: a patient's plans of a substance not yet over.
            models.Index(fields=["patient", "substance", "last_day"],
                         name="dispensary_closed_plan_lookup"),
        ]

    def __str__(self):
        return f"{self.patient} {self.first_day} {self.get_decision_display()}"


class Dispensation(models.Model):
    """One entry of the dispensing ledger: a dose (or dose part) given, handed to take home,
    or withheld, for one day. Append-only: a mistake is a :class:`DispensationCancellation`.

    ``date`` is the day the patient was at the desk (a contact); ``dose_date`` the day the
    dose is for: later than ``date`` for a take-home dose.
    """

    class Part(models.TextChoices):
        DAY = "day", _("Daily dose")
        MORNING = "morning", _("Morning part")
        EVENING = "evening", _("Evening part")

    class Status(models.TextChoices):
        GIVEN = "given", _("Given")
        WITHHELD = "withheld", _("Withheld")

    class WithheldReason(models.TextChoices):
        INTOXICATION = "intoxication", _("Signs of intoxication")
        REFUSED = "refused", _("Patient refused")
        OTHER = "other", _("Other")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="dispensations", verbose_name=_("patient"))
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT,
                                     related_name="dispensations",
                                     verbose_name=_("prescription"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"))
    date = models.DateField(_("date"))
    dose_date = models.DateField(_("dose for"))
    part = models.CharField(_("part"), max_length=10, choices=Part.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    quantity = models.DecimalField(_("quantity"), **DOSE_DIGITS)
    # The nurse's check before every dose, always answered explicitly.
    intoxication_signs = models.BooleanField(_("signs of intoxication"))
    observations = models.CharField(_("observations"), max_length=500, blank=True)
    withheld_reason = models.CharField(_("reason withheld"), max_length=20,
                                       choices=WithheldReason.choices, blank=True)
    # A new entry for a slot whose previous entry was withheld or cancelled points at it
    # (checked by trigger): the slot's entries form one chain with a single head.
    replaces = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="replaced_by", verbose_name=_("replaces"))
    review = models.ForeignKey(HoldReview, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("after review"))
    # The dose withheld for signs of intoxication earlier that day that this entry's
    # intoxication check assessed again: after such a dose nothing is given without a new,
    # explicit assessment on the form (services.dispensation_record).
    reassessment_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+",
                                        verbose_name=_("new assessment after"))
    dispensed_at = models.DateTimeField(_("at"))
    dispensed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("by"))
    # A dose given on paper while the network was down (the downtime sheet), recorded later
    # from the paper: ``dispensed_at``/``dispensed_by`` say when and by whom it was given,
    # ``recorded_at``/``recorded_by`` when and by whom it was typed in
    # (services.dispensation_record_after_the_fact).
    # db_default: a row inserted by SQL (a script, the database rules' tests) is an
    # ordinary entry.
    recorded_after_the_fact = models.BooleanField(_("recorded after the fact"),
                                                  default=False, db_default=False)
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        triggers = [AppendOnly(updatable=["patient_id"]), AFTER_INTOXICATION,
                    dispensation_check(),
                    *episode_refresh(AFTER_CONTACTS)]
        verbose_name = _("dispensation")
        verbose_name_plural = _("dispensations")
        ordering = ["-dose_date", "-dispensed_at", "-id"]
        constraints = [
            # Never twice: one head entry per prescription, day and dose part; a second one
            # must replace a withheld or cancelled entry.
            models.UniqueConstraint(fields=["prescription", "dose_date", "part"],
                                    condition=Q(replaces__isnull=True),
                                    name="dispensary_dispensation_once_per_day_part"),
            models.CheckConstraint(
                condition=Q(status="given", quantity__gt=0, withheld_reason="")
                | Q(status="withheld", quantity=0) & ~Q(withheld_reason=""),
                name="dispensary_dispensation_status_consistent",
            ),
            models.CheckConstraint(
                condition=Q(intoxication_signs=False) | Q(status="withheld"),
                name="dispensary_dispensation_no_dose_when_intoxicated",
            ),
            models.CheckConstraint(
                condition=Q(dose_date__gte=F("date"))
                & Q(dose_date__lte=F("date") + datetime.timedelta(days=7)),
                name="dispensary_dispensation_take_home_within_week",
            ),
            models.CheckConstraint(
                condition=Q(dose_date=F("date")) | Q(status="given"),
                name="dispensary_dispensation_take_home_is_given",
            ),
            # A paper record says who typed it in and when, after the dose was given.
            models.CheckConstraint(
                condition=Q(recorded_after_the_fact=False, recorded_at__isnull=True,
                            recorded_by__isnull=True)
                | Q(recorded_after_the_fact=True, recorded_by__isnull=False,
                    recorded_at__gte=F("dispensed_at")),
                name="dispensary_dispensation_after_the_fact_recorded",
            ),
        ]
        indexes = [
            # Contacts per day (reporting) and what was done today (dispensing list).
            models.Index(fields=["date", "patient"], name="dispensary_disp_date_patient"),
            # A patient's last dose (missed days) and dose history, newest first.
            models.Index(fields=["patient", "-dose_date"], name="dispensary_disp_patient_day"),
        ]

    def __str__(self):
        return f"{self.patient} {self.dose_date} {self.get_part_display()} {self.quantity}"

    @property
    def is_take_home(self) -> bool:
        return self.dose_date > self.date


class DispensationCancellation(models.Model):
    """Cancels a ledger entry recorded by mistake. Append-only; the dose quantity returns to
    the register. One cancellation per entry."""

    dispensation = models.OneToOneField(Dispensation, on_delete=models.PROTECT,
                                        related_name="cancellation",
                                        verbose_name=_("dispensation"))
    reason = models.CharField(_("reason"), max_length=500)
    cancelled_at = models.DateTimeField(_("at"))
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("by"))

    class Meta:
        triggers = [AppendOnly(),
                    *episode_refresh(AFTER_CANCELLATIONS, events=["insert", "delete"])]
        verbose_name = _("dispensation cancellation")
        verbose_name_plural = _("dispensation cancellations")
        ordering = ["-cancelled_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""),
                                   name="dispensary_cancellation_reason_set"),
        ]

    def __str__(self):
        return f"{self.dispensation} cancelled"


class RegisterEntry(models.Model):
    """One line of the controlled-drug register of a product. Append-only; ``sequence``
    orders a product's entries and ``balance_after`` is the running balance, checked by a
    trigger against the previous entry, and never negative."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        DISPENSED = "dispensed", _("Dispensed")
        CANCELLED = "cancelled", _("Dispensation cancelled")
        COUNT = "count", _("Stock count")
        CORRECTION = "correction", _("Correction")

    class Reason(models.TextChoices):
        BREAKAGE = "breakage", _("Breakage")
        SPILLAGE = "spillage", _("Spillage")
        COUNT_ERROR = "count_error", _("Count error")
        OTHER = "other", _("Other")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"))
    sequence = models.PositiveIntegerField(_("entry number"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    date = models.DateField(_("date"))
    quantity = models.DecimalField(_("quantity"), **STOCK_DIGITS,
                                   help_text=_("Into stock positive, out of stock negative."))
    balance_after = models.DecimalField(_("balance"), **STOCK_DIGITS)
    supplier = models.CharField(_("supplier"), max_length=120, blank=True)
    batch = models.CharField(_("batch"), max_length=60, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    # A stock count: what was counted (the new balance); quantity is the discrepancy.
    counted = models.DecimalField(_("counted"), **STOCK_DIGITS, null=True, blank=True)
    reason_code = models.CharField(_("reason"), max_length=12, choices=Reason.choices,
                                   blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    dispensation = models.ForeignKey(Dispensation, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="register_entries",
                                     verbose_name=_("dispensation"))
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="corrections", verbose_name=_("corrects"))
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("by"))
    # The dose of a paper record (Dispensation.recorded_after_the_fact): entered on the day it
    # is typed in (the register is kept in order: numbers, dates and balances follow each
    # other), its note naming the day the dose was given.
    recorded_after_the_fact = models.BooleanField(_("recorded after the fact"),
                                                  default=False, db_default=False)

    class Meta:
        triggers = [AppendOnly(), REGISTER_CHECK]
        verbose_name = _("register entry")
        verbose_name_plural = _("register entries")
        ordering = ["product", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["product", "sequence"],
                                    name="dispensary_registerentry_sequence_unique"),
            models.UniqueConstraint(fields=["dispensation", "kind"],
                                    condition=Q(dispensation__isnull=False),
                                    name="dispensary_registerentry_once_per_dispensation"),
            models.CheckConstraint(condition=Q(balance_after__gte=0),
                                   name="dispensary_registerentry_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="receipt", quantity__gt=0) & ~Q(supplier="") & ~Q(batch="")
                | Q(kind="dispensed", quantity__lt=0, dispensation__isnull=False)
                | Q(kind="cancelled", quantity__gt=0, dispensation__isnull=False)
                | Q(kind="count", counted__isnull=False, counted=F("balance_after"))
                & (Q(quantity=0) | ~Q(reason_code=""))
                | Q(kind="correction", corrects__isnull=False) & ~Q(quantity=0) & ~Q(note=""),
                name="dispensary_registerentry_kind_consistent",
            ),
        ]
        indexes = [
            # The monthly register of a product.
            models.Index(fields=["product", "date"], name="dispensary_register_month"),
        ]

    def __str__(self):
        return f"{self.product} #{self.sequence} {self.get_kind_display()} {self.quantity}"

    @property
    def quantity_in(self):
        return self.quantity if self.quantity > 0 else None

    @property
    def quantity_out(self):
        return -self.quantity if self.quantity < 0 else None
