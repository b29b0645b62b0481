from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.triggers import ALERT_GUARD
from mass.database.triggers import moved_only_by_a_merge


class Alert(models.Model):
    """Something every carer who meets the person must know at once (an allergy, "a doctor
    before any dose"): shown as a banner on every page of the patient and on the dispensing
    row while it is active. An alert ends, with who ended it and why; it is never deleted nor
    edited (migration 0001: only the end may be written, once, and a merge may move it).
    Who records and who reads each kind: alerts.rules."""

    class Kind(models.TextChoices):
        ALLERGY = "allergy", _("Allergy")
        QT_ECG = "qt_ecg", _("QT risk / ECG due")
        PREGNANCY = "pregnancy", _("Pregnancy")
        INTERACTION = "interaction", _("Interaction (benzodiazepines, alcohol…)")
        BEHAVIOUR = "behaviour", _("Behaviour / safety")
        DOCTOR_FIRST = "doctor_first", _("Doctor before any dose")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="alerts", verbose_name=_("patient"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    text = models.CharField(_("what to know"), max_length=200,
                            help_text=_("Short: it is read at the counter (“penicillin”, "
                                        "“ECG due before any increase”)."))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name=_("ended by"))
    end_reason = models.CharField(_("why it ended"), max_length=300, blank=True)

    class Meta:
        triggers = [ALERT_GUARD, moved_only_by_a_merge()]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["allergy", "qt_ecg", "pregnancy",
                                                       "interaction", "behaviour",
                                                       "doctor_first"]),
                                   name="alerts_alert_kind_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="alerts_alert_text_set"),
            # Ended: when and why, together (who, unless the account is gone).
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, end_reason="")
                | (Q(ended_at__isnull=False) & ~Q(end_reason="")),
                name="alerts_alert_ended_with_reason"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("recorded_at")),
                name="alerts_alert_ends_after_recorded"),
        ]
        indexes = [
            # The banner of every patient page and the dispensing list: the active alerts of
            # one patient, or of the list's patients.
            models.Index(fields=["patient"], condition=Q(ended_at__isnull=True),
                         name="alerts_alert_active"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None
