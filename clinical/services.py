"""Writes of the problem list and the measures. Each is one transaction with its audit row; a
refusal raises ValidationError with the sentence to show (naming the field), and nothing is
written."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alerts.models import Alert
from clinical import icd10, rules
from clinical.models import Measurement, MeasurementWithdrawal, Problem, ProblemVersion
from clinical.selectors import qtc_needs_doctor
from dispensary.rules import QTC_DOCTOR_FIRST_MS
from mass.audit import Action, audit_record
from patients.services import patient_check_open

S, C = ProblemVersion.Status, ProblemVersion.Certainty


def _clean_version(*, code: str, label: str, onset, status: str, certainty: str,
                   today: datetime.date) -> dict:
    code = icd10.normalise(code)
    label = " ".join((label or "").split())
    if code and not icd10.is_known(code):
        raise ValidationError(
            _("ICD-10 code: %(code)s is not an ICD-10 code (search by code or words, or leave "
              "the code empty and write the problem in words). Nothing was recorded.")
            % {"code": code}, code="code")
    if not code and not label:
        raise ValidationError(_("Label: without an ICD-10 code, say the problem in words. "
                                "Nothing was recorded."), code="label")
    if status not in S.values:
        raise ValidationError(_("Status: choose active, in remission or resolved. Nothing was "
                                "recorded."), code="status")
    if certainty not in C.values:
        raise ValidationError(_("Certainty: choose confirmed, provisional or ruled out. "
                                "Nothing was recorded."), code="certainty")
    if onset is not None and onset > today:
        raise ValidationError(_("Onset: %(date)s is in the future. Nothing was recorded.")
                              % {"date": date_format(onset)}, code="onset")
    return {"code": code, "code_label": icd10.label(code)[:300] if code else "",
            "label": label[:200], "substance": icd10.substance_category(code), "onset": onset,
            "status": status, "certainty": certainty}


def _discipline(*, code: str, psychiatric: bool) -> str:
    if code:
        return Problem.Discipline.PSYCHIATRIC if icd10.is_psychiatric(code) \
            else Problem.Discipline.MEDICAL
    return Problem.Discipline.PSYCHIATRIC if psychiatric else Problem.Discipline.MEDICAL


@transaction.atomic
def problem_record(*, patient, code: str = "", label: str = "", onset=None,
                   status: str = S.ACTIVE, certainty: str = C.CONFIRMED,
                   psychiatric: bool = False, actor) -> ProblemVersion:
    """A new problem on the list, with its first version. Its discipline follows the code
    (clinical.rules); a problem in free text is psychiatric when the recorder says so."""
    if not rules.may_record_problems(actor):
        raise ValidationError(_("Your role does not record diagnoses."), code="role")
    fields = _clean_version(code=code, label=label, onset=onset, status=status,
                            certainty=certainty, today=timezone.localdate())
    patient_check_open(patient)
    now = timezone.now()
    problem = Problem.objects.create(
        patient=patient, discipline=_discipline(code=fields["code"], psychiatric=psychiatric),
        recorded_at=now, recorded_by=actor)
    version = ProblemVersion.objects.create(problem=problem, recorded_at=now,
                                            recorded_by=actor, **fields)
    # The code is not in the summary: the audit trail is read by coordinators, who read no
    # diagnosis. The object names the problem.
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=problem,
                 summary=gettext_noop("problem recorded"))
    return version


@transaction.atomic
def problem_correct(*, problem: Problem, code: str = "", label: str = "", onset=None,
                    status: str, certainty: str, reason: str, actor) -> ProblemVersion:
    """A new version of the problem (a corrected code or label, a change of status or
    certainty), with why; the earlier versions stay as its history."""
    if not rules.may_record_problems(actor):
        raise ValidationError(_("Your role does not record diagnoses."), code="role")
    fields = _clean_version(code=code, label=label, onset=onset, status=status,
                            certainty=certainty, today=timezone.localdate())
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError(_("Reason: say why the problem is corrected. Nothing was "
                                "recorded."), code="reason")
    # Locked: two corrections at once are taken one after the other, each a version.
    problem = (Problem.objects.select_for_update(of=("self",)).select_related("patient")
               .get(pk=problem.pk))
    if fields["code"] and _discipline(code=fields["code"], psychiatric=False) != problem.discipline:
        raise ValidationError(
            _("ICD-10 code: %(code)s belongs to the other discipline (psychiatric or medical), "
              "read by other colleagues. Resolve this problem and record a new one. Nothing was "
              "recorded.") % {"code": fields["code"]}, code="code")
    patient_check_open(problem.patient)
    version = ProblemVersion.objects.create(problem=problem, reason=reason[:300],
                                            recorded_at=timezone.now(), recorded_by=actor,
                                            **fields)
    audit_record(actor=actor, action=Action.UPDATE, patient=problem.patient, obj=problem,
                 summary=gettext_noop("problem corrected"))
    return version


def _measures_check(values: dict) -> dict:
    """The measures given (the known fields with a figure), each in its plausible range and
    the blood pressure whole, or the refusal naming the first that is not."""
    values = {field: value for field, value in values.items()
              if field in rules.MEASURE_BY_FIELD and value is not None}
    if not values:
        raise ValidationError(_("Enter at least one measure. Nothing was recorded."),
                              code="empty")
    for field, value in values.items():
        measure = rules.MEASURE_BY_FIELD[field]
        if not measure.low <= value <= measure.high:
            raise ValidationError(
                _("%(measure)s: %(value)s %(unit)s is outside the plausible range "
                  "(%(low)s–%(high)s %(unit)s); check the figure. Nothing was recorded.")
                % {"measure": capfirst(measure.label), "value": value,
                   "unit": measure.unit, "low": measure.low, "high": measure.high},
                code=field)
    if ("systolic_mmhg" in values) != ("diastolic_mmhg" in values):
        raise ValidationError(_("Blood pressure: enter both the systolic and the diastolic "
                                "figure. Nothing was recorded."), code="diastolic_mmhg")
    if "systolic_mmhg" in values and values["diastolic_mmhg"] >= values["systolic_mmhg"]:
        raise ValidationError(_("Blood pressure, diastolic: it must be below the systolic. "
                                "Nothing was recorded."), code="diastolic_mmhg")
    return values


@transaction.atomic
def measurement_record(*, patient, values: dict, taken_at=None, actor) -> Measurement:
    """Measures taken at one time. A QTc above the threshold (dispensary.rules), the latest
    of the patient, records the alert "doctor before any dose" in the same transaction,
    unless one is already active: the counter then gives no dose until a doctor has seen the
    person and ends it."""
    if not rules.may_record_measures(actor):
        raise ValidationError(_("Your role does not record measures."), code="role")
    now = timezone.now()
    taken_at = taken_at or now
    if taken_at > now:
        raise ValidationError(_("Taken at: the measure cannot be in the future. Nothing was "
                                "recorded."), code="taken_at")
    values = _measures_check(values)
    patient_check_open(patient)
    measurement = Measurement.objects.create(patient=patient, taken_at=taken_at,
                                             recorded_at=now, recorded_by=actor, **values)
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=measurement,
                 summary=gettext_noop("measures recorded"))
    _qtc_alert_raise(measurement=measurement, actor=actor)
    return measurement


def _qtc_alert_raise(*, measurement: Measurement, actor) -> None:
    """The alert "doctor before any dose" for a high QTc, recorded with its measurement (the
    same ``recorded_at``, which is how :func:`_qtc_alert_standing` knows it), unless one
    already stands."""
    patient, qtc, taken_at = measurement.patient, measurement.qtc_ms, measurement.taken_at
    # Only the patient's latest QTc calls a doctor: an old ECG entered after a newer one
    # says nothing of today.
    latest = not Measurement.objects.filter(patient=patient, qtc_ms__isnull=False,
                                            taken_at__gt=taken_at,
                                            withdrawal__isnull=True).exists()
    if qtc_needs_doctor(qtc) and latest and not _qtc_alert_standing(patient):
        alert = Alert.objects.create(
            patient=patient, kind=Alert.Kind.DOCTOR_FIRST, recorded_by=actor,
            recorded_at=measurement.recorded_at,
            text=(_("QTc %(qtc)s ms on %(date)s: a doctor sees the person before any dose")
                  % {"qtc": qtc, "date": date_format(timezone.localtime(taken_at).date(),
                                                      "SHORT_DATE_FORMAT")})[:200])
        audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=alert,
                     summary=gettext_noop("alert recorded"))


def _qtc_alert_standing(patient) -> bool:
    """Whether a "doctor before any dose" raised by an earlier high QTc still stands, so that
    a second high QTc does not pile up another alert to end. Only one raised by a QTc counts:
    one for another reason (drowsiness) would be ended by a doctor who never saw the ECG.
    Such an alert is the one written with its measurement, at the same ``recorded_at``. Its
    row is locked: a doctor ending it at this moment makes this read wait and find it ended,
    and the new QTc then raises an alert of its own."""
    # A withdrawn measurement's alert stands for nothing: it was typed in error.
    high_qtcs = Measurement.objects.filter(patient=patient, qtc_ms__gt=QTC_DOCTOR_FIRST_MS,
                                           withdrawal__isnull=True)
    return (Alert.objects.select_for_update(of=("self",))
            .filter(patient=patient, kind=Alert.Kind.DOCTOR_FIRST, ended_at__isnull=True,
                    recorded_at__in=high_qtcs.values("recorded_at"))
            .exists())


@transaction.atomic
def measurement_withdraw(*, measurement: Measurement, reason: str, actor) -> MeasurementWithdrawal:
    """A measurement entered in error, withdrawn with why: it counts nowhere after (charts,
    last values, the QTc/dose rule). An alert it raised is not ended by this: a doctor ends
    "doctor before any dose" after checking, with a reason of their own."""
    if not rules.may_record_measures(actor):
        raise ValidationError(_("Your role does not record measures."), code="role")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError(_("Reason: say why the measurement is withdrawn. Nothing was "
                                "recorded."), code="reason")
    measurement = (Measurement.objects.select_for_update(of=("self",))
                   .select_related("patient").get(pk=measurement.pk))
    if MeasurementWithdrawal.objects.filter(measurement=measurement).exists():
        raise ValidationError(_("This measurement was already withdrawn."), code="withdrawn")
    withdrawal = MeasurementWithdrawal.objects.create(
        measurement=measurement, reason=reason[:300], withdrawn_at=timezone.now(),
        withdrawn_by=actor)
    audit_record(actor=actor, action=Action.UPDATE, patient=measurement.patient,
                 obj=measurement, summary=gettext_noop("measurement withdrawn"))
    return withdrawal
