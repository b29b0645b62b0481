"""The social file: the patient's social situation as dated history, and social actions.

Each dimension of the situation (income, health insurance, reference CPAS, housing, identity
documents, reference address) is its own append-only table of dated rows: a row says "from
``date`` on, the situation was this". The situation on any date is the latest row dated on or
before it. Nothing is overwritten: a mistake is corrected by a new row pointing at the row it
corrects (``corrects``), with a reason; the corrected row stays, and selectors skip it.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mass.database.triggers import AppendOnly


class SituationRecord(models.Model):
    """A dated fact about the patient's social situation (abstract base of each dimension)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="%(class)ss", verbose_name=_("patient"))
    date = models.DateField(_("since"), help_text=_("The date from which this situation holds."))
    # Imported records (import_records) have no author.
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    corrects = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="corrected_by", verbose_name=_("corrects"))
    correction_reason = models.CharField(_("reason for the correction"), max_length=300,
                                         blank=True)

    #: The key of the dimension in URLs and forms (social.situation.DIMENSIONS).
    dimension: str = ""

    class Meta:
        # History: a mistake is corrected by a new row (``corrects``); a merge of two
        # files may still move the rows to the kept file.
        triggers = [AppendOnly(updatable=["patient_id"])]
        abstract = True
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="%(app_label)s_%(class)s_correction_has_reason",
            ),
        ]
        indexes = [
            # "As of a date": the latest row per patient on or before a date
            # (selectors.income_distribution's DISTINCT ON, the patient file's history).
            models.Index(fields=["patient", "-date", "-id"], name="%(app_label)s_%(class)s_asof"),
        ]

    def __str__(self):
        return f"{self.patient_id} {self.date}: {self.value_display()}"

    def value_display(self) -> str:  # pragma: no cover - every dimension overrides it
        raise NotImplementedError

    @property
    def is_correction(self) -> bool:
        return self.corrects_id is not None


class IncomeRecord(SituationRecord):
    class Source(models.TextChoices):
        PENSION = "pension", _("Pension")
        SALARY = "salary", _("Salary")
        SICKNESS_BENEFIT = "sickness_benefit", _("Sickness or disability benefit")
        UNEMPLOYMENT = "unemployment", _("Unemployment benefit")
        CPAS = "cpas", _("CPAS/OCMW income")
        NONE = "none", _("No own income")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    source = models.CharField(_("income source"), max_length=20, choices=Source.choices)

    dimension = "income"

    class Meta(SituationRecord.Meta):
        verbose_name = _("income record")
        verbose_name_plural = _("income records")
        constraints = [
            *SituationRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(source__in=["pension", "salary", "sickness_benefit", "unemployment",
                                        "cpas", "none", "other", "unknown"]),
                name="social_incomerecord_source_valid",
            ),
        ]

    def value_display(self) -> str:
        return str(self.get_source_display())


class InsuranceRecord(SituationRecord):
    class Status(models.TextChoices):
        IN_ORDER = "in_order", _("Health insurance in order")
        NOT_IN_ORDER = "not_in_order", _("Health insurance not in order")
        PREFERENTIAL = "preferential", _("Preferential rate (BIM/VT)")
        URGENT_MEDICAL_AID = "urgent_medical_aid", _("Urgent medical aid (AMU/DMH)")
        NONE = "none", _("No health insurance")
        UNKNOWN = "unknown", _("Unknown")

    class Fund(models.TextChoices):
        CHRISTIAN = "christian", _("Mutualité chrétienne / Christelijke Mutualiteit")
        SOCIALIST = "socialist", _("Solidaris / Socialistische Mutualiteiten")
        LIBERAL = "liberal", _("Mutualités libérales / Liberale Mutualiteit")
        NEUTRAL = "neutral", _("Mutualités neutres / Neutrale Ziekenfondsen")
        INDEPENDENT = "independent", _("Mutualités libres / Onafhankelijke Ziekenfondsen")
        AUXILIARY = "auxiliary", _("CAAMI / HZIV (auxiliary fund)")
        HR_RAIL = "hr_rail", _("HR Rail")
        OTHER = "other", _("Other")

    status = models.CharField(_("health insurance"), max_length=20, choices=Status.choices)
    fund = models.CharField(_("insurance fund"), max_length=20, choices=Fund.choices,
                            blank=True)

    dimension = "insurance"

    class Meta(SituationRecord.Meta):
        verbose_name = _("health insurance record")
        verbose_name_plural = _("health insurance records")
        constraints = [
            *SituationRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(status__in=["in_order", "not_in_order", "preferential",
                                        "urgent_medical_aid", "none", "unknown"]),
                name="social_insurancerecord_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(fund__in=["", "christian", "socialist", "liberal", "neutral",
                                      "independent", "auxiliary", "hr_rail", "other"]),
                name="social_insurancerecord_fund_valid",
            ),
        ]

    def value_display(self) -> str:
        if self.fund:
            return f"{self.get_status_display()} ({self.get_fund_display()})"
        return str(self.get_status_display())


class CpasRecord(SituationRecord):
    """The reference CPAS/OCMW: the public social welfare centre responsible for the person."""

    class Commune(models.TextChoices):
        ANDERLECHT = "anderlecht", "Anderlecht"
        AUDERGHEM = "auderghem", "Auderghem / Oudergem"
        BERCHEM = "berchem_sainte_agathe", "Berchem-Sainte-Agathe / Sint-Agatha-Berchem"
        BRUXELLES = "bruxelles", "Bruxelles / Brussel"
        ETTERBEEK = "etterbeek", "Etterbeek"
        EVERE = "evere", "Evere"
        FOREST = "forest", "Forest / Vorst"
        GANSHOREN = "ganshoren", "Ganshoren"
        IXELLES = "ixelles", "Ixelles / Elsene"
        JETTE = "jette", "Jette"
        KOEKELBERG = "koekelberg", "Koekelberg"
        MOLENBEEK = "molenbeek_saint_jean", "Molenbeek-Saint-Jean / Sint-Jans-Molenbeek"
        SAINT_GILLES = "saint_gilles", "Saint-Gilles / Sint-Gillis"
        SAINT_JOSSE = "saint_josse_ten_noode", "Saint-Josse-ten-Noode / Sint-Joost-ten-Node"
        SCHAERBEEK = "schaerbeek", "Schaerbeek / Schaarbeek"
        UCCLE = "uccle", "Uccle / Ukkel"
        WATERMAEL_BOITSFORT = "watermael_boitsfort", "Watermael-Boitsfort / Watermaal-Bosvoorde"
        WOLUWE_SAINT_LAMBERT = ("woluwe_saint_lambert",
                                "Woluwe-Saint-Lambert / Sint-Lambrechts-Woluwe")
        WOLUWE_SAINT_PIERRE = "woluwe_saint_pierre", "Woluwe-Saint-Pierre / Sint-Pieters-Woluwe"
        OTHER = "other", _("Other (outside Brussels)")

    commune = models.CharField(_("reference CPAS/OCMW"), max_length=30, choices=Commune.choices)
    # Only for "other": the CPAS outside the 19 communes (e.g. "CPAS de Liège").
    other_name = models.CharField(_("other CPAS"), max_length=100, blank=True)

    dimension = "cpas"

    class Meta(SituationRecord.Meta):
        verbose_name = _("reference CPAS record")
        verbose_name_plural = _("reference CPAS records")
        constraints = [
            *SituationRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(commune__in=[
                    "anderlecht", "auderghem", "berchem_sainte_agathe", "bruxelles", "etterbeek",
                    "evere", "forest", "ganshoren", "ixelles", "jette", "koekelberg",
                    "molenbeek_saint_jean", "saint_gilles", "saint_josse_ten_noode",
                    "schaerbeek", "uccle", "watermael_boitsfort", "woluwe_saint_lambert",
                    "woluwe_saint_pierre", "other",
                ]),
                name="social_cpasrecord_commune_valid",
            ),
            models.CheckConstraint(condition=Q(commune="other") | Q(other_name=""),
                                   name="social_cpasrecord_other_name_only_for_other"),
        ]

    def value_display(self) -> str:
        if self.commune == self.Commune.OTHER and self.other_name:
            return self.other_name
        return str(self.get_commune_display())


class HousingRecord(SituationRecord):
    class Situation(models.TextChoices):
        STREET = "street", _("Street")
        EMERGENCY_SHELTER = "emergency_shelter", _("Emergency shelter")
        HOTEL = "hotel", _("Hotel")
        SQUAT = "squat", _("Squat")
        PRECARIOUS = "precarious", _("Precarious (staying with friends or family)")
        OWN_OR_RENTED = "own_or_rented", _("Own or rented housing")
        INSTITUTION = "institution", _("Institution")
        PRISON = "prison", _("Prison")
        UNKNOWN = "unknown", _("Unknown")

    situation = models.CharField(_("housing"), max_length=20, choices=Situation.choices)

    dimension = "housing"

    class Meta(SituationRecord.Meta):
        verbose_name = _("housing record")
        verbose_name_plural = _("housing records")
        constraints = [
            *SituationRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(situation__in=["street", "emergency_shelter", "hotel", "squat",
                                           "precarious", "own_or_rented", "institution",
                                           "prison", "unknown"]),
                name="social_housingrecord_situation_valid",
            ),
        ]

    def value_display(self) -> str:
        return str(self.get_situation_display())


class IdentityRecord(SituationRecord):
    """The state of the person's identity documents (identity card, passport, residence permit)."""

    class Documents(models.TextChoices):
        VALID = "valid", _("Valid")
        EXPIRED = "expired", _("Expired")
        LOST = "lost", _("Lost or stolen")
        NONE = "none", _("None")

    documents = models.CharField(_("identity documents"), max_length=10,
                                 choices=Documents.choices)

    dimension = "identity"

    class Meta(SituationRecord.Meta):
        verbose_name = _("identity documents record")
        verbose_name_plural = _("identity documents records")
        constraints = [
            *SituationRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(documents__in=["valid", "expired", "lost", "none"]),
                name="social_identityrecord_documents_valid",
            ),
        ]

    def value_display(self) -> str:
        return str(self.get_documents_display())


class AddressRecord(SituationRecord):
    """The reference address: where the person is registered or receives mail (often the
    address of a CPAS or a day centre for people without a home)."""

    address = models.CharField(_("reference address"), max_length=250)

    dimension = "address"

    class Meta(SituationRecord.Meta):
        verbose_name = _("reference address record")
        verbose_name_plural = _("reference address records")
        constraints = [
            *SituationRecord.Meta.constraints,
            models.CheckConstraint(condition=~Q(address=""),
                                   name="social_addressrecord_address_set"),
        ]

    def value_display(self) -> str:
        return self.address


#: The dimensions of the situation in the order the patient file shows them.
SITUATION_MODELS: dict[str, type[SituationRecord]] = {
    model.dimension: model
    for model in (IncomeRecord, InsuranceRecord, CpasRecord, HousingRecord, IdentityRecord,
                  AddressRecord)
}


class SocialAction(models.Model):
    """A "démarche": something a social worker does with or for the patient, until done."""

    class Type(models.TextChoices):
        FOOD_AID = "food_aid", _("Food aid")
        HOUSING = "housing", _("Housing")
        RIGHTS_RECOVERY = "rights_recovery", _("Rights recovery")
        INSURANCE = "insurance", _("Health insurance")
        IDENTITY_PAPERS = "identity_papers", _("Identity papers")
        BUDGET_MANAGEMENT = "budget_management", _("Budget management")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        ABANDONED = "abandoned", _("Abandoned")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)
    CLOSED_STATUSES = (Status.DONE, Status.ABANDONED)

    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="social_actions", verbose_name=_("patient"))
    social_worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      related_name="social_actions",
                                      verbose_name=_("social worker"))
    partner = models.ForeignKey("consultations.Partner", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="social_actions",
                                verbose_name=_("partner organisation"))
    opened_on = models.DateField(_("opened on"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.OPEN)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # What came of it; required to close. Social text: read under the social-notes rule.
    outcome = models.TextField(_("outcome"), blank=True, max_length=2000)
    # Social notes: readable by social workers, doctors and the author only
    # (selectors.can_read_social_notes).
    notes = models.TextField(_("notes"), blank=True, max_length=4000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("author"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("social action")
        verbose_name_plural = _("social actions")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(type__in=["food_aid", "housing", "rights_recovery",
                                                         "insurance", "identity_papers",
                                                         "budget_management", "other"]),
                                   name="social_socialaction_type_valid"),
            models.CheckConstraint(
                condition=Q(due_on__isnull=True) | Q(due_on__gte=F("opened_on")),
                name="social_socialaction_due_after_opening",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "in_progress"], closed_on__isnull=True)
                | (Q(status__in=["done", "abandoned"], closed_on__isnull=False)
                   & ~Q(outcome="")),
                name="social_socialaction_closed_with_outcome",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="social_socialaction_closes_after_opening",
            ),
        ]
        indexes = [
            # The caseload: a social worker's open actions by due date.
            models.Index(fields=["social_worker", "due_on"], name="social_action_caseload",
                         condition=Q(status__in=["open", "in_progress"])),
            # The patient file's panel: a patient's actions, newest first.
            models.Index(fields=["patient", "-opened_on"], name="social_action_patient"),
        ]

    def __str__(self):
        return f"{self.get_type_display()} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("social:action_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class SocialActionUpdate(models.Model):
    """The journal of an action: a follow-up note and/or a status change. Append-only."""

    action = models.ForeignKey(SocialAction, on_delete=models.PROTECT, related_name="updates",
                               verbose_name=_("social action"))
    # Denormalised from the action so that a merge of two files moves it with the rest and
    # the patient file can read the journal without a join.
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("patient"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("author"))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    status_from = models.CharField(_("previous status"), max_length=20,
                                   choices=SocialAction.Status.choices, blank=True)
    status_to = models.CharField(_("new status"), max_length=20,
                                 choices=SocialAction.Status.choices, blank=True)
    # Social note: readable by social workers, doctors and the author only.
    note = models.TextField(_("note"), blank=True, max_length=4000)

    class Meta:
        triggers = [AppendOnly(updatable=["patient_id"])]
        verbose_name = _("social action update")
        verbose_name_plural = _("social action updates")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(note="") | ~Q(status_to=""),
                                   name="social_socialactionupdate_says_something"),
        ]
        indexes = [
            # The journal of one action, in order.
            models.Index(fields=["action", "at"], name="social_actionupdate_action"),
        ]

    def __str__(self):
        return f"{self.action_id} {self.at:%Y-%m-%d}"
