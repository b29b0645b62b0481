from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods

from mass.accounts.roles import Role, has_role
from mass.audit import audit_list_read, audit_read
from mass.corrections import cancellation_page
from mass.record_pages import record_form_page
from mass.refusals import refusal_on_form
from patients.selectors import patient_named_by_form
from vaccinations import selectors, services
from vaccinations.forms import CourseStartForm, DoseForm


@require_http_methods(["GET", "POST"])
@permission_required("vaccinations.add_vaccinationcourse", raise_exception=True)
def course_create(request):
    """Start a course: the vaccine, its schedule, and the first dose given."""
    if not selectors.vaccinations_visible(request.user):
        raise Http404
    patient = patient_named_by_form(request)

    def save(data):
        services.vaccination_course_start(
            patient=patient, vaccine=data["vaccine"], schedule=data["schedule"],
            date=data["date"], product=data["product"], batch=data["batch"],
            actor=request.user)
    return record_form_page(
        request, patient=patient, form=CourseStartForm(request.POST or None), save=save,
        done=_("Vaccination course started with its first dose."),
        title=_("New vaccination course"),
        read=gettext_noop("patient file %(file)s (vaccination form)"))


@require_http_methods(["GET", "POST"])
@permission_required("vaccinations.add_vaccinationdose", raise_exception=True)
def dose_create(request, pk):
    """A course's page: its doses and when the next one is due, and the form for it."""
    state = selectors.course_get_for_user(user=request.user, pk=pk)
    course = state.course
    form = None if state.complete else DoseForm(request.POST or None,
                                                next_number=state.next_number)
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            services.vaccination_dose_record(
                course=course, number=data["number"], date=data["date"],
                product=data["product"], batch=data["batch"], actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Dose recorded."))
            return redirect(course.patient.get_absolute_url())
    audit_read(actor=request.user, obj=course,
               summary=gettext_noop("vaccination course %(course)s"),
               params={"course": course.pk})
    return render(request, "vaccinations/course_detail.html", {
        "form": form, "state": state, "course": course, "patient": course.patient,
        # Who may cancel a dose (mass.corrections): who gave it, or any doctor.
        "cancels_any": has_role(request.user, Role.DOCTOR)})


@require_http_methods(["GET", "POST"])
def dose_cancel(request, pk):
    """Cancel a dose recorded by mistake: who gave it, or a doctor (mass.corrections)."""
    dose = selectors.dose_get_for_user(user=request.user, pk=pk)
    patient = dose.course.patient
    return cancellation_page(
        request, record=dose, author_id=dose.given_by_id, overseer=Role.DOCTOR,
        patient=patient,
        read=lambda: audit_read(actor=request.user, obj=dose.course,
                                summary=gettext_noop("vaccination dose %(dose)s (cancel form)"),
                                params={"dose": dose.pk}),
        back=patient.get_absolute_url(), title=_("Cancel a vaccination dose"),
        entry=[(_("Vaccine"), dose.course.get_vaccine_display()),
               (_("Dose number"), dose.number), (_("Date given"), dose.date),
               (_("Given by"), dose.given_by)],
        cancel=lambda reason: services.vaccination_dose_cancel(dose=dose, reason=reason,
                                                               actor=request.user),
        done=_("The dose is cancelled."))


@require_GET
@permission_required("vaccinations.view_vaccinationcourse", raise_exception=True)
def due(request):
    """The nurses' list: the doses due this week, and those overdue."""
    if not selectors.vaccinations_visible(request.user):
        raise Http404
    today = timezone.localdate()
    monday, sunday = selectors.week_of(today)
    states = selectors.doses_due_by(until=sunday)
    audit_list_read(actor=request.user, summary=gettext_noop("vaccinations due this week"),
                    patients=[state.course.patient_id for state in states])
    return render(request, "vaccinations/due.html", {
        "states": states, "monday": monday, "sunday": sunday, "today": today})
