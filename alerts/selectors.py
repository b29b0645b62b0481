"""Reads of alerts. What a user may read follows alerts.rules: an alert of a kind the user
does not read is not shown, and opening it is a 404."""

from django.http import Http404

from alerts.models import Alert
from alerts.rules import readable_kinds


def alert_get_for_user(*, user, pk: int) -> Alert:
    kinds = readable_kinds(user)
    try:
        return (Alert.objects.select_related("patient", "recorded_by", "ended_by")
                .get(pk=pk, kind__in=kinds))
    except Alert.DoesNotExist:
        raise Http404 from None


def patient_alerts(*, user, patient) -> list[Alert]:
    """Every alert of the patient this user reads, active first, then newest first."""
    return sorted(
        Alert.objects.filter(patient=patient, kind__in=readable_kinds(user))
        .select_related("recorded_by", "ended_by"),
        key=lambda alert: (not alert.is_active, -alert.recorded_at.timestamp(), -alert.pk))


def active_alerts(*, user, patient) -> list[Alert]:
    """The banner: the patient's active alerts this user reads, in one query (none for a
    user who reads no kind)."""
    kinds = readable_kinds(user)
    if not kinds:
        return []
    return list(Alert.objects.filter(patient=patient, kind__in=kinds, ended_at__isnull=True)
                .order_by("recorded_at", "id"))


def readable_alerts_by_patient(*, user, patient_ids) -> dict[int, list[Alert]]:
    """The active alerts of these patients that ``user`` reads, in one query (none for a
    user who reads no kind): for the desk's board and search, where reception meets the
    person (behaviour and safety)."""
    kinds = set(readable_kinds(user))
    if not kinds or not patient_ids:
        return {}
    return {patient_id: readable
            for patient_id, alerts in active_alerts_by_patient(patient_ids=patient_ids).items()
            if (readable := [alert for alert in alerts if alert.kind in kinds])}


def active_alerts_by_patient(*, patient_ids) -> dict[int, list[Alert]]:
    """The active alerts of all these patients, every kind, in one query: for the dispensing
    list (its rows show the kinds the viewer reads, and "doctor before any dose" stops the
    dose whoever looks)."""
    by_patient: dict[int, list[Alert]] = {}
    if not patient_ids:
        return by_patient
    # Only the columns the rows and the dose rules read; the ids as one array parameter
    # (mass/database/lookups.py).
    rows = (Alert.objects.filter(ended_at__isnull=True, patient_id__any=sorted(patient_ids))
            .only("patient_id", "kind", "text", "recorded_at").order_by("recorded_at", "id"))
    for alert in rows:
        by_patient.setdefault(alert.patient_id, []).append(alert)
    return by_patient
