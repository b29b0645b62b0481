"""Writes of alerts: record one, end one. Each is one transaction with its audit row; a
refusal raises ValidationError with the sentence to show, and nothing is written."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alerts.models import Alert
from alerts.rules import may_end, recordable_kinds
from mass.audit import Action, audit_record
from patients.services import patient_check_open


@transaction.atomic
def alert_record(*, patient, kind: str, text: str, actor) -> Alert:
    text = " ".join((text or "").split())
    if not kind:
        raise ValidationError(_("Choose the kind of alert: nothing was recorded."),
                              code="kind")
    if kind not in Alert.Kind.values:
        raise ValidationError(_("Unknown kind of alert: nothing was recorded."), code="kind")
    if kind not in recordable_kinds(actor):
        raise ValidationError(
            _("Your role does not record alerts of this kind (%(kind)s).")
            % {"kind": Alert.Kind(kind).label}, code="kind")
    if not text:
        raise ValidationError(_("Say in a few words what to know: nothing was recorded."),
                              code="text")
    patient_check_open(patient)
    alert = Alert.objects.create(patient=patient, kind=kind, text=text[:200],
                                 recorded_by=actor, recorded_at=timezone.now())
    # Neither the text nor the kind ("pregnancy", "interaction" are clinical): the audit
    # trail is read by coordinators, who read no alert. The object names the alert.
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=alert,
                 summary=gettext_noop("alert recorded"))
    return alert


@transaction.atomic
def alert_end(*, alert: Alert, reason: str, actor) -> Alert:
    reason = " ".join((reason or "").split())
    # Read again under a lock: two people ending it at once, the second is told.
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if not may_end(actor, alert):
        raise ValidationError(_("Your role does not end alerts of this kind."), code="role")
    if alert.ended_at is not None:
        raise ValidationError(
            _("This alert was already ended on %(date)s by %(who)s.")
            % {"date": date_format(timezone.localtime(alert.ended_at), "SHORT_DATETIME_FORMAT"),
               "who": alert.ended_by or "—"}, code="ended")
    if not reason:
        raise ValidationError(_("Say why the alert ends: nothing was recorded."),
                              code="reason")
    alert.ended_at, alert.ended_by, alert.end_reason = timezone.now(), actor, reason[:300]
    alert.save(update_fields=["ended_at", "ended_by", "end_reason"])
    audit_record(actor=actor, action=Action.UPDATE, patient=alert.patient, obj=alert,
                 summary=gettext_noop("alert ended"))
    return alert
