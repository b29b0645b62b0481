"""Declared years: the snapshot a coordinator signs, the consistency checks shown before
signing, and the reconciliation of a declared year with today's records.

A declared year's figures are read from its snapshot (``DeclaredYear``), never recomputed.
When today's records give other numbers, :func:`reconciliation` says which figures moved and
why: it compares the snapshot's per-patient lists with today's, patient by patient, and finds
the records written after the declaration that explain each change (records dated in the year
but recorded later, merges, automatic and hand closures).
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from reporting import explain, sql
from reporting.catalogue import FIGURES, INCOME_LABELS, OTHER_FIGURES, SEED_FIGURES
from reporting.models import DeclaredYear, TdiRecord
from reporting.sql import year_bounds

# --- the snapshot ---------------------------------------------------------------------------


def _all(rows) -> list[dict]:
    """Every row of an explanation list (an sql.SqlListing or a values() queryset)."""
    return list(rows[0:None]) if isinstance(rows, sql.SqlListing) else list(rows)


def snapshot_lists(year: int) -> dict:
    """The per-patient lists behind the figures of ``year``, from the explanation lists (the
    same SQL as the figures), compact: patient ids (JSON keys are strings), their file
    numbers once in ``patients``, dates as ISO strings. Six queries.

    - ``patient_contacts``: {patient: [days]}: the contacts; its keys are the active patients,
      its days the activity days, the averages follow from them.
    - ``new_requests`` / ``resumption_requests``: [[episode, patient, opened on]].
    - ``patients_in_treatment``, ``patients_on_substitution``: [patient].
    - ``income_in_treatment``: {patient: income source on 31 December}.
    """
    every = explain.Filters()
    patients: dict[str, str] = {}

    def seen(row) -> str:
        patients[str(row["patient_id"])] = row["file_number"]
        return str(row["patient_id"])

    contacts: dict[str, list[str]] = {}
    for row in _all(explain._contact_pairs(year, every)[0]):
        contacts.setdefault(seen(row), []).append(row["day"].isoformat())
    lists = {"patient_contacts": contacts}
    for key, new in (("new_requests", True), ("resumption_requests", False)):
        lists[key] = [[row["id"], int(seen(row)), row["opened_on"].isoformat()]
                      for row in _all(explain._episodes(new=new)(year, every)[0])]
    lists["patients_in_treatment"] = sorted(
        int(seen(row)) for row in _all(explain._in_treatment(year, every)[0]))
    lists["income_in_treatment"] = {seen(row): row["source"]
                                    for row in _all(explain._income(year, every)[0])}
    lists["patients_on_substitution"] = sorted(
        int(seen(row)) for row in _all(explain._on_substitution(year, every)[0]))
    lists["patients"] = patients
    return lists


def snapshot_hash(figures: dict, lists: dict) -> str:
    """SHA-256 of the canonical JSON of figures and lists: keys sorted, no spaces, UTF-8
    (``json.dumps({"figures": ..., "lists": ...}, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``), so that anyone can recompute it from an export of the snapshot."""
    canonical = json.dumps({"figures": figures, "lists": lists}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def declarations(year: int) -> list[DeclaredYear]:
    """Every declaration of ``year``, newest first, without the (large) lists. One query."""
    return list(DeclaredYear.objects.filter(year=year).defer("lists")
                .select_related("declared_by").order_by("-version"))


def declared_figures(declaration: DeclaredYear) -> dict:
    """The declared figures in the order of the ``file_active`` JSON (the database keeps
    JSON objects in an order of its own)."""
    from reporting.selectors import FIGURE_KEYS, INCOME_KEYS
    figures = declaration.figures
    ordered = {key: figures[key] for key in FIGURE_KEYS if key in figures}
    for key in ("income_in_treatment", "income_in_treatment_counts"):
        if key in ordered:
            ordered[key] = {source: ordered[key][source] for source in INCOME_KEYS
                            if source in ordered[key]}
    return {**ordered, **{key: value for key, value in figures.items() if key not in ordered}}


def version_keys(declaration: DeclaredYear | None) -> dict:
    """What an export says of the version it holds."""
    if declaration is None:
        return {"declared_version": None, "declared_at": None, "sha256": None}
    return {"declared_version": declaration.version,
            "declared_at": declaration.declared_at.isoformat(),
            "sha256": declaration.sha256}


# --- consistency checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckKind:
    key: str
    label: object
    explanation: object


CHECK_KINDS = {kind.key: kind for kind in [
    CheckKind("tdi_rows_vs_requests", _("TDI file rows against new plus resumption requests"),
              _("The TDI file has one row per treatment episode opened in the year; new plus "
                "resumption requests count the same episodes. The count is the difference.")),
    CheckKind("episodes_without_questionnaire", _("Episodes opened without a TDI questionnaire"),
              _("Episodes opened in the year whose TDI questionnaire is missing: their rows in "
                "the TDI file say 'not known' throughout.")),
    CheckKind("not_treatment_episodes", _("Harm-reduction-only or outreach-only episodes"),
              _("Episodes opened in the year whose TDI questionnaire says harm reduction only or "
                "outreach only: not treatment episodes, so counted neither in the requests, nor "
                "in the patients in treatment, nor in the TDI file.")),
    CheckKind("in_treatment_without_contact", _("Patients in treatment with no contact"),
              _("Patients counted in treatment in the year with no contact recorded in it.")),
    CheckKind("contacts_after_death", _("Contacts recorded after a death"),
              _("Contacts in the year dated after the closure of an episode for death: a "
                "record on the wrong file, or a closure reason to correct.")),
]}


def year_checks(year: int, figures: dict, counts: dict | None = None) -> list[dict]:
    """The consistency checks of ``year`` given its (today's) ``figures``: for each, its key
    and count (what a declaration stores) and, for the page, label, explanation and the link
    to the records. Two queries; one when ``counts`` (``in_treatment_without_contact``,
    ``contacts_after_death``) come from the page's figures query already."""
    from reporting.selectors import tdi_year_counts
    tdi = tdi_year_counts(year)
    if counts is None:
        counts = sql.check_counts(year=year, today=explain._today())
    requests = figures["new_requests"] + figures["resumption_requests"]
    tdi_url = reverse("reporting:tdi_year", args=[year])
    found = [
        ("tdi_rows_vs_requests", abs(tdi["in_file"] - requests), tdi_url),
        ("episodes_without_questionnaire", tdi["missing"], tdi_url),
        ("not_treatment_episodes", tdi["excluded"], tdi_url),
        ("in_treatment_without_contact", counts["in_treatment_without_contact"],
         reverse("reporting:file_active_explain", args=[year, "in_treatment_without_contact"])),
        ("contacts_after_death", counts["contacts_after_death"],
         reverse("reporting:file_active_explain", args=[year, "contacts_after_death"])),
    ]
    return [{"key": key, "count": count, "url": url} for key, count, url in found]


def describe_checks(checks: list[dict]) -> list[dict]:
    """Stored or fresh checks with their label and explanation, for a page."""
    return [{**check, "label": CHECK_KINDS[check["key"]].label,
             "explanation": CHECK_KINDS[check["key"]].explanation}
            for check in checks if check["key"] in CHECK_KINDS]


# --- reconciliation -------------------------------------------------------------------------


@dataclass
class Reconciliation:
    #: [{key, label, declared, now}] for each figure that moved.
    figures: list[dict]
    #: [{figure label, patient, change, evidence: [record]}]: who entered or left a list.
    movements: list[dict] = field(default_factory=list)
    #: Every record written after the declaration that bears on the year, oldest first.
    records: list[dict] = field(default_factory=list)


def _patient_url(patient_id) -> str | None:
    try:
        return reverse("patients:detail", args=[patient_id])
    except NoReverseMatch:
        return None


def moved_figures(declared: dict, now: dict) -> list[dict]:
    """The figures whose value today differs from the declared one (income per source)."""
    rows = []
    for figure in [*SEED_FIGURES, *OTHER_FIGURES]:
        if declared.get(figure.key) != now.get(figure.key):
            rows.append({"key": figure.key, "label": figure.label, "average": figure.average,
                         "declared": declared.get(figure.key), "now": now.get(figure.key)})
    for group, unit in (("income_in_treatment", "%"), ("income_in_treatment_counts", "")):
        for source, label in INCOME_LABELS.items():
            before = (declared.get(group) or {}).get(source)
            after = (now.get(group) or {}).get(source)
            if before != after:
                rows.append({"key": f"{group}.{source}", "average": False,
                             "percent": bool(unit),
                             "label": f"{FIGURES['income_in_treatment'].label}"
                                      f"{' (%)' if unit else ''}: {label}",
                             "declared": before, "now": after})
    return rows


def _later_records(year: int, since: datetime.datetime, patient_ids: set[int]) -> list[dict]:
    """Records written after ``since`` that bear on ``year``: contact records, episodes and
    income records dated in the year (or before it, for episodes and income, which carry
    over); cancelled doses, walk-ins, group attendances and harm-reduction entries; merges
    and closures touching ``patient_ids``. One query per kind of record (fifteen)."""
    from consultations.models import Consultation, GroupAttendance, GroupAttendanceCancellation
    from dispensary.models import Dispensation, DispensationCancellation
    from mass.models import AuditEvent
    from patients.models import (
        Episode,
        HarmReductionContact,
        HarmReductionContactCancellation,
        PatientMerge,
        Visit,
        VisitCancellation,
    )
    from social.models import IncomeRecord

    start, end = year_bounds(year)
    in_year = {"date__range": (start, end)}
    # (code, what, records, their patient, their date, when they were written)
    contact_records = [
        ("visit", _("Walk-in"), Visit.objects.filter(**in_year, created_at__gt=since),
         "patient", "date", "created_at"),
        ("consultation", _("Consultation"),
         Consultation.objects.filter(**in_year, created_at__gt=since),
         "patient", "date", "created_at"),
        ("group_attendance", _("Group attendance"), GroupAttendance.objects.filter(
            session__date__range=(start, end), created_at__gt=since),
         "patient", "session__date", "created_at"),
        ("dispensation", _("Dispensation"),
         Dispensation.objects.filter(**in_year, dispensed_at__gt=since),
         "patient", "date", "dispensed_at"),
        ("dispensation_cancelled", _("Dispensation cancelled"),
         DispensationCancellation.objects.filter(dispensation__date__range=(start, end),
                                                 cancelled_at__gt=since),
         "dispensation__patient", "dispensation__date", "cancelled_at"),
        # Not contacts, but figures of their own (the person may be anonymous).
        ("harm_reduction", _("Harm-reduction hand-out"), HarmReductionContact.objects.filter(
            date__range=(start, end), created_at__gt=since),
         "patient", "date", "created_at"),
    ]
    records = [_record(code, kind, *row)
               for code, kind, queryset, patient, date, at in contact_records
               for row in queryset.values_list(f"{patient}_id", f"{patient}__file_number",
                                               f"{patient}__alias", date, at)]
    # Corrections since (mass.corrections): a record of the year cancelled as a mistake no
    # longer counts. What was cancelled, when, by whom and why.
    cancellations = [
        ("visit_cancelled", _("Walk-in cancelled"), VisitCancellation.objects.filter(
            visit__date__range=(start, end)), "visit__patient", "visit__date"),
        ("group_attendance_cancelled", _("Group attendance cancelled"),
         GroupAttendanceCancellation.objects.filter(
             attendance__session__date__range=(start, end)),
         "attendance__patient", "attendance__session__date"),
        ("harm_reduction_cancelled", _("Harm-reduction entry cancelled"),
         HarmReductionContactCancellation.objects.filter(contact__date__range=(start, end)),
         "contact__patient", "contact__date"),
    ]
    records += _cancellations_since(cancellations, since)
    # Changed since (their date or patient edited before signing): the edit is the record.
    records += [_record("consultation_changed", _("Consultation changed"), *row) for row in (
        Consultation.objects.filter(**in_year, created_at__lte=since, updated_at__gt=since)
        .values_list("patient_id", "patient__file_number", "patient__alias", "date",
                     "updated_at"))]
    # A questionnaire filled or corrected since may make an episode harm-reduction-only or
    # outreach-only (then no treatment episode), or a treatment episode again.
    records += [_record("tdi", _("TDI questionnaire filled or corrected"), *row) for row in (
        TdiRecord.objects.filter(episode__opened_on__lte=end, recorded_at__gt=since)
        .values_list("episode__patient_id", "episode__patient__file_number",
                     "episode__patient__alias", "episode__opened_on", "recorded_at"))]
    records += [_record("episode_opened", _("Episode opened"), *row) for row in (
        Episode.objects.filter(opened_on__lte=end, created_at__gt=since)
        .values_list("patient_id", "patient__file_number", "patient__alias", "opened_on",
                     "created_at"))]
    records += [
        _record("income_correction", _("Income correction"), *row[:5]) if row[5]
        else _record("income_record", _("Income record"), *row[:5])
        for row in (IncomeRecord.objects.filter(date__lte=end, created_at__gt=since)
                    .values_list("patient_id", "patient__file_number", "patient__alias",
                                 "date", "created_at", "corrects_id"))]
    records += _merges_since(PatientMerge.objects.filter(merged_at__gt=since)
                             .filter(Q(kept_id__in=patient_ids) | Q(merged_id__in=patient_ids)))
    # Closures after the declaration: the nightly job's ("episode closed automatically: no
    # contact for six months") and those by hand ("episode closed (<reason>)").
    records += _closures_since(
        AuditEvent.objects.filter(at__gt=since, object_type="patients.episode",
                                  patient_id__in=patient_ids)
        .filter(Q(summary__startswith="episode closed")
                | Q(summary__startswith="end by the 6-month rule withdrawn")))
    records.sort(key=lambda record: (record["recorded_at"], record["patient_id"] or 0))
    return records


def _record(code, kind, patient_id, file_number, alias, date, at, detail="") -> dict:
    """One record written after the declaration, as the reconciliation shows it."""
    return {"code": code, "kind": kind, "patient_id": patient_id, "file_number": file_number,
            "alias": alias, "date": date, "recorded_at": at, "detail": detail,
            "url": _patient_url(patient_id)}


def _cancellations_since(cancellations: list, since: datetime.datetime) -> list[dict]:
    """The cancellations written after ``since`` of the records of the year: what was
    cancelled, when, by whom and why. ``cancellations``: (code, what, the cancellations of
    the year, their patient, their record's date)."""
    records = []
    for code, kind, queryset, patient, date in cancellations:
        for row in (queryset.filter(cancelled_at__gt=since)
                    .select_related("cancelled_by")
                    .values_list(f"{patient}_id", f"{patient}__file_number",
                                 f"{patient}__alias", date, "cancelled_at", "reason",
                                 "cancelled_by__username", "cancelled_by__first_name",
                                 "cancelled_by__last_name")):
            *record, reason, username, first_name, last_name = row
            who = f"{first_name} {last_name}".strip() or username
            records.append(_record(code, kind, *record, detail=f"{reason} — {who}"))
    return records


def _merges_since(merges) -> list[dict]:
    """A merge is a record of the kept file, found from the merged one too (``merged_id``)."""
    records = []
    for merge in merges.values("kept_id", "kept__file_number", "kept__alias", "merged_id",
                               "merged__file_number", "merged_at"):
        detail = f"{merge['merged__file_number']} → {merge['kept__file_number']}"
        record = _record("merge", _("Files merged"), merge["kept_id"], merge["kept__file_number"],
                         merge["kept__alias"], merge["merged_at"].date(), merge["merged_at"],
                         detail)
        record["merged_id"] = merge["merged_id"]
        records.append(record)
    return records


def _closures_since(events) -> list[dict]:
    """The closures of episodes (and ends by the 6-month rule withdrawn) their audit events
    record, dated by the day the episode closed."""
    records = []
    for event in events.values("patient_id", "patient__file_number", "patient__alias", "at",
                               "summary", "details"):
        automatic = "automatically" in event["summary"]
        closed_on = event["details"].get("closed_on") or event["details"].get("was")
        if event["summary"].startswith("end by"):
            code = ("lapse_withdrawn",
                    _("End by the 6-month rule withdrawn (a contact entered since)"))
        elif automatic:
            code = ("automatic_closure",
                    _("Episode closed automatically (no contact for six months)"))
        else:
            code = ("hand_closure", _("Episode closed by hand"))
        records.append(_record(*code, event["patient_id"], event["patient__file_number"],
                               event["patient__alias"],
                               datetime.date.fromisoformat(closed_on) if closed_on else None,
                               event["at"]))
    return records


def _set_changes(declared: set, now: set) -> tuple[set, set]:
    return now - declared, declared - now


def reconciliation(declaration: DeclaredYear, now: dict) -> Reconciliation | None:
    """Each figure declared against today's, and why it moved; None when none did. Reads the
    snapshot's lists, today's lists (six queries) and the records written since (ten)."""
    figures = moved_figures(declared_figures(declaration), now)
    if not figures:
        return None
    year, declared = declaration.year, declaration.lists
    today = snapshot_lists(year)
    names = {**declared.get("patients", {}), **today["patients"]}
    changes = _list_changes(declared, today)
    # Merges and closures are looked for among every patient of the lists, then and now.
    listed = {int(pid) for pid in names}
    records = _later_records(year, declaration.declared_at, listed)
    return Reconciliation(figures=figures,
                          movements=_movements(changes, names, _evidence_by_patient(records)),
                          records=records)


def _list_changes(declared: dict, today: dict) -> dict:
    """For each figure, (entered, left): what is in today's list and not in the declared
    one, and the other way round."""

    def pairs(lists):
        return {(int(pid), day) for pid, days in lists["patient_contacts"].items()
                for day in days}

    changes = {
        "annual_active_patients": _set_changes(
            {int(pid) for pid in declared["patient_contacts"]},
            {int(pid) for pid in today["patient_contacts"]}),
        "patient_contacts": _set_changes(pairs(declared), pairs(today)),
    }
    for key in ("new_requests", "resumption_requests"):
        changes[key] = _set_changes(
            {(patient, opened) for _id, patient, opened in declared[key]},
            {(patient, opened) for _id, patient, opened in today[key]})
    for key in ("patients_in_treatment", "patients_on_substitution"):
        changes[key] = _set_changes(set(declared[key]), set(today[key]))
    income_before = {int(k): v for k, v in declared["income_in_treatment"].items()}
    income_now = {int(k): v for k, v in today["income_in_treatment"].items()}
    changes["income_in_treatment"] = _set_changes(
        set(income_before.items()), set(income_now.items()))
    return changes


def _evidence_by_patient(records: list[dict]) -> dict[int, list[dict]]:
    """The later records of each patient; a merge is evidence for both files."""
    by_patient: dict[int, list[dict]] = {}
    for record in records:
        by_patient.setdefault(record["patient_id"], []).append(record)
        if record.get("merged_id"):
            by_patient.setdefault(record["merged_id"], []).append(record)
    return by_patient


def _movements(changes: dict, names: dict, by_patient: dict) -> list[dict]:
    """One row per patient (or patient and day, or income source) that entered or left a
    figure's list, with the later records of that patient that explain it."""
    movements = []
    for key, (entered, left) in changes.items():
        for direction, items in ((_("entered"), entered), (_("left"), left)):
            for item in sorted(items, key=str):
                patient_id = item[0] if isinstance(item, tuple) else item
                detail = item[1] if isinstance(item, tuple) else ""
                if key == "income_in_treatment":
                    detail = INCOME_LABELS.get(detail, detail)
                movements.append({
                    "figure_key": key, "figure": FIGURES[key].label, "direction": direction,
                    "patient_id": patient_id,
                    "file_number": names.get(str(patient_id), ""), "detail": detail,
                    "url": _patient_url(patient_id),
                    "evidence": by_patient.get(patient_id, []),
                })
    return movements
