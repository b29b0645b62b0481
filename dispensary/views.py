import datetime
from urllib.parse import parse_qs, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts.rules import readable_kinds
from dispensary import selectors, services
from dispensary.forms import (
    CancelForm,
    ClosedDayPlanForm,
    CorrectionForm,
    CountForm,
    DispenseForm,
    HoldReviewForm,
    InductionRuleForm,
    PaperRecordForm,
    PharmacyForm,
    PrescriptionEndForm,
    PrescriptionForm,
    ProductForm,
    ReceiptForm,
)
from dispensary.models import (
    ClosedDayPlan,
    Dispensation,
    InductionRule,
    Pharmacy,
    Product,
    RegisterEntry,
)
from dispensary.panels import patient_context
from mass.audit import Action, audit_list_read, audit_read, audit_record
from mass.printing import centre_header, document_context
from mass.redirects import safe_next
from mass.refusals import refusal_on_form, refusal_text
from patients.selectors import patient_return_lapse


def _today():
    return timezone.localdate()


# --- dispensing -----------------------------------------------------------------------------


@require_GET
@permission_required("dispensary.add_dispensation", raise_exception=True)
def today(request):
    query = _list_query(request.GET.get("q", ""))
    today = _today()
    # Loaded once for the page: the rows' closed-day take-home doses and the notice above.
    calendar = selectors.dispensary_calendar(today=today)
    states = selectors.dispensing_list(today=today, query=query, calendar=calendar)
    # The list (searched or not) shows each patient's dose: one list event naming them.
    audit_list_read(actor=request.user, patients=[state.patient for state in states],
                    summary=(gettext_noop('dispensing list %(day)s (search: "%(query)s")')
                             if query else gettext_noop("dispensing list %(day)s")),
                    params={"day": f"{today:%Y-%m-%d}", "query": query})
    return render(request, "dispensary/today.html", {
        "states": states, "query": query, "counts": selectors.desk_counts(states),
        "today": today, "closed_days": selectors.closed_days_notice(calendar, today=today),
        "closed_day_flags": sum(1 for state in states if state.closed_days_to_plan),
    })


def _list_query(text: str) -> str:
    # PostgreSQL text holds no NUL character: a typed one would be a server error.
    return text.replace("\x00", "").strip()[:100]


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.add_dispensation", raise_exception=True)
def dispense(request, pk):
    """Record a dose part: the one-click "give" of the list and patient file posts here; a
    GET shows the full form (withhold, another quantity)."""
    prescription = selectors.prescription_get_for_user(user=request.user, pk=pk)
    today = _today()
    default_next = reverse("dispensary:today")
    next_url = safe_next(request, default_next)
    form = DispenseForm(request.POST or None, prescription=prescription,
                        initial={"part": request.GET.get("part") or prescription.parts()[0],
                                 "action": request.GET.get("action") or DispenseForm.GIVE})
    error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entries = services.dispensation_record(
                prescription=prescription, part=data["part"],
                intoxication_signs=data["intoxication"] == DispenseForm.SIGNS,
                observations=data["observations"], quantity=data["quantity"],
                withhold=data["action"] == DispenseForm.WITHHOLD,
                withheld_reason=data["withheld_reason"],
                hand_take_home=data["hand_take_home"], reassessed=data["reassessed"],
                actor=request.user, today=today)
        except ValidationError as exc:
            error = refusal_text(exc)
            refusal_on_form(form, exc)
        else:
            message = _dispensed_message(entries)
            if request.htmx:
                return _row(request, prescription, message=message, level="success")
            messages.success(request, message)
            return redirect(next_url)
    elif request.method == "POST":
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if request.method == "POST" and request.htmx:
        # The row shown again with the refusal: a read of the patient's dose, as the form.
        audit_record(actor=request.user, action=Action.VIEW, patient=prescription.patient,
                     obj=prescription, summary=gettext_noop("dispensing list row"))
        return _row(request, prescription, message=error, level="danger")
    state = selectors.dose_state_for(prescription=prescription, today=today)
    # Audited where the page is rendered: a form shown again with its errors shows it too.
    audit_record(actor=request.user, action=Action.VIEW, patient=prescription.patient,
                 obj=prescription, summary=gettext_noop("dispensing form"))
    return render(request, "dispensary/dispense.html", {
        "form": form, "prescription": prescription, "state": state, "next": next_url,
        "patient": prescription.patient,
    })


def _dispensed_message(entries: list[Dispensation]) -> str:
    first = entries[0]
    unit = first.product.unit
    if first.status == Dispensation.Status.WITHHELD:
        return _("%(alias)s: dose withheld (%(reason)s).") % {
            "alias": first.patient.alias, "reason": first.get_withheld_reason_display()}
    message = _("%(alias)s: %(quantity)s %(unit)s %(product)s given.") % {
        "alias": first.patient.alias, "quantity": f"{first.quantity.normalize():f}",
        "unit": unit, "product": first.product}
    take_home = entries[1:]
    if take_home:
        message += " " + _("Take-home doses handed for: %(days)s.") % {
            "days": ", ".join(sorted({e.dose_date.strftime("%d/%m") for e in take_home}))}
    return message


def _row(request, prescription, *, message=None, level="info"):
    """The row of the list an htmx action replaces, and the counts at the top of the list
    (swapped out of band), both from one read of the list the click came from (searched or
    not): the same queries as the row alone."""
    today = _today()
    query = ""
    if request.htmx.current_url:
        query = _list_query(parse_qs(urlsplit(request.htmx.current_url).query)
                            .get("q", [""])[0])
    states = selectors.dose_states(today=today, query=query)
    rows = [state for state in states if state.prescription.pk == prescription.pk]
    if not rows:  # replaced today (a page loaded before): the row of the one in force
        rows = [state for state in states
                if state.prescription.patient_id == prescription.patient_id
                and state.prescription.product.substance == prescription.product.substance]
    if not rows and query:  # the search no longer finds it (renamed meanwhile): the row alone
        state = selectors.dose_state_for(prescription=prescription, today=today)
        rows = [state] if state else []
    return render(request, "dispensary/today.html#row", {
        "rows": rows, "row_message": message, "row_level": level,
        "counts": selectors.desk_counts(states), "counts_out_of_band": True})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.add_dispensationcancellation", raise_exception=True)
def cancel(request, pk):
    entry = selectors.dispensation_get_for_user(user=request.user, pk=pk)
    next_url = safe_next(request, reverse("dispensary:patient", args=[entry.patient_id]))
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dispensation_cancel(dispensation=entry, reason=form.cleaned_data["reason"],
                                         actor=request.user)
        except ValidationError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("The entry is cancelled; the dose of that day may be "
                                        "recorded again."))
            return redirect(next_url)
    audit_read(actor=request.user, obj=entry,
               summary=gettext_noop("dispensation %(dispensation)s (cancel form)"),
               params={"dispensation": entry.pk})
    return render(request, "dispensary/cancel.html", {"form": form, "entry": entry,
                                                      "next": next_url})


# --- downtime: the paper sheet and what was given on it ---------------------------------------


@require_GET
@permission_required("dispensary.view_prescription", raise_exception=True)
def downtime_sheet(request):
    """Today's and tomorrow's doses on paper, printed before the network fails (or while it
    still works) so that the desk can go on without it."""
    today = _today()
    days = selectors.downtime_sheet(today=today, alert_kinds=readable_kinds(request.user))
    patients = sorted({row.patient.pk for sheet_day in days for row in sheet_day.rows})
    # One row for the whole sheet: every patient on it is named in its details, so that
    # "who read this file" can find the sheet.
    audit_record(actor=request.user, action=Action.EXPORT,
                 summary=gettext_noop("downtime sheet %(day)s: %(count)s patients"),
                 params={"day": f"{today:%Y-%m-%d}", "count": len(patients)},
                 details={"patients": patients})
    return render(request, "dispensary/downtime_sheet.html", {
        "days": days, "today": today, "printed_at": timezone.localtime()})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.add_dispensation", raise_exception=True)
def paper_record(request, patient_pk):
    """Record a dose given (or withheld) on paper during a network failure."""
    person = selectors.patient_get_for_user(user=request.user, pk=patient_pk)
    today = _today()
    prescriptions = selectors.paper_record_prescriptions(patient=person, today=today)
    form = PaperRecordForm(
        request.POST or None, prescriptions=prescriptions,
        nurses=selectors.dispensing_nurses(),
        initial={"day": today, "given_by": request.user.pk, "action": PaperRecordForm.GIVE,
                 "prescription": next(iter(prescriptions), None)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entries = services.dispensation_record_after_the_fact(
                prescription=data["prescription"], day=data["day"], time=data["time"],
                part=data["part"], intoxication_signs=data["intoxication"] == form.SIGNS,
                observations=data["observations"], quantity=data["quantity"],
                withhold=data["action"] == form.WITHHOLD,
                withheld_reason=data["withheld_reason"], given_by=data["given_by"],
                hand_take_home=data["hand_take_home"], actor=request.user, today=today)
        except ValidationError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("Recorded after the fact (paper of %(day)s): %(what)s")
                             % {"day": data["day"].strftime("%d/%m/%Y"),
                                "what": _dispensed_message(entries)})
            return redirect(safe_next(request, reverse("dispensary:patient",
                                                       args=[person.pk])))
    audit_read(actor=request.user, obj=person, summary=gettext_noop("paper record form"))
    return render(request, "dispensary/paper_record.html", {
        "form": form, "patient": person, "next": safe_next(request, ""),
        "paper_record_days": selectors.PAPER_RECORD_DAYS})


# --- prescriptions --------------------------------------------------------------------------


@require_GET
@permission_required("dispensary.add_prescription", raise_exception=True)
def closed_days(request):
    """The closed-day plan: who needs a doctor's decision for the doses of the coming days
    the centre is closed."""
    plan = selectors.closed_day_plan(today=_today())
    audit_list_read(actor=request.user, summary=gettext_noop("closed-day plan"),
                    patients=[state.patient for state in plan["to_plan"] + plan["taking_home"]])
    return render(request, "dispensary/closed_days.html", {
        **plan, "today": _today(), "decisions": ClosedDayPlan.Decision.choices})


@require_POST
@permission_required("dispensary.add_closeddayplan", raise_exception=True)
def closed_day_plan_record(request, pk):
    """A doctor's plan for one flagged patient's closed days, from the closed-day plan."""
    prescription = selectors.prescription_get_for_user(user=request.user, pk=pk)
    form = ClosedDayPlanForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Nothing was recorded for %(alias)s: %(errors)s") % {
            "alias": prescription.patient.alias,
            "errors": " ".join(f"{form.fields[name].label or name}: {error}"
                               for name, errors in form.errors.items() for error in errors)})
        return redirect("dispensary:closed_days")
    data = form.cleaned_data
    try:
        services.closed_day_plan_record(
            prescription=prescription, first_day=data["first_day"], last_day=data["last_day"],
            decision=data["decision"], note=data["note"], actor=request.user, today=_today())
    except ValidationError as exc:
        messages.error(request, _("Nothing was recorded for %(alias)s: %(errors)s") % {
            "alias": prescription.patient.alias, "errors": refusal_text(exc)})
    else:
        messages.success(request, _("Closed-day plan recorded for %(alias)s.")
                         % {"alias": prescription.patient.alias})
    return redirect("dispensary:closed_days")


@require_GET
@permission_required("dispensary.add_prescription", raise_exception=True)
def prescriptions(request):
    lists = selectors.prescriptions_to_review(today=_today())
    audit_list_read(actor=request.user, summary=gettext_noop("prescriptions"),
                    patients=[state.patient for state in lists["held"]]
                    + [rx.patient_id for rx in lists["active"] + lists["upcoming"]])
    return render(request, "dispensary/prescriptions.html", {**lists, "today": _today()})


@require_GET
@permission_required("dispensary.view_prescription", raise_exception=True)
def patient(request, pk):
    """A patient's whole dispensing record: prescriptions, the dose plot, every entry."""
    person = selectors.patient_get_for_user(user=request.user, pk=pk)
    page = Paginator(selectors.dispensation_history(patient=person), 100).get_page(
        request.GET.get("page"))
    context = patient_context(request, person, entries=page.object_list)
    context["page"] = page
    # A person back after a lapse: the counter says so and may record a treatment request.
    context["lapse"] = patient_return_lapse(patient=person)
    audit_read(actor=request.user, obj=person, summary=gettext_noop("dispensing record"))
    return render(request, "dispensary/patient.html", {**context, "patient": person})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.add_prescription", raise_exception=True)
def prescription_create(request, patient_pk):
    person = selectors.patient_get_for_user(user=request.user, pk=patient_pk)
    today = _today()
    initial = _initial_from_replaced(request, person)
    initial["based_on"] = selectors.prescribing_version(patient=person)
    form = PrescriptionForm(request.POST or None, initial=initial, today=today)
    induction = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rx = services.prescription_create(
                patient=person, product=data["product"], daily_dose=data["daily_dose"],
                evening_dose=data["evening_dose"], start_date=data["start_date"],
                end_date=data["end_date"], take_home_weekdays=data["take_home_weekdays"],
                pharmacy=data["pharmacy"], instructions=data["instructions"],
                based_on=data["based_on"], induction_confirmed=data["induction_confirmed"],
                induction_override_reason=data["induction_override_reason"],
                actor=request.user, today=today)
        except services.AboveInductionRules as exc:
            # The warning, with the rule and its source, and the confirmation to save anyway
            # (posted with the same prescription: it is checked again then).
            induction = exc.assessment
            form.show_induction_confirmation()
            refusal_on_form(form, exc)
        except services.ChangedMeanwhile as exc:
            # The page shows the prescriptions as they are now: saving again is a choice
            # made on what the other prescriber wrote.
            refusal_on_form(form, exc)
            form.data = form.data.copy()
            form.data["based_on"] = selectors.prescribing_version(patient=person)
        except ValidationError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("Prescription recorded: %(rx)s from %(start)s.")
                             % {"rx": rx, "start": rx.start_date.strftime("%d/%m/%Y")})
            _warn_if_held(request, person, rx, today=today)
            return redirect(safe_next(request, reverse("dispensary:patient",
                                                       args=[person.pk])))
    running = [rx for rx in selectors.prescription_history(patient=person)
               if rx.end_date is None or rx.end_date >= today]
    # After a break: the days since the last dose of each substance, which the hold counts
    # (a new prescription does not reset them).
    last_doses = [row for row in selectors.last_doses(patient=person, today=today)
                  if row["missed_days"] > 0]
    audit_read(actor=request.user, obj=person, summary=gettext_noop("prescription form"))
    return render(request, "dispensary/prescription_form.html", {
        "form": form, "patient": person, "running": running, "last_doses": last_doses,
        "induction": induction, "next": safe_next(request, "")})


def _initial_from_replaced(request, person) -> dict:
    """The form filled from the prescription it replaces (``?from=``), when that one is the
    same patient's and the user may read it; else empty."""
    if not request.GET.get("from"):
        return {}
    try:
        replaced = selectors.prescription_get_for_user(user=request.user,
                                                       pk=int(request.GET["from"]))
    except (ValueError, Http404):
        return {}
    if replaced.patient_id != person.pk:
        return {}
    return {"product": replaced.product_id, "daily_dose": replaced.daily_dose,
            "evening_dose": replaced.evening_dose or None,
            "take_home_weekdays": replaced.take_home_weekdays,
            "pharmacy": replaced.pharmacy_id, "instructions": replaced.instructions}


def _warn_if_held(request, person, rx, *, today) -> None:
    """A prescription starting today for someone held after missed days: the doctor's
    review comes before the first dose."""
    state = (selectors.dose_state_for(prescription=rx, today=today)
             if rx.start_date == today else None)
    if state is not None and state.is_held:
        messages.warning(request, _(
            "%(alias)s has had no dose of %(substance)s for %(days)s days: held until "
            "a doctor reviews (Prescriptions page), before the first dose.")
            % {"alias": person.alias, "substance": rx.product.substance,
               "days": state.missed_days})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.change_prescription", raise_exception=True)
def prescription_end(request, pk):
    rx = selectors.prescription_get_for_user(user=request.user, pk=pk)
    form = PrescriptionEndForm(request.POST or None, prescription=rx, today=_today())
    if request.method == "POST" and form.is_valid():
        try:
            services.prescription_end(prescription=rx, end_date=form.cleaned_data["end_date"],
                                      reason=form.cleaned_data["reason"], actor=request.user,
                                      today=_today())
        except ValidationError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("The prescription ends on %(date)s.")
                             % {"date": form.cleaned_data["end_date"].strftime("%d/%m/%Y")})
            return redirect(safe_next(request, reverse("dispensary:patient",
                                                       args=[rx.patient_id])))
    audit_read(actor=request.user, obj=rx,
               summary=gettext_noop("prescription %(prescription)s (ending form)"),
               params={"prescription": rx.pk})
    return render(request, "dispensary/prescription_end.html",
                  {"form": form, "prescription": rx, "next": safe_next(request, "")})


@require_GET
@permission_required("dispensary.add_prescription", raise_exception=True)
def prescription_print(request, pk):
    """The prescription a partner pharmacy dispenses, printed for the prescriber to sign:
    prescribers only (a nurse reads it, she does not sign it)."""
    rx = selectors.pharmacy_prescription_get_for_user(user=request.user, pk=pk)
    audit_read(actor=request.user, obj=rx,
               summary=gettext_noop("prescription %(prescription)s printed for the pharmacy"),
               params={"prescription": rx.pk})
    return render(request, "dispensary/prescription_print.html", {
        "prescription": rx, "patient": rx.patient,
        # An ended (or replaced) prescription prints as a copy for the record: marked, no
        # signature line, never a fresh one for the pharmacy to dispense.
        "ended": rx.end_date is not None and rx.end_date < timezone.localdate(),
        **document_context(kind="prescription", patient=rx.patient, actor=request.user,
                           back_url=reverse("dispensary:patient", args=[rx.patient_id]),
                           title=_("Prescription for %(pharmacy)s") % {"pharmacy": rx.pharmacy})})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.add_holdreview", raise_exception=True)
def review(request, pk):
    rx = selectors.prescription_get_for_user(user=request.user, pk=pk)
    state = selectors.dose_state_for(prescription=rx, today=_today())
    if state is None:
        raise Http404
    form = HoldReviewForm(request.POST or None, prescription=rx,
                          missed_days=state.missed_days, strong_warning=state.strong_warning)
    induction = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.hold_review_record(
                prescription=rx, decision=data["decision"], note=data["note"],
                full_dose_confirmed=data["full_dose_confirmed"],
                new_daily_dose=data["new_daily_dose"],
                new_evening_dose=data["new_evening_dose"],
                induction_confirmed=data["induction_confirmed"],
                induction_override_reason=data["induction_override_reason"],
                actor=request.user, today=_today())
        except services.AboveInductionRules as exc:
            induction = exc.assessment
            form.show_induction_confirmation()
            refusal_on_form(form, exc)
        except ValidationError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("Review recorded: %(alias)s may be dispensed today.")
                             % {"alias": rx.patient.alias})
            return redirect(safe_next(request, reverse("dispensary:prescriptions")))
    audit_read(actor=request.user, obj=rx, summary=gettext_noop("hold review form"))
    return render(request, "dispensary/review.html", {
        "form": form, "prescription": rx, "state": state, "patient": rx.patient,
        "induction": induction, "next": safe_next(request, "")})


# --- register -------------------------------------------------------------------------------


@require_GET
@permission_required("dispensary.view_registerentry", raise_exception=True)
def register(request):
    today = _today()
    return render(request, "dispensary/register.html", {
        "balances": selectors.register_balances(),
        "recent": selectors.register_recent(),
        "today": today,
    })


@require_GET
@permission_required("dispensary.view_registerentry", raise_exception=True)
def register_month(request, product_pk, year, month):
    product = get_object_or_404(Product, pk=product_pk, is_controlled=True)
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise Http404
    detail = request.GET.get("detail") == "1"
    month_register = selectors.monthly_register(product=product, year=year, month=month,
                                                detail=detail)
    first = datetime.date(year, month, 1)
    previous = first - datetime.timedelta(days=1)
    following = first + datetime.timedelta(days=32)
    audit_record(actor=request.user, action=Action.VIEW, obj=product,
                 summary=gettext_noop("register %(product)s %(month)s"),
                 params={"product": product.name, "month": f"{year}-{month:02d}"})
    return render(request, "dispensary/register_month.html", {
        "register": month_register, "product": product, "first": first,
        "previous": previous, "following": following, "detail": detail,
        # The register is the centre's, read by its staff and inspectors: in the reader's
        # language, on the centre's letterhead.
        "centre": centre_header(translation.get_language()),
        "printed_at": timezone.localtime()})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.add_registerentry", raise_exception=True)
def receipt(request):
    form = ReceiptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.register_receipt(
                product=data["product"], quantity=data["quantity"], supplier=data["supplier"],
                batch=data["batch"], received_on=data["received_on"], note=data["note"],
                actor=request.user)
        except ValidationError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("Receipt recorded; the balance is now %(balance)s.")
                             % {"balance": _amount(entry)})
            return redirect("dispensary:register")
    return render(request, "dispensary/register_form.html",
                  {"form": form, "title": _("Record a receipt")})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.add_registerentry", raise_exception=True)
def stock_count(request):
    form = CountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.register_count(
                product=data["product"], counted=data["counted"],
                reason_code=data["reason_code"], note=data["note"], actor=request.user)
        except ValidationError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("Count recorded; the balance is now %(balance)s.")
                             % {"balance": _amount(entry)})
            return redirect("dispensary:register")
    return render(request, "dispensary/register_form.html",
                  {"form": form, "title": _("Record a stock count"),
                   "balances": selectors.register_balances()})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.add_registerentry", raise_exception=True)
def correction(request, pk):
    entry = get_object_or_404(RegisterEntry.objects.select_related("product"), pk=pk,
                              kind=RegisterEntry.Kind.RECEIPT)
    form = CorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.register_correct(entry=entry, quantity=form.cleaned_data["quantity"],
                                            note=form.cleaned_data["note"], actor=request.user)
        except ValidationError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("Correction recorded; the balance is now %(balance)s.")
                             % {"balance": _amount(new)})
            return redirect("dispensary:register")
    return render(request, "dispensary/register_form.html",
                  {"form": form, "entry": entry,
                   "title": _("Correct receipt no. %(n)s") % {"n": entry.sequence}})


def _amount(entry: RegisterEntry) -> str:
    return f"{entry.balance_after.normalize():f} {entry.product.unit}"


# --- reference data -------------------------------------------------------------------------


@require_GET
@permission_required("dispensary.view_product", raise_exception=True)
def products(request):
    return render(request, "dispensary/products.html", {
        "products": Product.objects.all(), "pharmacies": Pharmacy.objects.all()})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.change_product", raise_exception=True)
def product_edit(request, pk=None):
    product = get_object_or_404(Product, pk=pk) if pk else None
    title = str(product) if product else _("New product")
    # Prescribed or in the register: substance, unit and flags are locked (form, service
    # and database refuse a change of them).
    in_use = product is not None and selectors.product_in_use(product)
    form = ProductForm(request.POST or None, instance=product, in_use=in_use)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_save(product=product, data=form.cleaned_data,
                                  actor=request.user)
        except ValidationError as exc:
            refusal_on_form(form, exc)
        else:
            messages.success(request, _("Product saved."))
            return redirect("dispensary:products")
    return render(request, "dispensary/reference_form.html", {"form": form, "title": title})


@require_GET
@permission_required("dispensary.view_inductionrule", raise_exception=True)
def induction_rules(request):
    return render(request, "dispensary/induction_rules.html",
                  {"products": selectors.induction_rules()})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.change_inductionrule", raise_exception=True)
def induction_rule_edit(request, product_pk):
    product = get_object_or_404(Product, pk=product_pk, is_substitution=True)
    rule = InductionRule.objects.filter(product=product).first()
    form = InductionRuleForm(request.POST or None, instance=rule, product=product)
    if request.method == "POST" and form.is_valid():
        services.induction_rule_save(product=product, data=form.cleaned_data,
                                     actor=request.user)
        messages.success(request, _("Induction rule of %(product)s saved.")
                         % {"product": product})
        return redirect("dispensary:induction_rules")
    return render(request, "dispensary/reference_form.html", {
        "form": form, "back": reverse("dispensary:induction_rules"),
        "title": _("Induction rule: %(product)s") % {"product": product}})


@require_http_methods(["GET", "POST"])
@permission_required("dispensary.change_pharmacy", raise_exception=True)
def pharmacy_edit(request, pk=None):
    pharmacy = get_object_or_404(Pharmacy, pk=pk) if pk else Pharmacy()
    form = PharmacyForm(request.POST or None, instance=pharmacy)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        audit_record(actor=request.user, action=Action.UPDATE if pk else Action.CREATE,
                     obj=saved, summary=gettext_noop("partner pharmacy %(name)s"),
                     params={"name": saved.name})
        messages.success(request, _("Partner pharmacy saved."))
        return redirect("dispensary:products")
    return render(request, "dispensary/reference_form.html",
                  {"form": form, "title": pharmacy.name or _("New partner pharmacy")})

