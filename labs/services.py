"""Writes of lab results and cascade treatments, and the import of a lab's CSV file: each
one transaction with its audit row; a refusal is a ``ValidationError`` naming the field (the
file, line and column for an import) and writes nothing."""

import csv
import datetime
import hashlib
import io
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from labs.models import (
    READ_TESTS,
    Genotype,
    LabImport,
    LabResult,
    LabResultCancellation,
    LabTest,
    Reading,
    Substance,
    Treatment,
    TreatmentCancellation,
)
from mass.accounts.roles import Role
from mass.audit import Action, audit_record
from mass.corrections import cancellation_check
from patients.models import Patient


def _refuse_merged(patient) -> None:
    if patient.merged_into_id is not None:
        raise ValidationError(_("This file was merged into %(kept)s: record it on that file.")
                              % {"kept": patient.merged_into}, code="merged")


# The rules of a result, one function each: given the result's fields (as passed to
# lab_result_build, the unit stripped), the message of what is wrong, or "" when right.
def _test_known(f: dict) -> str:
    return _("Unknown test.") if f["test"] not in LabTest.values else ""


def _sample_date_check(f: dict) -> str:
    if f["sample_date"] is None:
        return _("Give the sample date.")
    if f["sample_date"] > timezone.localdate():
        return _("The sample date cannot be later than today.")
    return ""


def _laboratory_named(f: dict) -> str:
    return _("Name the laboratory.") if not (f["laboratory"] or "").strip() else ""


def _reading_known(f: dict) -> str:
    if f["reading"] and f["reading"] not in Reading.values:
        return _("The result is positive, negative or indeterminate.")
    return ""


def _unit_given(f: dict) -> str:
    if f["value"] is not None and not f["unit"]:
        return _("Give the unit of the value.")
    return ""


def _reference_range_check(f: dict) -> str:
    low, high = f["reference_low"], f["reference_high"]
    if low is not None and high is not None and low > high:
        return _("The reference range ends below its start.")
    return ""


def _reading_given(f: dict) -> str:
    # The tests read positive / negative / indeterminate (not the genotype nor the screen).
    if f["test"] in READ_TESTS and not f["reading"]:
        return _("Give the result: positive, negative or indeterminate.")
    return ""


def _genotype_check(f: dict) -> str:
    if f["test"] == LabTest.HCV_GENOTYPE:
        return _("Give the genotype.") if f["genotype"] not in Genotype.values else ""
    if f["genotype"]:
        return _("A genotype is the result of the HCV genotype test only.")
    return ""


def _substances_check(f: dict) -> str:
    if f["test"] == LabTest.URINE_DRUG_SCREEN:
        unknown = [s for s in f["substances"] if s not in Substance.values]
        if unknown:
            return _("Unknown substance: %(names)s.") % {"names": ", ".join(unknown)}
        return ""
    if f["substances"]:
        return _("Substances are the result of a urine drug screen only.")
    return ""


# Walked in this order: a field named twice keeps its first place among the messages (the
# order in which an import lists a line's errors).
RESULT_RULES = (
    ("test", _test_known),
    ("sample_date", _sample_date_check),
    ("laboratory", _laboratory_named),
    ("reading", _reading_known),
    ("unit", _unit_given),
    ("reference_high", _reference_range_check),
    ("reading", _reading_given),
    ("genotype", _genotype_check),
    ("substances", _substances_check),
)


def lab_result_build(*, patient, test: str, sample_date: datetime.date | None,
                     laboratory: str, reading: str = "", value: Decimal | None = None,
                     unit: str = "", reference_low: Decimal | None = None,
                     reference_high: Decimal | None = None, genotype: str = "",
                     substances: list[str] | None = None, actor) -> LabResult:
    """A result checked and ready to save, or ``ValidationError({field: message})`` naming
    every field that is wrong: the rules of a result, whether typed or imported."""
    substances = list(substances or [])
    unit = (unit or "").strip()
    fields = {"test": test, "sample_date": sample_date, "laboratory": laboratory,
              "reading": reading, "value": value, "unit": unit,
              "reference_low": reference_low, "reference_high": reference_high,
              "genotype": genotype, "substances": substances}
    errors: dict[str, str] = {}
    for field, rule in RESULT_RULES:
        message = rule(fields)
        if message:
            errors[field] = message
    if errors:
        raise ValidationError(errors, code="invalid")
    if test == LabTest.URINE_DRUG_SCREEN:
        # The screen's reading is what it found.
        reading = Reading.POSITIVE if substances else Reading.NEGATIVE
    result = LabResult(patient=patient, test=test, sample_date=sample_date,
                       laboratory=laboratory.strip(), reading=reading, value=value, unit=unit,
                       reference_low=reference_low, reference_high=reference_high,
                       genotype=genotype, substances=substances, recorded_by=actor)
    # The fields' own limits (a unit of at most 20 characters, a value of at most 3 decimal
    # places...), which a lab's file does not know: refused here, by field, rather than by
    # the database as a server error. Without the foreign keys, which are objects already
    # read, and without the constraints, whose rules are the ones above (one query each).
    result.clean_fields(exclude=["patient", "recorded_by", "imported_from"])
    return result


@transaction.atomic
def lab_result_create(*, patient, actor, **fields) -> LabResult:
    """Enter one result (the fields of :func:`lab_result_build`)."""
    _refuse_merged(patient)
    result = lab_result_build(patient=patient, actor=actor, **fields)
    result.full_clean()
    result.save()
    audit_record(actor=actor, action=Action.CREATE, obj=result,
                 summary=gettext_noop("lab result %(lab_test)s %(date)s"),
                 params={"lab_test": result.test, "date": str(result.sample_date)})
    return result


@transaction.atomic
def lab_result_cancel(*, result: LabResult, reason: str, actor) -> LabResultCancellation:
    """Cancel a result entered by mistake: who entered it, or a doctor (mass.corrections)."""
    # Locked (the application may update a result's patient only, which lets it lock it):
    # two cancellations at once are served one after the other.
    current = LabResult.objects.select_for_update().get(pk=result.pk)
    reason = cancellation_check(record=current, author_id=current.recorded_by_id,
                                reason=reason, actor=actor, overseer=Role.DOCTOR)
    cancellation = LabResultCancellation.objects.create(result=current, reason=reason,
                                                        cancelled_by=actor)
    audit_record(actor=actor, action=Action.CANCEL, patient=current.patient, obj=cancellation,
                 summary=gettext_noop("lab result %(result)s cancelled"),
                 params={"result": current.pk}, details={"result": current.pk})
    return cancellation


# --- treatments ------------------------------------------------------------------------------


@transaction.atomic
def treatment_start(*, patient, condition: str, regimen: str, started_on: datetime.date,
                    centre: str = "", actor) -> Treatment:
    _refuse_merged(patient)
    if started_on > timezone.localdate():
        raise ValidationError({"started_on": _("The start cannot be later than today.")},
                              code="future")
    if (condition == Treatment.Condition.HIV) != (regimen == Treatment.Regimen.ANTIRETROVIRAL):
        raise ValidationError({"regimen": _("This treatment is not one of this condition.")},
                              code="regimen")
    treatment = Treatment(patient=patient, condition=condition, regimen=regimen,
                          centre=centre.strip(), started_on=started_on, recorded_by=actor)
    treatment.full_clean()
    treatment.save()
    audit_record(actor=actor, action=Action.CREATE, obj=treatment,
                 summary=gettext_noop("cascade treatment %(condition)s started %(date)s"),
                 params={"condition": condition, "date": str(started_on)})
    return treatment


@transaction.atomic
def treatment_end(*, treatment: Treatment, ended_on: datetime.date, actor) -> Treatment:
    """Write a treatment's end, once (the database refuses a second one)."""
    current = Treatment.objects.select_for_update().get(pk=treatment.pk)
    if current.ended_on is not None:
        raise ValidationError(_("This treatment's end is already recorded."), code="ended")
    if TreatmentCancellation.objects.filter(treatment=current).exists():
        raise ValidationError(_("This treatment is cancelled."), code="cancelled")
    if ended_on > timezone.localdate():
        raise ValidationError({"ended_on": _("The end cannot be later than today.")},
                              code="future")
    if ended_on < current.started_on:
        raise ValidationError({"ended_on": _("The end cannot be before the start.")},
                              code="order")
    current.ended_on = ended_on
    current.save(update_fields=["ended_on"])
    audit_record(actor=actor, action=Action.UPDATE, obj=current,
                 summary=gettext_noop("cascade treatment %(treatment)s ended %(date)s"),
                 params={"treatment": current.pk, "date": str(ended_on)})
    return current


@transaction.atomic
def treatment_cancel(*, treatment: Treatment, reason: str, actor) -> TreatmentCancellation:
    current = Treatment.objects.select_for_update().get(pk=treatment.pk)
    reason = cancellation_check(record=current, author_id=current.recorded_by_id,
                                reason=reason, actor=actor, overseer=Role.DOCTOR)
    cancellation = TreatmentCancellation.objects.create(treatment=current, reason=reason,
                                                        cancelled_by=actor)
    audit_record(actor=actor, action=Action.CANCEL, patient=current.patient, obj=cancellation,
                 summary=gettext_noop("cascade treatment %(treatment)s cancelled"),
                 params={"treatment": current.pk}, details={"treatment": current.pk})
    return cancellation


# --- the import of a lab's file --------------------------------------------------------------

#: The columns of a lab's CSV file (docs/features.md "Laboratory results"), and the field
#: of a result each one fills. ``result`` is the reading, or the genotype of a genotype test,
#: or the substances found (separated by "+") of a urine drug screen.
IMPORT_COLUMNS = ["file_number", "test", "sample_date", "result", "value", "unit",
                  "reference_low", "reference_high", "laboratory"]
REQUIRED_COLUMNS = ["file_number", "test", "sample_date", "laboratory"]
#: The column to name when a field of a result is wrong.
FIELD_COLUMNS = {"test": "test", "sample_date": "sample_date", "laboratory": "laboratory",
                 "reading": "result", "genotype": "result", "substances": "result",
                 "value": "value", "unit": "unit", "reference_low": "reference_low",
                 "reference_high": "reference_high"}
#: How labs write a reading, in the three languages of the centre.
READING_WORDS = {
    "positive": Reading.POSITIVE, "positif": Reading.POSITIVE, "positief": Reading.POSITIVE,
    "detected": Reading.POSITIVE, "détecté": Reading.POSITIVE,
    "negative": Reading.NEGATIVE, "négatif": Reading.NEGATIVE, "negatif": Reading.NEGATIVE,
    "negatief": Reading.NEGATIVE, "not detected": Reading.NEGATIVE,
    "non détecté": Reading.NEGATIVE, "undetectable": Reading.NEGATIVE,
    "indeterminate": Reading.INDETERMINATE, "indéterminé": Reading.INDETERMINATE,
    "onbepaald": Reading.INDETERMINATE,
}
MAX_IMPORT_LINES = 5000


def _decimal(text: str) -> Decimal | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    value = Decimal(text)  # InvalidOperation for what is not a number
    if not value.is_finite() or abs(value) >= Decimal("1e11"):
        raise InvalidOperation(text)
    return value


def _row_fields(row: dict) -> tuple[dict, dict]:
    """The fields of a result from a CSV line, and {column: message} for what cannot be
    read at all (a date or a number)."""
    errors, fields = {}, {}
    test = row.get("test", "").strip().lower()
    fields["test"] = test
    try:
        fields["sample_date"] = datetime.date.fromisoformat(row.get("sample_date", "").strip())
    except ValueError:
        errors["sample_date"] = _("Not a date (YYYY-MM-DD).")
    for column in ("value", "reference_low", "reference_high"):
        try:
            fields[column] = _decimal(row.get(column) or "")
        except InvalidOperation:
            errors[column] = _("Not a number.")
    result = (row.get("result") or "").strip()
    if test == LabTest.HCV_GENOTYPE:
        fields["genotype"] = result.lower()
    elif test == LabTest.URINE_DRUG_SCREEN:
        fields["substances"] = [s.strip().lower() for s in result.split("+")
                                if s.strip() and s.strip().lower() not in ("none", "-")]
    else:
        fields["reading"] = READING_WORDS.get(result.lower(), result.lower())
    fields["unit"] = row.get("unit") or ""
    fields["laboratory"] = row.get("laboratory") or ""
    return fields, errors


def _already_imported_check(*, sha256: str, file_name: str) -> None:
    """The same file (the same bytes, whatever its name) imported again would record every
    result twice: refused, naming the earlier import so the doctor can find it."""
    earlier = LabImport.objects.select_related("imported_by").filter(sha256=sha256).first()
    if earlier is None:
        return
    by = earlier.imported_by
    raise ValidationError(
        _("%(file)s: this file was already imported on %(date)s by %(user)s (as %(earlier)s); "
          "nothing imported again.")
        % {"file": file_name, "earlier": earlier.file_name,
           "date": date_format(timezone.localtime(earlier.imported_at),
                               "SHORT_DATETIME_FORMAT"),
           "user": by.get_full_name() or by.get_username()},
        code="already_imported")


def _where(file_name: str, line: int, column: str, message: str) -> str:
    """An import's error, placed: "file, line N, column C: message"."""
    return _("%(file)s, line %(line)s, column %(column)s: %(message)s") % {
        "file": file_name, "line": line, "column": column, "message": message}


def _csv_reader(*, file_name: str, content: bytes) -> csv.DictReader:
    """The file's lines as dictionaries by column, its header in lower case with every
    required column, the delimiter guessed (";", "," or tab)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("%(file)s: the file is not UTF-8 text.") % {
            "file": file_name}, code="encoding") from None
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ValidationError(_("%(file)s, line 1: missing columns %(columns)s.") % {
            "file": file_name, "columns": ", ".join(missing)}, code="columns")
    reader.fieldnames = header
    return reader


def _csv_rows(*, file_name: str, content: bytes) -> list[tuple[int, dict]]:
    """Reading: the file's lines as (line number, {column: text}), at least one and at most
    MAX_IMPORT_LINES."""
    reader = _csv_reader(file_name=file_name, content=content)
    rows = []
    try:
        for row in reader:
            rows.append((reader.line_num, {key: (value if isinstance(value, str) else "")
                                           for key, value in row.items() if key}))
            if len(rows) > MAX_IMPORT_LINES:
                raise ValidationError(_("%(file)s: more than %(max)s lines; split the file.")
                                      % {"file": file_name, "max": MAX_IMPORT_LINES},
                                      code="too_long")
    except csv.Error as error:
        raise ValidationError(_where(file_name, reader.line_num, "-", str(error)),
                              code="csv") from None
    if not rows:
        raise ValidationError(_("%(file)s: no result in the file.") % {"file": file_name},
                              code="empty")
    return rows


def _row_patient_check(*, patient, number: str) -> str:
    """Whose result a line is: the message when its file number names no file one may
    record on, or ""."""
    if patient is None:
        return _("unknown file number %(number)s.") % {"number": number or "—"}
    if patient.merged_into_id is not None:
        return _("file %(number)s was merged into another file: use that file's number.") % {
            "number": number}
    return ""


def _row_result(*, file_name: str, line: int, row: dict, patients: dict,
                actor) -> tuple[LabResult | None, list[str]]:
    """One line checked: its result ready to save, or None and the line's errors."""
    number = row.get("file_number", "").strip()
    patient = patients.get(number)
    refused = _row_patient_check(patient=patient, number=number)
    if refused:
        return None, [_where(file_name, line, "file_number", refused)]
    fields, unreadable = _row_fields(row)
    if unreadable:
        return None, [_where(file_name, line, column, message)
                      for column, message in unreadable.items()]
    try:
        return lab_result_build(patient=patient, actor=actor, **fields), []
    except ValidationError as error:
        return None, [_where(file_name, line, FIELD_COLUMNS.get(name, name), message)
                      for name, messages in error.message_dict.items()
                      for message in messages]


def _import_results(*, file_name: str, rows: list[tuple[int, dict]], actor) -> list[LabResult]:
    """Checking: every line's result, or the refusal listing every line's errors (the
    patients read in one query)."""
    numbers = {row.get("file_number", "").strip() for _line, row in rows}
    patients = {patient.file_number: patient
                for patient in Patient.objects.filter(file_number__in=numbers)}
    errors, results = [], []
    for line, row in rows:
        result, line_errors = _row_result(file_name=file_name, line=line, row=row,
                                          patients=patients, actor=actor)
        errors.extend(line_errors)
        if result is not None:
            results.append(result)
    if errors:
        raise ValidationError(errors, code="import")
    return results


def _import_write(*, file_name: str, sha256: str, results: list[LabResult],
                  actor) -> LabImport:
    """Writing: the import, its results and its audit row."""
    try:
        with transaction.atomic():
            imported = LabImport.objects.create(file_name=file_name[:200], rows=len(results),
                                                sha256=sha256, imported_by=actor)
    except IntegrityError:  # the same file imported at the same moment by someone else
        _already_imported_check(sha256=sha256, file_name=file_name)
        raise
    for result in results:
        result.imported_from = imported
    LabResult.objects.bulk_create(results)
    audit_record(actor=actor, action=Action.CREATE, obj=imported,
                 summary=gettext_noop("lab file %(file)s imported (%(count)s results)"),
                 params={"file": file_name[:200], "count": len(results)},
                 details={"patients": sorted({result.patient_id for result in results})})
    return imported


@transaction.atomic
def lab_results_import(*, file_name: str, content: bytes, actor) -> LabImport:
    """Import a lab's CSV file: every line or none (one transaction: reading, checking,
    writing). The refusal lists each error as "file, line N, column C: message" (line 1 is
    the header)."""
    sha256 = hashlib.sha256(content).hexdigest()
    _already_imported_check(sha256=sha256, file_name=file_name)
    rows = _csv_rows(file_name=file_name, content=content)
    results = _import_results(file_name=file_name, rows=rows, actor=actor)
    return _import_write(file_name=file_name, sha256=sha256, results=results, actor=actor)
