"""Reads of the problem list and the measures, with who may read what (clinical.rules), and
the QTc/dose rule's "ECG due", derived when it is read."""

import datetime
from dataclasses import dataclass

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from alerts.models import Alert
from alerts.rules import readable_kinds
from clinical import rules
from clinical.models import Measurement, Problem, ProblemVersion
from dispensary.models import Prescription, Product
from dispensary.rules import (
    ECG_VALID_DAYS,
    QT_ECG_DAILY_DOSE_MG,
    QT_RULE_SUBSTANCE,
    QTC_DOCTOR_FIRST_MS,
)
from mass.contributions import DerivedAlert

# --- problems -------------------------------------------------------------------------------


def problems_visible_q(user, prefix: str = "") -> Q:
    """The problems ``user`` reads: those of a discipline they read, and their own."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    readable = Q(**{f"{prefix}discipline__in": sorted(rules.readable_problem_disciplines(user))})
    return readable | Q(**{f"{prefix}recorded_by": user})


def may_see_problems(user) -> bool:
    return user.has_perm("clinical.view_problem")


def problem_list(*, user, patient) -> list[ProblemVersion]:
    """The current version of each problem of the patient this user reads, active first, then
    by onset (newest first); one query whatever the number of problems (DISTINCT ON)."""
    if not may_see_problems(user):
        return []
    current = list(
        ProblemVersion.objects.filter(problems_visible_q(user, "problem__"),
                                      problem__patient=patient)
        .select_related("problem", "problem__recorded_by", "recorded_by")
        .order_by("problem_id", "-recorded_at", "-id").distinct("problem_id"))
    order = {status: index for index, status in enumerate(ProblemVersion.Status.values)}
    return sorted(current, key=lambda version: (
        order[version.status], -(version.onset or datetime.date.min).toordinal(),
        -version.problem_id))


def problem_get_for_user(*, user, pk: int) -> Problem:
    """A problem with its versions (oldest first); a 404 when the user may not read it."""
    if not may_see_problems(user):
        raise Http404
    try:
        problem = (Problem.objects.filter(problems_visible_q(user))
                   .select_related("patient", "recorded_by").get(pk=pk))
    except Problem.DoesNotExist:
        raise Http404 from None
    problem.history = list(problem.versions.select_related("recorded_by")
                           .order_by("recorded_at", "id"))
    problem.current = problem.history[-1]
    return problem


# --- measures -------------------------------------------------------------------------------


def measurements_for_user(*, user, patient, withdrawn: bool = False) -> QuerySet:
    """The patient's measurements, newest first; those withdrawn (entered in error) only
    with ``withdrawn`` (the list of measures shows them struck through)."""
    if not rules.may_read_measures(user):
        return Measurement.objects.none()
    rows = Measurement.objects.filter(patient=patient)
    if not withdrawn:
        rows = rows.filter(withdrawal__isnull=True)
    return (rows.select_related("recorded_by", "withdrawal__withdrawn_by")
            .order_by("-taken_at", "-id"))


def measurement_get_for_user(*, user, pk: int) -> Measurement:
    if not rules.may_read_measures(user):
        raise Http404
    try:
        return (Measurement.objects.select_related("patient", "recorded_by",
                                                   "withdrawal__withdrawn_by").get(pk=pk))
    except Measurement.DoesNotExist:
        raise Http404 from None


@dataclass
class LastMeasure:
    measure: rules.Measure
    value: object
    taken_at: datetime.datetime
    # Only for the blood pressure, shown as systolic/diastolic.
    diastolic: object = None


def last_measures(measurements: list[Measurement]) -> list[LastMeasure]:
    """The last value of each measure among ``measurements`` (newest first), no query."""
    last = []
    for measure in rules.MEASURES:
        if measure.field == "diastolic_mmhg":
            continue  # shown with the systolic
        row = next((m for m in measurements if getattr(m, measure.field) is not None), None)
        if row is not None:
            last.append(LastMeasure(measure=measure, value=getattr(row, measure.field),
                                    taken_at=row.taken_at,
                                    diastolic=row.diastolic_mmhg
                                    if measure.field == "systolic_mmhg" else None))
    return last


@dataclass
class Chart:
    """A small chart of one measure over time, drawn on the server (as the dispensary's dose
    plot): ``points`` for an SVG polyline, the extreme values and the dates as ticks."""

    measure: rules.Measure
    points: str
    dots: list
    low: object
    high: object
    first: datetime.date
    last: datetime.date
    count: int
    width: int = 320
    height: int = 90


def measure_charts(measurements: list[Measurement]) -> list[Chart]:
    """One chart per measure with at least one value (blood pressure: the systolic and
    diastolic charts each), from oldest to newest; no query."""
    charts = []
    left, top, inner_w, inner_h = 8, 8, 304, 74
    rows = sorted(measurements, key=lambda m: (m.taken_at, m.pk))
    for measure in rules.MEASURES:
        values = [(m.taken_at, getattr(m, measure.field)) for m in rows
                  if getattr(m, measure.field) is not None]
        if not values:
            continue
        low, high = min(v for _t, v in values), max(v for _t, v in values)
        first, last = values[0][0], values[-1][0]
        span = (last - first).total_seconds() or 1
        spread = float(high - low) or 1.0
        dots = []
        for taken_at, value in values:
            x = left + inner_w * ((taken_at - first).total_seconds() / span if len(values) > 1
                                  else 0.5)
            y = top + inner_h * (1 - (float(value - low) / spread if high != low else 0.5))
            dots.append((round(x, 1), round(y, 1)))
        charts.append(Chart(measure=measure, points=" ".join(f"{x},{y}" for x, y in dots),
                            dots=dots, low=low, high=high,
                            first=timezone.localtime(first).date(),
                            last=timezone.localtime(last).date(), count=len(values)))
    return charts


# --- the QTc / dose rule --------------------------------------------------------------------


@dataclass(frozen=True)
class EcgDue:
    """A methadone daily dose above the threshold without a QTc in the last 12 months."""

    daily_dose: object
    last_qtc_on: datetime.date | None


def ecg_due(*, patient, today: datetime.date | None = None) -> EcgDue | None:
    """The "ECG due" of the QTc/dose rule (dispensary.rules), derived from the data when it is
    read rather than recorded as an alert: it appears the day the dose goes above the
    threshold or the last QTc turns 12 months old, and goes the moment a QTc is recorded or
    the dose comes down, with no job to run and nothing to end by hand. One query (it is in
    the banner of every page of the patient)."""
    today = today or timezone.localdate()
    last_qtc = (Measurement.objects.filter(patient=OuterRef("patient"), qtc_ms__isnull=False,
                                           withdrawal__isnull=True)
                .order_by("-taken_at").values("taken_at")[:1])
    # The prescription in force: the newest running one of the substance, in mg (a product
    # measured in ml has no strength recorded to give its dose in mg: docs/domain.md).
    row = (Prescription.objects.running_on(today)
           .filter(patient=patient, product__substance=QT_RULE_SUBSTANCE,
                   product__unit=Product.Unit.MG)
           .annotate(last_qtc=Subquery(last_qtc)).order_by("-start_date", "-id")
           .values_list("daily_dose", "last_qtc").first())
    return None if row is None else _ecg_due_at(*row, today=today)


def _ecg_due_at(daily_dose, last_qtc_at, *, today: datetime.date) -> EcgDue | None:
    """The rule itself, for a methadone daily dose in mg and the time of the last QTc (or
    None): one place for the single file's banner and the dispensing list's rows."""
    if daily_dose <= QT_ECG_DAILY_DOSE_MG:
        return None
    last_on = timezone.localtime(last_qtc_at).date() if last_qtc_at else None
    if last_on is not None and last_on > today - datetime.timedelta(days=ECG_VALID_DAYS):
        return None
    return EcgDue(daily_dose=daily_dose, last_qtc_on=last_on)


def derived_alerts(*, user, patient) -> list[DerivedAlert]:
    """"ECG due" for the banner (mass.contributions.derived_alerts), to the readers of its
    alert kind (alerts.rules: nurses, doctors, psychiatrists); no query for the others."""
    if Alert.Kind.QT_ECG not in readable_kinds(user):
        return []
    due = ecg_due(patient=patient)
    if due is None:
        return []
    return [DerivedAlert(kind=Alert.Kind.QT_ECG, text=ecg_due_text(due))]


def derived_alerts_by_patient(*, prescriptions) -> dict[int, list[DerivedAlert]]:
    """"ECG due" on the dispensing list's rows (and the downtime sheet), where the nurse gives
    the dose: among the prescriptions in force the list shows, those of methadone in mg above
    the threshold, with their patients' last QTc. One query whenever the list has rows (the
    last QTc of every listed patient: the same count for a list of 300 and a search of one).
    The same rule as :func:`ecg_due`, for many patients at once."""
    if not prescriptions:
        return {}
    last_qtc = _last_qtc_by_patient({rx.patient_id for rx in prescriptions})
    today = timezone.localdate()
    texts = {}  # the same dose and last QTc say the same words: made once a list
    derived = {}
    for rx in prescriptions:
        if not (rx.product.substance == QT_RULE_SUBSTANCE and rx.product.unit == Product.Unit.MG):
            continue
        due = _ecg_due_at(rx.daily_dose, last_qtc.get(rx.patient_id), today=today)
        if due is None:
            continue
        if due not in texts:
            texts[due] = ecg_due_text(due)
        derived[rx.patient_id] = [DerivedAlert(kind=Alert.Kind.QT_ECG, text=texts[due])]
    return derived


def _last_qtc_by_patient(patient_ids) -> dict[int, datetime.datetime]:
    """The time of each patient's last QTc not withdrawn, in one query."""
    return dict(Measurement.objects
                .filter(patient_id__any=patient_ids, qtc_ms__isnull=False,
                        withdrawal__isnull=True)
                .values("patient_id").annotate(last=Max("taken_at"))
                .values_list("patient_id", "last"))


def ecg_due_text(due: EcgDue) -> str:
    text = _("Methadone %(dose)s mg a day and no ECG QTc in the last 12 months: an ECG is "
             "due.") % {"dose": number_format(due.daily_dose.normalize())}
    if due.last_qtc_on:
        text += " " + _("Last QTc on %(date)s.") % {
            "date": date_format(due.last_qtc_on, "SHORT_DATE_FORMAT")}
    return text


def qtc_needs_doctor(qtc_ms) -> bool:
    return qtc_ms is not None and qtc_ms > QTC_DOCTOR_FIRST_MS
