from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from mass import selectors, services
from mass.accounts.roles import Role, user_roles
from mass.accounts.security_views import RETRY_AFTER_SECONDS
from mass.audit import audit_list_read
from mass.audit.summaries import summary_for_reader
from mass.forms import (
    LanguageForm,
    StaffCreateForm,
    StaffPasswordForm,
    StaffUpdateForm,
)
from mass.models import RoleGrant, User
from mass.navigation import sections_for
from mass.redirects import safe_next
from mass.refusals import refusal_text


@login_not_required
@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure to reach the database is the answer, not an error
        # The same pause as the pages' 503 (mass.accounts.security_views): a load balancer or a
        # monitor then knows when to ask again.
        return JsonResponse({"database": "unavailable"}, status=503,
                            headers={"Retry-After": RETRY_AFTER_SECONDS})
    return JsonResponse({"database": "ok"})


def home(request):
    """The start page: each section the user's roles give, most used first. Reception's
    start page is the desk itself: their day is there, not among tiles. (Someone who also
    holds another role keeps the tiles: their day is not only the desk's.)"""
    if user_roles(request.user) == [Role.RECEPTION]:
        return redirect("reception:board")
    return render(request, "mass/home.html", {"sections": sections_for(request.user)})


@login_not_required
@require_POST
def language_set(request):
    form = LanguageForm(request.POST)
    response = HttpResponseRedirect(safe_next(request, "/"))
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.user_set_language(user=request.user, language=language)
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600,
            secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


@permission_required("mass.manage_staff", raise_exception=True)
def staff_list(request):
    grants = list(selectors.role_grants_pending())
    for grant in grants:  # the buttons only for whoever may decide (not the requester)
        grant.refusal = services.grant_approver_may_decide(grant=grant, actor=request.user)
    return render(request, "mass/staff_list.html", {
        "staff": selectors.staff_list(), "grants": grants,
        "self_approval": settings.MASS_GRANT_APPROVER == "self"})


def _role_grant_decide(request, pk, *, approve: bool):
    grant = get_object_or_404(RoleGrant, pk=pk)
    try:
        services.role_grant_decide(grant=grant, approve=approve, actor=request.user)
    except ValidationError as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        text = (_("Role %(role)s given to %(name)s.") if approve
                else _("Role %(role)s refused for %(name)s."))
        messages.success(request, text % {"role": grant.role_label,
                                          "name": grant.user.username})
    return redirect("staff_list")


@require_POST
@permission_required("mass.manage_staff", raise_exception=True)
def role_grant_approve(request, pk):
    return _role_grant_decide(request, pk, approve=True)


@require_POST
@permission_required("mass.manage_staff", raise_exception=True)
def role_grant_refuse(request, pk):
    return _role_grant_decide(request, pk, approve=False)


def _say_pending(request, user):
    if user.role_grants.filter(decided_at__isnull=True).exists():
        messages.info(request, _("A clinical role waits for a second coordinator's approval "
                                 "before %(name)s holds it.") % {"name": user.username})


@permission_required("mass.manage_staff", raise_exception=True)
def staff_create(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.staff_create(
            username=data["username"], first_name=data["first_name"],
            last_name=data["last_name"], email=data["email"], roles=data["roles"],
            password=data["password"], language=data["language"], actor=request.user,
        )
        messages.success(request, _("Account %(name)s created.") % {"name": user.username})
        _say_pending(request, user)
        return redirect("staff_list")
    return render(request, "mass/staff_form.html", {"form": form, "creating": True})


@permission_required("mass.manage_staff", raise_exception=True)
def staff_update(request, pk):
    user = get_object_or_404(User, pk=pk)
    form = StaffUpdateForm(request.POST or None, instance=user, editor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.staff_update(
            user=user, first_name=data["first_name"], last_name=data["last_name"],
            email=data["email"], roles=data["roles"], is_active=data["is_active"],
            language=data["language"], reception_lead=data["reception_lead"],
            actor=request.user,
        )
        messages.success(request, _("Account %(name)s saved.") % {"name": user.username})
        _say_pending(request, user)
        return redirect("staff_list")
    return render(request, "mass/staff_form.html", {"form": form, "staff_member": user})


@permission_required("mass.manage_staff", raise_exception=True)
def staff_password(request, pk):
    user = get_object_or_404(User, pk=pk)
    if user.pk == request.user.pk:
        # One's own password is changed with the current one (services.staff_set_password).
        return redirect("password_change")
    form = StaffPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.staff_set_password(user=user, password=form.cleaned_data["new_password1"],
                                    actor=request.user)
        messages.success(request, _("New password set for %(name)s.") % {"name": user.username})
        return redirect("staff_list")
    return render(request, "mass/staff_password.html", {"form": form, "staff_member": user})


@permission_required("mass.view_auditevent", raise_exception=True)
def audit_list(request):
    event_filter = selectors.audit_event_list(data=request.GET or None)
    page = Paginator(event_filter.qs, 50).get_page(request.GET.get("page"))
    # For one patient, the page first answers "who read this file" (patient-rights law).
    patient = selectors.audit_patient(event_filter)
    readers = selectors.audit_readers_of_patient(patient=patient) if patient else None
    # Each summary as this reader may read it (mass.audit.summaries): a coordinator reads
    # "dispensing record", not the dose.
    for event in page.object_list:
        event.shown_summary = summary_for_reader(event, user=request.user)
    # The page names patients: a read of the trail is audited like any list of patients.
    audit_list_read(actor=request.user, summary=gettext_noop("audit trail"),
                    patients=[event.patient_id for event in page.object_list
                              if event.patient_id])
    return render(request, "mass/audit_list.html", {"filter": event_filter, "page": page,
                                                    "patient": patient, "readers": readers})
