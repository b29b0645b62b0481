from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dates import MONTHS, MONTHS_3
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods

from mass.refusals import refusal_on_form
from reporting import charts, explain, exports, selectors, services
from reporting.catalogue import FIGURES, INCOME_LABELS, OTHER_FIGURES, SEED_FIGURES
from reporting.forms import ExplainFilterForm, TdiForm
from reporting.labels import discipline_label, route_label, sex_label, site_label
from reporting.models import DeclaredYear, TdiRecord
from reporting.sql import ListingPaginator

#: The MASS opened in 1999; earlier history may have been imported from older systems.
FIRST_YEAR = 1990
EXPLAIN_PAGE_SIZE = 100


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise Http404


def _patient_url(patient_id) -> str | None:
    try:
        return reverse("patients:detail", args=[patient_id])
    except NoReverseMatch:  # the patient file is served by the reception app
        return None


@require_GET
@permission_required("reporting.view_report", raise_exception=True)
def index(request):
    declared = selectors.declared_versions()
    return render(request, "reporting/index.html", {
        "years": [{"year": year, "declared": declared.get(year),
                   "in_progress": year == timezone.localdate().year}
                  for year in selectors.years_with_data()]})


def _version(request) -> int | str | None:
    """``?version=``: empty for the default (a declared year's latest declaration), "current"
    for today's records, or a declaration's number; anything else is a bad request."""
    value = request.GET.get("version", "")
    if value in ("", "current"):
        return value or None
    if value.isdigit() and 0 < int(value) < 10_000:
        return int(value)
    raise ValueError(value)


@require_GET
@permission_required("reporting.view_report", raise_exception=True)
def file_active(request, year: int):
    """The yearly figures. A declared year shows its latest declaration (read from the
    snapshot) and, when today's records give other numbers, the reconciliation;
    ``?version=current`` shows today's records, ``?version=N`` an earlier declaration. The
    exports (``?format=``) follow the same ``version``."""
    from reporting import declaring
    _check_year(year)
    try:
        version = _version(request)
    except ValueError:
        return HttpResponseBadRequest(
            _("Unknown version: use a declaration's number or 'current'."),
            content_type="text/plain")
    if fmt := request.GET.get("format"):
        return _file_active_export(request, year=year, fmt=fmt, version=version)
    try:
        declaration = selectors.declaration_for(year=year, version=version)
    except DeclaredYear.DoesNotExist:
        raise Http404 from None
    # A declared year before is read from its declaration: the contacts of one year only.
    before = selectors.declared_year_figures(year - 1)
    current, computed_before = selectors.file_active_years(year, year_before=before is None)
    before = before or computed_before
    shown = declaring.declared_figures(declaration) if declaration else current.figures
    monthly = selectors.monthly_series(current, before)
    reconciliation = (declaring.reconciliation(declaration, current.figures)
                      if declaration else None)
    if reconciliation is not None:
        _audit_reconciliation(request, year=year, declaration=declaration,
                              reconciliation=reconciliation)
    return render(request, "reporting/file_active.html", {
        "year": year, "current": current, "before": before,
        "before_declared": computed_before is None,
        "declaration": declaration,
        "declared_checks": declaring.describe_checks(declaration.checks) if declaration else [],
        "declarations": declaring.declarations(year),
        "version": version,
        "reconciliation": reconciliation,
        "checks": declaring.describe_checks(
            declaring.year_checks(year, current.figures, current.check_counts)),
        "can_declare": (request.user.has_perm("reporting.add_declaredyear")
                        and year < timezone.localdate().year),
        **_year_links(year),
        "seed_rows": _figure_rows(SEED_FIGURES, shown, before),
        "other_rows": _figure_rows(OTHER_FIGURES, shown, before),
        "income_rows": [{"key": key, "label": label,
                         "value": shown["income_in_treatment"][key],
                         "count": shown.get("income_in_treatment_counts", {}).get(key),
                         "before": before.figures["income_in_treatment"][key]}
                        for key, label in INCOME_LABELS.items()],
        "income_figure": FIGURES["income_in_treatment"],
        "charts": _monthly_charts(year, monthly),
        "monthly": [{**row, "name": MONTHS[row["month"]]} for row in monthly],
        **_breakdown_rows(current.breakdowns),
        "formats": list(exports.FORMATS),
        "computed_at": timezone.now(),
    })


def _file_active_export(request, *, year: int, fmt: str, version):
    """The yearly figures as a file (``?format=``), of the same ``version`` as the page."""
    if fmt not in exports.FORMATS:
        return HttpResponseBadRequest(
            _("Unknown format: use json, csv or xlsx."), content_type="text/plain")
    try:
        content, content_type, filename = services.file_active_export(
            year=year, fmt=fmt, actor=request.user, version=version)
    except DeclaredYear.DoesNotExist:
        raise Http404 from None
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if fmt == "json" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def _audit_reconciliation(request, *, year: int, declaration, reconciliation) -> None:
    """The reconciliation names patients: reading it is audited like an explanation list."""
    services.patient_list_view_record(
        summary=gettext_noop("file active %(year)s: reconciliation with version "
                             "%(version)s"),
        params={"year": year, "version": declaration.version},
        details={"year": year, "version": declaration.version,
                 "records": len(reconciliation.records),
                 # who was shown, as the lists of patients are audited
                 "patients": sorted({int(row["patient_id"]) for row in
                                     [*reconciliation.movements, *reconciliation.records]
                                     if row["patient_id"] is not None})},
        actor=request.user)


def _year_links(year: int) -> dict:
    """The year not over yet: its figures grow until 31 December (issue 14). The links lead
    to the years that have a page (none before FIRST_YEAR, none after this one)."""
    today = timezone.localdate()
    return {"in_progress": year == today.year,
            "today": today,
            "previous_year": year - 1 if year > FIRST_YEAR else None,
            "next_year": year + 1 if year < today.year else None}


def _breakdown_rows(breakdowns: dict) -> dict:
    """The year's contacts and people by discipline, sex, age and site, labelled."""
    sites = [{**row, "label": site_label(row)} for row in breakdowns["sites"]]
    return {"disciplines": [{**row, "label": discipline_label(row["discipline"])}
                            for row in breakdowns["disciplines"]],
            "sexes": [{"label": sex_label(sex), "patients": n}
                      for sex, n in breakdowns["people"]["sex"].items()],
            "ages": _age_rows(breakdowns["people"]["age"]),
            "sites": sites,
            "sites_contacts": sum(row["contacts"] for row in sites)}


@require_http_methods(["GET", "POST"])
@permission_required("reporting.add_declaredyear", raise_exception=True)
def file_active_declare(request, year: int):
    """Declare a finished year: the figures and the consistency checks as they stand, then a
    confirmation (and a reason, when the year was declared before)."""
    from reporting import declaring
    from reporting.forms import DeclareForm
    if not FIRST_YEAR <= year <= 2999:
        raise Http404
    declarations = declaring.declarations(year)
    form = DeclareForm(request.POST if request.method == "POST" else None,
                       again=bool(declarations))
    refused = None
    if year >= timezone.localdate().year:
        # The same words as the service's refusal; the figures of a year not over are shown
        # but no form is.
        refused = _("Only a finished year can be declared: %(year)s is not over.") % {
            "year": year}
    elif request.method == "POST" and form.is_valid():
        try:
            declaration = services.year_declare(year=year, reason=form.cleaned_data["reason"],
                                                actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("%(year)s declared (version %(version)s).") % {
                "year": year, "version": declaration.version})
            return redirect("reporting:file_active", year=year)
    current = selectors.file_active_figures(year)
    return render(request, "reporting/declare.html", {
        "year": year, "form": form, "refused": refused, "declarations": declarations,
        "checks": declaring.describe_checks(
            declaring.year_checks(year, current.figures, current.check_counts)),
        "seed_rows": _figure_rows(SEED_FIGURES, current.figures, None),
    })


def _figure_rows(figures, shown: dict, before) -> list[dict]:
    """``shown``: the figures of the year (declared or today's); ``before``: the year
    before's (YearFigures), or None."""
    return [{"figure": figure, "value": shown[figure.key],
             "before": before.figures[figure.key] if before else None} for figure in figures]


def _age_rows(ages: dict) -> list[dict]:
    from reporting.sql import AGE_GROUPS
    order = [label for label, _low, _high in AGE_GROUPS] + ["unknown"]
    return [{"label": label if label != "unknown" else _("Unknown"), "patients": ages[label]}
            for label in order if label in ages]


def _monthly_charts(year: int, monthly: list[dict]) -> list[dict]:
    categories = [str(MONTHS_3[row["month"]]) for row in monthly]
    specs = [(_("Active patients per month"), "patients"),
             (_("Consultations per month"), "consultations")]
    return [{"title": title, "chart": charts.grouped_bars(categories=categories, series=[
        (str(year - 1), "bar-before", [row[f"{key}_before"] for row in monthly]),
        (str(year), "bar-current", [row[key] for row in monthly]),
    ])} for title, key in specs]


@require_GET
@permission_required("reporting.view_report", raise_exception=True)
def file_active_explain(request, year: int, figure: str):
    _check_year(year)
    form = ExplainFilterForm(request.GET, year=year)
    explanation = explain.explanation(year=year, key=figure, filters=form.filters(),
                                      user=request.user)
    page = ListingPaginator(explanation.rows, EXPLAIN_PAGE_SIZE).get_page(
        request.GET.get("page"))
    services.patient_list_view_record(
        summary=gettext_noop("file active %(year)s: list of %(figure)s (page %(page)s)"),
        params={"year": year, "figure": figure, "page": page.number},
        details={"year": year, "figure": figure, "page": page.number,
                 "filters": explanation.filters_used,
                 # The patients of the page (mass.audit.audit_list_read): "who read this
                 # file" finds the list by them.
                 "patients": sorted({row["patient_id"] for row in page.object_list
                                     if row.get("patient_id")})},
        actor=request.user)
    labels = _choice_labels()
    rows = [_cells(explanation, row, year, labels) for row in page.object_list]
    return render(request, "reporting/explain.html", {
        "year": year, "explanation": explanation, "page": page, "rows": rows, "form": form,
        "income_labels": INCOME_LABELS.items(),
        # An average is not the length of its list: show it (two more queries). A count is.
        "value": selectors.file_active_figures(year).figures[figure]
        if explanation.figure.average else None,
    })


@require_GET
@permission_required("reporting.view_report", raise_exception=True)
def outreach_arrivals(request, year: int):
    """The time from a first outreach contact to a first visit at the centre, for the people
    who came in ``year``: the median and the list behind it."""
    _check_year(year)
    arrivals = selectors.outreach_arrivals(year)
    services.patient_list_view_record(
        summary=gettext_noop("file active %(year)s: from outreach to the centre"),
        params={"year": year},
        details={"year": year, "patients": sorted(row["patient_id"] for row in arrivals.rows)},
        actor=request.user)
    rows = [{**row, "url": _patient_url(row["patient_id"])} for row in arrivals.rows]
    return render(request, "reporting/outreach_arrivals.html",
                  {"year": year, "arrivals": arrivals, "rows": rows})


def _choice_labels() -> dict[str, dict]:
    """Display labels of the coded columns of the explanation lists."""
    from consultations.models import Consultation, GroupSession
    from patients.models import Episode
    return {"form": dict(Consultation.Form.choices), "group": dict(GroupSession.Kind.choices),
            "kind": dict(Episode.Kind.choices), "income": dict(INCOME_LABELS)}


def _material(value: list[str]) -> str:
    """``["syringe:10:5", ...]`` as "Syringes 10/5, ..." (handed out / returned)."""
    from patients.models import HarmReductionContact
    labels = dict(HarmReductionContact.Material.choices)
    return ", ".join(f"{labels.get(m, m)} {out}/{back}"
                     for m, out, back in (item.split(":") for item in value))


def _cells(explanation, row: dict, year: int, labels: dict) -> list[dict]:
    """What the template shows for each column of a row: a value, its kind, maybe a link."""
    cells = []
    for column in explanation.columns:
        value, url, kind = row.get(column.key), None, column.kind
        if kind == "patient":
            if row.get("patient_id"):
                value = f"{row['alias']} ({row['file_number']})"
                url = _patient_url(row["patient_id"])
            else:
                value = _("Anonymous")
        elif kind == "routes":
            value = ", ".join(route_label(route) for route in value)
        elif kind == "discipline":
            value = discipline_label(value)
        elif kind in labels:
            value = labels[kind].get(value, value)
        elif kind == "month":
            value = MONTHS[value]
        elif kind == "material":
            value = _material(value)
        elif kind == "link" and explanation.drill:
            target, name, key = explanation.drill
            drill = row[key].isoformat() if hasattr(row[key], "isoformat") else row[key]
            url = reverse("reporting:file_active_explain", args=[year, target]) + \
                f"?{name}={drill}"
        if kind not in ("date", "time", "number"):
            kind = "number" if kind == "link" else "text"
        cells.append({"value": value, "kind": kind, "url": url})
    return cells


@require_GET
@permission_required("reporting.view_report", raise_exception=True)
def tdi_year(request, year: int):
    """The TDI overview of a year: episodes opened, which questionnaires are missing."""
    _check_year(year)
    episodes = selectors.tdi_year_episodes(year)
    page = Paginator(episodes, 100).get_page(request.GET.get("page"))
    counts = selectors.tdi_year_counts(year)
    services.patient_list_view_record(
        summary=gettext_noop("TDI episodes %(year)s (page %(page)s)"),
        params={"year": year, "page": page.number},
        details={"year": year, "page": page.number,
                 "patients": sorted({e.patient_id for e in page.object_list})},
        actor=request.user)
    return render(request, "reporting/tdi_year.html", {
        "year": year, "page": page, "counts": counts,
        "rows": [{"episode": e, "patient_url": _patient_url(e.patient_id)}
                 for e in page.object_list],
    })


@require_GET
@permission_required("reporting.view_report", raise_exception=True)
def tdi_export(request, year: int):
    _check_year(year)
    try:
        content, filename, _count = services.tdi_file_export(year=year, actor=request.user)
    except ImproperlyConfigured:
        messages.error(request, _("The TDI file cannot be made: the server has no secret for "
                                  "the pseudonymised identifiers (TDI_PSEUDONYM_KEY). Ask the "
                                  "administrator to set it; it must stay the same every year."))
        return redirect("reporting:tdi_year", year=year)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@permission_required("reporting.add_tdirecord", raise_exception=True)
def tdi(request, episode_pk: int):
    """The TDI questionnaire of an episode: filled at its opening, corrected later with a
    reason (a new row; the earlier answers stay)."""
    episode = selectors.tdi_episode_get_for_user(user=request.user, pk=episode_pk)
    current = selectors.tdi_current_record(episode=episode)
    if current is not None:
        initial = {name: getattr(current, name) for name in TdiForm.Meta.fields}
    else:
        # A resumption: treated before, here at least.
        initial = {"ever_treated": 2} if episode.kind == episode.Kind.RESUMPTION else {}
    form = TdiForm(request.POST or None, instance=TdiRecord(episode=episode), episode=episode,
                   current=current, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.tdi_record_save(
                episode=episode,
                data={name: form.cleaned_data[name] for name in TdiForm.Meta.fields},
                based_on_id=_int_or_none(request.POST.get("based_on")),
                correction_reason=form.cleaned_data.get("correction_reason", ""),
                actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("TDI questionnaire saved."))
            return redirect(_patient_url(episode.patient_id)
                            or reverse("reporting:tdi", args=[episode.pk]))
    # Audited where the page is rendered: a form shown again with its errors shows it too.
    services.tdi_view_record(episode=episode, actor=request.user)
    return render(request, "reporting/tdi_form.html", {
        "episode": episode, "patient": episode.patient, "form": form, "current": current,
        "patient_url": _patient_url(episode.patient_id),
    })


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
