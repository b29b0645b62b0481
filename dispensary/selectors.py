"""Reads of the dispensary: today's dispensing list, a patient's dose state (missed days,
hold), the register, and what other apps need (contacts, yearly figures).

The rules that decide whether a dose may be given are computed here once, by
:func:`dose_states`, and used by the list, the patient file and the dispensing service alike.
"""

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import JSONArray, TruncTime
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alerts.selectors import active_alerts_by_patient
from dispensary.models import (
    ClosedDayPlan,
    Dispensation,
    DispensationCancellation,
    HoldReview,
    InductionCheck,
    InductionRule,
    Prescription,
    Product,
    RegisterEntry,
    product_display_name,
)
from dispensary.rules import (
    CLOSED_DAY_NOTICE_DAYS,
    HOLD_AFTER_MISSED_DAYS,
    MAX_TAKE_HOME_DAYS,
    PAPER_RECORD_DAYS,
    STRONG_WARNING_MISSED_DAYS,
)
from mass import contributions
from mass.contributions import TimelineKind
from mass.database.querysets import built_once_a_day
from mass.sites.selectors import site_calendar
from patients.models import Patient, unaccent_lower
from patients.selectors import identity_annotations

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


# --- who may see ----------------------------------------------------------------------------


def can_see_dispensing(user) -> bool:
    """Nurses, doctors and psychiatrists: the ones who dispense or prescribe."""
    return user.has_perm(DISPENSING_ROLES_PERMISSION)


def dispensations_timeline_kind(user) -> TimelineKind:
    """The patient's timeline: doses given or withheld at the desk (not cancelled entries:
    recording mistakes). The product and dose only for those who dispense or prescribe."""
    readable = can_see_dispensing(user)

    def load(ids):
        rows = Dispensation.objects.filter(pk__in=ids)
        if readable:
            rows = rows.select_related("product", "dispensed_by")
        return {d.pk: (d, readable) for d in rows}
    return TimelineKind(
        "dispensation", gettext_lazy("Dispensation"),
        lambda patient: Dispensation.objects.filter(patient=patient, cancellation__isnull=True),
        load, time=TruncTime("dispensed_at"))


def prescription_get_for_user(*, user, pk: int) -> Prescription:
    if not can_see_dispensing(user):
        raise Http404
    try:
        return (Prescription.objects.select_related("patient", "product", "pharmacy",
                                                    "prescribed_by").get(pk=pk))
    except Prescription.DoesNotExist:
        raise Http404 from None


def pharmacy_prescription_get_for_user(*, user, pk: int) -> Prescription:
    """A prescription dispensed at a partner pharmacy, to print for it: the prescriptions
    given at the MASS have no paper (a 404, as for a record the user may not see)."""
    rx = prescription_get_for_user(user=user, pk=pk)
    if rx.pharmacy_id is None:
        raise Http404
    return rx


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
    # A dose of the substance for today handed earlier to take home under another
    # prescription (one replaced since): the day is taken home, not due.
    covered_by: Dispensation | None = None
    # The part's dose as prescribed; ``dose`` is what is left to give of it today, less when
    # doses of the substance were given today under a prescription replaced since (a
    # same-day change of dose: only the top-up is given).
    prescribed: Decimal | None = None
    # Given today of the substance under other prescriptions (replaced today).
    given_before: Decimal = Decimal(0)

    @property
    def is_top_up(self) -> bool:
        return self.given_before > 0 and self.entry is None

    # Cached: read many times per row of the list (and never changed once built).
    @cached_property
    def entry(self) -> Dispensation | None:
        """The entry in force of this prescription's part: the head unless it was
        cancelled."""
        if self.head is None or _is_cancelled(self.head):
            return None
        return self.head

    @cached_property
    def shown(self) -> Dispensation | None:
        """The entry the desk shows for this part: its own, else the take-home dose of
        another prescription that covers the day."""
        return self.entry if self.entry is not None else self.covered_by

    @cached_property
    def state(self) -> str:
        if self.entry is None:
            if self.covered_by is None:
                return "due"
            return "taken_home" if self.covered_by.is_take_home else "given"
        if self.entry.status == Dispensation.Status.WITHHELD:
            return "withheld"
        if self.entry.is_take_home:
            return "taken_home"
        return "given"

    @property
    def can_give(self) -> bool:
        return self.state in ("due", "withheld")


_DESK_ORDER = {"held": 0, "due": 1, "withheld": 2, "done": 3, "taken_home": 4}


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
    # The last dose of the substance withheld today for signs of intoxication (not
    # cancelled): nothing more is given today without a new assessment, nor taken home.
    intoxication_withheld: Dispensation | None = None
    # The patient's active alerts, every kind (alerts app; the rows show those the viewer
    # reads).
    alerts: list = field(default_factory=list)
    # The days the centre is closed within CLOSED_DAY_NOTICE_DAYS after today while the
    # prescription runs (mass.sites.selectors.ClosedDay), in order.
    closed_ahead: list = field(default_factory=list)
    # The doctors' plans of the coming closed days: day -> ClosedDayDecision.
    closed_day_decisions: dict = field(default_factory=dict)
    # The first day after the supervised first days of the current (re)start of the substance
    # (the product's InductionRule.supervised_days from the course's first day or the last
    # hold review): a closed day before it goes home only on a doctor's plan, and after a
    # restart under the prescription of before the hold, no take-home dose before it.
    supervised_until: datetime.date | None = None
    # The closed days a doctor planned as take-home days (ClosedDayPlan).
    planned_take_home: frozenset = frozenset()

    @property
    def doctor_first(self):
        """The active "doctor before any dose" alert: no dose until a doctor ends it."""
        return next((a for a in self.alerts if a.kind == "doctor_first"), None)

    @property
    def patient(self):
        return self.prescription.patient

    @cached_property
    def missed_days(self) -> int:
        """Consecutive days before today without any dose of this substance: counted from
        the last dose of it given to the patient, under whatever prescription (a break
        between two prescriptions does not reset the count: tolerance is lost all the same),
        a take-home dose covering its day; when the patient never had one, from the first
        day of the run of prescriptions this one belongs to (``course_started_on``).

        The database applies the first half of the rule (after a dose) to every dose
        given: see ``dispensation_check`` in dispensary/triggers.py."""
        if self.last_dose_date is not None:
            since = self.last_dose_date + datetime.timedelta(days=1)
        else:
            since = self.prescription.course_started_on
        return max(0, (self.today - since).days)

    @property
    def missed_enough_to_hold(self) -> bool:
        """Enough days missed for the hold, whether or not a doctor reviewed today."""
        return self.missed_days >= HOLD_AFTER_MISSED_DAYS

    @cached_property
    def is_held(self) -> bool:
        return self.missed_enough_to_hold and not self.reviewed_today

    @property
    def strong_warning(self) -> bool:
        return self.missed_days >= STRONG_WARNING_MISSED_DAYS

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
        return _DESK_ORDER[self.desk_state]

    @property
    def take_home_due(self) -> list[datetime.date]:
        """The take-home days whose doses would go with the next dose given today: none
        after missed days (tolerance is uncertain: the patient comes back for a supervised
        dose) and none twice."""
        if (self.missed_enough_to_hold or self.handed_today
                or self.supervised_after_restart):
            return []
        return self.take_home_days

    @property
    def supervised_after_restart(self) -> bool:
        """Restarted after the hold (a doctor's review) under the prescription of before it
        ("resume at the dose"), whose take-home days were never checked against the restart:
        the doses of the supervised first days are given at the counter (a closed day a
        doctor planned as take-home excepted)."""
        rx = self.prescription
        restarted_on = getattr(rx, "restarted_on", None)
        if restarted_on is None or rx.start_date >= restarted_on:
            return False
        return any(self.is_supervised(day) and day not in self.planned_take_home
                   for day in self.take_home_days)

    @property
    def take_home_to_hand(self) -> list[datetime.date]:
        """``take_home_due``, except on the day of a dose withheld for signs of intoxication:
        days of doses are not handed to someone found intoxicated that day."""
        if self.intoxication_withheld is not None:
            return []
        return self.take_home_due

    @property
    def may_take_closed_days_home(self) -> bool:
        """A closed day's dose goes home with the dose of the day before for a prescription
        with a take-home right (any take-home weekday): the doctor judged the patient able
        to keep doses at home. Without one, and for the closed days in the supervised first
        days of a (re)start (:meth:`is_supervised`), a doctor plans the closed days."""
        return bool(self.prescription.take_home_weekdays)

    def is_supervised(self, day: datetime.date) -> bool:
        """Whether ``day`` falls in the supervised first days of a (re)start, when no dose
        goes home without a doctor's decision (the induction rule)."""
        return self.supervised_until is not None and day < self.supervised_until

    @cached_property
    def closed_days_taken_home(self) -> list:
        """The closed days whose doses went home today, or go home with the dose still to
        give today (none when today's dose was given before the closure was known: the
        patient has left, and a doctor plans the closed days)."""
        going = {e.dose_date for e in self.handed_today}
        # No dose today while a doctor must see the person first: nothing goes home either.
        if self.next_part() is not None and self.doctor_first is None:
            going |= set(self.take_home_to_hand)
        return [c for c in self.closed_ahead if c.day in going]

    @cached_property
    def closed_days_to_plan(self) -> list:
        """The closed days a doctor must plan for this prescription: the run of closed days
        right after today that today's dose does not cover (no take-home right, or none
        handed after missed days or a dose withheld for intoxication), and, without a
        take-home right, the public holidays and one-off closures of the coming
        CLOSED_DAY_NOTICE_DAYS (a weekly closed day is flagged the day before: it is part
        of the prescription's routine); less the days a doctor planned (ClosedDayPlan)."""
        covered = {c.day for c in self.closed_days_taken_home}
        run, day = [], self.today + datetime.timedelta(days=1)
        by_day = {c.day: c for c in self.closed_ahead}
        while day in by_day:
            run.append(by_day[day])
            day += datetime.timedelta(days=1)
        decided = self.closed_day_decisions
        # Planned otherwise ("no take-home"): the doctor has seen it. Planned as take-home
        # but not handed (missed days, intoxication): still to plan.
        to_plan = [c for c in run if c.day not in covered
                   and getattr(decided.get(c.day), "decision", None)
                   != ClosedDayPlan.Decision.NO_TAKE_HOME]
        to_plan += [c for c in self.closed_ahead
                    if not c.is_weekly and c not in run and c.day not in decided
                    and (not self.may_take_closed_days_home or self.is_supervised(c.day))]
        return sorted(to_plan, key=lambda c: c.day)

    @cached_property
    def closed_day_notes(self) -> list[str]:
        """The doctors' notes on the coming closed days of this prescription, once each."""
        notes = [self.closed_day_decisions[c.day].note for c in self.closed_ahead
                 if c.day in self.closed_day_decisions]
        return list(dict.fromkeys(notes))

    def part_state(self, part: str) -> PartState:
        for state in self.parts:
            if state.part == part:
                return state
        raise KeyError(part)

    def next_part(self) -> PartState | None:
        """The part the one-click button gives: the first one still to give."""
        return next((p for p in self.parts if p.can_give), None)


def take_home_days_after(prescription: Prescription, day: datetime.date,
                         closed_days=frozenset(),
                         planned_take_home=frozenset()) -> list[datetime.date]:
    """The days whose dose is handed on ``day`` to take home: the take-home weekdays that
    immediately follow it, while the prescription runs. For a prescription with a take-home
    right, the days the centre is closed (``closed_days``) count as take-home days: the
    doses of a Sunday and an Easter Monday go home on the Saturday. Without one, only the
    closed days a doctor planned as take-home days (``planned_take_home``) do."""
    days = []
    weekdays = set(prescription.take_home_weekdays)
    closed = closed_days if weekdays else closed_days & planned_take_home
    next_day = day + datetime.timedelta(days=1)
    while ((next_day.weekday() in weekdays or next_day in closed)
           and prescription.is_active_on(next_day) and len(days) < MAX_TAKE_HOME_DAYS):
        days.append(next_day)
        next_day += datetime.timedelta(days=1)
    return days


#: The patient fields the dispensing list and the prescriptions page show (with what tells
#: same-alias files apart: patients.identity).
PATIENT_FIELDS_SHOWN = ["alias", "file_number", "status", "merged_into", "birth_year", "sex",
                        "distinguishing_note"]


# --- loading the list's rows ----------------------------------------------------------------
#
# The list reads 300 prescriptions with their patient and product, their last dose, today's
# review, the closed-day plans and who-is-this facts in one query, and today's entries with
# their product, nurse and cancellation in another. Of prescriptions and patients only what
# the desk and the dose rules read is loaded (only(); the rest loads on access). A
# prescription's record-keeping fields are left out on purpose: its ``created_at`` alone, a
# timestamp with time zone, cost 2 ms to convert for 300 rows.

_PRESCRIPTION_FIELDS = [f.name for f in Prescription._meta.concrete_fields
                        if f.name not in ("replaces", "end_reason", "prescribed_by",
                                          "created_at", "ended_by")
                        # the prescriber's record of an induction override: not the desk's
                        and not f.name.startswith("induction_")]
_ENTRY_USER_FIELDS = ["username", "first_name", "last_name"]  # str(user)


@built_once_a_day  # 2.7 ms to build its subqueries: a twentieth of the list's time
def _dispensed_here_on(today: datetime.date) -> QuerySet:
    """The prescriptions dispensed at the MASS on ``today`` (running that day, with no partner
    pharmacy, of a file not merged), with their patient and product, the last dose of the
    substance before today (given and not cancelled: ``given_dispensations()``), whether a
    doctor reviewed the patient's hold (the last review, a restart after missed days: today's
    if it is today), the doctors' plans of the coming closed days (ClosedDayPlan as [first
    day, last day, decision, note], oldest first), the product's
    InductionRule.supervised_days (null without a rule), and who the patient is
    (patients.identity)."""
    same = {"patient": OuterRef("patient"), "substance": OuterRef("product__substance")}
    return (
        Prescription.objects.in_force_on(today)
        .filter(pharmacy__isnull=True, patient__merged_into__isnull=True)
        .select_related("patient")
        .only(*_PRESCRIPTION_FIELDS, *(f"patient__{name}" for name in PATIENT_FIELDS_SHOWN))
        .annotate(
            last_dose_date=Subquery(
                given_dispensations().filter(patient=OuterRef("patient"),
                                             product__substance=OuterRef("product__substance"),
                                             dose_date__lt=today)
                .order_by("-dose_date").values("dose_date")[:1]),
            plans_ahead=ArraySubquery(
                ClosedDayPlan.objects.filter(**same, last_day__gt=today).order_by("id")
                .values(plan=JSONArray("first_day", "last_day", "decision", "note"))),
            restarted_on=Subquery(HoldReview.objects.filter(**same, reviewed_on__lte=today)
                                  .order_by("-reviewed_on").values("reviewed_on")[:1]),
            supervised_days=Subquery(InductionRule.objects.filter(product=OuterRef("product"))
                                     .order_by().values("supervised_days")),
            **{f"patient_{name}": value for name, value
               in identity_annotations("patient", day=today).items()})
        .order_by("-start_date", "-id"))


@built_once_a_day
def _entries_on(today: datetime.date) -> QuerySet:
    """The ledger entries for ``today`` or handed on it, with their product, who recorded
    them and whether they were cancelled, ordered by id."""
    return (Dispensation.objects.filter(Q(dose_date=today) | Q(date=today))
            .select_related("dispensed_by")
            .only(*(f.name for f in Dispensation._meta.concrete_fields),
                  *(f"dispensed_by__{name}" for name in _ENTRY_USER_FIELDS))
            .annotate(cancelled=Exists(DispensationCancellation.objects.filter(
                dispensation=OuterRef("pk"))))
            .order_by("id"))


def _with_state(prescriptions: QuerySet, today: datetime.date) -> list[Prescription]:
    """The prescriptions, each with its annotations put where the dose rules read them."""
    result = list(prescriptions)
    for rx in result:
        rx.reviewed_today = rx.restarted_on == today
        # Who is this (patients.identity): a photo on file, the last walk-in before today.
        rx.patient.has_photo, rx.patient.last_visit = rx.patient_has_photo, rx.patient_last_visit
        rx.closed_day_decisions = _closed_day_decisions(rx.plans_ahead)
        start = max(filter(None, (rx.course_started_on, rx.restarted_on)))
        rx.supervised_until = (None if rx.supervised_days is None
                               else start + datetime.timedelta(days=rx.supervised_days))
    return result


@dataclass(frozen=True)
class ClosedDayDecision:
    decision: str  # ClosedDayPlan.Decision
    note: str


def _closed_day_decisions(plans: list) -> dict:
    """Day -> the ClosedDayDecision in force for it, from [first day, last day, decision,
    note] rows oldest first: a later plan replaces an earlier one for the days it covers."""
    decisions = {}
    for first, last, decision, note in plans:
        day, last = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
        while day <= last:
            decisions[day] = ClosedDayDecision(decision, note)
            day += datetime.timedelta(days=1)
    return decisions


def dispensary_calendar(*, today: datetime.date):
    """The centre's calendar (mass.sites.selectors.site_calendar) from today to the end of the
    closed-day notice: one query."""
    return site_calendar(centre=True, start=today,
                         end=today + datetime.timedelta(days=CLOSED_DAY_NOTICE_DAYS))


def dose_states(*, today: datetime.date, patient_id: int | None = None,
                query: str = "", calendar=None) -> list[DoseState]:
    """The state of every prescription dispensed at the MASS today (or of one patient's, or
    of the patients whose alias or file number contains ``query``, accents and case aside),
    in six queries whatever the number of patients (the prescriptions, the day's entries,
    their products, the centre's calendar unless ``calendar`` is given, the patients' active
    alerts and their last QTc for "ECG due")."""
    prescriptions, entries = _dispensed_here_on(today), _entries_on(today)
    if patient_id is not None:
        prescriptions = prescriptions.filter(patient=patient_id)
        entries = entries.filter(patient=patient_id)
    if query:
        prescriptions = _matching(prescriptions, query)
    prescriptions = _with_state(prescriptions, today)
    if not prescriptions:
        return []
    if calendar is None:
        calendar = dispensary_calendar(today=today)
    closed_ahead = calendar.closed_days(
        today + datetime.timedelta(days=1),
        today + datetime.timedelta(days=CLOSED_DAY_NOTICE_DAYS))
    if query and patient_id is None:  # a few patients: not the entries of everyone
        entries = entries.filter(patient__any=sorted({rx.patient_id for rx in prescriptions}))
    entries = list(entries)
    _with_products(prescriptions, entries)
    by_patient = _entries_by_patient(entries)
    # Worked out once for the list, not for each row.
    closed_days = frozenset(c.day for c in closed_ahead)
    part_labels = {part.value: str(part.label) for part in Dispensation.Part}
    # One pass over the prescriptions, one call per row: the list has hundreds of rows.
    states = [_dose_state(rx, today=today, entries=by_patient.get(rx.patient_id, []),
                          closed_ahead=closed_ahead, closed_days=closed_days,
                          part_labels=part_labels)
              for rx in prescriptions]
    # The patients' active alerts, in one query for the whole list, and those that follow
    # from the records ("ECG due": mass.contributions.derived_alerts_by_patient).
    alerts = active_alerts_by_patient(patient_ids={rx.patient_id for rx in prescriptions})
    derived = contributions.derived_alerts_by_patient(prescriptions=prescriptions)
    for state in states:
        patient_id = state.prescription.patient_id
        state.alerts = [*alerts.get(patient_id, []), *derived.get(patient_id, [])]
    return states


def _matching(prescriptions: QuerySet, query: str) -> QuerySet:
    """The prescriptions of the patients whose alias or file number contains ``query``."""
    # Accents and case aside, as the patient search: both sides in the form Patient.search_text
    # holds them (patients.models.unaccent_lower); anywhere in the alias or file number,
    # LIKE's wildcards in the text escaped (contains). Not search_text itself: the list's
    # filter reads what its rows show, not the legal names. No index needed: only the
    # patients with a prescription running today are compared.
    typed = unaccent_lower(Value(query))
    return (prescriptions
            .alias(alias_typed=unaccent_lower("patient__alias"),
                   file_number_typed=unaccent_lower("patient__file_number"))
            .filter(Q(alias_typed__contains=typed) | Q(file_number_typed__contains=typed)))


def _with_products(prescriptions: list[Prescription], entries: list[Dispensation]) -> None:
    """Each prescription's and entry's product, from one query: the list's hundreds of rows
    share a few products, each made once rather than once a row (2.5 ms for 300 rows)."""
    rows = [*prescriptions, *entries]
    products = Product.objects.in_bulk({row.product_id for row in rows})
    for row in rows:
        row.product = products[row.product_id]


def _entries_by_patient(entries: list[Dispensation]) -> dict[int, list]:
    """Today's entries of the patients, by patient, ordered by id: doses for today (some
    handed earlier to take home) and take-home doses handed today for later days."""
    by_patient: dict[int, list[Dispensation]] = {}
    for entry in entries:
        entry._is_cancelled = entry.cancelled
        by_patient.setdefault(entry.patient_id, []).append(entry)
    return by_patient


def _dose_state(rx: Prescription, *, today: datetime.date, entries: list,
                closed_ahead: list, closed_days: frozenset, part_labels: dict) -> DoseState:
    """One prescription's state today from the patient's ``entries`` of the day."""
    substance_today = [e for e in entries if e.dose_date == today
                       and e.product.substance == rx.product.substance]
    given = [e for e in substance_today
             if e.status == Dispensation.Status.GIVEN and not _is_cancelled(e)]
    given_today = sum((e.quantity for e in given), Decimal(0))
    planned = frozenset(day for day, plan in rx.closed_day_decisions.items()
                        if plan.decision == ClosedDayPlan.Decision.TAKE_HOME)
    return DoseState(
        prescription=rx, today=today, last_dose_date=rx.last_dose_date,
        reviewed_today=rx.reviewed_today, given_today=given_today,
        parts=_part_states(rx, substance_today, given, given_today, part_labels),
        take_home_days=_take_home_days(rx, today=today, closed_days=closed_days,
                                       planned=planned),
        handed_today=_handed_today(rx, today=today, entries=entries),
        intoxication_withheld=_intoxication_withheld(substance_today),
        closed_ahead=[c for c in closed_ahead if rx.is_active_on(c.day)],
        closed_day_decisions=rx.closed_day_decisions,
        supervised_until=rx.supervised_until, planned_take_home=planned,
    )


def _take_home_days(rx: Prescription, *, today: datetime.date, closed_days: frozenset,
                    planned: frozenset) -> list[datetime.date]:
    """``take_home_days_after`` today, the centre's closed days ahead going home too."""
    until = rx.supervised_until
    # In the supervised first days a closed day goes home on a doctor's plan only.
    closed = frozenset(day for day in closed_days
                       if until is None or day >= until or day in planned)
    return take_home_days_after(rx, today, closed, planned)


def _handed_today(rx: Prescription, *, today: datetime.date, entries: list) -> list:
    """The take-home doses of the prescription for later days handed today."""
    return [e for e in entries if e.date == today and e.dose_date > today
            and e.prescription_id == rx.pk and not _is_cancelled(e)]


def _part_states(rx: Prescription, substance_today: list, given: list,
                 given_today: Decimal, part_labels: dict) -> list[PartState]:
    """Each part of the prescription's dose today, from the entries of its substance for
    today (``given``: those given and not cancelled)."""
    # Given today under other prescriptions of the substance (replaced today): the daily
    # dose counts them, whatever the prescription (one daily dose per substance).
    others = [e for e in given if e.prescription_id != rx.pk]
    # Doses for today handed to take home under another prescription of the substance
    # (replaced since): they cover today's parts of this one that have no entry.
    cover = next((e for e in others if e.is_take_home), None)
    given_before = sum((e.quantity for e in others), Decimal(0))
    remaining = max(Decimal(0), rx.daily_dose - given_today)
    parts = []
    for part in rx.parts():
        prescribed = rx.part_dose(part)
        state = PartState(part=part, label=part_labels[part], prescribed=prescribed,
                          dose=min(prescribed, remaining), given_before=given_before)
        for entry in substance_today:
            if entry.prescription_id != rx.pk or entry.part != part:
                continue
            if _is_cancelled(entry):
                state.cancelled.append(entry)
            state.head = entry  # ordered by id, and a chain only grows: the last is head
        if state.entry is None:
            state.covered_by = cover
            if cover is None and others and state.dose <= 0:
                # The daily dose was reached under the replaced prescription: nothing
                # is left to give of this part today.
                state.covered_by = others[-1]
        parts.append(state)
    return parts


def _intoxication_withheld(entries: list[Dispensation]) -> Dispensation | None:
    """The last of ``entries`` (ordered by id) withheld for signs of intoxication and not
    cancelled (a cancelled one was a recording mistake)."""
    withheld = [e for e in entries if e.status == Dispensation.Status.WITHHELD
                and (e.intoxication_signs
                     or e.withheld_reason == Dispensation.WithheldReason.INTOXICATION)
                and not _is_cancelled(e)]
    return withheld[-1] if withheld else None


def _is_cancelled(entry: Dispensation) -> bool:
    cancelled = getattr(entry, "_is_cancelled", None)
    if cancelled is None:
        try:
            cancelled = entry.cancellation is not None
        except Dispensation.cancellation.RelatedObjectDoesNotExist:
            cancelled = False
        entry._is_cancelled = cancelled
    return cancelled


def dispensing_list(*, today: datetime.date | None = None, query: str = "",
                    calendar=None) -> list[DoseState]:
    """Today's dispensing list, ordered for a busy desk: held patients first (they need a
    doctor), then the doses still due, withheld ones, and what is done; by alias within."""
    today = today or timezone.localdate()
    states = dose_states(today=today, query=query, calendar=calendar)
    states.sort(key=lambda s: (s.desk_order, s.patient.alias.casefold(), s.patient.pk,
                               s.prescription.pk))
    return states


def closed_days_notice(calendar, *, today: datetime.date) -> list:
    """The closed days the list announces: the run of closed days right after today (their
    doses go home today), and the public holidays and closures of the coming
    CLOSED_DAY_NOTICE_DAYS; not every coming Sunday, which the desk knows."""
    coming = calendar.closed_days(today + datetime.timedelta(days=1),
                                  today + datetime.timedelta(days=CLOSED_DAY_NOTICE_DAYS))
    notice, expected = [], today + datetime.timedelta(days=1)
    for closed in coming:
        if closed.day == expected:  # still in the run that starts tomorrow
            expected += datetime.timedelta(days=1)
            notice.append(closed)
        elif not closed.is_weekly:
            notice.append(closed)
    return notice


def closed_day_plan(*, today: datetime.date | None = None) -> dict:
    """The closed-day plan for doctors: the days the centre is closed in the coming
    CLOSED_DAY_NOTICE_DAYS, the patients whose doses of those days a doctor must plan
    (``DoseState.closed_days_to_plan``: no take-home right, or not handed after missed
    days), and how many will take them home with the dose of the day before. Six queries
    (:func:`dose_states`'s)."""
    today = today or timezone.localdate()
    calendar = dispensary_calendar(today=today)
    states = dose_states(today=today, calendar=calendar)
    to_plan = [s for s in states if s.closed_days_to_plan]
    to_plan.sort(key=lambda s: (s.closed_days_to_plan[0].day, s.patient.alias.casefold(),
                                s.patient.pk))
    return {
        "closed_days": calendar.closed_days(
            today + datetime.timedelta(days=1),
            today + datetime.timedelta(days=CLOSED_DAY_NOTICE_DAYS)),
        "to_plan": to_plan,
        "taking_home": [s for s in states if s.may_take_closed_days_home
                        and s.closed_ahead and not s.closed_days_to_plan],
    }


def desk_counts(states: list[DoseState]) -> dict[str, int]:
    """How many rows of the list are held, due, withheld, done and taken home."""
    counts = dict.fromkeys(_DESK_ORDER, 0)
    for state in states:
        counts[state.desk_state] += 1
    return counts


def dose_state_for(*, prescription: Prescription, today: datetime.date) -> DoseState | None:
    for state in dose_states(today=today, patient_id=prescription.patient_id):
        if state.prescription.pk == prescription.pk:
            return state
    return None


# --- the downtime sheet ---------------------------------------------------------------------


@dataclass
class SheetRow:
    """One prescription on the downtime sheet: its dose state that day and who the patient
    is: ``patient.has_photo`` and the patient's active alerts come with the dose state;
    ``alerts`` are those of them the reader of the sheet may read. Shown by
    dispensary/_downtime_patient.html."""

    state: DoseState
    birth_year: int | None = None
    alerts: list = field(default_factory=list)

    @property
    def patient(self):
        return self.state.patient


@dataclass
class SheetDay:
    day: datetime.date
    is_today: bool
    rows: list[SheetRow]
    # The centre closed that day (mass.sites.selectors.ClosedDay): its doses go home the day before.
    closed: object = None


def downtime_sheet(*, today: datetime.date, alert_kinds) -> list[SheetDay]:
    """The downtime sheet: every prescription dispensed at the MASS today and tomorrow, by
    alias, in a fixed number of queries (``dose_states``'s five per day, and the centre's
    calendar once for both days).

    Tomorrow's rows are what can be known today: the prescriptions in force tomorrow, the
    doses already handed for it to take home, and the missed days and hold tomorrow if no
    more dose is given today (``dose_states`` of tomorrow counts the doses recorded so far,
    today's included). ``alert_kinds``: the kinds of alert the reader may read
    (alerts.rules.readable_kinds)."""
    tomorrow = today + datetime.timedelta(days=1)
    # Read once for both days: from today to a day past tomorrow's notice.
    calendar = site_calendar(centre=True, start=today,
                             end=tomorrow + datetime.timedelta(days=CLOSED_DAY_NOTICE_DAYS))
    days = [SheetDay(day=day, is_today=day == today, closed=calendar.closed_day(day),
                     rows=[SheetRow(state=state)
                           for state in dose_states(today=day, calendar=calendar)])
            for day in (today, tomorrow)]
    rows = [row for sheet_day in days for row in sheet_day.rows]
    for row in rows:
        row.birth_year = row.patient.birth_year  # read with the patient (PATIENT_FIELDS_SHOWN)
        row.alerts = [alert for alert in row.state.alerts if alert.kind in alert_kinds]
    for sheet_day in days:
        sheet_day.rows.sort(key=lambda row: (row.patient.alias.casefold(),
                                             row.patient.file_number, row.patient.pk,
                                             row.state.prescription.pk))
    return days


def paper_record_prescriptions(*, patient, today: datetime.date) -> QuerySet:
    """The patient's prescriptions at the MASS a dose given on paper may be recorded under:
    in force at some point of the days a paper record may cover
    (:data:`PAPER_RECORD_DAYS`)."""
    first = today - datetime.timedelta(days=PAPER_RECORD_DAYS)
    return (Prescription.objects
            .filter(patient=patient, pharmacy__isnull=True, start_date__lte=today)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")))
            .select_related("product").order_by("-start_date", "-id"))


def dispensing_nurses() -> QuerySet:
    """The active staff who may dispense (who gave a dose recorded from paper)."""
    permission = Permission.objects.filter(content_type__app_label="dispensary",
                                           codename="add_dispensation")
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(groups__permissions__in=permission)
                    | Q(user_permissions__in=permission))
            .distinct().order_by("last_name", "first_name", "username"))


# --- prescriptions and history --------------------------------------------------------------


def prescriptions_to_review(*, today: datetime.date | None = None) -> dict:
    """The prescriptions page: held patients waiting for a doctor, then every active
    prescription (at the MASS or at a partner pharmacy)."""
    today = today or timezone.localdate()
    held = [s for s in dose_states(today=today) if s.is_held]
    held.sort(key=lambda s: (-s.missed_days, s.patient.alias.casefold()))
    # Replaced today, a prescription runs until tonight but is no longer in force.
    active = list(Prescription.objects.in_force_on(today)
                  .filter(patient__merged_into__isnull=True)
                  .select_related("patient", "product", "pharmacy", "prescribed_by")
                  .order_by("patient__alias", "patient_id", "product__name"))
    upcoming = list(Prescription.objects.filter(start_date__gt=today,
                                                patient__merged_into__isnull=True)
                    .select_related("patient", "product", "pharmacy")
                    .order_by("start_date", "patient__alias"))
    return {"held": held, "active": active, "upcoming": upcoming}


def prescribing_version(*, patient) -> str:
    """A short digest of the patient's prescriptions as a prescriber sees them (each one's id
    and end): the prescribing form carries it, and the service refuses to write on a version
    that changed meanwhile (a second doctor saving on a state they did not see)."""
    rows = (Prescription.objects.filter(patient=patient).order_by("id")
            .values_list("id", "end_date"))
    text = ";".join(f"{pk}:{end or ''}" for pk, end in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prescriptions_in_force(*, user, patient, today: datetime.date | None = None
                           ) -> list[Prescription] | None:
    """The patient's prescriptions in force today (running, not replaced by a later one of
    the same substance), with product, pharmacy and prescriber, for those who see the
    dispensary; None for the others. One query: a clinician writing a note sees the current
    treatment."""
    if not can_see_dispensing(user):
        return None
    today = today or timezone.localdate()
    return list(Prescription.objects.in_force_on(today).filter(patient=patient)
                .select_related("product", "pharmacy", "prescribed_by")
                .order_by("-product__is_substitution", "product__name", "-start_date"))


def prescription_history(*, patient) -> list[Prescription]:
    return list(Prescription.objects.filter(patient=patient)
                .select_related("product", "pharmacy", "prescribed_by")
                .order_by("-start_date", "-id"))


def last_doses(*, patient, today: datetime.date) -> list[dict]:
    """Per substance the patient was ever given, the last day a dose of it covered (before
    today) and the days missed since, as DoseState.missed_days counts them: what a doctor
    prescribing again after a break must see."""
    rows = (given_dispensations().filter(patient=patient, dose_date__lt=today)
            .values("product__substance").annotate(last=Max("dose_date"))
            .order_by("product__substance"))
    return [{"substance": row["product__substance"], "last_dose_date": row["last"],
             "missed_days": (today - row["last"]).days - 1,
             "held": (today - row["last"]).days - 1 >= HOLD_AFTER_MISSED_DAYS,
             "strong_warning": (today - row["last"]).days - 1 >= STRONG_WARNING_MISSED_DAYS}
            for row in rows]


# --- starting and restarting safely (induction rules) ---------------------------------------


@dataclass
class InductionWarning:
    """One induction rule a prescription would go beyond: ``code`` an InductionCheck value,
    ``message`` the sentence for the prescriber (with the figures)."""

    code: str
    message: str


@dataclass
class InductionAssessment:
    """Where a new prescription stands against its product's induction rule: the rule, the
    first day of the patient's (re)start when still within its days (``started_on``; None:
    established treatment, nothing checked), why it is an induction, and what goes beyond."""

    rule: InductionRule | None
    started_on: datetime.date | None = None
    context: str = ""
    warnings: list[InductionWarning] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [w.code for w in self.warnings]


def _dose_days_of_substance(*, patient, substance: str, until: datetime.date,
                            limit: int) -> list[datetime.date]:
    """The last ``limit`` distinct days (up to ``until``) covered by a dose of the substance
    given to the patient and not cancelled, newest first."""
    return list(given_dispensations()
                .filter(patient=patient, product__substance=substance, dose_date__lte=until)
                .order_by("-dose_date").values_list("dose_date", flat=True)
                .distinct()[:limit])


def induction_assessment(*, patient, product: Product, daily_dose: Decimal,
                         start_date: datetime.date, take_home_weekdays: list[int],
                         end_date: datetime.date | None = None,
                         pharmacy=None) -> InductionAssessment:
    """Check a prescription about to be written against the induction rule of its product.

    It is an induction when it starts the substance for the patient (no dose of it yet), or
    restarts it after the missed-day hold (``HOLD_AFTER_MISSED_DAYS`` days or more without a
    dose before ``start_date``: tolerance may be lost, as DoseState.missed_days counts); and
    it stays one for the rule's days from that (re)start. Then: the starting dose is at most
    the ceiling; an increase is at most one step, not sooner than the rule's days after the
    last change; no take-home dose falls in the first supervised days.

    The MASS sees only the doses it gives: for a prescription dispensed at a partner
    pharmacy, an induction is one with no prescription of the substance running the day
    before (the pharmacy's doses are not recorded here); one taken over from a partner
    pharmacy without a break is not an induction either."""
    rule = InductionRule.objects.filter(product=product).first()
    assessment = InductionAssessment(rule=rule)
    if rule is None:
        return assessment
    window = max(rule.induction_days, rule.supervised_days)
    # The prescription in force before this one (or replaced the day it starts): the dose
    # an increase is measured from.
    latest = (Prescription.objects
              .filter(patient=patient, product__substance=product.substance,
                      start_date__lte=start_date)
              .order_by("-start_date", "-id").first())
    start = _induction_start(patient=patient, product=product, start_date=start_date,
                             latest=latest, window=window, pharmacy=pharmacy)
    if start is None:
        return assessment
    started_on, context, missed = start
    day_in = (start_date - started_on).days
    if day_in >= window:
        return assessment  # established treatment: the induction is over
    assessment.started_on = started_on
    assessment.context = context % {"substance": product.substance, "day": day_in + 1,
                                    "date": date_format(started_on), "missed": missed}
    restart = started_on == start_date
    assessment.warnings += _dose_warnings(
        rule=rule, product=product, daily_dose=daily_dose, start_date=start_date,
        latest=latest if not restart and day_in < rule.induction_days else None,
        restart=restart)
    assessment.warnings += _take_home_warnings(
        rule=rule, start_date=start_date, end_date=end_date,
        supervised_until=started_on + datetime.timedelta(days=rule.supervised_days),
        weekdays=set(take_home_weekdays))
    return assessment


def _induction_start(*, patient, product: Product, start_date: datetime.date,
                     latest: Prescription | None, window: int, pharmacy) -> tuple | None:
    """(The first day of the patient's (re)start of the substance, why it is an induction,
    the days missed before it), or None when this prescription is no induction."""
    before = start_date - datetime.timedelta(days=1)
    running_before = (latest is not None
                      and (latest.end_date is None or latest.end_date >= before))
    if pharmacy is not None:
        if running_before:
            return None
        return start_date, _("a first prescription of %(substance)s "
                             "(or one after a break)"), 0
    # One more day than the window: a run of doses longer than that started before it.
    days = _dose_days_of_substance(patient=patient, substance=product.substance,
                                   until=start_date, limit=window + 1)
    if not days:
        if running_before and not latest.is_at_mass:
            return None  # taken over from a partner pharmacy without a break
        # Never dosed here: the first dose is still to come, at the earliest on the first
        # day of this prescription (an earlier one not collected changes nothing).
        return start_date, _("a first prescription of %(substance)s for this patient"), 0
    missed = (start_date - days[0]).days - 1
    if missed >= HOLD_AFTER_MISSED_DAYS:
        return start_date, _("a restart after %(missed)s days without a dose of "
                             "%(substance)s (the missed-day hold)"), missed
    return (_run_started_on(days),
            _("day %(day)s of the treatment of %(substance)s begun on %(date)s"), missed)


def _run_started_on(days: list[datetime.date]) -> datetime.date:
    """The first day of the current run of doses (``days`` newest first): the latest day
    after a gap as long as the hold."""
    started_on = days[0]
    for earlier in days[1:]:
        if (started_on - earlier).days - 1 >= HOLD_AFTER_MISSED_DAYS:
            break
        started_on = earlier
    return started_on


def _dose_warnings(*, rule: InductionRule, product: Product, daily_dose: Decimal,
                   start_date: datetime.date, latest: Prescription | None,
                   restart: bool) -> list[InductionWarning]:
    """The starting dose above the ceiling on a (re)start; during the induction days
    (``latest``: the prescription before, None after them), an increase above one step or
    sooner than the rule's days after the last change."""
    def amount(value: Decimal) -> str:
        return f"{value.normalize():f} {product.unit}"

    warnings = []
    if restart and daily_dose > rule.max_starting_dose:
        warnings.append(InductionWarning(InductionCheck.STARTING_DOSE, _(
            "Starting dose %(dose)s: above the induction ceiling of %(max)s for %(product)s.")
            % {"dose": amount(daily_dose), "max": amount(rule.max_starting_dose),
               "product": product}))
    if restart or latest is None:
        return warnings
    step = daily_dose - latest.daily_dose
    if step > rule.max_increase:
        warnings.append(InductionWarning(InductionCheck.INCREASE, _(
            "An increase of %(step)s (from %(from)s) during the first %(days)s days: the "
            "induction rule allows at most %(max)s per step.")
            % {"step": amount(step), "from": amount(latest.daily_dose),
               "days": rule.induction_days, "max": amount(rule.max_increase)}))
    since_change = (start_date - latest.start_date).days
    if step > 0 and since_change < rule.min_days_between_increases:
        warnings.append(InductionWarning(InductionCheck.INCREASE_INTERVAL, _(
            "An increase %(days)s days after the last change (%(date)s): the induction "
            "rule asks for at least %(min)s days between increases.")
            % {"days": since_change, "date": date_format(latest.start_date),
               "min": rule.min_days_between_increases}))
    return warnings


def _take_home_warnings(*, rule: InductionRule, start_date: datetime.date,
                        end_date: datetime.date | None, supervised_until: datetime.date,
                        weekdays: set) -> list[InductionWarning]:
    """A take-home day within the supervised first days of the (re)start."""
    day = start_date
    while weekdays and day < supervised_until and (end_date is None or day <= end_date):
        # The first day's dose is given on site; a take-home day is a later day.
        if day > start_date and day.weekday() in weekdays:
            return [InductionWarning(InductionCheck.TAKE_HOME, _(
                "Take-home doses from %(date)s, within the first %(days)s days of the "
                "(re)start (until %(until)s every dose is taken under supervision).")
                % {"date": date_format(day), "days": rule.supervised_days,
                   "until": date_format(supervised_until - datetime.timedelta(days=1))})]
        day += datetime.timedelta(days=1)
    return []


def dispensation_history(*, patient) -> QuerySet:
    """A patient's ledger entries, newest dose first, with what each row shows."""
    return (Dispensation.objects.filter(patient=patient)
            .select_related("product", "dispensed_by", "recorded_by", "cancellation",
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
        plot.series.append({"label": substance, "segments": _steps(items, x, y, end),
                            "css": f"dose-line dose-line-{index % 4}",
                            "last": items[-1].daily_dose, "unit": items[-1].product.unit})
    for fraction in (0, 0.5, 1):
        dose = max_dose * Decimal(str(fraction))
        plot.y_ticks.append((str(y(dose)), f"{dose.normalize():f}"))
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        day = start + datetime.timedelta(days=round(span_days * fraction))
        plot.x_ticks.append((str(x(day)), day))
    return plot


def _steps(prescriptions: list[Prescription], x, y, end: datetime.date) -> list[str]:
    """One horizontal segment per prescription, from its start to the day after its end
    (within the plot), as SVG points."""
    segments = []
    for rx in prescriptions:
        rx_end = min(min(rx.end_date or end, end) + datetime.timedelta(days=1), end)
        segments.append(f"{x(rx.start_date)},{y(rx.daily_dose)} "
                        f"{x(rx_end)},{y(rx.daily_dose)}")
    return segments


# --- products -------------------------------------------------------------------------------


def induction_rules() -> list[Product]:
    """The substitution products (and any other with a rule) with their induction rule, or
    None: a product without one is not checked."""
    return list(Product.objects.filter(Q(is_substitution=True) | Q(induction_rule__isnull=False))
                .select_related("induction_rule", "induction_rule__updated_by")
                .order_by("-is_active", "name"))


def product_in_use(product: Product) -> bool:
    """Prescribed at least once or in the register: its Product.LOCKED_WHEN_USED fields are
    locked."""
    return (Prescription.objects.filter(product=product).exists()
            or RegisterEntry.objects.filter(product=product).exists())


# --- register -------------------------------------------------------------------------------


def register_balances() -> list[dict]:
    """Each controlled product with its current balance and last entry."""
    last = RegisterEntry.objects.filter(product=OuterRef("pk")).order_by("-sequence")
    rows = list(Product.objects.filter(is_controlled=True)
                .annotate(balance=Subquery(last.values("balance_after")[:1]),
                          last_entry_at=Subquery(last.values("recorded_at")[:1]))
                .order_by("-is_active", "-is_substitution", "name")
                .values("pk", "name", "unit", "is_active", "balance", "last_entry_at"))
    for row in rows:
        row["label"] = product_display_name(row["name"])
    return rows


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
    every receipt, count, correction and cancellation, the dispensed doses (grouped, or entry
    by entry with ``detail``), closing balance.

    It adds up line by line: each line's balance is the previous line's balance plus its
    "in" minus its "out". Grouped, the dispensed doses of a day are one line per run of
    consecutive entries: a cancellation, a receipt or a count between two doses of the day
    splits the day, because a day total placed after a cancellation would show the
    cancellation's line at the balance before it (the day's doses not yet taken out) and a
    count's line at a balance that was never counted. Each line's balance is the stored
    balance after its last entry (numbered in order and checked by the database)."""
    first = datetime.date(year, month, 1)
    after = (first + datetime.timedelta(days=32)).replace(day=1)
    month_entries = RegisterEntry.objects.filter(product=product, date__gte=first,
                                                 date__lt=after)
    before = (RegisterEntry.objects.filter(product=product, date__lt=first)
              .order_by("-sequence").values_list("balance_after", flat=True).first())
    opening = before if before is not None else Decimal(0)
    detailed = (month_entries.select_related("recorded_by", "dispensation__patient",
                                             "corrects")
                .order_by("sequence"))
    if not detail:
        detailed = detailed.exclude(kind=RegisterEntry.Kind.DISPENSED)
    lines = [{"sequence": entry.sequence, "date": entry.date, "entry": entry,
              "kind": entry.get_kind_display(), "in": entry.quantity_in,
              "out": entry.quantity_out, "balance": entry.balance_after}
             for entry in detailed]
    if not detail:
        lines = _with_dispensed_runs(lines, month_entries.filter(
            kind=RegisterEntry.Kind.DISPENSED).order_by("sequence").values_list(
            "sequence", "date", "quantity", "balance_after", "recorded_after_the_fact"))
    totals = month_entries.aggregate(
        total_in=Sum("quantity", filter=Q(quantity__gt=0)),
        total_out=Sum("quantity", filter=Q(quantity__lt=0)))
    closing = lines[-1]["balance"] if lines else opening
    return MonthlyRegister(product=product, year=year, month=month, opening_balance=opening,
                           closing_balance=closing, lines=lines,
                           total_in=totals["total_in"] or Decimal(0),
                           total_out=-(totals["total_out"] or Decimal(0)), detail=detail)


def _with_dispensed_runs(lines: list[dict], dispensed) -> list[dict]:
    """``lines`` (the other entries, in order) with the dispensed entries folded in: one line
    per run of dispensed entries of one day that no other entry interrupts, numbered by its
    last entry and carrying the balance after it."""
    others = iter(lines)
    pending = next(others, None)
    merged: list[dict] = []
    run = None
    for sequence, date, quantity, balance, after_the_fact in dispensed:
        while pending is not None and pending["sequence"] < sequence:
            merged.append(pending)
            pending = next(others, None)
            run = None
        if run is None or run["date"] != date:
            run = {"sequence": sequence, "first_sequence": sequence, "date": date,
                   "entry": None, "doses": 0, "after_the_fact": 0, "kind": None, "in": None,
                   "out": Decimal(0), "balance": balance}
            merged.append(run)
        run["sequence"], run["balance"] = sequence, balance
        run["doses"] += 1
        run["out"] -= quantity
        run["after_the_fact"] += after_the_fact
    if pending is not None:
        merged.append(pending)
    merged.extend(others)
    return merged
