"""Every write of the dispensary. Each is one transaction with its audit row.

Writes that touch a patient's doses (dispensing, cancelling, prescribing, reviewing) first lock
that patient's row, so that two nurses (or a nurse and a doctor) acting at the same moment
are served one after the other and the second sees what the first did. Register writes then
lock the product's row, which numbers its entries. The lock order is always patient, then
product, so two writers never wait for each other in a circle.

A rule that refuses raises ``ValidationError`` with the sentence to show (mass.refusals); nothing
is written.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dispensary import selectors, sql
from dispensary.models import (
    ClosedDayPlan,
    Dispensation,
    DispensationCancellation,
    HoldReview,
    Prescription,
    Product,
    RegisterEntry,
)
from mass.audit import Action, audit_record, phrase
from patients.models import Patient

ONE_DAY = datetime.timedelta(days=1)


class ChangedMeanwhile(ValidationError):
    """The patient's prescriptions changed since the prescriber's form was built."""


class AboveInductionRules(ValidationError):
    """The prescription goes beyond its product's induction rules and was not confirmed with
    a reason. ``assessment`` (selectors.InductionAssessment) holds the rule and the warnings,
    for the form to show them with the confirmation."""

    def __init__(self, message: str, assessment):
        super().__init__(message)
        self.assessment = assessment


def _lock_patient(patient_id: int) -> Patient:
    return Patient.objects.select_for_update(no_key=True).get(pk=patient_id)


def _quantity(value: Decimal, unit: str) -> str:
    return f"{value.normalize():f} {unit}"


def _database_refusal(exc: IntegrityError) -> ValidationError:
    """Turn a refusal of the database (the last line of defence) into a sentence."""
    cause = exc.__cause__
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", "") or ""
    if constraint == "dispensary_dispensation_once_per_day_part":
        return ValidationError(_("This dose has just been recorded by someone else. Nothing was "
                                 "recorded twice; reload the list to see who gave it."))
    detail = getattr(getattr(cause, "diag", None), "message_primary", "") or str(exc)
    return ValidationError(_("The database refused this entry: %(detail)s. Nothing was recorded.")
                           % {"detail": detail})


# --- dispensing -----------------------------------------------------------------------------


def dispensation_record(*, prescription: Prescription, part: str, intoxication_signs: bool,
                        actor, observations: str = "", quantity: Decimal | None = None,
                        withhold: bool = False, withheld_reason: str = "",
                        hand_take_home: bool = True, reassessed: bool = False,
                        today: datetime.date | None = None) -> list[Dispensation]:
    """Record one dose part of today: given (with the take-home doses of the following
    days, when due) or withheld. Returns the new ledger entries, the dose of today first.

    After a dose of the substance withheld today for signs of intoxication, a dose is given
    only with ``reassessed`` (the nurse answered the intoxication question again, on the
    form: no signs now), and no take-home dose is handed that day."""
    today = today or timezone.localdate()
    try:
        with transaction.atomic():
            return _dispense(prescription_id=prescription.pk, part=part,
                             intoxication_signs=intoxication_signs, observations=observations,
                             quantity=quantity, withhold=withhold,
                             withheld_reason=withheld_reason, hand_take_home=hand_take_home,
                             reassessed=reassessed, actor=actor, today=today)
    except IntegrityError as exc:
        raise _database_refusal(exc) from exc


@dataclass(frozen=True)
class PaperRecord:
    """A dose given on paper while the network was down: when and by which nurse."""

    given_at: datetime.datetime
    given_by: object
    recorded_on: datetime.date  # today: the day of its register entries


def dispensation_record_after_the_fact(
        *, prescription: Prescription, day: datetime.date, time: datetime.time, part: str,
        intoxication_signs: bool, actor, given_by=None, observations: str = "",
        quantity: Decimal | None = None, withhold: bool = False, withheld_reason: str = "",
        hand_take_home: bool = False, today: datetime.date | None = None,
) -> list[Dispensation]:
    """Record a dose part given (or withheld) on paper on ``day`` at ``time``, by
    ``given_by`` (default: the nurse typing it in), while the network was down. The rules
    of a dose given at the desk apply to that day as they were that day: never twice
    (refused "already dispensed"), within the daily dose, the prescription in force, the
    hold after missed days (a doctor's review of that day), no take-home dose after a
    dose withheld for intoxication. The entries are marked recorded after the fact, and
    so are their register entries, which are dated the day they are typed in.

    ``day`` is today or one of the :data:`selectors.PAPER_RECORD_DAYS` days before,
    ``time`` not later than now. Take-home doses are recorded only with
    ``hand_take_home`` (handed on paper too)."""
    today = today or timezone.localdate()
    if day > today:
        raise ValidationError(_("%(day)s is a day to come: only a dose already given can be "
                                "recorded. Nothing was recorded.") % {"day": date_format(day)})
    if day < today - datetime.timedelta(days=selectors.PAPER_RECORD_DAYS):
        raise ValidationError(_("A paper record is entered within %(days)s days: %(day)s is too "
                                "far back. Nothing was recorded; tell the head nurse.")
                              % {"days": selectors.PAPER_RECORD_DAYS, "day": date_format(day)})
    given_at = timezone.make_aware(datetime.datetime.combine(day, time))
    if given_at > timezone.now():
        raise ValidationError(_("%(time)s today is still to come: give the time written on the "
                                "paper. Nothing was recorded.") % {"time": time.strftime("%H:%M")})
    given_by = given_by or actor
    if not given_by.has_perm("dispensary.add_dispensation"):
        raise ValidationError(_("%(who)s does not dispense doses: choose the nurse who gave it. "
                                "Nothing was recorded.") % {"who": given_by})
    try:
        with transaction.atomic():
            # Each paper record carries its own intoxication check: after a dose withheld
            # for intoxication that day, it is the new assessment.
            return _dispense(prescription_id=prescription.pk, part=part,
                             intoxication_signs=intoxication_signs, observations=observations,
                             quantity=quantity, withhold=withhold,
                             withheld_reason=withheld_reason, hand_take_home=hand_take_home,
                             reassessed=True, actor=actor, today=day,
                             paper=PaperRecord(given_at=given_at, given_by=given_by,
                                               recorded_on=today))
    except IntegrityError as exc:
        raise _database_refusal(exc) from exc


def _dispense(*, prescription_id, part, intoxication_signs, observations, quantity, withhold,
              withheld_reason, hand_take_home, reassessed, actor,
              today, paper: PaperRecord | None = None) -> list[Dispensation]:
    """Record a dose part of ``today``: the day of the desk, or the day of a paper record
    (``paper``), whose rules are checked as they were that day.

    The checks run in this order, each refusing with nothing written: the file and the
    prescription, the dose state in force, never twice, then either a withheld dose or a
    dose given (hold, doctor first, intoxication, quantity, register balance)."""
    patient, rx = _lock_prescription(prescription_id)
    _check_file_and_prescription(patient, rx, part=part, today=today, paper=paper)
    state = _dose_state_in_force(rx, today=today, paper=paper)
    part_state = state.part_state(part)
    _check_not_given_yet(rx, state, part_state, withhold=withhold, today=today, paper=paper)
    # The entry records which withheld dose its intoxication check assessed again.
    reassessment_of = state.intoxication_withheld if reassessed else None
    now = timezone.now()
    common = _entry_fields(rx, part=part, intoxication_signs=intoxication_signs,
                           observations=observations, actor=actor, today=today, now=now,
                           paper=paper)
    noted = _paper_notes(paper)
    if withhold or intoxication_signs:
        return [_withhold(patient, rx, part_state, common=common, part=part,
                          intoxication_signs=intoxication_signs, withhold=withhold,
                          withheld_reason=withheld_reason, reassessment_of=reassessment_of,
                          actor=actor, today=today, noted=noted)]
    _check_may_give(state, reassessed=reassessed, hand_take_home=hand_take_home, today=today,
                    paper=paper)
    quantity = _quantity_to_give(rx, state, part_state, part=part, quantity=quantity,
                                 today=today, paper=paper)
    review = _hold_review_of_the_day(rx, state, today=today)
    take_home = _take_home_entries(rx, state.take_home_to_hand) if hand_take_home else []
    _check_register_balance(rx, quantity=quantity, take_home=take_home)
    created = [Dispensation.objects.create(
        **common, dose_date=today, status=Dispensation.Status.GIVEN, quantity=quantity,
        replaces=part_state.head, review=review, reassessment_of=reassessment_of)]
    for day, take_home_part, dose in take_home:
        created.append(Dispensation.objects.create(
            **{**common, "part": take_home_part}, dose_date=day,
            status=Dispensation.Status.GIVEN, quantity=dose))
    _register_and_audit_given(patient, rx, created, actor=actor, today=today, now=now,
                              paper=paper, noted=noted)
    return created


def _lock_prescription(prescription_id) -> tuple[Patient, Prescription]:
    """The patient's row locked, then the prescription read again under the lock: a doctor
    may just have ended or replaced it."""
    try:
        rx = Prescription.objects.select_related("product").get(pk=prescription_id)
    except Prescription.DoesNotExist:
        raise ValidationError(_("This prescription does not exist.")) from None
    patient = _lock_patient(rx.patient_id)
    rx = Prescription.objects.select_related("product").get(pk=prescription_id)
    return patient, rx


def _check_file_and_prescription(patient, rx, *, part, today, paper) -> None:
    """A dose is recorded in a living, kept file, under a prescription of the MASS running
    that day, for one of its parts."""
    if patient.merged_into_id is not None:
        raise ValidationError(_("This file was merged into another one: dispense from the kept "
                                "file."))
    if patient.status == Patient.Status.DECEASED:
        raise ValidationError(_("This patient is recorded as deceased."))
    if not rx.is_at_mass:
        raise ValidationError(_("This prescription is dispensed by %(pharmacy)s, not at the MASS.")
                              % {"pharmacy": rx.pharmacy})
    if not rx.is_active_on(today) and paper is not None:
        raise ValidationError(_("No dose can be recorded for %(day)s under this prescription: it "
                                "runs from %(start)s to %(end)s. Nothing was recorded.")
                              % {"day": date_format(today), "start": date_format(rx.start_date),
                                 "end": date_format(rx.end_date) if rx.end_date else "…"})
    if not rx.is_active_on(today):
        raise ValidationError(_("No active prescription today: this prescription runs from "
                                "%(start)s to %(end)s. A doctor must prescribe first.")
                              % {"start": date_format(rx.start_date),
                                 "end": date_format(rx.end_date) if rx.end_date else "…"})
    if part not in rx.parts():
        raise ValidationError(_("This prescription has no %(part)s.")
                              % {"part": Dispensation.Part(part).label if part in
                                 Dispensation.Part.values else part})


def _dose_state_in_force(rx, *, today, paper) -> "selectors.DoseState":
    """The day's dose state of the prescription; refused when it is running that day but not
    in force: replaced that day by a newer prescription of the substance, under which the
    day's dose (or its top-up) is given."""
    state = selectors.dose_state_for(prescription=rx, today=today)
    if state is None and paper is not None:
        raise ValidationError(_("This prescription was replaced on %(day)s by a new one: record "
                                "the dose under the new prescription. Nothing was recorded.")
                              % {"day": date_format(today)})
    if state is None:
        raise ValidationError(_("This prescription was replaced today by a new one: give the dose "
                                "from the new prescription (what was given today counts)."))
    return state


def _check_not_given_yet(rx, state, part_state, *, withhold, today, paper) -> None:
    """Never twice: nothing left of the daily dose, or this part already given (at the desk,
    on paper or handed the day before to take home)."""
    entry = part_state.entry
    if entry is None and part_state.dose <= 0 and not withhold and paper is not None:
        raise ValidationError(_("Already dispensed on %(day)s: %(given)s given, the daily dose is "
                                "%(daily)s. Nothing was recorded.")
                              % {"day": date_format(today),
                                 "given": _quantity(state.given_today, rx.product.unit),
                                 "daily": _quantity(rx.daily_dose, rx.product.unit)})
    if entry is None and part_state.dose <= 0 and not withhold:
        raise ValidationError(_("Nothing left to give today: %(given)s already given, the daily "
                                "dose is %(daily)s.")
                              % {"given": _quantity(state.given_today, rx.product.unit),
                                 "daily": _quantity(rx.daily_dose, rx.product.unit)})
    if entry is None or entry.status != Dispensation.Status.GIVEN:
        return
    who = entry.dispensed_by or _("someone")
    if paper is not None and not entry.is_take_home:
        raise ValidationError(_("Already dispensed on %(day)s at %(time)s by %(who)s: a dose "
                                "is never recorded twice. Nothing was recorded.")
                              % {"day": date_format(today), "who": who,
                                 "time": timezone.localtime(entry.dispensed_at)
                                 .strftime("%H:%M")})
    if entry.is_take_home:
        raise ValidationError(_("Already dispensed: this dose was handed on %(date)s to take "
                                "home (by %(who)s). It cannot be given twice.")
                              % {"date": date_format(entry.date), "who": who})
    raise ValidationError(_("Already dispensed today at %(time)s by %(who)s. A dose is never "
                            "given twice the same day.")
                          % {"time": timezone.localtime(entry.dispensed_at).strftime("%H:%M"),
                             "who": who})


def _entry_fields(rx, *, part, intoxication_signs, observations, actor, today, now,
                  paper) -> dict:
    """The fields every ledger entry of this dose shares; a paper record names the nurse
    who gave it and when, and who typed it in."""
    common = {"patient_id": rx.patient_id, "prescription": rx, "product": rx.product,
              "date": today, "part": part, "intoxication_signs": intoxication_signs,
              "observations": observations.strip(), "dispensed_at": now,
              "dispensed_by": actor}
    if paper is not None:
        common.update(dispensed_at=paper.given_at, dispensed_by=paper.given_by,
                      recorded_after_the_fact=True, recorded_at=now, recorded_by=actor)
    return common


def _paper_notes(paper) -> list:
    """The audit note of a paper record (none for a dose given at the desk)."""
    if paper is None:
        return []
    return [phrase(gettext_noop("recorded after the fact: on paper %(given_at)s by "
                                "%(username)s"),
                   given_at=f"{paper.given_at:%Y-%m-%d %H:%M}",
                   username=paper.given_by.get_username())]


def _withhold(patient, rx, part_state, *, common, part, intoxication_signs, withhold,
              withheld_reason, reassessment_of, actor, today, noted) -> Dispensation:
    """A dose withheld, with its reason; signs of intoxication always withhold it."""
    if intoxication_signs and not withhold:
        raise ValidationError(_("Signs of intoxication were recorded: the dose must be "
                                "withheld."))
    if not withheld_reason:
        raise ValidationError(_("Say why the dose is withheld."))
    withheld = Dispensation.objects.create(
        **common, dose_date=today, status=Dispensation.Status.WITHHELD,
        quantity=Decimal(0), withheld_reason=withheld_reason, replaces=part_state.head,
        reassessment_of=reassessment_of)
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=withheld,
                 summary=gettext_noop("dose withheld (%(withheld_reason)s): %(product)s "
                                      "%(part)s"),
                 params={"withheld_reason": withheld_reason, "product": rx.product.name,
                         "part": part, "notes": noted})
    return withheld


def _check_may_give(state, *, reassessed, hand_take_home, today, paper) -> None:
    """A dose is given unless held after missed days, a doctor must see the person first,
    or a dose was withheld today for intoxication without a new assessment."""
    if state.is_held and paper is not None:
        raise ValidationError(_("Held on %(day)s: %(days)s consecutive days without a dose before "
                                "it and no doctor's review that day. A dose on a held day is not "
                                "recorded from paper: tell a doctor. Nothing was recorded.")
                              % {"day": date_format(today), "days": state.missed_days})
    # As the database's trigger (alerts migration 0003): a dose given on paper before the
    # alert was recorded stands.
    alert = state.doctor_first
    if alert is not None and (paper is None or alert.recorded_at <= paper.given_at):
        raise ValidationError(_("A doctor must see this person before any dose (alert of %(date)s: "
                                "%(text)s). Nothing was recorded; the doctor ends the alert after "
                                "seeing them.")
                              % {"date": date_format(timezone.localtime(alert.recorded_at),
                                                     "SHORT_DATETIME_FORMAT"),
                                 "text": alert.text})
    if state.is_held:
        raise ValidationError(_("Held: %(days)s consecutive days without a dose. Tolerance may be "
                                "lost; a doctor must review (and may lower the dose) before the "
                                "next dose.") % {"days": state.missed_days})
    _check_after_intoxication(state, reassessed=reassessed, hand_take_home=hand_take_home)


def _quantity_to_give(rx, state, part_state, *, part, quantity, today, paper) -> Decimal:
    """The quantity given: what is left of the part today unless the nurse gives less
    (less than prescribed after a same-day change of dose: only the top-up is given), never
    above the part's dose nor the daily dose."""
    unit = rx.product.unit
    part_dose = rx.part_dose(part)
    to_give = part_state.dose
    quantity = to_give if quantity is None else quantity
    if quantity <= 0:
        raise ValidationError(_("The quantity must be above zero."))
    if part_state.is_top_up and quantity > to_give:
        raise ValidationError(_("A top-up above the remaining daily dose: %(given)s already given "
                                "today, the daily dose is %(daily)s; at most %(left)s more may be "
                                "given. Nothing was recorded.")
                              % {"given": _quantity(state.given_today, unit),
                                 "daily": _quantity(rx.daily_dose, unit),
                                 "left": _quantity(to_give, unit)})
    if quantity > part_dose:
        raise ValidationError(_("More than prescribed: the prescription gives %(dose)s for this "
                                "part.") % {"dose": _quantity(part_dose, unit)})
    if state.given_today + quantity > rx.daily_dose and paper is not None:
        raise ValidationError(_("More than prescribed: %(given)s already given on %(day)s, the "
                                "daily dose is %(daily)s. Nothing was recorded.")
                              % {"given": _quantity(state.given_today, unit),
                                 "day": date_format(today),
                                 "daily": _quantity(rx.daily_dose, unit)})
    if state.given_today + quantity > rx.daily_dose:
        raise ValidationError(_("More than prescribed: %(given)s already given today, the daily "
                                "dose is %(daily)s.")
                              % {"given": _quantity(state.given_today, unit),
                                 "daily": _quantity(rx.daily_dose, unit)})
    return quantity


def _hold_review_of_the_day(rx, state, *, today) -> HoldReview | None:
    """The doctor's review that lifted the hold that day, which the dose points at."""
    if state.missed_days < selectors.HOLD_AFTER_MISSED_DAYS:
        return None
    return (HoldReview.objects.filter(patient_id=rx.patient_id, substance=rx.product.substance,
                                      reviewed_on=today)
            .order_by("-reviewed_at").first())


def _check_register_balance(rx, *, quantity, take_home) -> None:
    """A controlled product: its row locked (it numbers the register entries), and enough in
    the register for the dose and the take-home doses."""
    if not rx.product.is_controlled:
        return
    unit = rx.product.unit
    total = quantity + sum((dose for _day, _part, dose in take_home), Decimal(0))
    _lock_product(rx.product)
    balance = selectors.product_balance(rx.product)
    if total > balance:
        raise ValidationError(_("Not enough %(product)s in the register: the balance is "
                                "%(balance)s and this dispensation needs %(total)s. Record the "
                                "receipt (or a stock count) first; nothing was dispensed.")
                              % {"product": rx.product, "balance": _quantity(balance, unit),
                                 "total": _quantity(total, unit)})


def _register_and_audit_given(patient, rx, created, *, actor, today, now, paper,
                              noted) -> None:
    """Each entry given goes into the register (a controlled product) and the audit trail.
    A paper record goes into the register the day it is typed in, after the entries
    already there (numbers, dates and balances follow each other), naming its day."""
    register_marks = {}
    if paper is not None:
        register_marks = {"recorded_after_the_fact": True,
                          "note": f"recorded after the fact: given {paper.given_at:%Y-%m-%d}"}
    for entry in created:
        if rx.product.is_controlled:
            _register_append(product=rx.product, kind=RegisterEntry.Kind.DISPENSED,
                             quantity=-entry.quantity, dispensation=entry, actor=actor,
                             today=paper.recorded_on if paper else today, now=now,
                             locked=True, **register_marks)
        reassessed = ([phrase(gettext_noop("after a new intoxication assessment"))]
                      if entry.reassessment_of_id else [])
        audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=entry,
                     summary=gettext_noop("dispensed %(quantity)s %(product)s %(part)s for "
                                          "%(day)s"),
                     params={"quantity": _quantity(entry.quantity, rx.product.unit),
                             "product": rx.product.name, "part": entry.part,
                             "day": f"{entry.dose_date:%Y-%m-%d}",
                             "notes": reassessed + noted})


def _check_after_intoxication(state, *, reassessed: bool, hand_take_home: bool) -> None:
    """A dose withheld today for signs of intoxication: a later dose needs a new assessment
    recorded on the form (the one-click button answers for the first check only), and days
    of doses are not handed to someone found intoxicated today."""
    withheld = state.intoxication_withheld
    if withheld is None:
        return
    time = timezone.localtime(withheld.dispensed_at).strftime("%H:%M")
    if not reassessed:
        raise ValidationError(_("A dose was withheld today at %(time)s for signs of intoxication: "
                                "open the dispensing form and record a new assessment (no signs "
                                "now) before giving. Nothing was recorded.") % {"time": time})
    if hand_take_home and state.take_home_due:
        raise ValidationError(_("No take-home doses today: a dose was withheld at %(time)s for "
                                "signs of intoxication. Give today's dose only; nothing was "
                                "recorded.") % {"time": time})


def _take_home_entries(rx: Prescription, days: list) -> list[tuple]:
    """(day, part, dose) of the take-home doses to hand today: each part of the take-home
    days that follow (``DoseState.take_home_to_hand``), unless some dose of the substance was
    already handed for that day."""
    if not days:
        return []
    covered = set(selectors.given_dispensations()
                  .filter(patient_id=rx.patient_id, product__substance=rx.product.substance,
                          dose_date__in=days)
                  .values_list("dose_date", flat=True))
    return [(day, part, rx.part_dose(part)) for day in days if day not in covered
            for part in rx.parts()]


def dispensation_cancel(*, dispensation: Dispensation, reason: str,
                        actor) -> DispensationCancellation:
    """Cancel a ledger entry recorded by mistake: a new entry with the reason; the quantity
    returns to the register. Another person than the one who recorded it must cancel: a
    cancellation frees that day's dose for a new one."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why this entry is cancelled."))
    try:
        with transaction.atomic():
            patient = _lock_patient(dispensation.patient_id)
            entry = Dispensation.objects.select_related("product").get(pk=dispensation.pk)
            if DispensationCancellation.objects.filter(dispensation=entry).exists():
                raise ValidationError(_("This entry is already cancelled."))
            if actor.pk is not None and actor.pk in (entry.dispensed_by_id,
                                                     entry.recorded_by_id):
                raise ValidationError(_("You recorded this entry: another authorised person must "
                                        "cancel it (two people see every cancellation)."))
            now = timezone.now()
            cancellation = DispensationCancellation.objects.create(
                dispensation=entry, reason=reason, cancelled_at=now, cancelled_by=actor)
            if entry.status == Dispensation.Status.GIVEN and entry.product.is_controlled:
                _register_append(product=entry.product, kind=RegisterEntry.Kind.CANCELLED,
                                 quantity=entry.quantity, dispensation=entry, actor=actor,
                                 today=timezone.localdate(), now=now,
                                 # the reason may be clinical: it stays on the cancellation,
                                 # which only clinicians read; the register names the entry
                                 note=f"dispensation {entry.pk} cancelled")
            audit_record(actor=actor, action=Action.CANCEL, patient=patient, obj=entry,
                         summary=gettext_noop("dispensation %(dispensation)s cancelled"),
                         params={"dispensation": entry.pk})
            return cancellation
    except IntegrityError as exc:
        raise _database_refusal(exc) from exc


# --- prescriptions --------------------------------------------------------------------------


def prescription_create(*, patient: Patient, product: Product, daily_dose: Decimal,
                        start_date: datetime.date, actor, evening_dose: Decimal = Decimal(0),
                        end_date: datetime.date | None = None,
                        take_home_weekdays: list[int] | None = None, pharmacy=None,
                        instructions: str = "", based_on: str | None = None,
                        induction_confirmed: bool = False,
                        induction_override_reason: str = "",
                        today: datetime.date | None = None) -> Prescription:
    """Prescribe. A prescription of the same substance still running on ``start_date`` (or
    starting later) ends: the day before, or today when replaced from today (doses may have
    been given under it today; the new one is in force and gives only the top-up). A dose
    change is a new prescription, the history stays.

    ``based_on`` is :func:`selectors.prescribing_version` of the patient when the doctor's
    form was built: when another prescription was written or ended since, nothing is
    written and :class:`ChangedMeanwhile` says so (two doctors prescribing at once).

    A first prescription of a substance, or one after the missed-day hold, is checked against
    the product's induction rule (selectors.induction_assessment): going beyond it needs
    ``induction_confirmed`` and an ``induction_override_reason``, both recorded on the
    prescription; else :class:`AboveInductionRules` and nothing is written."""
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = _lock_patient(patient.pk)
        if locked.merged_into_id is not None:
            raise ValidationError(_("This file was merged into another one: prescribe in the kept "
                                    "file."))
        if based_on is not None and based_on != selectors.prescribing_version(patient=locked):
            raise ChangedMeanwhile(_("The prescriptions of %(alias)s changed meanwhile "
                                     "(another prescriber saved first). Nothing was "
                                     "recorded: check the running prescriptions below, then "
                                     "prescribe again.") % {"alias": locked.alias})
        # A coordinator may be changing the product at this moment (product_save): the
        # lock waits for that, and makes them wait for this prescription, after which the
        # product's unit and register flags are locked (by the database too).
        _share_product(product)
        overrides, reason = _induction_check(
            patient=locked, product=product, daily_dose=daily_dose, start_date=start_date,
            end_date=end_date, take_home_weekdays=take_home_weekdays or [], pharmacy=pharmacy,
            confirmed=induction_confirmed, reason=induction_override_reason)
        return _prescription_create(
            patient=locked, product=product, daily_dose=daily_dose, evening_dose=evening_dose,
            start_date=start_date, end_date=end_date,
            take_home_weekdays=take_home_weekdays or [], pharmacy=pharmacy,
            instructions=instructions, actor=actor, today=today,
            induction_overrides=overrides, induction_override_reason=reason)


def _induction_check(*, patient, product, daily_dose, start_date, end_date, take_home_weekdays,
                     pharmacy, confirmed: bool, reason: str) -> tuple[list[str], str]:
    """The induction rules the prescription about to be written goes beyond, and the reason
    to record; :class:`AboveInductionRules` unless confirmed with a reason. Called under the
    patient's lock: the doses and prescriptions the rule reads cannot change before the
    prescription is written."""
    reason = reason.strip()
    assessment = selectors.induction_assessment(
        patient=patient, product=product, daily_dose=daily_dose, start_date=start_date,
        end_date=end_date, take_home_weekdays=take_home_weekdays, pharmacy=pharmacy)
    if not assessment.warnings:
        return [], ""
    if not confirmed:
        raise AboveInductionRules(_(
            "Above the induction rules of %(product)s (%(context)s). Lower the prescription, "
            "or confirm and give your reason to prescribe it anyway. Nothing was recorded.")
            % {"product": product, "context": assessment.context}, assessment)
    if not reason:
        raise AboveInductionRules(_(
            "Give the reason for going above the induction rules: the confirmation alone is "
            "not enough. Nothing was recorded."), assessment)
    return assessment.codes, reason


def _prescription_create(*, patient, product, daily_dose, evening_dose, start_date, end_date,
                         take_home_weekdays, pharmacy, instructions, actor, today,
                         induction_overrides=(), induction_override_reason="") -> Prescription:
    _check_prescription_figures(product=product, daily_dose=daily_dose,
                                evening_dose=evening_dose, start_date=start_date,
                                end_date=end_date, take_home_weekdays=take_home_weekdays,
                                today=today)
    same_substance = (Prescription.objects
                      .filter(patient=patient, product__substance=product.substance)
                      .select_related("product"))
    # The prescription this one continues: the last one running the day before it starts,
    # or one started that same day (replaced the day it began).
    previous = (same_substance.filter(start_date__lte=start_date)
                .filter(Q(end_date__isnull=True) | Q(end_date__gte=start_date - ONE_DAY))
                .order_by("-start_date", "-id").first())
    _end_replaced(same_substance, patient=patient, start_date=start_date, actor=actor,
                  today=today)
    # The run of prescriptions goes on (at the MASS, without a day in between): its first
    # day stays. Missed days are counted from the last dose given whatever the run, this
    # first day counting only for a patient who never had a dose (DoseState.missed_days).
    continues = (previous is not None and previous.is_at_mass and pharmacy is None)
    replaces = None
    if previous is not None and not Prescription.objects.filter(replaces=previous).exists():
        replaces = previous
    rx = Prescription.objects.create(
        patient=patient, product=product, daily_dose=daily_dose, evening_dose=evening_dose,
        start_date=start_date, end_date=end_date,
        take_home_weekdays=sorted(set(take_home_weekdays)), pharmacy=pharmacy,
        instructions=instructions, replaces=replaces,
        course_started_on=previous.course_started_on if continues else start_date,
        prescribed_by=actor, induction_overrides=list(induction_overrides),
        induction_override_reason=induction_override_reason[:500],
    )
    # The override is in the trail; its reason, clinical, stays on the prescription (which
    # only prescribers and nurses read), as a hold review's reasoning does.
    override = ([phrase(gettext_noop("above the induction rules (%(rules)s), confirmed with "
                                     "a reason"), rules=", ".join(induction_overrides))]
                if induction_overrides else [])
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=rx,
                 summary=gettext_noop("prescription %(product)s %(quantity)s from %(day)s"),
                 params={"product": product.name, "quantity": _quantity(daily_dose, product.unit),
                         "day": f"{start_date:%Y-%m-%d}", "notes": override})
    return rx


def _check_prescription_figures(*, product, daily_dose, evening_dose, start_date, end_date,
                                take_home_weekdays, today) -> None:
    """Dates and doses a prescription may have, before anything is read or written."""
    if start_date < today:
        raise ValidationError(_("A prescription cannot start in the past."))
    if daily_dose <= 0 or daily_dose > product.max_daily_dose:
        raise ValidationError(_("The daily dose must be above zero and at most %(max)s.")
                              % {"max": _quantity(product.max_daily_dose, product.unit)})
    if evening_dose < 0 or evening_dose >= daily_dose:
        raise ValidationError(_("The evening part must be less than the daily dose."))
    if end_date is not None and end_date < start_date:
        raise ValidationError(_("The prescription cannot end before it starts."))
    if len(set(take_home_weekdays)) >= 7:
        raise ValidationError(_("At least one day a week must be dispensed under supervision."))


def _end_replaced(same_substance, *, patient, start_date, actor, today) -> None:
    """The prescriptions of the substance still running on ``start_date`` (or starting
    later) end, each with its audit row."""
    for running in same_substance.filter(Q(end_date__isnull=True)
                                         | Q(end_date__gte=start_date)):
        if start_date == today and running.start_date <= today:
            # Replaced today: it was in force this morning and doses may have been given
            # under it, so it ends today, never before its own start; the new one is in force
            # from now (the newer of two running the same day) and what was given counts.
            end = today
        else:
            # Replaced from a later day, or before it began (then it ends the day before its
            # start: written but never in force, the one case the check constraint allows).
            end = max(start_date, running.start_date) - ONE_DAY
        if running.end_date is not None and running.end_date <= end:
            continue  # already ends by then (replaced earlier today): who ended it stays
        running.end_date = end
        running.ended_by = actor
        running.end_reason = _("Replaced by a new prescription.")
        running.save(update_fields=["end_date", "ended_by", "end_reason"])
        audit_record(actor=actor, action=Action.UPDATE, patient=patient, obj=running,
                     summary=gettext_noop("prescription %(prescription)s ends %(day)s: "
                                          "replaced"),
                     params={"prescription": running.pk, "day": f"{running.end_date:%Y-%m-%d}"})


def prescription_end(*, prescription: Prescription, end_date: datetime.date, reason: str,
                     actor, today: datetime.date | None = None) -> Prescription:
    """Stop a prescription: its last day is ``end_date`` (yesterday at the earliest, so that
    nothing more is given from today)."""
    today = today or timezone.localdate()
    reason = reason.strip()
    with transaction.atomic():
        patient = _lock_patient(prescription.patient_id)
        rx = Prescription.objects.get(pk=prescription.pk)
        if not reason:
            raise ValidationError(_("Say why the prescription ends."))
        if rx.end_date is not None and rx.end_date < today:
            raise ValidationError(_("This prescription has already ended."))
        if end_date < today - ONE_DAY:
            raise ValidationError(_("The last day cannot be before yesterday: history is not "
                                    "rewritten."))
        if end_date < rx.start_date - ONE_DAY:
            raise ValidationError(_("The last day cannot be before the prescription starts."))
        if rx.end_date is not None and end_date > rx.end_date:
            raise ValidationError(_("To extend a prescription, write a new one."))
        rx.end_date = end_date
        rx.end_reason = reason[:300]
        rx.ended_by = actor
        rx.save(update_fields=["end_date", "end_reason", "ended_by"])
        audit_record(actor=actor, action=Action.UPDATE, patient=patient, obj=rx,
                     summary=gettext_noop("prescription %(prescription)s ends %(day)s"),
                     params={"prescription": rx.pk, "day": f"{end_date:%Y-%m-%d}"})
        return rx


def hold_review_record(*, prescription: Prescription, decision: str, note: str, actor,
                       full_dose_confirmed: bool = False, new_daily_dose: Decimal | None = None,
                       new_evening_dose: Decimal = Decimal(0),
                       induction_confirmed: bool = False, induction_override_reason: str = "",
                       today: datetime.date | None = None) -> HoldReview:
    """A doctor's review of a held patient: lifts the hold for today, at the prescribed dose
    (confirmed explicitly from the strong-warning threshold) or at a lower one. The lower
    dose is a new prescription after the hold, a restart: checked against the induction
    rules as :func:`prescription_create` checks it."""
    today = today or timezone.localdate()
    note = note.strip()
    with transaction.atomic():
        patient = _lock_patient(prescription.patient_id)
        rx = Prescription.objects.select_related("product").get(pk=prescription.pk)
        state = selectors.dose_state_for(prescription=rx, today=today)
        if state is None:
            raise ValidationError(_("This prescription is not dispensed at the MASS today."))
        if state.missed_days < selectors.HOLD_AFTER_MISSED_DAYS:
            raise ValidationError(_("This patient is not held: no review is needed."))
        if not note:
            raise ValidationError(_("Record your clinical reasoning."))
        new_rx = None
        if decision == HoldReview.Decision.RESUME:
            if state.strong_warning and not full_dose_confirmed:
                raise ValidationError(_("%(days)s days without a dose: confirm explicitly that "
                                        "the full dose is safe, or lower it.")
                                      % {"days": state.missed_days})
        elif decision == HoldReview.Decision.LOWER:
            if new_daily_dose is None or not 0 < new_daily_dose < rx.daily_dose:
                raise ValidationError(_("The new daily dose must be below the prescribed %(dose)s.")
                                      % {"dose": _quantity(rx.daily_dose, rx.product.unit)})
            overrides, reason = _induction_check(
                patient=patient, product=rx.product, daily_dose=new_daily_dose,
                start_date=today, end_date=rx.end_date,
                take_home_weekdays=rx.take_home_weekdays, pharmacy=None,
                confirmed=induction_confirmed, reason=induction_override_reason)
            new_rx = _prescription_create(
                patient=patient, product=rx.product, daily_dose=new_daily_dose,
                evening_dose=new_evening_dose, start_date=today, end_date=rx.end_date,
                take_home_weekdays=rx.take_home_weekdays, pharmacy=None,
                instructions=rx.instructions, actor=actor, today=today,
                induction_overrides=overrides, induction_override_reason=reason)
        else:
            raise ValidationError(_("Choose a decision."))
        review = HoldReview.objects.create(
            patient=patient, prescription=rx, substance=rx.product.substance,
            reviewed_on=today, missed_days=state.missed_days, decision=decision,
            new_prescription=new_rx, full_dose_confirmed=full_dose_confirmed, note=note,
            reviewed_by=actor)
        audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=review,
                     summary=gettext_noop("hold review after %(days)s missed days: "
                                          "%(review_decision)s"),
                     params={"days": state.missed_days, "review_decision": decision})
        return review


# --- closed days ----------------------------------------------------------------------------


def closed_day_plan_record(*, prescription: Prescription, first_day: datetime.date,
                           last_day: datetime.date, decision: str, note: str, actor,
                           today: datetime.date | None = None) -> ClosedDayPlan:
    """A doctor's plan for the doses of the days the centre is closed from ``first_day`` to
    ``last_day``, for a patient the list flags: take-home with the dose of the day before
    (the closed days of the range become take-home days of the patient's prescription of
    the substance, with the usual limits), or another arrangement said in the note."""
    today = today or timezone.localdate()
    note = note.strip()
    if decision not in ClosedDayPlan.Decision.values:
        raise ValidationError(_("Choose a decision."))
    if not note:
        raise ValidationError(_("Say what is planned for these days (the note is read at the "
                                "counter)."))
    if last_day < first_day:
        raise ValidationError(_("The last closed day is before the first one."))
    if first_day <= today:
        raise ValidationError(_("A closed-day plan is for the coming days: the doses of today and "
                                "of past days are recorded at the counter."))
    with transaction.atomic():
        patient = _lock_patient(prescription.patient_id)
        rx = Prescription.objects.select_related("product").get(pk=prescription.pk)
        if selectors.dose_state_for(prescription=rx, today=today) is None:
            raise ValidationError(_("This prescription is not dispensed at the MASS today."))
        plan = ClosedDayPlan.objects.create(
            patient=patient, prescription=rx, substance=rx.product.substance,
            first_day=first_day, last_day=last_day, decision=decision, note=note,
            decided_by=actor)
        audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=plan,
                     summary=gettext_noop("closed-day plan %(first_day)s to %(last_day)s: "
                                          "%(plan_decision)s"),
                     params={"first_day": f"{first_day:%Y-%m-%d}",
                             "last_day": f"{last_day:%Y-%m-%d}", "plan_decision": decision})
        return plan


# --- register -------------------------------------------------------------------------------


def _lock_product(product: Product) -> None:
    Product.objects.select_for_update(no_key=True).filter(pk=product.pk).first()


def _share_product(product: Product) -> None:
    """FOR SHARE: other prescriptions and dispensations go on, a change of the product waits
    (and waits for it)."""
    sql.product_share_lock(product_id=product.pk)


def _register_append(*, product: Product, kind: str, quantity: Decimal, actor, today=None,
                     now=None, locked: bool = False, **fields) -> RegisterEntry:
    """Append an entry to the product's register, with the next number and the running
    balance. Refused when the balance would go below zero."""
    if not locked:
        _lock_product(product)
    last = (RegisterEntry.objects.filter(product=product).order_by("-sequence")
            .values("sequence", "balance_after").first())
    sequence = (last["sequence"] if last else 0) + 1
    balance = (last["balance_after"] if last else Decimal(0)) + quantity
    if balance < 0:
        raise ValidationError(_("The balance of %(product)s would go below zero (%(balance)s): "
                                "refused.") % {"product": product,
                                               "balance": _quantity(balance, product.unit)})
    return RegisterEntry.objects.create(
        product=product, sequence=sequence, kind=kind, date=today or timezone.localdate(),
        quantity=quantity, balance_after=balance, recorded_at=now or timezone.now(),
        recorded_by=actor, **fields)


def register_receipt(*, product: Product, quantity: Decimal, supplier: str, batch: str,
                     received_on: datetime.date, actor, note: str = "") -> RegisterEntry:
    if not product.is_controlled:
        raise ValidationError(_("%(product)s is not kept in the register.") % {"product": product})
    if quantity <= 0:
        raise ValidationError(_("The quantity received must be above zero."))
    with transaction.atomic():
        entry = _register_append(product=product, kind=RegisterEntry.Kind.RECEIPT,
                                 quantity=quantity, actor=actor, supplier=supplier.strip(),
                                 batch=batch.strip(), received_on=received_on,
                                 note=note.strip())
        audit_record(actor=actor, action=Action.CREATE, obj=entry,
                     summary=gettext_noop("register receipt %(product)s +%(quantity)s batch "
                                          "%(batch)s"),
                     params={"product": product.name, "quantity": str(quantity),
                             "batch": batch})
        return entry


def register_count(*, product: Product, counted: Decimal, actor, reason_code: str = "",
                   note: str = "") -> RegisterEntry:
    """A stock count: the counted quantity becomes the balance; a discrepancy needs a reason
    code (and a note for "other")."""
    if not product.is_controlled:
        raise ValidationError(_("%(product)s is not kept in the register.") % {"product": product})
    if counted < 0:
        raise ValidationError(_("The counted quantity cannot be negative."))
    with transaction.atomic():
        _lock_product(product)
        balance = selectors.product_balance(product)
        discrepancy = counted - balance
        if discrepancy != 0 and not reason_code:
            raise ValidationError(_("The count differs from the register by %(diff)s: give the "
                                    "reason.") % {"diff": _quantity(discrepancy, product.unit)})
        if reason_code == RegisterEntry.Reason.OTHER and not note.strip():
            raise ValidationError(_("Explain the discrepancy in the note."))
        entry = _register_append(product=product, kind=RegisterEntry.Kind.COUNT,
                                 quantity=discrepancy, actor=actor, locked=True,
                                 counted=counted,
                                 reason_code=reason_code if discrepancy else "",
                                 note=note.strip())
        audit_record(actor=actor, action=Action.CREATE, obj=entry,
                     summary=gettext_noop("stock count %(product)s: %(counted)s "
                                          "(%(discrepancy)s)"),
                     params={"product": product.name, "counted": str(counted),
                             "discrepancy": f"{discrepancy:+}"})
        return entry


def register_correct(*, entry: RegisterEntry, quantity: Decimal, note: str,
                     actor) -> RegisterEntry:
    """Correct a receipt recorded with a wrong quantity: a new, linked entry with a reason."""
    note = note.strip()
    if entry.kind != RegisterEntry.Kind.RECEIPT:
        raise ValidationError(_("Only receipts are corrected this way; a dispensation is cancelled "
                                "and a count is followed by a new count."))
    if quantity == 0:
        raise ValidationError(_("A correction changes the quantity: it cannot be zero."))
    if not note:
        raise ValidationError(_("Say why the receipt is corrected."))
    with transaction.atomic():
        correction = _register_append(product=entry.product,
                                      kind=RegisterEntry.Kind.CORRECTION, quantity=quantity,
                                      actor=actor, corrects=entry, note=note)
        audit_record(actor=actor, action=Action.CREATE, obj=correction,
                     summary=gettext_noop("register correction of entry %(sequence)s: "
                                          "%(quantity)s"),
                     params={"sequence": entry.sequence, "quantity": f"{quantity:+}"})
        return correction


# --- reference data -------------------------------------------------------------------------

PRODUCT_FIELDS = ["name", "substance", "form", "unit", "is_substitution", "is_controlled",
                  "max_daily_dose", "is_active"]


def product_locked_message(product: Product, fields) -> str:
    names = ", ".join(str(Product._meta.get_field(name).verbose_name) for name in fields)
    return _("%(product)s is prescribed or in the drug register: its %(fields)s cannot change "
             "(past doses and balances depend on them). Nothing was saved; create a new "
             "product instead.") % {"product": product, "fields": names}


def product_save(*, product: Product | None, data: dict, actor) -> Product:
    """Add a product, or change one. Once prescribed or in the register, the fields of
    Product.LOCKED_WHEN_USED are locked: a change of them is refused and nothing is written
    (the database refuses it too)."""
    values = {name: data[name] for name in PRODUCT_FIELDS if name in data}
    try:
        with transaction.atomic():
            if product is None or product.pk is None:
                saved = Product.objects.create(**values)
                audit_record(actor=actor, action=Action.CREATE, obj=saved,
                             summary=gettext_noop("product %(product)s"),
                             params={"product": saved.name})
                return saved
            # Prescribing takes this row FOR SHARE: a first prescription and this change
            # are served one after the other, and the check below sees the prescription.
            current = Product.objects.select_for_update(no_key=True).get(pk=product.pk)
            changed = [name for name in Product.LOCKED_WHEN_USED
                       if name in values and values[name] != getattr(current, name)]
            if changed and selectors.product_in_use(current):
                raise ValidationError(product_locked_message(current, changed))
            for name, value in values.items():
                setattr(current, name, value)
            current.save()
            audit_record(actor=actor, action=Action.UPDATE, obj=current,
                         summary=gettext_noop("product %(product)s"),
                         params={"product": current.name})
            return current
    except IntegrityError as exc:
        raise _database_refusal(exc) from exc


INDUCTION_RULE_FIELDS = ["max_starting_dose", "induction_days", "max_increase",
                         "min_days_between_increases", "supervised_days", "source"]


def induction_rule_save(*, product: Product, data: dict, actor):
    """Set the induction rule of a product (created the first time). The trail keeps the
    figures before and after: a rule changes what every later prescription is checked
    against."""
    from dispensary.models import InductionRule

    values = {name: data[name] for name in INDUCTION_RULE_FIELDS}
    with transaction.atomic():
        rule = InductionRule.objects.select_for_update().filter(product=product).first()
        before = ({name: str(getattr(rule, name)) for name in INDUCTION_RULE_FIELDS}
                  if rule else None)
        if rule is None:
            rule = InductionRule(product=product)
        for name, value in values.items():
            setattr(rule, name, value)
        rule.updated_by = actor
        rule.save()
        rule.refresh_from_db()  # the figures as stored (2 decimals), for the trail
        after = {name: str(getattr(rule, name)) for name in INDUCTION_RULE_FIELDS}
        audit_record(actor=actor, action=Action.UPDATE if before else Action.CREATE, obj=rule,
                     summary=gettext_noop("induction rule of %(product)s: starting dose "
                                          "%(starting_dose)s, step %(step)s, %(induction_days)s "
                                          "days, %(supervised_days)s days supervised"),
                     params={"product": product.name,
                             "starting_dose": _quantity(rule.max_starting_dose, product.unit),
                             "step": _quantity(rule.max_increase, product.unit),
                             "induction_days": rule.induction_days,
                             "supervised_days": rule.supervised_days},
                     details={"before": before, "after": after})
        return rule


def merge_conflicts(*, kept: Patient, merged: Patient) -> list[str]:
    """Why two files cannot be merged yet (patients.services.patient_merge asks): two
    prescriptions of one substance running at once would give one person two treatments;
    a doctor ends one of them first."""
    today = timezone.localdate()
    running = (Prescription.objects.filter(patient__in=[kept, merged])
               .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
               .values_list("product__substance", "patient_id"))
    files_by_substance: dict[str, set[int]] = {}
    for substance, patient_id in running:
        files_by_substance.setdefault(substance, set()).add(patient_id)
    return [_("Both files have a running prescription of %(substance)s: a doctor ends one of "
              "them first.") % {"substance": substance}
            for substance, files in sorted(files_by_substance.items()) if len(files) > 1]
