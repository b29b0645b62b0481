from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_POST

from mass.accounts.roles import Role, has_role
from mass.audit import Action, audit_list_read, audit_read, audit_record
from mass.redirects import safe_next
from mass.refusals import refusal_on_form
from social import selectors, services
from social.forms import (
    AsOfForm,
    SituationChangeForm,
    SocialActionEditForm,
    SocialActionForm,
    SocialActionProgressForm,
    correction_form_class,
)

CASELOAD_PAGE_SIZE = 50


@permission_required("social.view_socialaction", raise_exception=True)
def caseload(request, team=False):
    """The signed-in social worker's open actions, overdue first; ``team``: everyone's.
    Someone who follows no caseload of their own (a doctor, the coordinator) gets the team's."""
    team = team or not has_role(request.user, Role.SOCIAL_WORKER)
    action_filter = selectors.caseload(user=request.user, data=request.GET, team=team)
    page = Paginator(action_filter.qs, CASELOAD_PAGE_SIZE).get_page(request.GET.get("page"))
    # The page's actions name their patients: one list event naming them.
    audit_list_read(actor=request.user,
                    summary=gettext_noop("team caseload") if team else gettext_noop("caseload"),
                    patients=[action.patient_id for action in page.object_list])
    context = {"filter": action_filter, "page": page, "team": team,
               "today": timezone.localdate()}
    template = "social/caseload.html#results" if request.htmx else "social/caseload.html"
    return render(request, template, context)


@permission_required("social.view_socialaction", raise_exception=True)
def team_caseload(request):
    return caseload(request, team=True)


@permission_required("social.view_incomerecord", raise_exception=True)
def situation(request, patient_id):
    """The whole social situation of a patient and its history; social workers record a
    change here (the quick form of the patient file's panel posts here too, with ``next``)."""
    patient = selectors.patient_get_for_social(user=request.user, pk=patient_id)
    can_record = selectors.can_record_situation(request.user)
    today = timezone.localdate()
    if request.method == "POST" and not can_record:
        raise PermissionDenied
    form = SituationChangeForm(request.POST or None) if can_record else None
    if request.method == "POST" and form.is_valid():
        try:
            records = services.situation_record(
                patient=patient, date=form.cleaned_data["date"], changes=form.changes(),
                actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, ngettext(
                "Social situation recorded (%(count)d change).",
                "Social situation recorded (%(count)d changes).", len(records))
                % {"count": len(records)})
            return redirect(safe_next(request, reverse("social:situation",
                                                        args=[patient.pk])))
    # Audited where the page is rendered: a form shown again with its errors shows it too.
    audit_read(actor=request.user, obj=patient, summary=gettext_noop("social situation"))
    as_of_form = AsOfForm(request.GET)
    as_of = (as_of_form.cleaned_data["as_of"] if as_of_form.is_valid() else None) or today
    context = {
        "patient": patient, "form": form, "can_record": can_record, "as_of_form": as_of_form,
        "as_of": as_of, "today": today,
        "history": selectors.situation_history(patient=patient, as_of=as_of),
    }
    return render(request, "social/situation.html", context)


@permission_required("social.add_incomerecord", raise_exception=True)
def situation_correct(request, patient_id, dimension, pk):
    patient = selectors.patient_get_for_social(user=request.user, pk=patient_id, write=True)
    original = selectors.situation_record_get(user=request.user, patient=patient,
                                              dimension=dimension, pk=pk)
    form_class = correction_form_class(dimension)
    initial = {field: getattr(original, field) for field in form_class._meta.fields}
    form = form_class(request.POST or None, original=original, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.situation_correct(record=original, date=form.cleaned_data["date"],
                                       values=form.values(),
                                       reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Correction recorded; the corrected entry is kept in "
                                        "the history."))
            return redirect("social:situation", patient_id=patient.pk)
    audit_record(actor=request.user, action=Action.VIEW, patient=patient, obj=original,
                 summary=gettext_noop("social situation: %(dimension)s entry to correct"),
                 params={"dimension": dimension})
    return render(request, "social/situation_correct.html",
                  {"patient": patient, "form": form, "original": original})


@permission_required("social.add_socialaction", raise_exception=True)
def action_create(request, patient_id):
    patient = selectors.patient_get_for_social(user=request.user, pk=patient_id, write=True)
    form = SocialActionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            action = services.social_action_open(
                patient=patient, type=data["type"], social_worker=data["social_worker"],
                partner=data["partner"], opened_on=data["opened_on"], due_on=data["due_on"],
                notes=data["notes"], actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Social action opened."))
            return redirect(action)
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (social action form)"),
               params={"file": patient.file_number})
    return render(request, "social/action_form.html", {"patient": patient, "form": form})


@permission_required("social.view_socialaction", raise_exception=True)
def action_detail(request, pk):
    action = selectors.social_action_get_for_user(user=request.user, pk=pk)
    return _render_detail(request, action)


def _render_detail(request, action, progress_form=None):
    can_change = selectors.can_change_actions(request.user)
    if progress_form is None and can_change and action.is_open:
        progress_form = SocialActionProgressForm(action=action)
    updates = selectors.social_action_updates(action=action)
    user = request.user
    notes_readable = selectors.can_read_social_notes(user, author_id=action.created_by_id)
    context = {
        "action": action, "patient": action.patient, "progress_form": progress_form,
        "can_change": can_change, "today": timezone.localdate(),
        "notes_readable": notes_readable,
        "updates": [(u, selectors.can_read_social_notes(user, author_id=u.author_id))
                    for u in updates],
    }
    # The page, and the progress form shown again with its errors: a read of the action;
    # whether its notes were shown (the coordinator opens it without them).
    audit_record(actor=request.user, action=Action.VIEW, patient=action.patient, obj=action,
                 summary=gettext_noop("social action %(action_type)s"),
                 params={"action_type": action.type},
                 details={"text_shown": notes_readable and all(
                     readable for _update, readable in context["updates"])})
    return render(request, "social/action_detail.html", context)


@require_POST
@permission_required("social.change_socialaction", raise_exception=True)
def action_progress(request, pk):
    action = selectors.social_action_get_for_user(user=request.user, pk=pk)
    form = SocialActionProgressForm(request.POST, action=action)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.social_action_progress(action=action, status=data["status"],
                                            note=data["note"], outcome=data["outcome"],
                                            actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Social action updated."))
            return redirect(action)
    return _render_detail(request, action, progress_form=form)


@permission_required("social.change_socialaction", raise_exception=True)
def action_edit(request, pk):
    action = selectors.social_action_get_for_user(user=request.user, pk=pk)
    if not action.is_open:
        messages.error(request, _("This action is closed; open a new action instead."))
        return redirect(action)
    form = SocialActionEditForm(request.POST or None, instance=action)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.social_action_edit(action=action, social_worker=data["social_worker"],
                                        partner=data["partner"], due_on=data["due_on"],
                                        actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Social action saved."))
            return redirect(action)
    # The action of one patient, as its page shows it.
    audit_read(actor=request.user, obj=action,
               summary=gettext_noop("social action %(action_type)s (edit form)"),
               params={"action_type": action.type})
    return render(request, "social/action_form.html",
                  {"patient": action.patient, "form": form, "action": action})
