from django import template

from alerts import selectors
from alerts.models import Alert
from mass import contributions

register = template.Library()


@register.inclusion_tag("alerts/_banner.html", takes_context=True)
def alert_banner(context, patient):
    """The banner of a patient's active alerts that the signed-in user reads (one query;
    none for a role that reads no kind), and the alerts other apps derive from the records
    (mass.contributions.derived_alerts: the clinical app's "ECG due"). Every page of a
    patient includes it."""
    request = context.get("request")
    user = getattr(request, "user", None)
    alerts, derived = [], []
    if user is not None and patient is not None and getattr(patient, "pk", None):
        alerts = selectors.active_alerts(user=user, patient=patient)
        derived = contributions.derived_alerts(user=user, patient=patient)
    labels = dict(Alert.Kind.choices)
    return {"alerts": alerts, "patient": patient,
            "derived": [(alert, labels.get(alert.kind, "")) for alert in derived],
            "can_list": user is not None and user.has_perm("alerts.view_alert")}
