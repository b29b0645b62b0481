from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mass.database.triggers import AppendOnly
from reporting import tdi_codes as codes


class TdiRecord(models.Model):
    """The TDI questionnaire of a treatment episode (EUDA TDI protocol 3.0), filled at the
    opening of the episode by reception or a clinician.

    Append-only: a correction is a new row that ``supersedes`` the current one, with a reason;
    the current questionnaire of an episode is its newest row. The table also carries the
    ``reporting.view_report`` permission (yearly figures and exports).
    """

    # Not indexed alone: the index on (episode, -id) below serves every lookup by episode.
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT,
                                related_name="tdi_records", verbose_name=_("episode"),
                                db_index=False)
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by",
                                      verbose_name=_("corrects"))
    correction_reason = models.CharField(_("reason for the correction"), max_length=300,
                                         blank=True)
    setting = models.CharField(_("care at episode opening"), max_length=20,
                               choices=codes.Setting.choices, default=codes.Setting.TREATMENT,
                               help_text=_("Harm-reduction-only and outreach-only episodes are "
                                           "left out of the TDI file."))
    ever_treated = models.PositiveSmallIntegerField(
        _("ever treated for drug use before"), choices=codes.EverTreated.choices,
        default=codes.NOT_KNOWN)
    ost_ever = models.PositiveSmallIntegerField(
        _("opioid substitution treatment ever"), choices=codes.OstEver.choices,
        default=codes.NOT_KNOWN)
    referral_source = models.PositiveSmallIntegerField(
        _("referral source"), choices=codes.ReferralSource.choices, default=codes.NOT_KNOWN)
    living_with = models.PositiveSmallIntegerField(
        _("living with"), choices=codes.LivingWith.choices, default=codes.NOT_KNOWN)
    accommodation = models.PositiveSmallIntegerField(
        _("living where"), choices=codes.Accommodation.choices, default=codes.NOT_KNOWN)
    labour_status = models.PositiveSmallIntegerField(
        _("labour status"), choices=codes.LabourStatus.choices, default=codes.NOT_KNOWN)
    education = models.PositiveSmallIntegerField(
        _("highest education completed"), choices=codes.Education.choices,
        default=codes.NOT_KNOWN)
    primary_drug = models.PositiveSmallIntegerField(
        _("primary drug"), choices=codes.Drug.choices, default=codes.NOT_KNOWN)
    route = models.PositiveSmallIntegerField(
        _("usual route of the primary drug"), choices=codes.Route.choices,
        default=codes.NOT_KNOWN)
    frequency = models.PositiveSmallIntegerField(
        _("use of the primary drug in the last 30 days"), choices=codes.Frequency.choices,
        default=codes.NOT_KNOWN)
    age_first_use = models.PositiveSmallIntegerField(
        _("age at first use of the primary drug"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(98)],
        help_text=_("Leave empty if not known."))
    secondary_drug_1 = models.PositiveSmallIntegerField(
        _("secondary drug 1"), choices=codes.Drug.choices, null=True, blank=True)
    secondary_drug_2 = models.PositiveSmallIntegerField(
        _("secondary drug 2"), choices=codes.Drug.choices, null=True, blank=True)
    secondary_drug_3 = models.PositiveSmallIntegerField(
        _("secondary drug 3"), choices=codes.Drug.choices, null=True, blank=True)
    secondary_drug_4 = models.PositiveSmallIntegerField(
        _("secondary drug 4"), choices=codes.Drug.choices, null=True, blank=True)
    injected_ever = models.PositiveSmallIntegerField(
        _("ever injected"), choices=codes.YesNo.choices, default=codes.NOT_KNOWN)
    injected_12m = models.PositiveSmallIntegerField(
        _("injected in the last 12 months"), choices=codes.YesNo.choices,
        default=codes.NOT_KNOWN)
    injected_30d = models.PositiveSmallIntegerField(
        _("injected in the last 30 days"), choices=codes.YesNo.choices,
        default=codes.NOT_KNOWN)
    needle_shared_ever = models.PositiveSmallIntegerField(
        _("ever shared needles or syringes"), choices=codes.YesNo.choices,
        default=codes.NOT_KNOWN)
    needle_shared_12m = models.PositiveSmallIntegerField(
        _("shared needles or syringes in the last 12 months"), choices=codes.YesNo.choices,
        default=codes.NOT_KNOWN)
    needle_shared_30d = models.PositiveSmallIntegerField(
        _("shared needles or syringes in the last 30 days"), choices=codes.YesNo.choices,
        default=codes.NOT_KNOWN)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    #: The coded items in the order of the questionnaire and of the export file.
    ITEMS = ["ever_treated", "ost_ever", "referral_source", "living_with", "accommodation",
             "labour_status", "education", "primary_drug", "route", "frequency",
             "age_first_use", "secondary_drug_1", "secondary_drug_2", "secondary_drug_3",
             "secondary_drug_4", "injected_ever", "injected_12m", "injected_30d",
             "needle_shared_ever", "needle_shared_12m", "needle_shared_30d"]

    class Meta:
        triggers = [AppendOnly()]
        verbose_name = _("TDI questionnaire")
        verbose_name_plural = _("TDI questionnaires")
        ordering = ["episode", "-id"]
        permissions = [
            ("view_report", _("Can view the yearly figures and export them")),
        ]
        constraints = [
            # One original questionnaire per episode; later rows are corrections of it.
            models.UniqueConstraint(fields=["episode"], condition=Q(supersedes__isnull=True),
                                    name="reporting_tdirecord_one_original_per_episode"),
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True) | ~Q(correction_reason=""),
                name="reporting_tdirecord_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(setting__in=["treatment", "outreach_only", "harm_reduction_only"]),
                name="reporting_tdirecord_setting_valid",
            ),
            models.CheckConstraint(
                condition=Q(age_first_use__isnull=True)
                | Q(age_first_use__gte=1, age_first_use__lte=98),
                name="reporting_tdirecord_age_first_use_sane",
            ),
        ]
        indexes = [
            # The current questionnaire of each episode: DISTINCT ON (episode_id) ... id DESC
            # (the TDI file, the patient file's panel).
            models.Index(fields=["episode", "-id"], name="reporting_tdi_episode_latest"),
        ]

    def __str__(self):
        return f"TDI {self.episode_id} ({self.recorded_at:%Y-%m-%d})"

    @property
    def is_correction(self) -> bool:
        return self.supersedes_id is not None


class DeclaredYear(models.Model):
    """A finished year's figures as a coordinator declared them to the funder: a snapshot,
    one row per declaration, never changed (the database refuses UPDATE and DELETE).

    ``figures`` is the ``file_active`` JSON of that moment; ``lists`` the per-patient lists
    behind the figures (``reporting.declaring.snapshot_lists``), so that a later change of the
    records can be reconciled patient by patient; ``sha256`` the hash of both
    (``reporting.declaring.snapshot_hash``); ``checks`` the consistency checks as they stood.
    Declaring the year again is a new version, with a reason; earlier versions stay.
    """

    year = models.PositiveSmallIntegerField(_("year"))
    version = models.PositiveSmallIntegerField(_("version"))
    figures = models.JSONField(_("figures"))
    lists = models.JSONField(_("per-patient lists"))
    checks = models.JSONField(_("consistency checks"), default=list)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("declared by"))
    declared_at = models.DateTimeField(_("declared at"), auto_now_add=True)

    class Meta:
        triggers = [AppendOnly()]
        verbose_name = _("declared year")
        verbose_name_plural = _("declared years")
        ordering = ["-year", "-version"]
        constraints = [
            # Also the index of "the latest version of a year" (the figures page, exports).
            models.UniqueConstraint(fields=["year", "version"],
                                    name="reporting_declaredyear_one_per_version"),
            models.CheckConstraint(condition=Q(version__gte=1),
                                   name="reporting_declaredyear_version_from_one"),
            models.CheckConstraint(condition=Q(version=1) | ~Q(reason=""),
                                   name="reporting_declaredyear_again_has_reason"),
        ]

    def __str__(self):
        return f"{self.year} v{self.version}"
