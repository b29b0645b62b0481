from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods

from labs import figures, selectors, services
from labs.forms import LabImportForm, LabResultForm, TreatmentEndForm, TreatmentForm
from mass.accounts.roles import Role, has_role
from mass.audit import audit_list_read, audit_read
from mass.corrections import cancellation_page
from mass.record_pages import record_form_page
from mass.refusals import refusal_on_form
from patients.selectors import patient_get_for_user, patient_named_by_form

#: The first year of the figures' pages (the screening records began with issue 14).
FIRST_YEAR = 1990



def _patient_for_entry(request):
    if not selectors.labs_visible(request.user):
        raise Http404
    patient = patient_named_by_form(request)
    if patient.is_merged:
        messages.error(request, _("This file was merged into %(kept)s: record it on that file.")
                       % {"kept": patient.merged_into})
    return patient


@require_http_methods(["GET", "POST"])
@permission_required("labs.add_labresult", raise_exception=True)
def result_create(request):
    patient = _patient_for_entry(request)
    return record_form_page(
        request, patient=patient, form=LabResultForm(request.POST or None),
        save=lambda data: services.lab_result_create(patient=patient, actor=request.user,
                                                     **data),
        done=_("Lab result recorded."), title=_("New lab result"),
        read=gettext_noop("patient file %(file)s (lab result form)"),
        may_save=not patient.is_merged)


#: Results per page of a patient's results.
RESULTS_PER_PAGE = 50


@require_GET
def patient_results(request, pk):
    """Every lab result of a patient, newest first (the file's panel shows the latest ten),
    cancelled ones struck through."""
    if not selectors.labs_visible(request.user):
        raise Http404
    patient = patient_get_for_user(user=request.user, pk=pk)
    page = Paginator(selectors.results_for_user(request.user, patient),
                     RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (lab results)"),
               params={"file": patient.file_number})
    return render(request, "labs/patient_results.html", {
        "patient": patient, "page": page, "results": page.object_list,
        "cancels_any": has_role(request.user, Role.DOCTOR), "user_id": request.user.pk})


@require_http_methods(["GET", "POST"])
def result_cancel(request, pk):
    """Cancel a result entered by mistake: who entered it, or a doctor (mass.corrections)."""
    result = selectors.result_get_for_user(user=request.user, pk=pk)
    return cancellation_page(
        request, record=result, author_id=result.recorded_by_id, overseer=Role.DOCTOR,
        patient=result.patient,
        read=lambda: audit_read(actor=request.user, obj=result,
                                summary=gettext_noop("lab result %(result)s (cancel form)"),
                                params={"result": result.pk}),
        back=result.patient.get_absolute_url(), title=_("Cancel a lab result"),
        entry=[(_("Test"), result.get_test_display()), (_("Sample date"), result.sample_date),
               (_("Laboratory"), result.laboratory), (_("Recorded by"), result.recorded_by)],
        cancel=lambda reason: services.lab_result_cancel(result=result, reason=reason,
                                                         actor=request.user),
        done=_("The lab result is cancelled."))


@require_http_methods(["GET", "POST"])
@permission_required("labs.add_treatment", raise_exception=True)
def treatment_create(request):
    patient = _patient_for_entry(request)
    return record_form_page(
        request, patient=patient, form=TreatmentForm(request.POST or None),
        save=lambda data: services.treatment_start(patient=patient, actor=request.user,
                                                   **data),
        done=_("Treatment recorded."), title=_("New treatment"),
        read=gettext_noop("patient file %(file)s (treatment form)"),
        may_save=not patient.is_merged)


@require_http_methods(["GET", "POST"])
@permission_required("labs.change_treatment", raise_exception=True)
def treatment_end(request, pk):
    treatment = selectors.treatment_get_for_user(user=request.user, pk=pk)
    closed = treatment.ended_on is not None or hasattr(treatment, "cancellation")
    form = None if closed else TreatmentEndForm(request.POST or None)
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            services.treatment_end(treatment=treatment, ended_on=form.cleaned_data["ended_on"],
                                   actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("The end of the treatment is recorded."))
            return redirect(treatment.patient.get_absolute_url())
    audit_read(actor=request.user, obj=treatment,
               summary=gettext_noop("cascade treatment %(treatment)s"),
               params={"treatment": treatment.pk})
    return render(request, "labs/treatment_end.html", {
        "form": form, "treatment": treatment, "patient": treatment.patient})


@require_http_methods(["GET", "POST"])
def treatment_cancel(request, pk):
    treatment = selectors.treatment_get_for_user(user=request.user, pk=pk)
    return cancellation_page(
        request, record=treatment, author_id=treatment.recorded_by_id, overseer=Role.DOCTOR,
        patient=treatment.patient,
        read=lambda: audit_read(actor=request.user, obj=treatment,
                                summary=gettext_noop("cascade treatment %(treatment)s "
                                                     "(cancel form)"),
                                params={"treatment": treatment.pk}),
        back=treatment.patient.get_absolute_url(), title=_("Cancel a treatment"),
        entry=[(_("Treatment"), treatment.get_regimen_display()),
               (_("Started on"), treatment.started_on),
               (_("Recorded by"), treatment.recorded_by)],
        cancel=lambda reason: services.treatment_cancel(treatment=treatment, reason=reason,
                                                        actor=request.user),
        done=_("The treatment is cancelled."))


@require_http_methods(["GET", "POST"])
@permission_required("labs.add_labimport", raise_exception=True)
def lab_import(request):
    """A lab's CSV file, imported whole or not at all; the refusal lists every error by
    file, line and column."""
    if not selectors.labs_visible(request.user):
        raise Http404
    form = LabImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            imported = services.lab_results_import(file_name=upload.name,
                                                   content=upload.read(), actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("%(count)s results imported from %(file)s.") % {
                "count": imported.rows, "file": imported.file_name})
            return redirect("labs:import")
    return render(request, "labs/import.html", {"form": form})


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise Http404


@require_GET
@permission_required("labs.view_care_figures", raise_exception=True)
def care_figures_current(request):
    """The menu's entry: this year's figures."""
    return redirect("labs:care_figures", year=timezone.localdate().year)


@require_GET
@permission_required("labs.view_care_figures", raise_exception=True)
def care_figures(request, year: int):
    """The yearly care figures, next to the file active: counts only (no patient named)."""
    _check_year(year)
    return render(request, "labs/care_figures.html", {
        "year": year, "figures": figures.care_figures(year),
        # The lists name people with their HCV status: medical readers only.
        "lists": selectors.labs_visible(request.user),
        "previous_year": year - 1 if year > FIRST_YEAR else None,
        "next_year": year + 1 if year < timezone.localdate().year else None})


@require_GET
@permission_required("labs.view_care_figures", raise_exception=True)
def care_figure_list(request, year: int, figure: str):
    """The people of one care figure. Naming someone among the people screened, positive or
    treated tells their medical secret: only who reads lab results sees the list."""
    _check_year(year)
    if figure not in figures.CARE_FIGURES:
        raise Http404
    if not selectors.labs_visible(request.user):
        raise PermissionDenied
    rows = figures.care_figure_people(year, figure)
    audit_list_read(actor=request.user,
                    summary=gettext_noop("care figures %(year)s: list of %(figure)s"),
                    params={"year": year, "figure": figure},
                    patients=[row["patient"].pk for row in rows])
    return render(request, "labs/care_figure_list.html", {
        "year": year, "figure": figures.CARE_FIGURES[figure], "rows": rows})
