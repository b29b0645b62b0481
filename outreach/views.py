"""The outreach API (JSON, for the outreach page's script) and the coordinators' pages for
devices and possible duplicates. Every API answer is ``Cache-Control: no-store``: a round is
patient data and must not stay in a cache of the browser or a proxy."""

import functools
import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from mass.audit import audit_list_read
from mass.refusals import refusal_text
from outreach import selectors, services
from outreach.models import OutreachDevice

#: A sync of 500 records with notes of 2000 characters, and room for the JSON around them.
API_MAX_BODY = 2_500_000


def _error(message, status: int) -> JsonResponse:
    return JsonResponse({"error": str(message)}, status=status)


def outreach_api(view):
    """Staff with ``outreach.use_outreach`` only (others get a JSON 403), never cached."""
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm("outreach.use_outreach"):
            return _error(_("Your role does not work on outreach rounds."), 403)
        return view(request, *args, **kwargs)
    return never_cache(wrapper)


def _json_body(request) -> dict | None:
    if len(request.body) > API_MAX_BODY:
        return None
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


@require_POST
@outreach_api
def api_device_register(request):
    body = _json_body(request)
    if body is None:
        return _error(_("The request is not valid JSON."), 400)
    try:
        device = services.device_register(name=body.get("name"), actor=request.user)
    except ValidationError as refusal:
        return _error(refusal_text(refusal), 400)
    return JsonResponse({"device": str(device.pk), "name": device.name}, status=201)


@require_GET
@outreach_api
def api_round(request):
    device = selectors.device_get_for_user(user=request.user, pk=request.GET.get("device"))
    if device is None:
        return _error(_("This device is not registered for you: register it again."), 400)
    if device.is_disabled:
        services.device_refusal_record(device=device, actor=request.user, what="round")
        return _error(_("Device disabled: it was reported lost."), 403)
    try:
        site = selectors.outreach_site_get(pk=request.GET.get("site"))
    except Http404:  # an unknown, closed or centre site
        return _error(_("Choose an outreach site."), 400)
    prepared = selectors.round_prepare(user=request.user, site=site)
    # Like the desk's board: one read naming every person the device now holds.
    audit_list_read(actor=request.user, summary=gettext_noop("outreach round at %(site)s"),
                    params={"site": site.name},
                    patients=[person["id"] for person in prepared["people"]])
    return JsonResponse(prepared)


@require_POST
@outreach_api
def api_sync(request):
    body = _json_body(request)
    if body is None:
        return _error(_("The request is not valid JSON."), 400)
    try:
        results = services.records_sync(device_id=body.get("device"),
                                        records=body.get("records"), actor=request.user)
    except ValidationError as refusal:
        return _error(refusal_text(refusal), 400)
    return JsonResponse({"results": results})


# --- coordinators' pages ------------------------------------------------------------------------


@permission_required("mass.manage_staff", raise_exception=True)
def device_list(request):
    return render(request, "outreach/device_list.html",
                  {"devices": selectors.devices_by_user()})


@require_POST
@permission_required("mass.manage_staff", raise_exception=True)
def device_disable(request, pk):
    device = get_object_or_404(OutreachDevice, pk=pk)
    try:
        services.device_disable(device=device, actor=request.user)
    except ValidationError as refusal:
        messages.error(request, refusal_text(refusal))
    else:
        messages.success(request, _("Device %(name)s of %(owner)s disabled: what it sends "
                                    "from now on is refused. Reset their password (and their "
                                    "second factor if the authenticator was on it): they may "
                                    "then register a new device at once.")
                         % {"name": device.name, "owner": device.user})
    return redirect("outreach:devices")


@permission_required("patients.merge_patient", raise_exception=True)
def duplicate_list(request):
    duplicates = selectors.possible_duplicates()
    audit_list_read(actor=request.user, summary=gettext_noop("possible duplicates"),
                    patients=[pk for d in duplicates for pk in (d.registered_id, d.existing_id)])
    return render(request, "outreach/duplicate_list.html", {"duplicates": duplicates})
