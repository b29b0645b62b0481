import datetime

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Func, Q, Value, When
from django.db.models.functions import Concat, Lower, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mass.database.triggers import AppendOnly
from mass.models import CancellableQuerySet, Cancellation
from patients.triggers import (
    AFTER_CONTACTS,
    AFTER_PATIENTS,
    AFTER_VISIT_CANCELLATIONS,
    COUNT_VISIT_CANCELLATIONS,
    COUNT_VISITS,
    episode_refresh,
    purpose_counts,
)
from patients.validators import validate_niss, validate_no_markup


def unaccent_lower(expression):
    """``lower(mass_unaccent(...))``: the form in which names are compared. mass_unaccent is
    IMMUTABLE (mass/0003), so this can feed a generated column and an index."""
    return Lower(Func(expression, function="mass_unaccent", output_field=models.TextField()))


class Patient(models.Model):
    """A person known to the centre. An alias (street name) is all that is required."""

    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")
        OTHER = "X", _("Other")
        UNKNOWN = "U", _("Unknown")

    class Language(models.TextChoices):
        FRENCH = "fr", _("French")
        DUTCH = "nl", _("Dutch")
        ENGLISH = "en", _("English")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        DECEASED = "deceased", _("Deceased")
        MERGED = "merged", _("Merged into another file")

    file_number = models.CharField(_("file number"), max_length=20, unique=True,
                                   validators=[validate_no_markup])
    alias = models.CharField(_("alias"), max_length=100, validators=[validate_no_markup],
                             help_text=_("The name the person gives: a street name is enough."))
    last_name = models.CharField(_("last name"), max_length=100, blank=True,
                                 validators=[validate_no_markup])
    first_name = models.CharField(_("first name"), max_length=100, blank=True,
                                  validators=[validate_no_markup])
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # Often only the year is known; filled from birth_date when that is given.
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"), null=True, blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices,
                                blank=True)
    nationality = models.CharField(_("nationality"), max_length=60, blank=True,
                                   validators=[validate_no_markup])
    niss = models.CharField(_("NISS/INSZ"), max_length=11, blank=True,
                            validators=[validate_niss],
                            help_text=_("Belgian national number, 11 digits."))
    phone = models.CharField(_("phone"), max_length=40, blank=True,
                             validators=[validate_no_markup])
    address = models.CharField(_("reference address"), max_length=250, blank=True,
                               validators=[validate_no_markup])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.ACTIVE)
    notes = models.TextField(_("notes (not clinical)"), blank=True, max_length=4000)
    # Shown next to the alias wherever staff pick a person (the dispensing list, the desk):
    # several files share an alias, and not everyone consents to a photo.
    distinguishing_note = models.CharField(
        _("distinguishing feature"), max_length=100, blank=True,
        validators=[validate_no_markup],
        help_text=_("A short visible feature that tells this person apart from others with "
                    "the same alias, e.g. \"tattoo left hand\". Nothing clinical."))
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="merged_files",
                                    verbose_name=_("merged into"))
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # What the search compares: file number, alias and names, lower-case without accents.
    # Maintained by PostgreSQL, so imports and bulk loads need not compute it.
    search_text = models.GeneratedField(
        expression=unaccent_lower(Concat(
            "file_number", Value(" "), "alias", Value(" "), "last_name", Value(" "),
            "first_name", output_field=models.TextField())),
        output_field=models.TextField(), db_persist=True, editable=False,
    )

    class Meta:
        triggers = [*episode_refresh(AFTER_PATIENTS, events=["update"])]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["alias", "id"]
        permissions = [
            ("merge_patient", _("Can merge two patient files")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["niss"], condition=~Q(niss=""), name="patients_patient_niss_unique",
                violation_error_message=_("Another file already has this NISS/INSZ number."),
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(status="merged"),
                name="patients_patient_merged_has_status",
            ),
            models.CheckConstraint(condition=~Q(alias=""), name="patients_patient_alias_set"),
        ]
        indexes = [
            # patient_search(): trigram word similarity and substring match on the names.
            GinIndex(OpClass(F("search_text"), name="gin_trgm_ops"),
                     name="patients_patient_search_trgm"),
            # patient_search(): a typed file number matches whatever its case.
            models.Index(Upper("file_number"), name="patients_patient_file_upper"),
            # patient_search(): a four-digit query is a birth year.
            models.Index(fields=["birth_year"], name="patients_patient_birth_year"),
        ]

    def __str__(self):
        return f"{self.alias} ({self.file_number})"

    def get_absolute_url(self):
        return reverse("patients:detail", args=[self.pk])

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


def six_months_after(expression):
    """The day six calendar months after a date expression (SQL ``patients_six_months_after``,
    migration 0008: 31 August gives the last day of February)."""
    return Func(expression, function="patients_six_months_after",
                output_field=models.DateField())


class EpisodeQuerySet(models.QuerySet):
    def with_end(self, *, today: datetime.date | None = None):
        """Each episode with the 6-month rule of docs/domain.md applied as of ``today``:

        - ``ended_on``: the day the episode ended (the rule's day where it comes before the
          hand closure), or None while it runs;
        - ``ended_by_rule``: the rule ended it (recorded by the nightly job or not yet);
        - ``rule_ends_on``: for a running episode, the day the rule will end it unless the
          person comes (six months after its last contact).
        """
        today = today or timezone.localdate()
        rule_date = six_months_after(F("last_contact_on"))
        tail_lapsed = Q(closed_on__isnull=True, lapsed_on__isnull=True,
                        last_contact_on__isnull=False) & Q(rule_ends__lte=today)
        return self.annotate(rule_ends=rule_date).annotate(
            ended_on=Case(
                When(lapsed_on__isnull=False, then=F("lapsed_on")),
                When(closed_on__isnull=False, then=F("closed_on")),
                When(tail_lapsed, then=F("last_contact_on")),
                default=None, output_field=models.DateField()),
            ended_by_rule=Case(
                When(Q(lapsed_on__isnull=False) | Q(closure_reason="six_months") | tail_lapsed,
                     then=True),
                default=False, output_field=models.BooleanField()),
            rule_ends_on=Case(
                When(closed_on__isnull=True, lapsed_on__isnull=True, rule_ends__gt=today,
                     then=F("rule_ends")),
                default=None, output_field=models.DateField()),
        )

    def counted(self):
        """Episodes that count: not joined into another one by a merge of two files
        (``joined_into``). The figures, their lists, the TDI file and the nightly job read
        only these."""
        return self.filter(joined_into__isnull=True)

    def running(self, *, today: datetime.date | None = None):
        """Episodes not ended, by hand or by the 6-month rule, as of ``today`` (joined ones
        never run: their stay goes on in the episode they were joined into)."""
        return self.counted().with_end(today=today).filter(ended_on__isnull=True)


class Episode(models.Model):
    """A treatment episode ("prise en charge"): opens with a treatment request, closes with
    a reason. Its kind (new or resumption) follows the rules of docs/domain.md."""

    class Kind(models.TextChoices):
        NEW = "new", _("New request")
        RESUMPTION = "resumption", _("Resumption request")

    class ClosureReason(models.TextChoices):
        REORIENTED = "reoriented", _("Re-oriented to the network")
        LOST_CONTACT = "lost_contact", _("Lost contact")
        MOVED = "moved", _("Moved")
        INCARCERATED = "incarcerated", _("Incarcerated")
        HOSPITALISED = "hospitalised", _("Hospitalised")
        DECEASED = "deceased", _("Deceased")
        #: Written by ``close_lapsed_episodes`` (nightly), never chosen by hand.
        SIX_MONTHS = "six_months", _("No contact for six months")
        OTHER = "other", _("Other")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    opened_on = models.DateField(_("opened on"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closure_reason = models.CharField(_("closure reason"), max_length=20,
                                      choices=ClosureReason.choices, blank=True)
    closure_note = models.CharField(_("closure note"), max_length=500, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The 6-month rule (docs/domain.md), kept current by PostgreSQL whatever writes the
    # records (migration 0008): never written from Python. Read them through
    # ``Episode.objects.with_end()``.
    last_contact_on = models.DateField(_("last contact in the episode"), null=True,
                                       editable=False)
    lapsed_on = models.DateField(_("ended by the 6-month rule as of"), null=True,
                                 editable=False)
    # The end by the 6-month rule as the nightly job last recorded it on the file (audited);
    # the figures never read it (services.episodes_record_lapses).
    lapse_recorded_on = models.DateField(_("end by the 6-month rule recorded"), null=True,
                                         editable=False)
    # Two files of one person merged with overlapping episodes: one stay, so the later one
    # is joined into the earlier one (patients.services.patient_merge). It stays recorded
    # as it was (with its TDI questionnaire) and counts nowhere any more.
    joined_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="joined_episodes",
                                    verbose_name=_("joined by a merge into"))

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        triggers = [*episode_refresh(AFTER_CONTACTS)]
        verbose_name = _("treatment episode")
        verbose_name_plural = _("treatment episodes")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True, closure_reason="")
                | (Q(closed_on__isnull=False) & ~Q(closure_reason="")),
                name="patients_episode_closed_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="patients_episode_closes_after_opening",
            ),
            # A joined episode is no longer an episode of its own (see joined_into).
            models.UniqueConstraint(fields=["patient"],
                                    condition=Q(closed_on__isnull=True,
                                                joined_into__isnull=True),
                                    name="patients_episode_one_open_per_patient"),
            models.CheckConstraint(condition=~Q(joined_into=F("pk")),
                                   name="patients_episode_not_joined_into_itself"),
        ]
        indexes = [
            # Yearly figures: episodes opened in a year, and overlapping a year.
            models.Index(fields=["opened_on"], name="patients_episode_opened_on"),
            # The nightly close_lapsed_episodes and "who have we lost": running episodes by
            # their last contact.
            models.Index(fields=["last_contact_on"], name="patients_episode_last_contact"),
        ]

    def __str__(self):
        return f"{self.patient.alias} {self.opened_on} ({self.get_kind_display()})"

    @property
    def is_open(self) -> bool:
        """No closure written yet. Whether it still runs is ``with_end()``'s ``ended_on``:
        the 6-month rule may have ended it already."""
        return self.closed_on is None


class Visit(models.Model):
    """A walk-in: a person came to the desk (or met the mobile team) on a day. A contact."""

    class Purpose(models.TextChoices):
        CONSULTATION = "consultation", _("Consultation")
        DISPENSING = "dispensing", _("Dispensing")
        SOCIAL = "social", _("Social")
        HARM_REDUCTION = "harm_reduction", _("Harm-reduction material")
        HYGIENE = "hygiene", _("Shower, laundry, rest")
        OTHER = "other", _("Other")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    site = models.ForeignKey("mass.Site", on_delete=models.PROTECT, related_name="+",
                             null=True, blank=True)
    date = models.DateField(_("date"))
    time = models.TimeField(_("time"), null=True, blank=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices,
                               default=Purpose.OTHER)
    note = models.CharField(_("note"), max_length=200, blank=True)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CancellableQuerySet.as_manager()

    class Meta:
        triggers = [*episode_refresh(AFTER_CONTACTS), *purpose_counts(COUNT_VISITS)]
        verbose_name = _("walk-in")
        verbose_name_plural = _("walk-ins")
        ordering = ["-date", "-time", "-id"]
        indexes = [
            # The yearly contacts, and the counts of the reception board.
            models.Index(fields=["date", "patient"], name="patients_visit_date_patient"),
            # The reception board: today's latest walk-ins, newest first (board_today()).
            models.Index(fields=["date", "-time", "-id"], name="patients_visit_board"),
            # A patient's contact timeline, newest first.
            models.Index(fields=["patient", "-date"], name="patients_visit_patient_date"),
        ]

    def __str__(self):
        return f"{self.patient.alias} {self.date}"


class PurposeCount(models.Model):
    """How many walk-ins of a purpose a day had, cancelled ones left out: kept by the
    database after each write of walk-ins and of their cancellations (patients/triggers.py),
    never written by the application (its role may only read it). What people usually come
    for over 90 days reads these few hundred rows, not every walk-in
    (patients.selectors.usual_purposes)."""

    kept_by_database = True  # mass.database.triggers.database_kept_tables

    date = models.DateField()
    purpose = models.CharField(max_length=20, choices=Visit.Purpose.choices)
    walk_ins = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["date", "purpose"],
                                               name="patients_purposecount_day_purpose")]

    def __str__(self):
        return f"{self.date} {self.purpose}: {self.walk_ins}"


class HarmReductionContact(models.Model):
    """Anonymous harm-reduction contact: material handed out and returned, no file needed."""

    class Material(models.TextChoices):
        SYRINGE = "syringe", _("Syringes")
        STERICUP = "stericup", _("Stericups")
        WATER = "water", _("Water vials")
        FILTER = "filter", _("Filters")
        WIPE = "wipe", _("Alcohol wipes")
        PIPE = "pipe", _("Crack pipes")
        FOIL = "foil", _("Foil")
        CONDOM = "condom", _("Condoms")
        NALOXONE = "naloxone", _("Naloxone")
        CONTAINER = "container", _("Sharps containers")
        OTHER = "other", _("Other")

    date = models.DateField(_("date"))
    site = models.ForeignKey("mass.Site", on_delete=models.PROTECT, related_name="+",
                             null=True, blank=True)
    # Optional: most of these contacts are anonymous on purpose.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="harm_reduction_contacts")
    material = models.CharField(_("material"), max_length=20, choices=Material.choices)
    handed_out = models.PositiveIntegerField(_("handed out"), default=0,
                                             validators=[MaxValueValidator(10000)])
    returned = models.PositiveIntegerField(_("returned"), default=0,
                                           validators=[MaxValueValidator(10000)])
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CancellableQuerySet.as_manager()

    class Meta:
        verbose_name = _("harm-reduction contact")
        verbose_name_plural = _("harm-reduction contacts")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(handed_out__gt=0) | Q(returned__gt=0),
                                   name="patients_hrcontact_some_material"),
        ]
        indexes = [models.Index(fields=["date"], name="patients_hrcontact_date")]

    def __str__(self):
        return f"{self.date} {self.get_material_display()} +{self.handed_out}/-{self.returned}"


class VisitCancellation(Cancellation):
    """A walk-in logged by mistake (often on the wrong file), cancelled: no contact any more."""

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="cancellation",
                                 verbose_name=_("walk-in"))

    class Meta(Cancellation.Meta):
        triggers = [*Cancellation.Meta.triggers,
                    *episode_refresh(AFTER_VISIT_CANCELLATIONS, events=["insert"]),
                    *purpose_counts({"insert": COUNT_VISIT_CANCELLATIONS})]
        verbose_name = _("walk-in cancellation")
        verbose_name_plural = _("walk-in cancellations")

    def __str__(self):
        return f"{self.visit} cancelled"


class HarmReductionContactCancellation(Cancellation):
    """A harm-reduction entry (one material of a hand-out) recorded by mistake, cancelled."""

    contact = models.OneToOneField(HarmReductionContact, on_delete=models.PROTECT,
                                   related_name="cancellation",
                                   verbose_name=_("harm-reduction contact"))

    class Meta(Cancellation.Meta):
        verbose_name = _("harm-reduction entry cancellation")
        verbose_name_plural = _("harm-reduction entry cancellations")

    def __str__(self):
        return f"{self.contact} cancelled"


class PatientMerge(models.Model):
    """Two files of one person made one: what moved from the merged file to the kept one,
    who decided it and why. Append-only: the explanation stays as it was written."""

    kept = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_received",
                             verbose_name=_("kept file"))
    merged = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="merge_record",
                                  verbose_name=_("merged file"))
    reason = models.TextField(_("reason"), max_length=1000)
    # {"app_label.model": rows moved}, e.g. {"patients.visit": 12}.
    moved = models.JSONField(_("records moved"), default=dict)
    # Records that stayed on the merged file because the kept file already has the same one
    # (the same person at the same group session, say): {"app_label.model": rows}.
    left = models.JSONField(_("records left on the merged file"), default=dict, blank=True)
    # Records written on the kept file so that one left on the merged file still counts (its
    # own was cancelled: mass.contributions.MERGE_STEPS): {"app_label.model": rows}.
    recorded = models.JSONField(_("records written on the kept file"), default=dict,
                                blank=True)
    # Identity fields that were empty on the kept file and were taken from the merged one.
    copied_fields = models.JSONField(_("details copied"), default=dict)
    # Overlapping episodes of the two files joined into one stay, with what the kept episode
    # was before and every TDI questionnaire of the stay: [{"episode": id, "joined": [ids],
    # "opened_on", "ended_on", "kind", "before": {...}, "questionnaires": [ids]}].
    joined_episodes = models.JSONField(_("episodes joined"), default=list, blank=True)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("merged by"))
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)

    class Meta:
        triggers = [AppendOnly()]
        verbose_name = _("patient file merge")
        verbose_name_plural = _("patient file merges")
        ordering = ["-merged_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(kept=F("merged")),
                                   name="patients_patientmerge_distinct_files"),
        ]

    def __str__(self):
        return f"{self.merged.file_number} → {self.kept.file_number}"


class OutreachAttempt(models.Model):
    """Staff tried to reach a person in treatment who has not come for a while ("who have we
    lost"). Not a contact: the person was not seen, so an attempt never counts in the figures
    nor keeps an episode running (it is in no ``contact_day_querysets`` and not in
    ``patients_contact_days``). Append-only (migration 0009): what was tried stays as it was
    recorded; a merge of two files may only move it to the kept file."""

    class Means(models.TextChoices):
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("Visit to a known place")
        PARTNER = "partner", _("Message via a partner")
        OTHER = "other", _("Letter or other")

    class Result(models.TextChoices):
        NOT_REACHED = "not_reached", _("Not reached")
        MESSAGE_LEFT = "message_left", _("Message left")
        REACHED = "reached", _("Reached")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT,
                                related_name="outreach_attempts", verbose_name=_("patient"))
    date = models.DateField(_("date"))
    means = models.CharField(_("how"), max_length=10, choices=Means.choices)
    site = models.ForeignKey("mass.Site", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("where"))
    # A short, non-clinical outcome only: what was said goes in a note of the discipline.
    result = models.CharField(_("result"), max_length=15, choices=Result.choices)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                null=True, blank=True, related_name="+",
                                verbose_name=_("by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        triggers = [AppendOnly(updatable=["patient_id"])]
        verbose_name = _("outreach attempt")
        verbose_name_plural = _("outreach attempts")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(means__in=["phone", "visit", "partner", "other"]),
                                   name="patients_outreachattempt_means_valid"),
            models.CheckConstraint(
                condition=Q(result__in=["not_reached", "message_left", "reached"]),
                name="patients_outreachattempt_result_valid"),
        ]
        indexes = [
            # The worklist's "last attempt" and the patient file's list, newest first.
            models.Index(fields=["patient", "-date", "-id"], name="patients_outreach_patient"),
        ]

    def __str__(self):
        return f"{self.patient.alias} {self.date} {self.get_means_display()}"


#: The worklist's thresholds: a number of days without contact, 1 to 365.
WORKLIST_DAYS_MIN, WORKLIST_DAYS_MAX = 1, 365


class WorklistThresholds(models.Model):
    """After how many days without a contact a person in treatment shows on "who have we
    lost". One row (id 1), kept by the coordinators; each change is audited. Without the
    row the defaults apply."""

    ROW = 1
    days_validators = [MinValueValidator(WORKLIST_DAYS_MIN), MaxValueValidator(WORKLIST_DAYS_MAX)]

    id = models.PositiveSmallIntegerField(primary_key=True, default=ROW, editable=False)
    substitution_days = models.PositiveSmallIntegerField(
        _("substitution dispensed at the MASS"), default=7, validators=days_validators,
        help_text=_("Days without contact for people whose substitution treatment is "
                    "dispensed at the MASS."))
    other_days = models.PositiveSmallIntegerField(
        _("everyone else in treatment"), default=30, validators=days_validators,
        help_text=_("Days without contact for the other people in treatment."))
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("changed by"))

    class Meta:
        verbose_name = _("worklist thresholds")
        verbose_name_plural = _("worklist thresholds")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="patients_worklistthresholds_one_row"),
            models.CheckConstraint(
                condition=Q(substitution_days__gte=WORKLIST_DAYS_MIN,
                            substitution_days__lte=WORKLIST_DAYS_MAX,
                            other_days__gte=WORKLIST_DAYS_MIN, other_days__lte=WORKLIST_DAYS_MAX),
                name="patients_worklistthresholds_days_in_range"),
        ]

    def __str__(self):
        return f"{self.substitution_days} / {self.other_days}"


class PatientPhoto(models.Model):
    """A person's identification photo, taken at the desk or the counter with their consent
    (PhotoConsent), so that the nurse knows who is in front of her. Not clinical: when the
    person withdraws consent this row and its files are erased, not kept as history.

    The images are JPEG files under ``settings.PHOTO_ROOT`` named by ``token`` (random, so
    that a file name says nothing of the person), never under the static or media files:
    only ``patients.views.patient_photo`` serves them, to staff who may, audited.
    One photo per person: a new one replaces it."""

    class Source(models.TextChoices):
        CAMERA = "camera", _("Device camera")
        UPLOAD = "upload", _("Uploaded file")

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="photo",
                                   verbose_name=_("patient"))
    token = models.CharField(max_length=64, unique=True, editable=False)
    source = models.CharField(_("taken with"), max_length=10, choices=Source.choices)
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name=_("taken by"))

    class Meta:
        verbose_name = _("identification photo")
        verbose_name_plural = _("identification photos")
        constraints = [
            models.CheckConstraint(condition=Q(source__in=["camera", "upload"]),
                                   name="patients_patientphoto_source_valid"),
        ]

    def __str__(self):
        return f"{self.patient.alias} ({self.taken_at:%Y-%m-%d})"


class PhotoConsent(models.Model):
    """The person said yes (or no longer) to an identification photo: who recorded it and
    when. Append-only (migration 0012): the history of consent stays as it was recorded;
    the latest row is the person's current decision. A merge of two files may only move the
    rows to the kept file."""

    class Decision(models.TextChoices):
        GIVEN = "given", _("Consent given")
        WITHDRAWN = "withdrawn", _("Consent withdrawn")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT,
                                related_name="photo_consents", verbose_name=_("patient"))
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        triggers = [AppendOnly(updatable=["patient_id"])]
        verbose_name = _("photo consent")
        verbose_name_plural = _("photo consents")
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(decision__in=["given", "withdrawn"]),
                                   name="patients_photoconsent_decision_valid"),
        ]
        indexes = [
            # selectors.photo_consent(): a person's latest decision, and the photo page's
            # history, newest first.
            models.Index(fields=["patient", "-recorded_at", "-id"],
                         name="patients_photoconsent_latest"),
        ]

    def __str__(self):
        return f"{self.patient.alias} {self.get_decision_display()} {self.recorded_at:%Y-%m-%d}"
