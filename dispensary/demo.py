"""Demo substitution treatments (`manage.py seed_demo`): prescriptions, daily dispensations,
doctor's reviews after missed days, and the controlled-drug register that balances them.

The patients on substitution are the most regular visitors of the demo walk-ins
(patients.demo), and every dose is given on a day the patient walked in: dispensing then adds
no contact of its own, so the yearly figures of the demo stay those of the walk-ins. The
rules of the real desk are followed (the database checks them anyway): one dose a day,
take-home days that fit how often each patient comes (Sunday's dose handed on Saturday at
least), a doctor's review after 3 days without a dose (a lower dose from 5), a course ended
after a month of absence.

The ledger is append-only, so the demo is seeded once: if any prescription exists, nothing
is added.
"""

import datetime
import random
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from dispensary.models import (
    Dispensation,
    DispensationCancellation,
    HoldReview,
    InductionCheck,
    InductionRule,
    Pharmacy,
    Prescription,
    Product,
    RegisterEntry,
)
from dispensary.rules import HOLD_AFTER_MISSED_DAYS, STRONG_WARNING_MISSED_DAYS
from mass.accounts.roles import Role
from mass.models import User
from patients.models import Patient, Visit

SEED = 5
#: Patients on substitution per unit of scale (the most regular visitors).
PATIENTS_ON_SUBSTITUTION = 90
MIN_VISIT_DAYS = 20
MIN_ATTENDANCE = 0.3
LOST_AFTER_DAYS = 30
SUNDAY = 6

PRODUCT_MIX = [  # product name, weight, dose choices (mg), dose step
    ("Methadone syrup 1 mg/ml", 70, [30, 40, 50, 60, 60, 70, 80, 80, 90, 100, 120], 10),
    ("Methadone capsules", 8, [40, 60, 80], 10),
    ("Buprenorphine sublingual tablets", 15, [4, 6, 8, 8, 12, 16], 2),
    ("Buprenorphine/naloxone sublingual tablets", 7, [4, 8, 8, 12], 2),
]
PHARMACIES = [("Pharmacie de la Bourse (fictive)", "Boulevard Anspach 1, 1000 Bruxelles"),
              ("Pharmacie du Midi (fictive)", "Avenue de Stalingrad 2, 1000 Bruxelles")]
SUPPLIERS = ["Febelco", "Pharma Belgium", "CERP"]
INTOXICATION_SIGNS = ["Somnolent, élocution lente", "Myosis serré, somnolence",
                      "Haleine alcoolisée, instable", "Agité, propos incohérents"]


def seed(*, years: int, scale: float, stdout) -> None:
    if Prescription.objects.exists():
        stdout.write("dispensary: prescriptions exist already, nothing added")
        return
    today = timezone.localdate()
    start = today - datetime.timedelta(days=365 * years)
    visit_days = _visit_days(start, today, limit=max(1, round(PATIENTS_ON_SUBSTITUTION * scale)))
    if not visit_days:
        stdout.write("dispensary: no demo walk-ins yet (seed patients first), nothing added")
        return
    nurses = _staff(Role.NURSE) or _staff(None)
    doctors = _staff(Role.DOCTOR) or _staff(Role.PSYCHIATRIST) or nurses
    with transaction.atomic():
        counts = _seed(visit_days, today=today, rng=random.Random(SEED), nurses=nurses,
                       doctors=doctors)
    stdout.write(
        f"dispensary: {counts['patients']} patients on substitution, "
        f"{counts['prescriptions']} prescriptions, {counts['dispensations']} dispensations, "
        f"{counts['reviews']} reviews, {counts['register']} register entries")


def _visit_days(start, end, *, limit) -> dict[int, list]:
    """The regular visitors and their walk-in days at the centre (Monday to Saturday)."""
    regulars = list(
        Visit.objects.filter(date__gte=start, date__lte=end)
        .exclude(patient__status__in=[Patient.Status.MERGED, Patient.Status.DECEASED])
        .values("patient_id").annotate(days=Count("date", distinct=True))
        .filter(days__gte=MIN_VISIT_DAYS).order_by("-days", "patient_id")
        .values_list("patient_id", flat=True)[:limit])
    days: dict[int, dict] = defaultdict(dict)
    for patient_id, day, time in (Visit.objects
                                  .filter(patient_id__in=regulars, date__gte=start,
                                          date__lte=end)
                                  .order_by("date", "time").values_list("patient_id", "date",
                                                                        "time")):
        if day.weekday() != SUNDAY:
            days[patient_id].setdefault(day, time)
    # Substitution at the MASS means coming most days: the occasional visitors of the demo
    # would be held at every visit (in real life they collect at a pharmacy).
    return {pid: sorted(d.items()) for pid, d in days.items()
            if _attendance(sorted(d)) >= MIN_ATTENDANCE}


def _staff(role) -> list[int]:
    users = User.objects.filter(is_active=True)
    if role is not None:
        users = users.filter(groups__name=role.value)
    return list(users.order_by("pk").values_list("pk", flat=True))


def _aware(day, time):
    return timezone.make_aware(datetime.datetime.combine(day, time))


ONE_DAY = datetime.timedelta(days=1)


def _attendance(days: list[datetime.date]) -> float:
    """Share of the open days (Monday to Saturday) between the first and last visit."""
    first, last = days[0], days[-1]
    open_days = sum(1 for n in range((last - first).days + 1)
                    if (first + datetime.timedelta(days=n)).weekday() != SUNDAY)
    return len(days) / max(open_days, 1)


def _take_home_weekdays(days) -> list[int]:
    """Take-home days that fit how often the patient comes (the doctor's choice in real
    life): Sunday only for those who come most days; then Wednesday too; those who come
    about twice a week collect on Monday and Thursday for the days that follow."""
    rate = _attendance([day for day, _time in days])
    if rate >= 0.6:
        return [SUNDAY]
    if rate >= 0.4:
        return [2, SUNDAY]
    return [1, 2, 4, 5, SUNDAY]


def _lower(course, step) -> int:
    """The dose to restart at after days without one: two thirds of the usual dose."""
    return max(step, round(course.usual_dose * 2 / 3 / step) * step)


def _end_lost(rx, covered_until, latest) -> None:
    """End a prescription two weeks after the last dose handed (lost to follow-up)."""
    end = min(covered_until + datetime.timedelta(days=14), latest)
    rx.end_date = max(end, covered_until, rx.start_date)
    rx.end_reason = "Perdu de vue."


class _Course:
    """One patient's treatment being written, prescription by prescription."""

    def __init__(self, patient_id, product, dose):
        self.patient_id, self.product, self.dose = patient_id, product, dose
        self.usual_dose = dose
        self.split = False
        self.current: Prescription | None = None
        # The day of the last (re)start: the induction rules apply from it.
        self.induction_start: datetime.date | None = None


#: Most demo patients come already stabilised elsewhere (they start at their usual dose):
#: the prescriber confirmed going above the induction rules, for this reason.
DEMO_OVERRIDE_REASON = ("Déjà stabilisé(e) dans un autre programme : dose vérifiée auprès du "
                        "prescripteur précédent.")


def _induction_overrides(rule, *, dose, day, start, previous, take_home) -> list[str]:
    """The induction rules a demo prescription goes beyond (as selectors.induction_assessment
    would find them), recorded as confirmed."""
    if rule is None or start is None:
        return []
    day_in = (day - start).days
    codes = []
    if day_in == 0 and dose > rule.max_starting_dose:
        codes.append(InductionCheck.STARTING_DOSE)
    elif day_in < rule.induction_days and previous is not None:
        if dose - previous.daily_dose > rule.max_increase:
            codes.append(InductionCheck.INCREASE)
        if (dose > previous.daily_dose
                and (day - previous.start_date).days < rule.min_days_between_increases):
            codes.append(InductionCheck.INCREASE_INTERVAL)
    if take_home and day_in < rule.supervised_days:
        codes.append(InductionCheck.TAKE_HOME)
    return codes


def _seed(visit_days, *, today, rng, nurses, doctors) -> dict[str, int]:
    products = {p.name: p for p in Product.objects.all()}
    pharmacies = [Pharmacy.objects.get_or_create(name=name, defaults={"address": address})[0]
                  for name, address in PHARMACIES]
    prescriptions: list[Prescription] = []
    # Per dispensation, the fields and what to add after its insert (review, cancellation).
    doses: list[dict] = []
    reviews: list[HoldReview] = []
    counts = defaultdict(int)

    rules = {rule.product_id: rule for rule in InductionRule.objects.all()}

    def prescribe(course, day, *, replaces=None, course_start=None, pharmacy=None):
        overrides = _induction_overrides(
            rules.get(course.product.pk), dose=Decimal(course.dose), day=day,
            start=course.induction_start, previous=replaces, take_home=course.take_home)
        rx = Prescription(
            induction_overrides=overrides,
            induction_override_reason=DEMO_OVERRIDE_REASON if overrides else "",
            patient_id=course.patient_id, product=course.product,
            daily_dose=Decimal(course.dose),
            evening_dose=Decimal(course.dose // 3) if course.split else Decimal(0),
            start_date=day, take_home_weekdays=course.take_home, pharmacy=pharmacy,
            course_started_on=course_start or day, prescribed_by_id=rng.choice(doctors),
            instructions=rng.choice(["", "", "Prise devant l'infirmier(ère).",
                                     "Pas de doses à emporter si signes d'intoxication."]))
        rx._replaces = replaces
        if replaces is not None:
            replaces.end_date = day - datetime.timedelta(days=1)
            replaces.end_reason = "Remplacée par une nouvelle prescription."
        prescriptions.append(rx)
        course.current = rx
        return rx

    for patient_id, days in visit_days.items():
        name = rng.choices([p[0] for p in PRODUCT_MIX], weights=[p[1] for p in PRODUCT_MIX])[0]
        _, _, dose_choices, step = next(p for p in PRODUCT_MIX if p[0] == name)
        course = _Course(patient_id, products[name], rng.choice(dose_choices))
        course.split = name.startswith("Methadone") and rng.random() < 0.12
        course.take_home = _take_home_weekdays(days)
        counts["patients"] += 1
        covered_until: datetime.date | None = None  # the last day a dose was handed for
        last_dose: datetime.date | None = None  # the same, whatever the course
        course_start = None
        restore_on = None
        next_change = None
        for day, time in days:
            rx = course.current
            restart = False
            if rx is None or (covered_until and (day - covered_until).days > LOST_AFTER_DAYS):
                if rx is not None:  # lost contact: the course ended two weeks after
                    _end_lost(rx, covered_until, day - ONE_DAY)
                # Back after a break: the doctor restarts at a lower dose, and reviews the
                # hold (the missed days run from the last dose, not from the new course).
                restart = last_dose is not None
                course.dose = _lower(course, step) if restart else course.usual_dose
                course_start = day
                course.induction_start = day
                rx = prescribe(course, day)
                covered_until = None
                next_change = day + datetime.timedelta(days=rng.randint(45, 150))
                restore_on = day + datetime.timedelta(days=7) if restart else None
            if covered_until is not None and day <= covered_until:
                continue  # this day's dose was taken home: nothing to dispense
            # As DoseState.missed_days (and the database): since the last dose, else since
            # the course began.
            since = last_dose + ONE_DAY if last_dose else course_start
            missed = (day - since).days
            review = None
            if missed >= HOLD_AFTER_MISSED_DAYS and restart:
                review = HoldReview(
                    patient_id=patient_id, prescription=rx, substance=course.product.substance,
                    reviewed_on=day, missed_days=missed, decision=HoldReview.Decision.RESUME,
                    full_dose_confirmed=missed >= STRONG_WARNING_MISSED_DAYS,
                    note="Reprise après interruption, à la dose réduite prescrite ce jour.",
                    reviewed_by_id=rng.choice(doctors))
                reviews.append(review)
            elif missed >= HOLD_AFTER_MISSED_DAYS:
                lower = missed >= STRONG_WARNING_MISSED_DAYS
                if lower:
                    course.dose = _lower(course, step)
                    course.induction_start = day  # a restart after the hold
                    rx = prescribe(course, day, replaces=rx, course_start=course_start)
                    restore_on = day + datetime.timedelta(days=7)
                review = HoldReview(
                    patient_id=patient_id, prescription=rx._replaces if lower else rx,
                    substance=course.product.substance, reviewed_on=day, missed_days=missed,
                    decision=HoldReview.Decision.LOWER if lower else HoldReview.Decision.RESUME,
                    new_prescription=rx if lower else None,
                    note=("Reprise à dose réduite après interruption." if lower else
                          "Vu en consultation, pas de signe de perte de tolérance."),
                    reviewed_by_id=rng.choice(doctors))
                reviews.append(review)
            elif restore_on and day >= restore_on:
                course.dose = course.usual_dose
                rx = prescribe(course, day, replaces=rx, course_start=course_start)
                restore_on = None
            elif next_change and day >= next_change:
                course.usual_dose = min(max(step, course.usual_dose + rng.choice([-step, step])),
                                        int(course.product.max_daily_dose))
                course.dose = course.usual_dose
                rx = prescribe(course, day, replaces=rx, course_start=course_start)
                next_change = day + datetime.timedelta(days=rng.randint(45, 150))
            at = _aware(day, time or datetime.time(rng.randint(10, 17), rng.randint(0, 59)))
            nurse = rng.choice(nurses)
            parts = ([("morning", rx.daily_dose - rx.evening_dose), ("evening", rx.evening_dose)]
                     if rx.evening_dose else [("day", rx.daily_dose)])
            if rng.random() < 0.012:
                doses.append({"rx": rx, "date": day, "dose_date": day, "part": parts[0][0],
                              "status": "withheld", "quantity": Decimal(0),
                              "intoxication_signs": True, "at": at, "by": nurse,
                              "observations": rng.choice(INTOXICATION_SIGNS),
                              "withheld_reason": "intoxication", "review": review})
                continue
            for part, quantity in parts:
                offset = datetime.timedelta(hours=7) if part == "evening" else datetime.timedelta()
                doses.append({"rx": rx, "date": day, "dose_date": day, "part": part,
                              "status": "given", "quantity": quantity, "at": at + offset,
                              "by": nurse, "review": review,
                              "cancel": rng.random() < 0.002})
            covered_until = day
            # The take-home days that follow, handed with this dose.
            following = day + ONE_DAY
            while following.weekday() in course.take_home and day < today and missed < 3:
                for part, quantity in parts:
                    doses.append({"rx": rx, "date": day, "dose_date": following, "part": part,
                                  "status": "given", "quantity": quantity, "at": at,
                                  "by": nurse, "review": None})
                covered_until = following
                following += ONE_DAY
            last_dose = covered_until
        # A few patients now collect at a partner pharmacy; those not seen for a month were
        # lost to follow-up.
        if course.current is None or covered_until is None:
            continue
        if rng.random() < 0.06 and today - datetime.timedelta(days=10) < covered_until <= today:
            tomorrow = today + ONE_DAY
            prescribe(course, tomorrow, replaces=course.current, course_start=tomorrow,
                      pharmacy=rng.choice(pharmacies))
        elif (today - covered_until).days > LOST_AFTER_DAYS:
            _end_lost(course.current, covered_until, today - ONE_DAY)

    # A prescription is never updated but to end it (a trigger): the ids are taken from the
    # sequence first, so that each row is written with the one it replaces.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                       "FROM generate_series(1, %s)",
                       [Prescription._meta.db_table, len(prescriptions)])
        for rx, (pk,) in zip(prescriptions, cursor.fetchall(), strict=True):
            rx.pk = pk
    for rx in prescriptions:
        rx.replaces = rx._replaces
    Prescription.objects.bulk_create(prescriptions, batch_size=2000)
    HoldReview.objects.bulk_create(reviews, batch_size=2000)
    counts["prescriptions"], counts["reviews"] = len(prescriptions), len(reviews)

    doses.sort(key=lambda d: (d["date"], d["at"], d["dose_date"]))
    entries = [Dispensation(
        patient_id=d["rx"].patient_id, prescription=d["rx"], product=d["rx"].product,
        date=d["date"], dose_date=d["dose_date"], part=d["part"], status=d["status"],
        quantity=d["quantity"], intoxication_signs=d.get("intoxication_signs", False),
        observations=d.get("observations", ""), withheld_reason=d.get("withheld_reason", ""),
        review=d["review"] if d["review"] is not None and d["review"].pk else None,
        dispensed_at=d["at"], dispensed_by_id=d["by"]) for d in doses]
    Dispensation.objects.bulk_create(entries, batch_size=5000)
    counts["dispensations"] = len(entries)
    cancellations = [DispensationCancellation(
        dispensation=entry, reason="Enregistré pour le mauvais patient.",
        cancelled_at=entry.dispensed_at + datetime.timedelta(minutes=20),
        cancelled_by_id=rng.choice([d for d in doctors if d != entry.dispensed_by_id]
                                   or doctors))
        for entry, d in zip(entries, doses, strict=False) if d.get("cancel")]
    DispensationCancellation.objects.bulk_create(cancellations)
    counts["register"] = _seed_register(entries, {c.dispensation_id for c in cancellations},
                                        today=today, rng=rng, nurses=nurses)
    return counts


def _seed_register(entries, cancelled_ids, *, today, rng, nurses) -> int:
    """Receipts at the start of each month for the month's needs, every given dose, the
    cancellations, and a count at each month's end (now and then a little spillage)."""
    by_product: dict[int, list] = defaultdict(list)
    for entry in entries:
        if entry.status == Dispensation.Status.GIVEN and entry.product.is_controlled:
            by_product[entry.product_id].append(entry)
    rows = []
    for product_id, given in by_product.items():
        needs = defaultdict(Decimal)
        for entry in given:
            needs[entry.date.replace(day=1)] += entry.quantity
        events = []
        for month, need in needs.items():
            quantity = (need * Decimal("1.15") // 1000 + 1) * 1000
            events.append((month, 0, "receipt", quantity, None))
            month_end = (month + datetime.timedelta(days=32)).replace(day=1) - \
                datetime.timedelta(days=1)
            if month_end < today:
                events.append((month_end, 2, "count", None, None))
        for entry in given:
            events.append((entry.date, 1, "dispensed", -entry.quantity, entry))
            if entry.pk in cancelled_ids:
                events.append((entry.date, 1, "cancelled", entry.quantity, entry))
        events.sort(key=lambda e: (e[0], e[1], e[4].dispensed_at if e[4] else 0,
                                   0 if e[2] == "dispensed" else 1))
        balance = Decimal(0)
        for sequence, (day, _order, kind, quantity, entry) in enumerate(events, start=1):
            fields = {}
            if kind == "count":
                loss = Decimal(rng.choice([5, 10, 15])) if rng.random() < 0.15 else Decimal(0)
                loss = min(loss, balance)
                quantity = -loss
                fields = {"counted": balance - loss,
                          "reason_code": RegisterEntry.Reason.SPILLAGE if loss else "",
                          "note": "Fond de flacon renversé." if loss else ""}
            elif kind == "receipt":
                fields = {"supplier": rng.choice(SUPPLIERS),
                          "batch": f"L{day:%y%m}-{product_id:02d}{rng.randint(100, 999)}",
                          "received_on": day}
            elif kind == "cancelled":
                fields = {"note": "Enregistré pour le mauvais patient."}
            balance += quantity
            at = entry.dispensed_at if entry else _aware(day, datetime.time(9 if kind ==
                                                                              "receipt" else 18))
            rows.append(RegisterEntry(product_id=product_id, sequence=sequence, kind=kind,
                                      date=day, quantity=quantity, balance_after=balance,
                                      dispensation=entry, recorded_at=at,
                                      recorded_by_id=entry.dispensed_by_id if entry
                                      else rng.choice(nurses), **fields))
    RegisterEntry.objects.bulk_create(rows, batch_size=5000)
    return len(rows)
