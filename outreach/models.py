"""The mobile team's devices and what they synchronised (issue 16).

A round is prepared on a registered device, recorded offline and synchronised record by
record: ``SyncedRecord`` is the idempotency key of each record (its client UUID), so a
replayed batch writes nothing twice.
"""

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mass.database.triggers import AppendOnly


class OutreachDevice(models.Model):
    """A phone or tablet a member of staff uses on outreach rounds. Registered by its user
    from the outreach page; disabled (lost, stolen) by a coordinator from the staff pages:
    its later syncs are refused record by record. Never deleted, never re-enabled (a found
    phone is registered again): the rows are the history of who held what."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="outreach_devices", verbose_name=_("staff member"))
    name = models.CharField(_("name"), max_length=100)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("disabled by"))

    class Meta:
        # Only the disabling may be written, once; nothing else ever changes.
        triggers = [AppendOnly(updatable=["disabled_at", "disabled_by_id"], update_only_if="""
            OLD.disabled_at IS NULL AND NEW.disabled_at IS NOT NULL
            AND NEW.disabled_by_id IS NOT NULL""")]
        verbose_name = _("outreach device")
        verbose_name_plural = _("outreach devices")
        ordering = ["user", "-registered_at"]
        permissions = [("use_outreach", _("Can work on outreach rounds (the outreach page)"))]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="outreach_outreachdevice_named"),
            models.CheckConstraint(
                condition=Q(disabled_at__isnull=True, disabled_by__isnull=True)
                | Q(disabled_at__isnull=False, disabled_by__isnull=False),
                name="outreach_outreachdevice_disabled_complete"),
        ]

    def __str__(self):
        return f"{self.name} ({self.user})"

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None


class SyncedRecord(models.Model):
    """A record made offline and accepted once: its client UUID, who sent it from which
    device, when it was made and received, and what it became on the server. Append-only:
    the key of idempotency must not move."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Alias-only registration")
        CONTACT = "contact", _("Contact")
        MATERIAL = "material", _("Harm-reduction material")
        NOTE = "note", _("Note")
        SCREENING = "screening", _("Screening")
        REFERRAL = "referral", _("Referral")
        ATTEMPT = "attempt", _("Outreach attempt")
        INITIATION = "initiation", _("Substitution initiation")

    uuid = models.UUIDField(_("client UUID"), unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("staff member"))
    device = models.ForeignKey(OutreachDevice, on_delete=models.PROTECT,
                               related_name="synced_records", verbose_name=_("device"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    made_at = models.DateTimeField(_("made at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    site = models.ForeignKey("mass.Site", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("site"))
    # The file the record went to (after a merge mapping), answered again on a replay.
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name=_("patient"))
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()

    class Meta:
        # A merge of two files may move the row's patient to the kept file, nothing else.
        triggers = [AppendOnly(updatable=["patient_id"])]
        verbose_name = _("synchronised record")
        verbose_name_plural = _("synchronised records")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["person", "contact", "material", "note", "screening",
                                      "referral", "attempt", "initiation"]),
                name="outreach_syncedrecord_kind_valid"),
        ]

    def __str__(self):
        return f"{self.kind} {self.uuid}"


class PossibleDuplicate(models.Model):
    """A person registered offline whose alias and birth year read like a file that already
    exists: registered anyway (the team could not search), and offered for merge to those
    who merge files. Append-only; the merge page decides."""

    registered = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("registered offline"))
    existing = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("existing file"))
    reasons = models.JSONField(_("why"), default=list)
    found_at = models.DateTimeField(_("found at"), auto_now_add=True)

    class Meta:
        triggers = [AppendOnly()]
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["-found_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(registered=models.F("existing")),
                                   name="outreach_possibleduplicate_distinct"),
        ]

    def __str__(self):
        return f"{self.registered_id} ~ {self.existing_id}"
