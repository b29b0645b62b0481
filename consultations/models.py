"""Consultations and the other clinical contacts of a patient: groups, referrals to the partner
network, HCV/HIV screening.

Who may read a note's text is decided in one place, :mod:`consultations.selectors`; nothing in
this module or in the templates decides it.
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultations.triggers import (
    ATTENDANCE_MOVES_WITH_WHAT_IT_REPLACES,
    ATTENDANCE_REPLACES_A_CANCELLED_ONE,
    CONSULTATION_LOCK,
)
from mass.database.triggers import AppendOnly, moved_only_by_a_merge
from mass.models import CancellableQuerySet, Cancellation
from patients.triggers import (
    AFTER_ATTENDANCE_CANCELLATIONS,
    AFTER_CONTACTS,
    AFTER_GROUP_SESSIONS,
    episode_refresh,
)

#: A consultation longer than this is a typing error (a whole day in minutes is 1440).
MAX_DURATION_MINUTES = 480


class Consultation(models.Model):
    """One consultation of a patient with one clinician (individual, couple or family).

    The author may edit the note until it is signed: explicitly, or automatically at the end
    of the day after the consultation (see :attr:`is_locked`). After that the row is locked
    (the database refuses a change of its clinical fields: consultations/triggers.py) and
    corrections are :class:`ConsultationAmendment` rows.
    """

    class Discipline(models.TextChoices):
        MEDICAL = "medical", _("Medical")
        PSYCHIATRIC = "psychiatric", _("Psychiatric")
        PSYCHOLOGICAL = "psychological", _("Psychological")
        SOCIAL = "social", _("Social")
        NURSING = "nursing", _("Nursing")
        OTHER = "other", _("Other")

    class Form(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        COUPLE = "couple", _("Couple")
        FAMILY = "family", _("Family")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="consultations", verbose_name=_("patient"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                               blank=True, related_name="consultations_authored",
                               verbose_name=_("author"))
    # Authors imported from the previous system who have no account here.
    author_name = models.CharField(_("author (imported)"), max_length=150, blank=True)
    discipline = models.CharField(_("discipline"), max_length=20, choices=Discipline.choices)
    form = models.CharField(_("form"), max_length=10, choices=Form.choices,
                            default=Form.INDIVIDUAL)
    site = models.ForeignKey("mass.Site", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("where"))
    date = models.DateField(_("date"))
    time = models.TimeField(_("start time"), null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_MINUTES)],
    )
    note = models.TextField(_("note"), blank=True, max_length=20000)
    is_personal_note = models.BooleanField(
        _("personal note"), default=False,
        help_text=_("A personal note of its author (patient-rights law): only you can read it."),
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    # Null with signed_at set: signed automatically (end of the next day) or imported.
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("signed by"))
    imported = models.BooleanField(_("imported"), default=False, editable=False)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        triggers = [CONSULTATION_LOCK, moved_only_by_a_merge(),
                    *episode_refresh(AFTER_CONTACTS)]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-date", "-time", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discipline__in=["medical", "psychiatric", "psychological", "social",
                                            "nursing", "other"]),
                name="consultations_consultation_discipline_valid",
            ),
            models.CheckConstraint(condition=Q(form__in=["individual", "couple", "family"]),
                                   name="consultations_consultation_form_valid"),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True)
                | Q(duration_minutes__gte=1, duration_minutes__lte=MAX_DURATION_MINUTES),
                name="consultations_consultation_duration_sane",
            ),
            models.CheckConstraint(condition=Q(signed_by__isnull=True)
                                   | Q(signed_at__isnull=False),
                                   name="consultations_consultation_signer_has_date"),
        ]
        indexes = [
            # The patient file panel and the timeline: a patient's consultations, newest first.
            models.Index(fields=["patient", "-date"], name="consult_patient_date"),
            # The yearly figures (consultations dated in the year) and the contact days.
            models.Index(fields=["date", "patient"], name="consult_date_patient"),
            # "My consultations": the signed-in clinician's notes, newest first.
            models.Index(fields=["author", "-date"], name="consult_author_date"),
        ]

    def __str__(self):
        return f"{self.patient} {self.date} {self.get_discipline_display()}"

    def get_absolute_url(self):
        return reverse("consultations:detail", args=[self.pk])

    @property
    def author_display(self) -> str:
        if self.author_id:
            return str(self.author)
        return self.author_name or "—"

    @property
    def auto_sign_deadline(self) -> datetime.date:
        """The last day on which the note is still open: the day after the consultation."""
        return self.date + datetime.timedelta(days=1)

    @property
    def is_locked(self) -> bool:
        """Signed explicitly, or automatically at the end of the next day, or imported (an
        imported note has no author here who could still sign it)."""
        return (self.signed_at is not None or self.imported
                or self.auto_sign_deadline < timezone.localdate())


class ConsultationAmendment(models.Model):
    """A correction of a locked note. Append-only: the original text stays as it was and the
    amendment is shown with it. Its readers are the readers of the consultation."""

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT,
                                     related_name="amendments",
                                     verbose_name=_("consultation"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("author"))
    text = models.TextField(_("amendment"), max_length=20000)
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        triggers = [AppendOnly()]
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""),
                                   name="consultations_consultationamendment_reason_set"),
            models.CheckConstraint(condition=~Q(text=""),
                                   name="consultations_consultationamendment_text_set"),
        ]

    def __str__(self):
        return f"{self.consultation} + {self.created_at:%Y-%m-%d}"


class GroupSession(models.Model):
    """A session of an open group. Each attendance is a contact of the patient that day."""

    class Kind(models.TextChoices):
        COMMUNITY_HEALTH = "community_health", _("Community health")
        HARM_REDUCTION = "harm_reduction", _("Harm reduction")
        RELAXATION = "relaxation", _("Relaxation")
        OTHER = "other", _("Other")

    date = models.DateField(_("date"))
    time = models.TimeField(_("start time"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    theme = models.CharField(_("theme"), max_length=200, blank=True)
    site = models.ForeignKey("mass.Site", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("where"))
    facilitators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                          related_name="group_sessions_facilitated",
                                          verbose_name=_("facilitators"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = [*episode_refresh(AFTER_GROUP_SESSIONS, events=["update"])]
        verbose_name = _("group session")
        verbose_name_plural = _("group sessions")
        ordering = ["-date", "-time", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["community_health", "harm_reduction", "relaxation",
                                      "other"]),
                name="consultations_groupsession_kind_valid",
            ),
        ]
        indexes = [
            # The groups page (latest sessions first) and the yearly contact days.
            models.Index(fields=["-date"], name="consult_groupsession_date"),
        ]

    def __str__(self):
        theme = f" — {self.theme}" if self.theme else ""
        return f"{self.get_kind_display()} {self.date}{theme}"

    def get_absolute_url(self):
        return reverse("consultations:group_detail", args=[self.pk])


class GroupAttendance(models.Model):
    """A person at a group session. One standing attendance per person and session: one
    cancelled by mistake is recorded again by a row that ``replaces`` it (the rules in
    consultations/triggers.py), so the session keeps both, the first struck through."""

    session = models.ForeignKey(GroupSession, on_delete=models.PROTECT,
                                related_name="attendances", verbose_name=_("session"))
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="group_attendances", verbose_name=_("patient"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    replaces = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="replaced_by",
                                    verbose_name=_("replaces the cancelled attendance"))

    objects = CancellableQuerySet.as_manager()

    class Meta:
        triggers = [AppendOnly(updatable=["patient_id"]),
                    ATTENDANCE_REPLACES_A_CANCELLED_ONE, ATTENDANCE_MOVES_WITH_WHAT_IT_REPLACES,
                    *episode_refresh(AFTER_CONTACTS)]
        verbose_name = _("group attendance")
        verbose_name_plural = _("group attendances")
        ordering = ["session", "id"]
        constraints = [
            # The first attendance of a person at a session; any later one replaces the one
            # before it, each replaced once (``replaces`` is one-to-one).
            models.UniqueConstraint(fields=["session", "patient"],
                                    condition=Q(replaces__isnull=True),
                                    name="consultations_groupattendance_first_per_session"),
        ]
        indexes = [
            # The timeline: a patient's attendances.
            models.Index(fields=["patient", "session"], name="consult_attendance_patient"),
        ]

    def __str__(self):
        return f"{self.patient} @ {self.session}"


class Partner(models.Model):
    """An organisation of the network the centre refers patients to (reference data)."""

    class Kind(models.TextChoices):
        CPAS = "cpas", _("CPAS/OCMW")
        HOSPITAL = "hospital", _("Hospital")
        TREATMENT = "treatment", _("Addiction treatment centre")
        HARM_REDUCTION = "harm_reduction", _("Harm reduction")
        SHELTER = "shelter", _("Shelter and outreach")
        GENERAL_PRACTITIONER = "gp", _("General practitioner")
        PHARMACY = "pharmacy", _("Pharmacy")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=150, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    address = models.CharField(_("address"), max_length=250, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    contact_person = models.CharField(_("contact person"), max_length=150, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["cpas", "hospital", "treatment", "harm_reduction",
                                      "shelter", "gp", "pharmacy", "other"]),
                name="consultations_partner_kind_valid",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="consultations_partner_name_set"),
        ]

    def __str__(self):
        return self.name


class Referral(models.Model):
    """A patient referred to a partner organisation, and whether they went."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        SEEN = "seen", _("Seen")
        NOT_SEEN = "not_seen", _("Not seen")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="referrals", verbose_name=_("patient"))
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals",
                                verbose_name=_("partner"))
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=500)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices,
                               default=Outcome.PENDING)
    outcome_date = models.DateField(_("outcome known on"), null=True, blank=True)
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("referred by"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=["pending", "seen", "not_seen"]),
                                   name="consultations_referral_outcome_valid"),
            models.CheckConstraint(condition=~Q(reason=""),
                                   name="consultations_referral_reason_set"),
            models.CheckConstraint(
                condition=Q(outcome_date__isnull=True) | Q(outcome_date__gte=models.F("date")),
                name="consultations_referral_outcome_after_referral",
            ),
        ]
        indexes = [
            # The patient file panel: a patient's referrals, newest first.
            models.Index(fields=["patient", "-date"], name="consult_referral_patient"),
            # A partner's page: its latest referrals.
            models.Index(fields=["partner", "-date"], name="consult_referral_partner"),
        ]

    def __str__(self):
        return f"{self.patient} -> {self.partner} {self.date}"


class ScreeningTest(models.Model):
    """An HCV or HIV test. Medical confidentiality: doctors, psychiatrists and nurses only.
    A result, once recorded, is never changed: a wrong result is corrected by an amendment
    (``ScreeningResultAmendment``, the latest one is the current result), a test recorded
    by mistake is cancelled (``ScreeningTestCancellation``)."""

    class Test(models.TextChoices):
        HCV = "hcv", _("HCV")
        HIV = "hiv", _("HIV")

    class Result(models.TextChoices):
        PENDING = "pending", _("Pending")
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")
        INDETERMINATE = "indeterminate", _("Indeterminate")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="screening_tests", verbose_name=_("patient"))
    date = models.DateField(_("date"))
    test = models.CharField(_("test"), max_length=5, choices=Test.choices)
    result = models.CharField(_("result"), max_length=15, choices=Result.choices,
                              default=Result.PENDING)
    result_date = models.DateField(_("result known on"), null=True, blank=True)
    follow_up = models.CharField(_("follow-up"), max_length=500, blank=True)
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("performed by"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CancellableQuerySet.as_manager()

    class Meta:
        verbose_name = _("screening test")
        verbose_name_plural = _("screening tests")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(test__in=["hcv", "hiv"]),
                                   name="consultations_screeningtest_test_valid"),
            models.CheckConstraint(
                condition=Q(result__in=["pending", "negative", "positive", "indeterminate"]),
                name="consultations_screeningtest_result_valid",
            ),
            models.CheckConstraint(
                condition=Q(result_date__isnull=True) | Q(result_date__gte=models.F("date")),
                name="consultations_screeningtest_result_after_test",
            ),
        ]
        indexes = [
            # The patient file panel: a patient's tests, newest first.
            models.Index(fields=["patient", "-date"], name="consult_screening_patient"),
        ]

    def __str__(self):
        return f"{self.patient} {self.get_test_display()} {self.date}"

    @property
    def latest_amendment(self):
        """The amendment that gives the current result, None when never amended. Reads the
        prefetched ``amendments`` (oldest first) when there are, else one query."""
        amendments = list(self.amendments.all())
        return amendments[-1] if amendments else None

    @property
    def current_result(self) -> str:
        amendment = self.latest_amendment
        return amendment.result if amendment is not None else self.result

    def get_current_result_display(self) -> str:
        return self.Result(self.current_result).label

    @property
    def current_result_date(self):
        amendment = self.latest_amendment
        return amendment.result_date if amendment is not None else self.result_date


class GroupAttendanceCancellation(Cancellation):
    """An attendance recorded by mistake (the wrong person, the wrong session), cancelled."""

    attendance = models.OneToOneField(GroupAttendance, on_delete=models.PROTECT,
                                      related_name="cancellation",
                                      verbose_name=_("group attendance"))

    class Meta(Cancellation.Meta):
        triggers = [*Cancellation.Meta.triggers,
                    *episode_refresh(AFTER_ATTENDANCE_CANCELLATIONS, events=["insert"])]
        verbose_name = _("group attendance cancellation")
        verbose_name_plural = _("group attendance cancellations")

    def __str__(self):
        return f"{self.attendance} cancelled"


class ScreeningTestCancellation(Cancellation):
    """A screening test recorded by mistake (often on the wrong file), cancelled."""

    screening = models.OneToOneField(ScreeningTest, on_delete=models.PROTECT,
                                     related_name="cancellation",
                                     verbose_name=_("screening test"))

    class Meta(Cancellation.Meta):
        verbose_name = _("screening test cancellation")
        verbose_name_plural = _("screening test cancellations")

    def __str__(self):
        return f"{self.screening} cancelled"


class ScreeningResultAmendment(models.Model):
    """A correction of a recorded screening result, like an amendment of a note: the result
    first recorded stays on the test, each amendment is a new row, the latest is the current
    result. Append-only. Its readers are those of the test (medical)."""

    screening = models.ForeignKey(ScreeningTest, on_delete=models.PROTECT,
                                  related_name="amendments", verbose_name=_("screening test"))
    result = models.CharField(_("result"), max_length=15, choices=ScreeningTest.Result.choices)
    result_date = models.DateField(_("result known on"))
    reason = models.CharField(_("reason"), max_length=500)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("author"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        triggers = [AppendOnly()]
        verbose_name = _("screening result amendment")
        verbose_name_plural = _("screening result amendments")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(result__in=["negative", "positive", "indeterminate"]),
                name="consultations_screeningresultamendment_result_valid"),
            models.CheckConstraint(condition=~Q(reason=""),
                                   name="consultations_screeningresultamendment_reason_set"),
        ]

    def __str__(self):
        return f"{self.screening} -> {self.result}"
