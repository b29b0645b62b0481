from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consultations import selectors, services
from consultations.forms import (
    AmendmentForm,
    AttendanceForm,
    ConsultationForm,
    GroupSessionForm,
    PartnerFilterForm,
    PartnerForm,
    ReferralForm,
    ReferralOutcomeForm,
    ScreeningAmendForm,
    ScreeningResultForm,
    ScreeningTestForm,
)
from consultations.models import Partner
from mass import contributions
from mass.accounts.roles import Role
from mass.audit import Action, audit_list_read, audit_read, audit_record
from mass.corrections import cancellation_page, may_cancel
from mass.printing import document_context
from mass.redirects import safe_next
from mass.refusals import refusal_on_form, refusal_text
from patients.models import Patient
from patients.selectors import patient_get_for_user, patient_named_by_form, patient_return_lapse

PER_PAGE = 50


def _patient_or_404(user, pk) -> Patient:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    return patient_get_for_user(user=user, pk=pk)


def _audit_candidates(request, form, *, summary: str, params: dict | None = None) -> None:
    """The files a person picker offered to choose from are other people's files shown: a
    search, audited as the patient search is (who looked for whom, what it showed).
    ``summary`` is the code naming the picker, with %(query)s and %(count)s."""
    if form.candidates:
        audit_record(actor=request.user, action=Action.SEARCH, summary=summary,
                     params={**(params or {}), "query": form.data.get("patient", "")[:100],
                             "count": len(form.candidates)},
                     details={"patients": sorted(p.pk for p in form.candidates)})


def _pick_patient(request, *, url_name: str, summary: str):
    """The first step of a form for a person not named yet (``?q=``): a redirect to the
    form for the one person meant, or the picker again with what it found."""
    pick = AttendanceForm({"patient": request.GET["q"]} if request.GET.get("q") else None)
    if pick.is_bound and pick.is_valid():
        return redirect(reverse(url_name) + f"?patient={pick.cleaned_data['patient'].pk}")
    _audit_candidates(request, pick, summary=summary)
    return render(request, "consultations/consultation_pick_patient.html", {
        "form": pick, "candidates": pick.candidates, "action": reverse(url_name),
        "pick_url": reverse(url_name) + "?patient=",
        "referral": url_name == "consultations:referral_create"})


def _patient_file_url(patient) -> str:
    try:
        return patient.get_absolute_url()
    except NoReverseMatch:  # the patient file page is served by the reception app
        return reverse("consultations:timeline", args=[patient.pk])


# --- consultations --------------------------------------------------------------------------


@permission_required("consultations.add_consultation", raise_exception=True)
def consultation_list(request):
    """The signed-in clinician's notes to sign, then all their consultations."""
    page = Paginator(selectors.consultations_authored(request.user), PER_PAGE).get_page(
        request.GET.get("page"))
    to_sign = list(selectors.notes_to_sign(request.user))
    # One's own notes still name their patients: one list event naming them.
    audit_list_read(actor=request.user, summary=gettext_noop("my consultations"),
                    patients=[note.patient_id for note in [*to_sign, *page.object_list]])
    return render(request, "consultations/consultation_list.html", {
        "to_sign": to_sign, "page": page,
    })


@permission_required("consultations.add_consultation", raise_exception=True)
def consultation_create(request):
    """Quick entry: ``?patient=<id>`` from the patient file or the reception board; without it,
    ask for the patient first."""
    if not (request.GET.get("patient") or request.POST.get("patient")):
        return _pick_patient(request, url_name="consultations:create",
                             summary=gettext_noop('consultation form, person picker: '
                                                  '"%(query)s" (%(count)s files)'))
    patient = patient_named_by_form(request)
    form = ConsultationForm(request.POST or None, user=request.user)
    if patient.is_merged:
        messages.error(request, _("This file was merged into %(kept)s: record it on that file.")
                       % {"kept": patient.merged_into})
    if request.method == "POST" and form.is_valid() and not patient.is_merged:
        data = form.cleaned_data
        try:
            consultation = services.consultation_create(
                patient=patient, discipline=data["discipline"], form=data["form"],
                site=data["site"], date=data["date"], time=data["time"],
                duration_minutes=data["duration_minutes"], note=data["note"],
                is_personal_note=data["is_personal_note"], sign=data["sign"],
                actor=request.user,
            )
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Consultation recorded."))
            return redirect(consultation)
    # What one needs before writing: the latest notes one may read, the treatment in force.
    notes = selectors.consultation_context_notes(request.user, patient)
    prescriptions = contributions.prescriptions_in_force(user=request.user, patient=patient)
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (consultation form)"),
               params={"file": patient.file_number},
               details={"notes_shown": [note.pk for note in notes],
                        "prescriptions_shown": [rx.pk for rx in prescriptions or []]})
    return render(request, "consultations/consultation_form.html",
                  {"form": form, "patient": patient, "creating": True,
                   "lapse": patient_return_lapse(patient=patient),
                   "notes": notes, "prescriptions": prescriptions})


@permission_required("consultations.view_consultation", raise_exception=True)
def consultation_detail(request, pk):
    consultation = selectors.consultation_get_for_user(user=request.user, pk=pk)
    audit_record(actor=request.user, action=Action.VIEW, obj=consultation,
                 summary=gettext_noop("consultation %(consultation)s"),
                 params={"consultation": consultation.pk},
                 details={"text_shown": consultation.text_visible})
    return _render_detail(request, consultation, AmendmentForm())


def _render_detail(request, consultation, amendment_form, status=200):
    user = request.user
    return render(request, "consultations/consultation_detail.html", {
        "consultation": consultation,
        "patient": consultation.patient,
        "can_edit": selectors.consultation_editable(user, consultation),
        "can_sign": selectors.consultation_editable(user, consultation),
        "can_amend": selectors.consultation_amendable(user, consultation),
        "amendment_form": amendment_form,
        "patient_url": _patient_file_url(consultation.patient),
    }, status=status)


@permission_required("consultations.add_consultation", raise_exception=True)
def consultation_update(request, pk):
    consultation = selectors.consultation_get_for_user(user=request.user, pk=pk)
    if consultation.author_id != request.user.pk:
        raise PermissionDenied
    if consultation.is_locked:
        messages.error(request, _("This note is signed: add an amendment instead."))
        return redirect(consultation)
    form = ConsultationForm(request.POST or None, instance=consultation, user=request.user,
                            creating=False)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.consultation_update(
                consultation=consultation, discipline=data["discipline"], form=data["form"],
                site=data["site"], date=data["date"], time=data["time"],
                duration_minutes=data["duration_minutes"], note=data["note"],
                is_personal_note=data["is_personal_note"], actor=request.user,
            )
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Note saved."))
            return redirect(consultation)
    # The form holds the note's text: a read of the record (shown again with its errors too).
    audit_read(actor=request.user, obj=consultation,
               summary=gettext_noop("consultation %(consultation)s (edit form)"),
               params={"consultation": consultation.pk},
               details={"text_shown": True})
    return render(request, "consultations/consultation_form.html",
                  {"form": form, "patient": consultation.patient, "consultation": consultation})


@require_POST
@permission_required("consultations.add_consultation", raise_exception=True)
def consultation_sign(request, pk):
    consultation = selectors.consultation_get_for_user(user=request.user, pk=pk)
    if consultation.author_id != request.user.pk:
        raise PermissionDenied
    try:
        services.consultation_sign(consultation=consultation, actor=request.user)
    except ValidationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("Note signed."))
    # Back where the signature was given (the list of notes to sign), on this site only: an
    # unchecked ``next`` was an open redirect, and a bare word a server error (reverse()).
    return redirect(safe_next(request, consultation.get_absolute_url()))


@permission_required("consultations.add_consultationamendment", raise_exception=True)
def consultation_amend(request, pk):
    consultation = selectors.consultation_get_for_user(user=request.user, pk=pk)
    if not consultation.text_visible:
        raise Http404  # what one may not read, one may not know the text of
    if not selectors.consultation_amendable(request.user, consultation):
        if not consultation.is_locked:
            messages.error(request, _("This note is not signed yet: edit it instead."))
            return redirect(consultation)
        raise PermissionDenied
    form = AmendmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consultation_amend(consultation=consultation, text=form.cleaned_data["text"],
                                        reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Amendment recorded."))
            return redirect(consultation)
    # The page shows the note and its amendments.
    audit_read(actor=request.user, obj=consultation,
               summary=gettext_noop("consultation %(consultation)s (amendment form)"),
               params={"consultation": consultation.pk},
               details={"text_shown": True})
    return render(request, "consultations/consultation_amend.html",
                  {"form": form, "consultation": consultation,
                   "patient": consultation.patient})


# --- the patient timeline -------------------------------------------------------------------


@permission_required("patients.view_patient", raise_exception=True)
def timeline(request, patient_id):
    patient = _patient_or_404(request.user, patient_id)
    page = selectors.timeline_for_user(user=request.user, patient=patient,
                                       page_number=request.GET.get("page"), per_page=PER_PAGE)
    # Notes of the page whose text this reader was not shown: the row says so, so that "who
    # read this file" tells an opening from a read.
    hidden = sum(1 for entry in page.object_list
                 if entry.kind == "consultation" and not entry.detail)
    audit_record(actor=request.user, action=Action.VIEW, patient=patient, obj=patient,
                 summary=gettext_noop("timeline of %(file)s"), params={"file": patient.file_number},
                 details={"page": page.number,
                          **({"text_shown": False, "notes_hidden": hidden} if hidden else {})})
    return render(request, "consultations/timeline.html", {
        "patient": patient, "page": page, "patient_url": _patient_file_url(patient),
    })


# --- groups ---------------------------------------------------------------------------------


@permission_required("consultations.add_groupsession", raise_exception=True)
def group_list(request):
    page = Paginator(selectors.group_sessions(), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "consultations/group_list.html", {"page": page})


@permission_required("consultations.add_groupsession", raise_exception=True)
def group_create(request):
    form = GroupSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.group_session_create(
                date=data["date"], time=data["time"], kind=data["kind"], theme=data["theme"],
                site=data["site"], facilitators=data["facilitators"], actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Group session recorded."))
            return redirect(session)
    return render(request, "consultations/group_form.html", {"form": form})


@permission_required("consultations.view_groupsession", raise_exception=True)
def group_detail(request, pk):
    session = selectors.group_session_get(pk=pk)
    form = AttendanceForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("consultations.add_groupattendance"):
            raise PermissionDenied
        if form.is_valid():
            patient = form.cleaned_data["patient"]
            try:
                services.group_attendance_add(session=session, patient=patient,
                                              actor=request.user)
            except ValidationError as error:
                refusal_on_form(form, error)
            else:
                messages.success(request, _("%(alias)s attended.") % {"alias": patient.alias})
                return redirect(session)
        _audit_candidates(request, form, summary=gettext_noop(
            'group session %(session)s, adding someone: "%(query)s" (%(count)s files)'),
            params={"session": session.pk})
    # Who attended: one list event naming them (docs/security.md, "Reads of patient data, and
    # what the audit trail shows").
    audit_list_read(actor=request.user,
                    summary=gettext_noop("group session %(session)s attendance"),
                    params={"session": session.pk},
                    patients=[a.patient_id for a in session.attendances.all()])
    return render(request, "consultations/group_detail.html",
                  {"session": session, "form": form,
                   "is_coordinator": may_cancel(request.user, author_id=None)})


@require_http_methods(["GET", "POST"])
def attendance_cancel(request, pk):
    """Cancel an attendance recorded by mistake: who recorded it or a coordinator."""
    attendance = selectors.group_attendance_get_for_user(user=request.user, pk=pk)
    return cancellation_page(
        request, record=attendance, author_id=attendance.recorded_by_id,
        patient=attendance.patient,
        read=lambda: audit_read(actor=request.user, obj=attendance,
                                summary=gettext_noop("group attendance %(attendance)s "
                                                     "(cancel form)"),
                                params={"attendance": attendance.pk}),
        back=attendance.session.get_absolute_url(), title=_("Cancel a group attendance"),
        entry=[(_("Session"), attendance.session),
               (_("Recorded by"), attendance.recorded_by or "—")],
        cancel=lambda reason: services.group_attendance_cancel(
            attendance=attendance, reason=reason, actor=request.user),
        done=_("The attendance is cancelled: it no longer counts."))


# --- partners and referrals -----------------------------------------------------------------


@permission_required("consultations.view_partner", raise_exception=True)
def partner_list(request):
    filters = PartnerFilterForm(request.GET or None)
    query = kind = ""
    if filters.is_valid():
        query, kind = filters.cleaned_data["q"], filters.cleaned_data["kind"]
    page = Paginator(selectors.partner_list(query=query, kind=kind), PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "consultations/partner_list.html", {"filters": filters, "page": page})


@permission_required("consultations.view_partner", raise_exception=True)
def partner_detail(request, pk):
    partner = selectors.partner_get(pk=pk)
    referrals = None
    if request.user.has_perm("consultations.view_referral"):
        referrals = Paginator(selectors.referrals_of_partner(partner=partner), PER_PAGE).get_page(
            request.GET.get("page"))
        for referral in referrals.object_list:
            referral.reason_visible = selectors.referral_reason_visible(request.user, referral)
        # The patients sent there (and the reasons one may read): one list event naming them.
        audit_list_read(actor=request.user,
                        summary=gettext_noop("referrals to partner %(partner)s"),
                        params={"partner": partner.pk},
                        patients=[referral.patient_id for referral in referrals.object_list])
    return render(request, "consultations/partner_detail.html",
                  {"partner": partner, "referrals": referrals})


def partner_edit(request, pk=None):
    permission = "consultations.change_partner" if pk else "consultations.add_partner"
    if not request.user.has_perm(permission):
        raise PermissionDenied
    partner = selectors.partner_get(pk=pk) if pk else Partner()
    form = PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        partner = services.partner_save(partner=form.save(commit=False), actor=request.user)
        messages.success(request, _("Partner %(name)s saved.") % {"name": partner.name})
        return redirect("consultations:partner_detail", pk=partner.pk)
    return render(request, "consultations/partner_form.html",
                  {"form": form, "partner": partner if pk else None})


@permission_required("consultations.add_referral", raise_exception=True)
def referral_create(request):
    if not (request.GET.get("patient") or request.POST.get("patient")):
        return _pick_patient(request, url_name="consultations:referral_create",
                             summary=gettext_noop('referral form, person picker: '
                                                  '"%(query)s" (%(count)s files)'))
    patient = patient_named_by_form(request)
    form = ReferralForm(request.POST or None)
    if patient.is_merged:
        messages.error(request, _("This file was merged into %(kept)s: record it on that file.")
                       % {"kept": patient.merged_into})
    if request.method == "POST" and form.is_valid() and not patient.is_merged:
        data = form.cleaned_data
        try:
            services.referral_create(patient=patient, partner=data["partner"], date=data["date"],
                                     reason=data["reason"], actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Referral recorded."))
            return redirect(_patient_file_url(patient))
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (referral form)"),
               params={"file": patient.file_number})
    return render(request, "consultations/referral_form.html", {"form": form, "patient": patient})


@permission_required("consultations.change_referral", raise_exception=True)
def referral_outcome(request, pk):
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    form = ReferralOutcomeForm(request.POST or None, referral=referral)
    # A recorded outcome is final: the page says so instead of offering the form. The service
    # refuses it too (two people at once: the second one's form comes back with the reason).
    final = referral.outcome != referral.Outcome.PENDING
    if request.method == "POST" and not final and form.is_valid():
        try:
            services.referral_set_outcome(referral=referral, outcome=form.cleaned_data["outcome"],
                                          outcome_date=form.cleaned_data["outcome_date"],
                                          actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Referral outcome saved."))
            return redirect(_patient_file_url(referral.patient))
    audit_read(actor=request.user, obj=referral, summary=gettext_noop("referral %(referral)s"),
               params={"referral": referral.pk})
    return render(request, "consultations/referral_outcome.html", {
        "form": form, "referral": referral, "patient": referral.patient, "final": final,
        "final_message": services.REFERRAL_OUTCOME_FINAL,
        "can_refer": (request.user.has_perm("consultations.add_referral")
                      and not referral.patient.is_merged),
    })


@require_GET
@permission_required("consultations.view_referral", raise_exception=True)
def referral_letter(request, pk):
    """The letter that goes with the patient to the partner, in the patient's language."""
    referral = selectors.referral_letter_get_for_user(user=request.user, pk=pk)
    audit_read(actor=request.user, obj=referral,
               summary=gettext_noop("referral %(referral)s letter printed"),
               params={"referral": referral.pk})
    return render(request, "consultations/referral_letter.html", {
        "referral": referral, "patient": referral.patient,
        **document_context(kind="referral", patient=referral.patient, actor=request.user,
                           back_url=_patient_file_url(referral.patient),
                           title=_("Referral letter to %(partner)s")
                           % {"partner": referral.partner})})


# --- screening ------------------------------------------------------------------------------


@permission_required("consultations.add_screeningtest", raise_exception=True)
def screening_create(request):
    if not selectors.screening_visible(request.user):
        raise Http404
    patient = patient_named_by_form(request)
    form = ScreeningTestForm(request.POST or None)
    if patient.is_merged:
        messages.error(request, _("This file was merged into %(kept)s: record it on that file.")
                       % {"kept": patient.merged_into})
    if request.method == "POST" and form.is_valid() and not patient.is_merged:
        data = form.cleaned_data
        try:
            services.screening_test_create(
                patient=patient, date=data["date"], test=data["test"], result=data["result"],
                result_date=data["result_date"], follow_up=data["follow_up"],
                actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Screening test recorded."))
            return redirect(_patient_file_url(patient))
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (screening form)"),
               params={"file": patient.file_number})
    return render(request, "consultations/screening_form.html",
                  {"form": form, "patient": patient})


@permission_required("consultations.change_screeningtest", raise_exception=True)
def screening_result(request, pk):
    """A test's page: its current result and how it came to be (the result first recorded,
    then each amendment), and the form that records the result (pending) or amends it."""
    screening = selectors.screening_test_get_for_user(user=request.user, pk=pk)
    cancelled = hasattr(screening, "cancellation")
    pending = screening.result == screening.Result.PENDING
    form_class = ScreeningResultForm if pending else ScreeningAmendForm
    form = None if cancelled else form_class(request.POST or None, screening=screening)
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            if pending:
                services.screening_test_record_result(
                    screening=screening, result=data["result"],
                    result_date=data["result_date"], follow_up=data["follow_up"],
                    actor=request.user)
            else:
                services.screening_result_amend(
                    screening=screening, result=data["result"],
                    result_date=data["result_date"], reason=data["reason"],
                    actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Screening result recorded.") if pending
                             else _("Screening result amended; the earlier one is kept."))
            return redirect(_patient_file_url(screening.patient))
    # The form is filled with the test's follow-up.
    audit_read(actor=request.user, obj=screening, summary=gettext_noop("screening %(screening)s"),
               params={"screening": screening.pk})
    return render(request, "consultations/screening_result.html", {
        "form": form, "screening": screening, "patient": screening.patient,
        "pending": pending, "back": _patient_file_url(screening.patient),
        "may_cancel": not cancelled and may_cancel(
            request.user, author_id=screening.performed_by_id, overseer=Role.DOCTOR)})


@require_http_methods(["GET", "POST"])
def screening_cancel(request, pk):
    """Cancel a test recorded by mistake: who performed it, or a doctor (mass.corrections;
    coordinators may not read screening)."""
    screening = selectors.screening_test_get_for_user(user=request.user, pk=pk)
    return cancellation_page(
        request, record=screening, author_id=screening.performed_by_id,
        overseer=Role.DOCTOR, patient=screening.patient,
        read=lambda: audit_read(actor=request.user, obj=screening,
                                summary=gettext_noop("screening %(screening)s (cancel form)"),
                                params={"screening": screening.pk}),
        back=_patient_file_url(screening.patient), title=_("Cancel a screening test"),
        entry=[(_("Test"), screening.get_test_display()), (_("Date"), screening.date),
               (_("Result"), screening.get_current_result_display()),
               (_("Performed by"), screening.performed_by or "—")],
        cancel=lambda reason: services.screening_test_cancel(
            screening=screening, reason=reason, actor=request.user),
        done=_("The screening test is cancelled."))
