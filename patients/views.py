import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import get_template, render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts.selectors import readable_alerts_by_patient
from mass.audit import Action, audit_list_read, audit_read, audit_record, phrase
from mass.contributions import PATIENT_PANELS, SUMMARY_SECTIONS
from mass.corrections import cancellation_page, may_cancel
from mass.forms import AuditPeriodForm
from mass.models import Site
from mass.printing import document_context
from mass.redirects import safe_next
from mass.refusals import refusal_on_form, refusal_text
from mass.selectors import audit_file_reads
from patients import photos, selectors, services
from patients.forms import (
    ArrivalForm,
    EpisodeCloseForm,
    EpisodeOpenForm,
    HarmReductionDayForm,
    HarmReductionForm,
    MergeForm,
    OutreachAttemptForm,
    PatientCreateForm,
    PatientUpdateForm,
    PhotoForm,
    VisitForm,
    WorklistFilterForm,
    WorklistThresholdsForm,
)
from patients.models import OutreachAttempt, Patient
from patients.validators import normalize_niss

# --- patient files --------------------------------------------------------------------------


def render_fragment(request, template_name: str, context: dict) -> HttpResponse:
    """An htmx fragment, rendered without the context processors (navigation, roles) that
    only whole pages use: typing in a search box sends a request per pause."""
    context = {**context, "csrf_token": get_token(request)}
    return HttpResponse(get_template(template_name).render(context))


@permission_required("patients.view_patient", raise_exception=True)
def patient_search(request):
    # PostgreSQL text holds no NUL character: a typed one would be a server error.
    query = request.GET.get("q", "").replace("\x00", "").strip()
    results = selectors.patient_search(q=query) if query else []
    audit_search(request, query, results,
                 where=gettext_noop('patient search: "%(query)s" (%(shown)s files)'))
    context = {"query": query, "results": results[: selectors.SEARCH_LIMIT],
               "more": len(results) > selectors.SEARCH_LIMIT,
               "can_register": request.user.has_perm("patients.add_patient"),
               "show_photos": request.user.has_perm("patients.view_patientphoto")}
    if request.htmx:
        return render_fragment(request, "patients/search.html#results", context)
    return render(request, "patients/search.html", context)


def audit_search(request, query: str, results: list, *, where: str) -> None:
    """A search of patient files is audited (who looked for whom), as typed and with the
    number of files it showed (``where``: the summary's code, naming the page); an empty
    box searches nothing and records nothing."""
    if not query:
        return
    shown = min(len(results), selectors.SEARCH_LIMIT)
    more = "+" if len(results) > selectors.SEARCH_LIMIT else ""
    # The files the results show are named (mass.audit.audit_list_read): "who read this
    # file" finds who looked the person up.
    audit_record(actor=request.user, action=Action.SEARCH,
                 summary=where, params={"query": query[:100], "shown": f"{shown}{more}"},
                 details={"patients": sorted({getattr(row, "pk", row) for row in
                                              results[:selectors.SEARCH_LIMIT]})})


@permission_required("patients.add_patient", raise_exception=True)
def patient_create(request):
    may_log_arrival = request.user.has_perm("patients.add_visit")
    form = PatientCreateForm(
        request.POST or None, initial={"alias": request.GET.get("alias", "")[:100]},
        may_log_arrival=may_log_arrival,
        # Someone new has no habits yet: what most people come for.
        usual_purpose=selectors.usual_purposes().centre if may_log_arrival else "")
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["not_a_duplicate"]:
            duplicates = _likely_duplicates(request, data)
        if not duplicates:
            arrival = data.get("arrival_purpose", "") if data.get("log_arrival") else ""
            try:
                patient, visit = services.patient_register(
                    file_number=data["file_number"], arrival_purpose=arrival,
                    site=_current_site(request) if arrival else None, actor=request.user,
                    **{name: data[name] for name in services.IDENTITY_FIELDS})
            except ValidationError as error:
                refusal_on_form(form, error)
            else:
                return _registered(request, patient, visit)
    elif request.method == "POST":
        duplicates = _files_with_the_typed_niss(request)
    if not duplicates:
        form.without_duplicate_check()
    return render(request, "patients/patient_form.html",
                  {"form": form, "duplicates": duplicates, "creating": True})


def _likely_duplicates(request, data: dict) -> list:
    """The files that may be the same person as the one about to be registered; other
    people's files shown are a search, audited as one."""
    duplicates = selectors.patient_duplicates(
        alias=data["alias"], last_name=data["last_name"], first_name=data["first_name"],
        birth_date=data["birth_date"], birth_year=data["birth_year"], niss=data["niss"])
    if duplicates:
        audit_record(actor=request.user, action=Action.SEARCH,
                     summary=gettext_noop("registration: %(count)s likely duplicates shown"),
                     params={"count": len(duplicates)},
                     details={"patients": sorted(d.patient.pk for d in duplicates)})
    return duplicates


def _files_with_the_typed_niss(request) -> list:
    """A NISS of another file is refused by the form: show which file, as for any likely
    duplicate (audited as a search); none when the NISS is no other file's."""
    niss = normalize_niss(request.POST.get("niss", ""))
    if not niss or not Patient.objects.filter(niss=niss).exists():
        return []
    duplicates = selectors.patient_duplicates(alias=request.POST.get("alias", "")[:100],
                                              niss=niss)
    audit_record(actor=request.user, action=Action.SEARCH,
                 summary=gettext_noop("registration: %(count)s files with this NISS shown"),
                 params={"count": len(duplicates)},
                 details={"patients": sorted(d.patient.pk for d in duplicates)})
    return duplicates


def _registered(request, patient, visit):
    """After registering: the new file, or back to the desk when the arrival was logged
    with it (the arrival shows there)."""
    if visit is None:
        messages.success(request, _("File %(file)s registered.") % {"file": patient.file_number})
        return redirect(patient)
    messages.success(request, _("File %(file)s registered; %(alias)s arrived: %(purpose)s.")
                     % {"file": patient.file_number, "alias": patient.alias,
                        "purpose": visit.get_purpose_display()})
    return redirect("reception:board")


def patient_detail(request, pk):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    audit_record(actor=request.user, action=Action.VIEW, patient=patient, obj=patient,
                 summary=gettext_noop("patient file %(file)s"),
                 params={"file": patient.file_number})
    if patient.status == Patient.Status.MERGED:
        merge = selectors.patient_merge_record(patient=patient)
        return render(request, "patients/merged_stub.html", {
            "patient": patient, "merge": merge,
            "moved": selectors.records_in_words(merge.moved) if merge else [],
            "left": selectors.records_in_words(merge.left or {}) if merge else [],
            "recorded": selectors.records_in_words(merge.recorded or {}) if merge else []})
    panels = [(panel, render_to_string(panel.template, {"patient": patient, **panel_context},
                                       request=request))
              for panel, panel_context in PATIENT_PANELS.shown(request, patient)]
    context = {"patient": patient, **selectors.patient_file(patient=patient),
               "panels": panels,
               "episode_form": EpisodeOpenForm(initial={"opened_on": timezone.localdate()}),
               "purposes": ArrivalForm.base_fields["purpose"].choices,
               # a coordinator may cancel any walk-in, the others those they logged
               "is_coordinator": may_cancel(request.user, author_id=None)}
    return render(request, "patients/patient_detail.html", context)


@require_GET
def patient_summary(request, pk):
    """The printed summary of a file: what this reader may see of it, in the patient's
    language (a psychologist's summary has no dispensing record, as their file has none)."""
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    if patient.is_merged:
        raise Http404  # a merged stub has no records of its own: print the kept file
    context = document_context(kind="summary", patient=patient, actor=request.user,
                               back_url=patient.get_absolute_url(),
                               title=_("Summary of %(alias)s") % {"alias": patient.alias})
    # Rendered in the document's language, like the page's own part of the document.
    with translation.override(context["document_language"]):
        sections = [(section, render_to_string(section.template,
                                               {"patient": patient, **section_context},
                                               request=request))
                    for section, section_context in SUMMARY_SECTIONS.shown(request, patient)]
    # The trail says which parts of the file went onto paper: the sections this reader's
    # rules let through, by key (never their content).
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s summary printed"),
               params={"file": patient.file_number},
               details={"sections": [section.key for section, _html in sections]})
    return render(request, "patients/patient_summary.html", {
        "patient": patient, "sections": sections,
        **selectors.patient_summary(patient=patient), **context})


@require_GET
@permission_required("mass.view_auditevent", raise_exception=True)
def file_reads_print(request, pk):
    """The answer to a patient who asked who read their file (patient-rights law, art. 9 and
    10), printed by the coordinator, who keeps the audit trail; in the patient's language.
    It names who, their role, when and what kind of record, never a record's content. The
    period defaults to the last twelve months."""
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    today = timezone.localdate()
    form = AuditPeriodForm(request.GET or {"since": today - datetime.timedelta(days=365),
                                           "until": today})
    context = {"patient": patient, "form": form,
               **document_context(kind="file_reads", patient=patient, actor=request.user,
                                  back_url=f"{reverse('audit_list')}?patient={patient.pk}",
                                  title=_("Who read the file of %(alias)s")
                                  % {"alias": patient.alias})}
    if not form.is_valid():
        # Nothing printed, so nothing read: the page asks for the period again.
        return render(request, "patients/file_reads_print.html", context, status=400)
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("who read file %(file)s printed (%(since)s to %(until)s)"),
               params={"file": patient.file_number, "since": since.isoformat(),
                       "until": until.isoformat()})
    return render(request, "patients/file_reads_print.html", {
        **context, "since": since, "until": until,
        "reads": audit_file_reads(patient=patient, since=since, until=until)})


def _patient_for_change(request, pk, permission):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    if not request.user.has_perm(permission):
        raise Http404
    return patient


def _refuse_merged(request, patient):
    """A merged stub takes no new records: say where they go instead."""
    try:
        services.patient_check_open(patient)
    except ValidationError as error:
        messages.error(request, refusal_text(error))
        return redirect(patient)
    return None


def patient_update(request, pk):
    patient = _patient_for_change(request, pk, "patients.change_patient")
    if refused := _refuse_merged(request, patient):
        return refused
    form = PatientUpdateForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient = Patient.objects.get(pk=pk)  # the form changed the instance already
        try:
            services.patient_update(patient=patient, actor=request.user, status=data["status"],
                                    **{name: data[name] for name in services.IDENTITY_FIELDS})
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("File saved."))
            return redirect(patient)
    # Audited where the page is rendered: a form shown again with its errors shows the file too.
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (edit form)"),
               params={"file": patient.file_number})
    return render(request, "patients/patient_form.html", {"form": form, "patient": patient})


def patient_merge(request, pk):
    kept = _patient_for_change(request, pk, "patients.merge_patient")
    if refused := _refuse_merged(request, kept):
        return refused
    form = MergeForm(request.POST or None, kept=kept)
    preview = None
    if request.method == "POST" and form.is_valid():
        other = form.cleaned_data["other"]
        if form.cleaned_data["confirm"]:
            try:
                record = services.patient_merge(kept=kept, merged=other,
                                                reason=form.cleaned_data["reason"],
                                                actor=request.user)
            except ValidationError as error:
                refusal_on_form(form, error)
            else:
                messages.success(request, _("File %(merged)s merged into this file.")
                                 % {"merged": record.merged.file_number})
                return redirect(kept)
        else:
            preview = {"other": other,
                       "records": selectors.records_in_words(
                           services.patient_merge_preview(kept=kept, merged=other)),
                       "joins": selectors.merge_episodes(kept=kept, merged=other).joins}
            for patient in (kept, other):
                audit_read(actor=request.user, obj=patient,
                           summary=gettext_noop("patient file %(file)s (merge preview "
                                                "%(kept)s <- %(merged)s)"),
                           params={"file": patient.file_number, "kept": kept.file_number,
                                   "merged": other.file_number})
            form = MergeForm(initial={**form.cleaned_data, "other": other.file_number,
                                      "confirm": True}, kept=kept)
    if preview is None:
        audit_read(actor=request.user, obj=kept,
                   summary=gettext_noop("patient file %(file)s (merge form)"),
                   params={"file": kept.file_number})
    return render(request, "patients/merge.html",
                  {"form": form, "patient": kept, "preview": preview})


# --- walk-ins -------------------------------------------------------------------------------

def visit_create(request, pk):
    patient = _patient_for_change(request, pk, "patients.add_visit")
    if refused := _refuse_merged(request, patient):
        return refused
    form = VisitForm(request.POST or None, initial={} if request.method == "POST" else {
        "date": timezone.localdate(), "site": _current_site(request),
        # What the person usually comes for, not "Other".
        "purpose": selectors.usual_purposes(patient_ids=[patient.pk]).of(patient.pk)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.visit_log(patient=patient, purpose=data["purpose"], site=data["site"],
                               date=data["date"], time=data["time"], note=data["note"],
                               actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Walk-in recorded."))
            return redirect(patient)
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (walk-in form)"),
               params={"file": patient.file_number})
    return render(request, "patients/visit_form.html", {"form": form, "patient": patient})


@require_http_methods(["GET", "POST"])
def visit_cancel(request, pk):
    """Cancel a walk-in logged by mistake (mass.corrections: its author or a coordinator)."""
    visit = selectors.visit_get_for_user(user=request.user, pk=pk)
    return cancellation_page(
        request, record=visit,
        read=lambda: audit_read(actor=request.user, obj=visit.patient,
                                summary=gettext_noop("patient file %(file)s (walk-in %(visit)s "
                                                     "cancel form)"),
                                params={"file": visit.patient.file_number, "visit": visit.pk}),
        author_id=visit.logged_by_id, patient=visit.patient,
        back=visit.patient.get_absolute_url(), title=_("Cancel a walk-in"),
        entry=[(_("Date"), visit.date), (_("Time"), visit.time or "—"),
               (_("For"), visit.get_purpose_display()), (_("Site"), visit.site or "—"),
               (_("Logged by"), visit.logged_by or "—")],
        cancel=lambda reason: services.visit_cancel(visit=visit, reason=reason,
                                                    actor=request.user),
        done=_("The walk-in is cancelled: it no longer counts."))


# --- treatment episodes ---------------------------------------------------------------------

def tdi_url_or_file(episode) -> str:
    """After a treatment request: the TDI questionnaire of the episode when the reporting
    app provides it, else the patient file."""
    try:
        return reverse("reporting:tdi", args=[episode.pk])
    except NoReverseMatch:
        return episode.patient.get_absolute_url()


@require_POST
def episode_open(request, pk):
    patient = _patient_for_change(request, pk, "patients.add_episode")
    form = EpisodeOpenForm(request.POST)
    if form.is_valid():
        try:
            episode, closed = services.episode_open(
                patient=patient, opened_on=form.cleaned_data["opened_on"], actor=request.user)
        except ValidationError as error:
            messages.error(request, refusal_text(error))
        else:
            if closed is not None:
                messages.info(request, _("The previous episode was closed as of %(date)s: no "
                                         "contact for 6 months or more.")
                              % {"date": closed.closed_on.strftime("%d/%m/%Y")})
            messages.success(request, _("Episode opened: %(kind)s.")
                             % {"kind": episode.get_kind_display()})
            return redirect(tdi_url_or_file(episode))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(patient)


def episode_close(request, pk):
    episode = selectors.episode_get_for_user(user=request.user, pk=pk)
    if not request.user.has_perm("patients.change_episode"):
        raise Http404
    patient = episode.patient
    if refused := _refuse_merged(request, patient):
        return refused
    form = EpisodeCloseForm(request.POST or None, episode=episode,
                            initial={"closed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.episode_close(episode=episode, closed_on=data["closed_on"],
                                   reason=data["closure_reason"], note=data["closure_note"],
                                   actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Episode closed."))
            return redirect(patient)
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("episode %(episode)s of %(file)s (closing form)"),
               params={"episode": episode.pk, "file": patient.file_number})
    return render(request, "patients/episode_close.html",
                  {"form": form, "episode": episode, "patient": patient})


# --- the reception board --------------------------------------------------------------------

SITE_SESSION_KEY = "reception_site"


def _current_site(request) -> Site | None:
    """The site this desk works at: chosen on the board, remembered in the session, by
    default the centre itself."""
    sites = {site.pk: site for site in selectors.reception_sites()}
    chosen = request.session.get(SITE_SESSION_KEY)
    if chosen in sites:
        return sites[chosen]
    return next((s for s in sites.values() if s.kind == Site.Kind.CENTRE), None)


def _board_context(request, site, *, board=None):
    board = board if board is not None else selectors.board_today(day=timezone.localdate())
    # Who came today, by name: one list event naming them (mass.audit.audit_list_read).
    audit_list_read(actor=request.user, summary=gettext_noop("reception board"),
                    patients=[visit.patient_id for visit in board["visits"]])
    return {"site": site, "sites": board["sites"], "today": timezone.localdate(),
            "board": board, "purposes": ArrivalForm.base_fields["purpose"].choices,
            # The alerts the desk reads (behaviour, safety) of who came: one query.
            "alerts": readable_alerts_by_patient(
                user=request.user, patient_ids={visit.patient_id for visit in board["visits"]}),
            # quick entry of a consultation with a person who came today
            "can_consult": request.user.has_perm("consultations.add_consultation"),
            "show_photos": request.user.has_perm("patients.view_patientphoto")}


RETURNED_SESSION_KEY = "reception_returned"


def _returned(patient) -> dict:
    """The person just logged at the desk, and their lapse if their last episode has ended
    (the board offers a resumption; nothing opens by itself). Only for that one person, so
    the board's own queries stay as they are."""
    return {"patient": patient, "lapse": selectors.patient_return_lapse(patient=patient)}


def _may_see_board(user) -> bool:
    # The desk is reception's (mass.navigation): registering people is what marks it.
    # Clinicians see who came today, to open a consultation from the board in one click;
    # logging arrivals and material stays reception's.
    return user.has_perm("patients.add_patient") or user.has_perm(
        "consultations.add_consultation")


def board(request):
    if not _may_see_board(request.user):
        raise PermissionDenied
    board = selectors.board_today(day=timezone.localdate())
    by_pk = {s.pk: s for s in board["sites"]}
    if request.GET.get("site", "").isdigit() and int(request.GET["site"]) in by_pk:
        request.session[SITE_SESSION_KEY] = int(request.GET["site"])
    context = _desk_page(request, board=board)
    returned = request.session.pop(RETURNED_SESSION_KEY, None)
    if returned is not None:
        patient = Patient.objects.filter(pk=returned).first()
        if patient is not None:
            context.update(_returned(patient))
    return render(request, "patients/board.html", context)


def _desk_page(request, *, board=None, hr_form=None) -> dict:
    """The whole desk page: the board, the search box (for those at the desk) and the
    harm-reduction form (``hr_form`` when redisplayed with its errors). Every page that
    shows the desk again after a form uses it, so the page never comes back without a part."""
    board = board if board is not None else selectors.board_today(day=timezone.localdate())
    by_pk = {s.pk: s for s in board["sites"]}
    site = by_pk.get(request.session.get(SITE_SESSION_KEY)) or next(
        (s for s in board["sites"] if s.kind == Site.Kind.CENTRE), None)
    context = _board_context(request, site, board=board)
    context["at_desk"] = request.user.has_perm("patients.add_patient")
    context["hr_form"] = hr_form or HarmReductionForm(initial={"site": site.pk if site else None})
    return context


@permission_required("patients.add_patient", raise_exception=True)
def board_search(request):
    # PostgreSQL text holds no NUL character: a typed one would be a server error.
    query = request.GET.get("q", "").replace("\x00", "").strip()
    results = selectors.patient_search(q=query) if query else []
    audit_search(request, query, results,
                 where=gettext_noop('reception search: "%(query)s" (%(shown)s files)'))
    shown = results[: selectors.SEARCH_LIMIT]
    # One query for all the rows: whose episode has ended, whose questionnaire is due.
    episodes = (selectors.patients_desk_episodes(patient_ids=[p.pk for p in shown])
                if shown else {})
    return render_fragment(request, "patients/board.html#arrival_results", {
        "query": query, "results": shown, "episodes": episodes,
        "alerts": readable_alerts_by_patient(user=request.user,
                                             patient_ids={p.pk for p in shown}),
        "more": len(results) > selectors.SEARCH_LIMIT,
        "can_register": request.user.has_perm("patients.add_patient"),
        "show_photos": request.user.has_perm("patients.view_patientphoto"),
        # What each person usually comes for (Enter logs it): one query for all the rows.
        "usual": selectors.usual_purposes(patient_ids=[p.pk for p in shown]) if shown else None,
        "purposes": ArrivalForm.base_fields["purpose"].choices})


@require_POST
@permission_required("patients.add_visit", raise_exception=True)
def arrival_log(request):
    """One click (or a digit key) on a search result: the person arrived, for this purpose.
    With htmx the answer is the updated list of today; without, a redirect to the board."""
    form = ArrivalForm(request.POST)
    level, notice = "danger", _("This arrival could not be logged: choose a person and a "
                                "purpose.")
    if form.is_valid():
        data = form.cleaned_data
        try:
            visit, created = services.visit_log(patient=data["patient"],
                                                purpose=data["purpose"],
                                                site=data["site"] or _current_site(request),
                                                actor=request.user)
        except ValidationError as error:
            notice = refusal_text(error)
        else:
            level, notice = ("success", _("%(alias)s arrived: %(purpose)s.")) if created else (
                "info", _("%(alias)s was logged a moment ago already."))
            notice = notice % {"alias": visit.patient.alias,
                               "purpose": visit.get_purpose_display()}
    if request.htmx:
        context = _board_context(request, _current_site(request))
        context["notice"] = {"level": level, "text": notice}
        if level != "danger":
            context.update(_returned(visit.patient))
        return render(request, "patients/board.html#today", context)
    if level != "danger":
        # The board shows, once, whether the person just logged comes back after a lapse.
        request.session[RETURNED_SESSION_KEY] = visit.patient.pk
    messages.add_message(request, messages.SUCCESS if level == "success" else
                         messages.INFO if level == "info" else messages.ERROR, notice)
    return redirect("reception:board")


@require_POST
@permission_required("patients.add_harmreductioncontact", raise_exception=True)
def harm_reduction_log(request):
    form = HarmReductionForm(request.POST)
    if form.is_valid():
        try:
            services.harm_reduction_log(site=form.cleaned_data["site"],
                                        date=timezone.localdate(),
                                        quantities=form.cleaned_data["quantities"],
                                        actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Harm-reduction material recorded."))
            return redirect("reception:board")
    # The whole desk again (with htmx too: the form is not a fragment), its errors in place.
    return render(request, "patients/board.html", _desk_page(request, hr_form=form))


@require_GET
@permission_required("patients.view_harmreductioncontact", raise_exception=True)
def harm_reduction_today(request):
    """A day's harm-reduction entries one by one (today's, or ``?day=``), so that one
    recorded by mistake can be cancelled (the board shows only the day's totals)."""
    today = timezone.localdate()
    form = HarmReductionDayForm(request.GET if "day" in request.GET else None,
                                initial={"day": today})
    day = form.cleaned_data["day"] if form.is_bound and form.is_valid() else today
    contacts = list(selectors.harm_reduction_of_day(day=day))
    named = [contact.patient_id for contact in contacts if contact.patient_id]
    if named:
        audit_list_read(actor=request.user,
                        summary=gettext_noop("harm-reduction entries of %(day)s"),
                        params={"day": day.isoformat()}, patients=named)
    for contact in contacts:
        contact.may_cancel = may_cancel(request.user, author_id=contact.logged_by_id)
    return render(request, "patients/harm_reduction_today.html",
                  {"contacts": contacts, "day": day, "form": form,
                   "back": request.get_full_path()})


@require_http_methods(["GET", "POST"])
def harm_reduction_cancel(request, pk):
    """Cancel a harm-reduction entry recorded by mistake (its author or a coordinator)."""
    contact = selectors.harm_reduction_contact_get_for_user(user=request.user, pk=pk)

    def read():
        if contact.patient_id:  # an anonymous entry is nobody's file
            audit_read(actor=request.user, obj=contact,
                       summary=gettext_noop("harm-reduction entry %(contact)s (cancel form)"),
                       params={"contact": contact.pk})

    return cancellation_page(
        request, record=contact, read=read, author_id=contact.logged_by_id, patient=contact.patient,
        back=reverse("reception:harm_reduction_today"),
        title=_("Cancel a harm-reduction entry"),
        entry=[(_("Date"), contact.date), (_("Site"), contact.site or "—"),
               (_("Person"), contact.patient.alias if contact.patient else _("Anonymous")),
               (_("Material"), contact.get_material_display()),
               (_("Handed out"), contact.handed_out), (_("Returned"), contact.returned),
               (_("Logged by"), contact.logged_by or "—")],
        cancel=lambda reason: services.harm_reduction_cancel(contact=contact, reason=reason,
                                                             actor=request.user),
        done=_("The harm-reduction entry is cancelled: it no longer counts."))


# --- identification photos ---------------------------------------------------------------------


@require_GET
def patient_photo(request, pk):
    """The photo (``?size=thumb``: the lists' thumbnail) of a file, to staff who may see it;
    every photo served is a read of the file, audited. Never cached: not in the browser, not
    in a proxy (a shared desk computer keeps nothing)."""
    photo = selectors.patient_photo_for_user(user=request.user, pk=pk)
    size = "thumb" if request.GET.get("size") == "thumb" else "photo"
    try:
        data = photos.photo_read(photo.token, size)
    except FileNotFoundError:
        raise Http404 from None
    audit_read(actor=request.user, obj=photo,
               summary=gettext_noop("identification photo of %(file)s (%(size)s)"),
               params={"file": photo.patient.file_number, "size": size})
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = "inline"
    return response


@require_http_methods(["GET", "POST"])
def patient_photo_take(request, pk):
    """Take (or replace) the person's photo at the desk or the counter, with their consent."""
    patient = _patient_for_change(request, pk, "patients.add_patientphoto")
    if refused := _refuse_merged(request, patient):
        return refused
    next_url = safe_next(request, patient.get_absolute_url())
    consent = selectors.photo_consent(patient=patient)
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.patient_photo_store(patient=patient, upload=data["photo"],
                                         source=data["source"],
                                         consent_given=data["consent"], actor=request.user)
        except ValidationError as error:
            # The refusal's code names the field it is about (the photo, the consent).
            refusal_on_form(form, error, field=error.code if error.code in form.fields else None)
        else:
            messages.success(request, _("Photo saved for %(alias)s.") % {"alias": patient.alias})
            return redirect(next_url)
    audit_read(actor=request.user, obj=patient,
               summary=gettext_noop("patient file %(file)s (photo form)"),
               params={"file": patient.file_number})
    return render(request, "patients/photo_form.html", {
        "form": form, "patient": patient, "photo": selectors.patient_photo_of(patient),
        "next": next_url, "consents": selectors.photo_consents(patient=patient),
        "consent_given": consent is not None and consent.decision == "given"})


@require_POST
def patient_photo_withdraw(request, pk):
    """The person withdraws consent: their photo is erased."""
    patient = _patient_for_change(request, pk, "patients.delete_patientphoto")
    try:
        services.patient_photo_consent_withdraw(patient=patient, actor=request.user)
    except ValidationError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("Consent withdrawn: the photo of %(alias)s is erased.")
                         % {"alias": patient.alias})
    return redirect(safe_next(request, patient.get_absolute_url()))


# --- who have we lost -------------------------------------------------------------------------

@permission_required("patients.view_outreachattempt", raise_exception=True)
def lost(request):
    """People in treatment not seen for a while. A list of several people's files: audited
    as a search (who looked, with which filters, which files it showed)."""
    sight = selectors.worklist_sight(request.user)
    form = WorklistFilterForm(request.GET or None, teams=sight.teams)
    if form.is_bound:
        form.is_valid()  # a bad filter is said on the page and left out; the others apply
    filters = getattr(form, "cleaned_data", {})
    thresholds = selectors.worklist_thresholds()
    site = filters.get("site")
    rows = selectors.worklist(thresholds=thresholds, sight=sight, days=filters.get("days"),
                              team=filters.get("team") or None,
                              site_id=site.pk if site else None)
    shown, more = rows[: selectors.WORKLIST_ROWS], len(rows) > selectors.WORKLIST_ROWS
    audit_record(actor=request.user, action=Action.SEARCH,
                 summary=gettext_noop("who have we lost: %(shown)s files (%(team)s, %(site)s, "
                                      "%(days)s)"),
                 params={"shown": f"{len(shown)}{'+' if more else ''}",
                         "team": (phrase(gettext_noop("team %(team)s"), team=filters["team"])
                                  if filters.get("team") else phrase(gettext_noop("all teams"))),
                         "site": (phrase(gettext_noop("site %(site)s"), site=site.pk)
                                  if site else phrase(gettext_noop("all sites"))),
                         "days": (phrase(gettext_noop("days %(days)s"), days=filters["days"])
                                  if filters.get("days")
                                  else phrase(gettext_noop("days of the thresholds")))},
                 details={"patients": [row.patient_id for row in shown]})
    return render(request, "patients/lost.html", {
        "form": form, "filters": filters, "rows": shown, "more": more,
        "thresholds": thresholds, "days": filters.get("days"), "sight": sight,
        "next": request.get_full_path(), "recorded": False, "error": None,
        **_attempt_choices(request)})


def _attempt_choices(request) -> dict:
    """What the one-click attempt form of each row offers (the sites read once, not per
    row); nothing for those who may not record one."""
    if not request.user.has_perm("patients.add_outreachattempt"):
        return {"attempt_form": False, "sites": selectors.reception_sites()}
    return {"attempt_form": True, "sites": selectors.reception_sites(),
            "means_choices": OutreachAttempt.Means.choices,
            "result_choices": OutreachAttempt.Result.choices}


@require_POST
def outreach_attempt_create(request, pk):
    """The one-click "outreach attempt" of the worklist (or the patient file). With htmx the
    answer is the person's row of the worklist, else a redirect to where it was made."""
    patient = _patient_for_change(request, pk, "patients.add_outreachattempt")
    form = OutreachAttemptForm(request.POST)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.outreach_attempt_record(patient=patient, means=data["means"],
                                             result=data["result"], site=data["where"],
                                             actor=request.user)
        except ValidationError as refused:
            error = refusal_text(refused)
    else:
        error = _("This attempt could not be recorded: choose how and the result.")
    if request.htmx:
        sight = selectors.worklist_sight(request.user)
        rows = selectors.worklist(thresholds=selectors.worklist_thresholds(), sight=sight,
                                  patient_id=patient.pk)
        # The person's row again (an attempt is not a contact: they stay on the list), or a
        # line saying so when something else took them off it meanwhile.
        return render(request, "patients/lost.html#row" if rows else "patients/lost.html#gone", {
            "row": rows[0] if rows else None, "patient": patient, "error": error, "sight": sight,
            "recorded": error is None, "next": safe_next(request, reverse("patients:lost")),
            **_attempt_choices(request)})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Outreach attempt recorded for %(alias)s.")
                         % {"alias": patient.alias})
    return redirect(safe_next(request, reverse("patients:lost")))


@permission_required("patients.change_worklistthresholds", raise_exception=True)
def lost_settings(request):
    thresholds = selectors.worklist_thresholds()
    form = WorklistThresholdsForm(request.POST or None, initial={
        "substitution_days": thresholds.substitution_days,
        "other_days": thresholds.other_days})
    if request.method == "POST" and form.is_valid():
        try:
            services.worklist_thresholds_set(**form.cleaned_data, actor=request.user)
        except ValidationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, _("Thresholds saved."))
            return redirect("patients:lost")
    return render(request, "patients/lost_settings.html",
                  {"form": form, "thresholds": thresholds})
