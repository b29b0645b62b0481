from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods

from alerts import selectors, services
from alerts.forms import AlertEndForm, AlertForm
from alerts.rules import may_end, recordable_kinds
from mass.audit import audit_read
from mass.refusals import refusal_on_form
from patients.selectors import patient_get_for_user


@require_GET
@permission_required("alerts.view_alert", raise_exception=True)
def alert_list(request, pk):
    """Every alert of the patient the user reads, the ended ones struck through."""
    patient = patient_get_for_user(user=request.user, pk=pk)
    alerts = selectors.patient_alerts(user=request.user, patient=patient)
    audit_read(actor=request.user, obj=patient, summary=gettext_noop("alerts of %(file)s"),
               params={"file": patient.file_number})
    return render(request, "alerts/alert_list.html", {
        "patient": patient, "alerts": alerts,
        "endable": {alert.pk for alert in alerts if alert.is_active
                    and may_end(request.user, alert)},
        "can_record": bool(recordable_kinds(request.user)) and not patient.is_merged,
    })


@require_http_methods(["GET", "POST"])
@permission_required("alerts.add_alert", raise_exception=True)
def alert_create(request, pk):
    patient = patient_get_for_user(user=request.user, pk=pk)
    form = AlertForm(request.POST or None, kinds=recordable_kinds(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.alert_record(patient=patient, kind=form.cleaned_data["kind"],
                                  text=form.cleaned_data["text"], actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Alert recorded: it shows on every page of %(alias)s "
                                        "until it is ended.") % {"alias": patient.alias})
            return redirect("alerts:list", patient.pk)
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (alert form)"),
               params={"file": patient.file_number})
    return render(request, "alerts/alert_form.html", {"form": form, "patient": patient})


@require_http_methods(["GET", "POST"])
@permission_required("alerts.change_alert", raise_exception=True)
def alert_end(request, pk):
    alert = selectors.alert_get_for_user(user=request.user, pk=pk)
    if not may_end(request.user, alert):
        raise PermissionDenied
    patient = alert.patient
    form = AlertEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.alert_end(alert=alert, reason=form.cleaned_data["reason"],
                               actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Alert ended."))
            return redirect("alerts:list", patient.pk)
    # Audited where the page is rendered: a form shown again with its errors shows it too.
    audit_read(actor=request.user, obj=alert,
               summary=gettext_noop("alert %(alert)s of %(file)s (ending form)"),
               params={"alert": alert.pk, "file": patient.file_number})
    return render(request, "alerts/alert_end.html",
                  {"form": form, "alert": alert, "patient": patient})
