"""Reads of the dispensary: today's dispensing list, a patient's dose state (missed days,
hold), the register, and what other apps need (contacts, yearly figures).

The rules that decide whether a dose may be given are computed here once, by
:func:`dose_states`, and used by the list, the patient file and the dispensing service alike.
"""

import datetime
from dataclasses import dataclass, field
from functools import cached_property
from decimal import Decimal

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404
from django.utils import timezone

from dispensary.models import (Dispensation, DispensationCancellation, HoldReview,
                               Prescription, Product, RegisterEntry)
from patients.models import Patient

#: From this many consecutive days without a dose the patient is held until a doctor's
#: review: tolerance to opioids falls within days, and a full dose may then be fatal.
HOLD_AFTER_MISSED_DAYS = 3
#: From this many the warning is stronger and a full dose needs the doctor's confirmation.
STRONG_WARNING_MISSED_DAYS = 5
#: Take-home doses are handed for at most this many following days.
MAX_TAKE_HOME_DAYS = 6

DISPENSING_ROLES_PERMISSION = "dispensary.view_prescription"


# --- what other apps use --------------------------------------------------------------------


def given_dispensations() -> QuerySet:
    """Ledger entries of a dose actually handed over (supervised or to take home) and not
    cancelled since."""
    # NOT EXISTS rather than a LEFT JOIN: PostgreSQL then keeps the order of the index on
    # (patient, dose_date) and a patient's last dose is one index probe, not a sort of their
    # whole history (1 s instead of 10 ms for the list with ten years of history).
    return Dispensation.objects.filter(
        ~Exists(DispensationCancellation.objects.filter(dispensation=OuterRef("pk"))),
        status=Dispensation.Status.GIVEN)


def contact_day_querysets() -> list[QuerySet]:
    """The (patient, date) pairs the dispensary contributes to the contacts of
    docs/domain.md: a dose given or withheld at the desk on that date, not cancelled.

    A withheld dose counts: the patient came and a nurse assessed them (the intoxication
    check) — a real encounter, and keeping contact is the first objective of the MASS. A
    cancelled entry does not: it was a recording mistake (often the wrong patient). Take-home
    doses count on the day they were handed, not on the days they cover (``date``, not
    ``dose_date``).
    """
    return [
        Dispensation.objects.filter(cancellation__isnull=True).order_by()
        .values("patient_id", "date"),
    ]


def dispensations_in_year(year: int) -> QuerySet:
    """The dispensations of a year for the yearly figures: each dose (or dose part) handed
    over in the year, take-home doses included, cancelled ones and withheld doses excluded.
    ``.count()`` is the number of dispensations."""
    return given_dispensations().filter(date__year=year)


def patients_on_substitution(year: int) -> QuerySet:
    """Patients on substitution in a year: a substitution product (methadone,
    buprenorphine) was given to them at least once in the year. ``.count()`` is the figure."""
    return Patient.objects.filter(
        Exists(given_dispensations().filter(patient=OuterRef("pk"), date__year=year,
                                            product__is_substitution=True))
    )


def dispensation_count(year: int) -> int:
    return dispensations_in_year(year).count()


def substitution_patient_count(year: int) -> int:
    return patients_on_substitution(year).count()


# --- who may see ----------------------------------------------------------------------------


def can_see_dispensing(user) -> bool:
    """Nurses, doctors and psychiatrists: the ones who dispense or prescribe."""
    return user.has_perm(DISPENSING_ROLES_PERMISSION)


def prescription_get_for_user(*, user, pk: int) -> Prescription:
    if not can_see_dispensing(user):
        raise Http404
    try:
        return Prescription.objects.select_related("patient", "product", "pharmacy").get(pk=pk)
    except Prescription.DoesNotExist:
        raise Http404 from None


def dispensation_get_for_user(*, user, pk: int) -> Dispensation:
    if not user.has_perm("dispensary.view_dispensation"):
        raise Http404
    try:
        return (Dispensation.objects
                .select_related("patient", "product", "prescription", "dispensed_by",
                                "cancellation")
                .get(pk=pk))
    except Dispensation.DoesNotExist:
        raise Http404 from None


def patient_get_for_user(*, user, pk: int) -> Patient:
    if not can_see_dispensing(user):
        raise Http404
    try:
        return Patient.objects.get(pk=pk, merged_into__isnull=True)
    except Patient.DoesNotExist:
        raise Http404 from None


# --- the state of a dose today --------------------------------------------------------------


@dataclass
class PartState:
    part: str
    label: str
    dose: Decimal
    # The last entry of this part today (the head of its chain; a new entry replaces it).
    head: Dispensation | None = None
    # Entries of this part today that were cancelled (shown so nobody wonders).
    cancelled: list = field(default_factory=list)

    # Cached: read many times per row of the list (and never changed once built).
    @cached_property
    def entry(self) -> Dispensation | None:
        """The entry in force: the head unless it was cancelled."""
        if self.head is None or _is_cancelled(self.head):
            return None
        return self.head

    @cached_property
    def state(self) -> str:
        if self.entry is None:
            return "due"
        if self.entry.status == Dispensation.Status.WITHHELD:
            return "withheld"
        if self.entry.is_take_home:
            return "taken_home"
        return "given"

    @property
    def can_give(self) -> bool:
        return self.state in ("due", "withheld")


@dataclass
class DoseState:
    """Everything the desk needs about one prescription today."""

    prescription: Prescription
    today: datetime.date
    last_dose_date: datetime.date | None
    reviewed_today: bool
    given_today: Decimal
    parts: list[PartState]
    take_home_days: list[datetime.date]
    handed_today: list  # take-home entries handed today for later days

    @property
    def patient(self):
        return self.prescription.patient

    @cached_property
    def missed_days(self) -> int:
        """Consecutive days before today without any dose of this substance, counted since
        the treatment began: a take-home dose handed for a day covers it."""
        since = self.prescription.course_started_on
        if self.last_dose_date is not None:
            since = max(since, self.last_dose_date + datetime.timedelta(days=1))
        return max(0, (self.today - since).days)

    @cached_property
    def is_held(self) -> bool:
        return self.missed_days >= HOLD_AFTER_MISSED_DAYS and not self.reviewed_today

    @property
    def strong_warning(self) -> bool:
        return self.missed_days >= STRONG_WARNING_MISSED_DAYS

    @property
    def remaining_today(self) -> Decimal:
        return max(Decimal(0), self.prescription.daily_dose - self.given_today)

    @cached_property
    def desk_state(self) -> str:
        """One word for the row: due, held, withheld, done, taken_home."""
        states = {p.state for p in self.parts}
        if states <= {"taken_home"}:
            return "taken_home"
        if states <= {"given", "taken_home"}:
            return "done"
        if self.is_held:
            return "held"
        if "due" in states:
            return "due"
        return "withheld"

    @property
    def desk_order(self) -> int:
        return {"held": 0, "due": 1, "withheld": 2, "done": 3, "taken_home": 4}[self.desk_state]

    @property
    def take_home_to_hand(self) -> list[datetime.date]:
        """The take-home days whose doses go with the next dose given today: none after
        missed days (tolerance is uncertain: the patient comes back for a supervised dose)
        and none twice."""
        if self.missed_days >= HOLD_AFTER_MISSED_DAYS or self.handed_today:
            return []
        return self.take_home_days

    def part_state(self, part: str) -> PartState:
        for state in self.parts:
            if state.part == part:
                return state
        raise KeyError(part)

    def next_part(self) -> PartState | None:
        """The part the one-click button gives: the first one still to give."""
        return next((p for p in self.parts if p.can_give), None)


def take_home_days_after(prescription: Prescription, day: datetime.date) -> list[datetime.date]:
    """The days whose dose is handed on ``day`` to take home: the take-home weekdays that
    immediately follow it, while the prescription runs."""
    days = []
    weekdays = set(prescription.take_home_weekdays)
    next_day = day + datetime.timedelta(days=1)
    while (next_day.weekday() in weekdays and prescription.is_active_on(next_day)
           and len(days) < MAX_TAKE_HOME_DAYS):
        days.append(next_day)
        next_day += datetime.timedelta(days=1)
    return days


def _annotated_prescriptions(today: datetime.date) -> QuerySet:
    last_dose = (
        given_dispensations()
        .filter(patient=OuterRef("patient_id"), product__substance=OuterRef("product__substance"),
                dose_date__lt=today)
        .order_by("-dose_date").values("dose_date")[:1]
    )
    reviewed = HoldReview.objects.filter(patient=OuterRef("patient_id"),
                                         substance=OuterRef("product__substance"),
                                         reviewed_on=today)
    # Of the patient, only what the desk shows: the list reads 300 of them at once.
    fields = [f.name for f in Prescription._meta.concrete_fields]
    return (Prescription.objects
            .select_related("patient", "product")
            .only(*fields, *(f"patient__{name}" for name in PATIENT_FIELDS_SHOWN))
            .annotate(last_dose_date=Subquery(last_dose), reviewed_today=Exists(reviewed)))


#: The patient fields the dispensing list and the prescriptions page show.
PATIENT_FIELDS_SHOWN = ["alias", "file_number", "status", "merged_into"]


def active_at_mass(today: datetime.date) -> Q:
    return (Q(start_date__lte=today, pharmacy__isnull=True)
            & (Q(end_date__isnull=True) | Q(end_date__gte=today)))


def dose_states(*, today: datetime.date, patient_id: int | None = None,
                query: str = "") -> list[DoseState]:
    """The state of every prescription dispensed at the MASS today (or of one patient's, or
    of the patients whose alias or file number contains ``query``), in two queries whatever
    the number of patients."""
    prescriptions = _annotated_prescriptions(today).filter(
        active_at_mass(today), patient__merged_into__isnull=True)
    if patient_id is not None:
        prescriptions = prescriptions.filter(patient_id=patient_id)
    if query:
        prescriptions = prescriptions.filter(Q(patient__alias__icontains=query)
                                             | Q(patient__file_number__icontains=query))
    prescriptions = list(prescriptions)
    if not prescriptions:
        return []
    # Today's entries of these patients: doses for today (some handed earlier to take home)
    # and take-home doses handed today for later days.
    entries = (Dispensation.objects.filter(Q(dose_date=today) | Q(date=today))
               .select_related("dispensed_by", "cancellation", "product")
               .order_by("id"))
    if patient_id is not None:
        entries = entries.filter(patient_id=patient_id)
    by_patient: dict[int, list[Dispensation]] = {}
    for entry in entries:
        by_patient.setdefault(entry.patient_id, []).append(entry)
    part_labels = {part.value: str(part.label) for part in Dispensation.Part}
    states = []
    for rx in prescriptions:
        mine = by_patient.get(rx.patient_id, [])
        substance_today = [e for e in mine if e.dose_date == today
                           and e.product.substance == rx.product.substance]
        given_today = sum((e.quantity for e in substance_today
                           if e.status == Dispensation.Status.GIVEN
                           and not _is_cancelled(e)), Decimal(0))
        parts = []
        for part in rx.parts():
            state = PartState(part=part, label=part_labels[part], dose=rx.part_dose(part))
            for entry in substance_today:
                if entry.prescription_id != rx.pk or entry.part != part:
                    continue
                if _is_cancelled(entry):
                    state.cancelled.append(entry)
                state.head = entry  # ordered by id, and a chain only grows: the last is head
            parts.append(state)
        states.append(DoseState(
            prescription=rx, today=today, last_dose_date=rx.last_dose_date,
            reviewed_today=rx.reviewed_today, given_today=given_today, parts=parts,
            take_home_days=take_home_days_after(rx, today),
            handed_today=[e for e in mine if e.date == today and e.dose_date > today
                          and e.prescription_id == rx.pk and not _is_cancelled(e)],
        ))
    return states


def _is_cancelled(entry: Dispensation) -> bool:
    cancelled = getattr(entry, "_is_cancelled", None)
    if cancelled is None:
        try:
            cancelled = entry.cancellation is not None
        except Dispensation.cancellation.RelatedObjectDoesNotExist:
            cancelled = False
        entry._is_cancelled = cancelled
    return cancelled


def dispensing_list(*, today: datetime.date | None = None, query: str = "") -> list[DoseState]:
    """Today's dispensing list, ordered for a busy desk: held patients first (they need a
    doctor), then the doses still due, withheld ones, and what is done; by alias within."""
    today = today or timezone.localdate()
    states = dose_states(today=today, query=query)
    states.sort(key=lambda s: (s.desk_order, s.patient.alias.casefold(), s.patient.pk,
                               s.prescription.pk))
    return states


def dose_state_for(*, prescription: Prescription, today: datetime.date) -> DoseState | None:
    for state in dose_states(today=today, patient_id=prescription.patient_id):
        if state.prescription.pk == prescription.pk:
            return state
    return None


# --- prescriptions and history --------------------------------------------------------------


def prescriptions_to_review(*, today: datetime.date | None = None) -> dict:
    """The prescriptions page: held patients waiting for a doctor, then every active
    prescription (at the MASS or at a partner pharmacy)."""
    today = today or timezone.localdate()
    held = [s for s in dose_states(today=today) if s.is_held]
    held.sort(key=lambda s: (-s.missed_days, s.patient.alias.casefold()))
    active = list(Prescription.objects
                  .filter(Q(start_date__lte=today)
                          & (Q(end_date__isnull=True) | Q(end_date__gte=today)),
                          patient__merged_into__isnull=True)
                  .select_related("patient", "product", "pharmacy", "prescribed_by")
                  .order_by("patient__alias", "patient_id", "product__name"))
    upcoming = list(Prescription.objects.filter(start_date__gt=today,
                                                patient__merged_into__isnull=True)
                    .select_related("patient", "product", "pharmacy")
                    .order_by("start_date", "patient__alias"))
    return {"held": held, "active": active, "upcoming": upcoming}


def prescription_history(*, patient) -> list[Prescription]:
    return list(Prescription.objects.filter(patient=patient)
                .select_related("product", "pharmacy", "prescribed_by")
                .order_by("-start_date", "-id"))


def dispensation_history(*, patient) -> QuerySet:
    """A patient's ledger entries, newest dose first, with what each row shows."""
    return (Dispensation.objects.filter(patient=patient)
            .select_related("product", "dispensed_by", "cancellation",
                            "cancellation__cancelled_by")
            .order_by("-dose_date", "-id"))


def hold_reviews(*, patient, limit: int = 10) -> list[HoldReview]:
    return list(HoldReview.objects.filter(patient=patient)
                .select_related("reviewed_by", "prescription__product")[:limit])


@dataclass
class DosePlot:
    """A step plot of the prescribed daily dose per substance, ready for an SVG template."""

    width: int
    height: int
    series: list  # [{"label", "points", "css"}]
    x_ticks: list  # [(x, label)]
    y_ticks: list  # [(y, label)]
    left: int = 48
    bottom: int = 0
    top: int = 12

    @property
    def is_empty(self) -> bool:
        return not self.series


def dose_plot(*, prescriptions: list[Prescription], today: datetime.date,
              width: int = 640, height: int = 200) -> DosePlot:
    """Prescribed daily dose over time (one stepped line per substance), from the
    prescription history alone: no query."""
    left, right, top, bottom_margin = 48, 12, 12, 28
    rxs = [rx for rx in prescriptions
           if rx.end_date is None or rx.end_date >= rx.start_date]
    plot = DosePlot(width=width, height=height, series=[], x_ticks=[], y_ticks=[],
                    left=left, top=top, bottom=height - bottom_margin)
    if not rxs:
        return plot
    start = min(rx.start_date for rx in rxs)
    end = max(max((rx.end_date or today) for rx in rxs), today)
    if end <= start:
        end = start + datetime.timedelta(days=1)
    max_dose = max(rx.daily_dose for rx in rxs)
    span_days = (end - start).days
    inner_w, inner_h = width - left - right, height - top - bottom_margin

    def x(day):
        return round(left + inner_w * (day - start).days / span_days, 1)

    def y(dose):
        return round(top + inner_h * (1 - float(dose) / float(max_dose)), 1)

    by_substance: dict[str, list[Prescription]] = {}
    for rx in sorted(rxs, key=lambda r: (r.start_date, r.pk)):
        by_substance.setdefault(rx.product.substance, []).append(rx)
    for index, (substance, items) in enumerate(sorted(by_substance.items())):
        segments = []
        for rx in items:
            rx_end = min(rx.end_date or end, end) + datetime.timedelta(days=1)
            rx_end = min(rx_end, end)
            segments.append(f"{x(rx.start_date)},{y(rx.daily_dose)} "
                            f"{x(rx_end)},{y(rx.daily_dose)}")
        plot.series.append({"label": substance, "segments": segments,
                            "css": f"dose-line dose-line-{index % 4}",
                            "last": items[-1].daily_dose, "unit": items[-1].product.unit})
    for fraction in (0, 0.5, 1):
        dose = max_dose * Decimal(str(fraction))
        plot.y_ticks.append((str(y(dose)), f"{dose.normalize():f}"))
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        day = start + datetime.timedelta(days=round(span_days * fraction))
        plot.x_ticks.append((str(x(day)), day))
    return plot


# --- register -------------------------------------------------------------------------------


def register_balances() -> list[dict]:
    """Each controlled product with its current balance and last entry."""
    last = RegisterEntry.objects.filter(product=OuterRef("pk")).order_by("-sequence")
    return list(Product.objects.filter(is_controlled=True)
                .annotate(balance=Subquery(last.values("balance_after")[:1]),
                          last_entry_at=Subquery(last.values("recorded_at")[:1]))
                .order_by("-is_active", "-is_substitution", "name")
                .values("pk", "name", "unit", "is_active", "balance", "last_entry_at"))


def product_balance(product) -> Decimal:
    entry = (RegisterEntry.objects.filter(product=product).order_by("-sequence")
             .values_list("balance_after", flat=True).first())
    return entry if entry is not None else Decimal(0)


def register_recent(*, limit: int = 30) -> list[RegisterEntry]:
    return list(RegisterEntry.objects.exclude(kind=RegisterEntry.Kind.DISPENSED)
                .select_related("product", "recorded_by")
                .order_by("-recorded_at", "-id")[:limit])


@dataclass
class MonthlyRegister:
    product: Product
    year: int
    month: int
    opening_balance: Decimal
    closing_balance: Decimal
    lines: list
    total_in: Decimal
    total_out: Decimal
    detail: bool


def monthly_register(*, product: Product, year: int, month: int,
                     detail: bool = False) -> MonthlyRegister:
    """The register of one product for one month, for printing and signing: opening balance,
    every receipt, count and correction, the dispensed and cancelled quantities (per day, or
    entry by entry with ``detail``), closing balance."""
    first = datetime.date(year, month, 1)
    after = (first + datetime.timedelta(days=32)).replace(day=1)
    month_entries = RegisterEntry.objects.filter(product=product, date__gte=first,
                                                 date__lt=after)
    before = (RegisterEntry.objects.filter(product=product, date__lt=first)
              .order_by("-sequence").values_list("balance_after", flat=True).first())
    opening = before if before is not None else Decimal(0)
    lines = []
    kinds_in_detail = [RegisterEntry.Kind.RECEIPT, RegisterEntry.Kind.COUNT,
                       RegisterEntry.Kind.CORRECTION]
    if not detail:
        kinds_in_detail.append(RegisterEntry.Kind.CANCELLED)
    detailed = (month_entries.select_related("recorded_by", "dispensation__patient",
                                             "corrects")
                .order_by("sequence"))
    if not detail:
        detailed = detailed.filter(kind__in=kinds_in_detail)
    for entry in detailed:
        lines.append({"sequence": entry.sequence, "date": entry.date, "entry": entry,
                      "kind": entry.get_kind_display(), "in": entry.quantity_in,
                      "out": entry.quantity_out, "balance": entry.balance_after})
    if not detail:
        # Dispensed doses as one line per day: the day's total and the balance after the
        # day's last entry (entries are numbered in order, so that is a real balance).
        daily = (month_entries.filter(kind=RegisterEntry.Kind.DISPENSED)
                 .values("date")
                 .annotate(total=Sum("quantity"), doses=Count("id"),
                           last_sequence=Max("sequence"))
                 .order_by("date"))
        daily = list(daily)
        balances = dict(RegisterEntry.objects.filter(
            product=product, sequence__in=[d["last_sequence"] for d in daily])
            .values_list("sequence", "balance_after"))
        for day in daily:
            lines.append({"sequence": day["last_sequence"], "date": day["date"], "entry": None,
                          "doses": day["doses"], "kind": None, "in": None,
                          "out": -day["total"], "balance": balances[day["last_sequence"]]})
        lines.sort(key=lambda line: line["sequence"])
    totals = month_entries.aggregate(
        total_in=Sum("quantity", filter=Q(quantity__gt=0)),
        total_out=Sum("quantity", filter=Q(quantity__lt=0)))
    closing = lines[-1]["balance"] if lines else opening
    return MonthlyRegister(product=product, year=year, month=month, opening_balance=opening,
                           closing_balance=closing, lines=lines,
                           total_in=totals["total_in"] or Decimal(0),
                           total_out=-(totals["total_out"] or Decimal(0)), detail=detail)


def register_entry_get(*, pk: int) -> RegisterEntry:
    try:
        return RegisterEntry.objects.select_related("product").get(pk=pk)
    except RegisterEntry.DoesNotExist:
        raise Http404 from None

