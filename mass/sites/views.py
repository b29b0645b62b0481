"""The coordinator's pages on the sites: the list, a site's details, its opening hours and its
closures (URLs under /sites/)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mass.models import Site, SiteClosure
from mass.refusals import refusal_on_form, refusal_text
from mass.sites import selectors, services
from mass.sites.forms import OpeningHoursForm, SiteClosureForm, SiteForm


@permission_required("mass.view_site", raise_exception=True)
def site_list(request):
    return render(request, "mass/site_list.html", {"sites": selectors.site_list()})


@permission_required("mass.change_site", raise_exception=True)
def site_edit(request, pk=None):
    site = get_object_or_404(Site, pk=pk) if pk else Site()
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        services.site_save(site=form.save(commit=False), actor=request.user)
        messages.success(request, _("Site saved."))
        return redirect("site_list")
    return render(request, "mass/site_form.html", {"form": form, "site": site})


@require_http_methods(["GET", "POST"])
@permission_required("mass.change_site", raise_exception=True)
def site_hours(request, pk):
    """The weekly opening hours of a site: a weekday left empty is closed."""
    site = get_object_or_404(Site, pk=pk)
    form = OpeningHoursForm(request.POST if request.method == "POST" else None, site=site)
    if request.method == "POST" and form.is_valid():
        services.site_opening_hours_set(site=site, hours=form.cleaned_data["hours"],
                                        actor=request.user)
        messages.success(request, _("Opening hours of %(site)s saved.") % {"site": site})
        return redirect("site_list")
    return render(request, "mass/site_hours.html", {"form": form, "site": site})


@require_http_methods(["GET", "POST"])
@permission_required("mass.change_site", raise_exception=True)
def site_closures(request, pk):
    """A site's one-off closures (the coming ones, and the form to add one)."""
    site = get_object_or_404(Site, pk=pk)
    form = SiteClosureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.site_closure_create(site=site, first_day=data["first_day"],
                                         last_day=data["last_day"], reason=data["reason"],
                                         actor=request.user)
        except ValidationError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("Closure of %(site)s recorded.") % {"site": site})
            return redirect("site_closures", pk=site.pk)
    return render(request, "mass/site_closures.html", {
        "form": form, "site": site, "closures": selectors.site_closures(site=site)})


@require_POST
@permission_required("mass.change_site", raise_exception=True)
def site_closure_delete(request, pk):
    closure = get_object_or_404(SiteClosure.objects.select_related("site"), pk=pk)
    try:
        services.site_closure_delete(closure=closure, actor=request.user)
    except ValidationError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, _("Closure withdrawn."))
    return redirect("site_closures", pk=closure.site_id)
