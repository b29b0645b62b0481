import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods

from clinical import icd10, selectors, services
from clinical.forms import (
    Icd10SearchForm,
    MeasurementForm,
    MeasurementWithdrawForm,
    ProblemCorrectForm,
    ProblemForm,
)
from mass.audit import audit_read
from mass.contributions import CLINICAL_SUMMARY_SECTIONS
from mass.printing import document_context
from mass.refusals import refusal_on_form
from patients.selectors import patient_get_for_user


def _refuse(form, error: ValidationError) -> None:
    # The service names the field in the error's code: the message goes under that field.
    field = error.code if getattr(error, "code", None) in form.fields else None
    refusal_on_form(form, error, field=field)


@require_http_methods(["GET", "POST"])
@permission_required("clinical.add_problem", raise_exception=True)
def problem_create(request, pk):
    """A new problem. ``?q=`` searches ICD-10 (no script: each match is a link that fills the
    code in)."""
    patient = patient_get_for_user(user=request.user, pk=pk)
    search = Icd10SearchForm(request.GET or None)
    matches = icd10.search(search.cleaned_data["q"]) if search.is_valid() else []
    initial = {}
    if code := request.GET.get("code", ""):
        initial = {"code": icd10.normalise(code)[:8]}
    form = ProblemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.problem_record(patient=patient, **form.cleaned_data, actor=request.user)
        except ValidationError as error:
            _refuse(form, error)
        else:
            messages.success(request, _("Problem recorded."))
            return redirect("clinical:summary", patient.pk)
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (problem form)"),
               params={"file": patient.file_number})
    return render(request, "clinical/problem_form.html", {
        "patient": patient, "form": form, "search": search, "matches": matches,
        "searched": search.is_valid() and bool(search.cleaned_data["q"])})


@require_GET
@permission_required("clinical.view_problem", raise_exception=True)
def problem_detail(request, pk):
    """A problem and its history (every version, oldest first)."""
    problem = selectors.problem_get_for_user(user=request.user, pk=pk)
    audit_read(actor=request.user, obj=problem,
               summary=gettext_noop("problem %(problem)s of %(file)s"),
               params={"problem": problem.pk, "file": problem.patient.file_number})
    return render(request, "clinical/problem_detail.html", {
        "problem": problem, "patient": problem.patient,
        "can_correct": request.user.has_perm("clinical.add_problemversion")
        and not problem.patient.is_merged})


@require_http_methods(["GET", "POST"])
@permission_required("clinical.add_problemversion", raise_exception=True)
def problem_correct(request, pk):
    problem = selectors.problem_get_for_user(user=request.user, pk=pk)
    current = problem.current
    form = ProblemCorrectForm(request.POST or None, initial={
        "code": current.code, "label": current.label, "onset": current.onset,
        "status": current.status, "certainty": current.certainty})
    if request.method == "POST" and form.is_valid():
        try:
            services.problem_correct(problem=problem, **form.cleaned_data, actor=request.user)
        except ValidationError as error:
            _refuse(form, error)
        else:
            messages.success(request, _("Problem corrected: the earlier version stays in its "
                                        "history."))
            return redirect("clinical:problem_detail", problem.pk)
    audit_read(actor=request.user, obj=problem,
               summary=gettext_noop("problem %(problem)s of %(file)s (correction form)"),
               params={"problem": problem.pk, "file": problem.patient.file_number})
    return render(request, "clinical/problem_correct.html",
                  {"problem": problem, "patient": problem.patient, "form": form})


@require_GET
@permission_required("clinical.view_measurement", raise_exception=True)
def measurement_list(request, pk):
    """Every measure of the patient, a small chart per measure."""
    patient = patient_get_for_user(user=request.user, pk=pk)
    measurements = list(selectors.measurements_for_user(user=request.user, patient=patient,
                                                        withdrawn=True))
    audit_read(actor=request.user, obj=patient, summary=gettext_noop("measures of %(file)s"),
               params={"file": patient.file_number})
    return render(request, "clinical/measurement_list.html", {
        "patient": patient, "measurements": measurements,
        "charts": selectors.measure_charts([m for m in measurements
                                            if not hasattr(m, "withdrawal")]),
        "can_add": request.user.has_perm("clinical.add_measurement") and not patient.is_merged})


@require_http_methods(["GET", "POST"])
@permission_required("clinical.add_measurement", raise_exception=True)
def measurement_create(request, pk):
    patient = patient_get_for_user(user=request.user, pk=pk)
    form = MeasurementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        taken_at = None
        if (taken_on := form.cleaned_data["taken_on"]) and taken_on != timezone.localdate():
            # A day only (an ECG read elsewhere): noon of that day.
            taken_at = timezone.make_aware(datetime.datetime.combine(taken_on,
                                                                     datetime.time(12)))
        try:
            services.measurement_record(patient=patient, values=form.values(),
                                        taken_at=taken_at, actor=request.user)
        except ValidationError as error:
            _refuse(form, error)
        else:
            messages.success(request, _("Measures recorded."))
            return redirect("clinical:measurements", patient.pk)
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (measures form)"),
               params={"file": patient.file_number})
    return render(request, "clinical/measurement_form.html", {"patient": patient, "form": form})


@require_GET
@permission_required("clinical.view_problem", raise_exception=True)
def clinical_summary(request, pk):
    """One page for the clinician: problems, alerts, the prescription in force, the last
    measures, and what the other apps add (mass.contributions.CLINICAL_SUMMARY_SECTIONS), each
    section under its own read rule; printable (mass.printing)."""
    patient = patient_get_for_user(user=request.user, pk=pk)
    if patient.is_merged:
        raise Http404  # a merged stub has no records of its own
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("clinical summary of %(file)s"),
               params={"file": patient.file_number})
    context = document_context(kind="clinical_summary", patient=patient, actor=request.user,
                               back_url=patient.get_absolute_url(),
                               title=_("Clinical summary of %(alias)s")
                               % {"alias": patient.alias})
    with translation.override(context["document_language"]):
        sections = [(section, render_to_string(section.template,
                                               {"patient": patient, **section_context},
                                               request=request))
                    for section, section_context
                    in CLINICAL_SUMMARY_SECTIONS.shown(request, patient)]
    return render(request, "clinical/summary.html",
                  {"patient": patient, "sections": sections, **context})


@require_http_methods(["GET", "POST"])
@permission_required("clinical.add_measurementwithdrawal", raise_exception=True)
def measurement_withdraw(request, pk):
    """Withdraw a measurement entered in error, with why."""
    measurement = selectors.measurement_get_for_user(user=request.user, pk=pk)
    patient = measurement.patient
    form = MeasurementWithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.measurement_withdraw(measurement=measurement,
                                          reason=form.cleaned_data["reason"],
                                          actor=request.user)
        except ValidationError as error:
            _refuse(form, error)
        else:
            messages.success(request, _("Measurement withdrawn: it stays on the list, struck "
                                        "through."))
            return redirect("clinical:measurements", patient.pk)
    audit_read(actor=request.user, obj=measurement,
               summary=gettext_noop("measurement %(measurement)s of %(file)s (withdrawal form)"),
               params={"measurement": measurement.pk, "file": patient.file_number})
    return render(request, "clinical/measurement_withdraw.html",
                  {"form": form, "measurement": measurement, "patient": patient})
