from django import template

from alerts import selectors

register = template.Library()


@register.inclusion_tag("alerts/_banner.html", takes_context=True)
def alert_banner(context, patient):
    """The banner of a patient's active alerts that the signed-in user reads (one query;
    none for a role that reads no kind). Every page of a patient includes it."""
    request = context.get("request")
    user = getattr(request, "user", None)
    alerts = []
    if user is not None and patient is not None and getattr(patient, "pk", None):
        alerts = selectors.active_alerts(user=user, patient=patient)
    return {"alerts": alerts, "patient": patient,
            "can_list": user is not None and user.has_perm("alerts.view_alert")}
