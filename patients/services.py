"""Writes on patient files, walk-ins, harm-reduction contacts and treatment episodes.

Each is one transaction that writes its audit row. Bad input raises ``ValidationError``
with a message for the user (forms have checked most of it already; services check again
what depends on the database, such as a file that was merged meanwhile).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mass import contributions
from mass.audit import Action, audit_record, phrase
from mass.corrections import cancellation_check
from patients import photos, selectors, sql
from patients.models import (
    WORKLIST_DAYS_MAX,
    WORKLIST_DAYS_MIN,
    Episode,
    HarmReductionContact,
    HarmReductionContactCancellation,
    OutreachAttempt,
    Patient,
    PatientMerge,
    PatientPhoto,
    PhotoConsent,
    Visit,
    VisitCancellation,
    WorklistThresholds,
)

# --- patient files --------------------------------------------------------------------------

IDENTITY_FIELDS = ["alias", "last_name", "first_name", "birth_date", "birth_year", "sex",
                   "language", "nationality", "niss", "phone", "address", "notes",
                   "distinguishing_note"]


def patient_check_open(patient: Patient, *, for_contact: bool = False) -> None:
    """Refuse new records on a merged stub (they belong on the kept file) and, for contacts,
    on the file of a person recorded as deceased. Other apps call this in their services."""
    if patient.status == Patient.Status.MERGED or patient.merged_into_id:
        kept = patient.merged_into
        raise ValidationError(
            _("File %(file)s was merged into file %(kept)s: record this on that file.")
            % {"file": patient.file_number, "kept": kept.file_number if kept else "?"},
            code="merged",
        )
    if for_contact and patient.status == Patient.Status.DECEASED:
        raise ValidationError(
            _("File %(file)s is recorded as deceased.") % {"file": patient.file_number},
            code="deceased",
        )


def patient_file_number_next() -> str:
    """The next free file number from the database sequence. Imported numbers may be plain
    numbers too, so a number already taken is skipped."""
    while True:
        number = str(sql.file_number_sequence_next())
        if not Patient.objects.filter(file_number=number).exists():
            return number


def _birth_year(data: dict):
    birth_date = data.get("birth_date")
    return birth_date.year if birth_date else data.get("birth_year")


@transaction.atomic
def patient_create(*, alias: str, actor, file_number: str = "", **identity) -> Patient:
    unknown = set(identity) - set(IDENTITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown patient fields: {sorted(unknown)}")
    patient = Patient(alias=alias.strip(), created_by=actor if actor and
                      actor.is_authenticated else None, **identity)
    patient.birth_year = _birth_year(identity)
    patient.file_number = file_number.strip().upper() or patient_file_number_next()
    patient.full_clean()
    patient.save()
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=patient,
                 summary=gettext_noop("patient file %(file)s registered"),
                 params={"file": patient.file_number})
    return patient


@transaction.atomic
def patient_register(*, alias: str, actor, file_number: str = "", arrival_purpose: str = "",
                     site=None, **identity) -> tuple[Patient, Visit | None]:
    """Register a file and, when ``arrival_purpose`` is given, log the person's arrival now
    (at ``site``): the person stands at the desk. One transaction, both audited: a refused
    arrival registers nothing either."""
    patient = patient_create(alias=alias, actor=actor, file_number=file_number, **identity)
    visit = None
    if arrival_purpose:
        visit, _created = visit_log(patient=patient, purpose=arrival_purpose, site=site,
                                    actor=actor)
    return patient, visit


@transaction.atomic
def patient_update(*, patient: Patient, actor, status: str | None = None, **identity
                   ) -> Patient:
    patient_check_open(patient)
    unknown = set(identity) - set(IDENTITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown patient fields: {sorted(unknown)}")
    if status == Patient.Status.MERGED:
        raise ValidationError(_("A file becomes merged only through a merge."))
    changed = []
    for name, value in identity.items():
        if getattr(patient, name) != value:
            setattr(patient, name, value)
            changed.append(name)
    if ("birth_date" in identity and patient.birth_date
            and patient.birth_year != patient.birth_date.year):
        patient.birth_year = patient.birth_date.year
        changed.append("birth_year")
    if status is not None and status != patient.status:
        patient.status = status
        changed.append("status")
    if not changed:
        return patient
    patient.full_clean()
    patient.save(update_fields=[*sorted(set(changed)), "updated_at"])
    # Field names only: the audit trail says what changed, the file says what it is now.
    audit_record(actor=actor, action=Action.UPDATE, patient=patient, obj=patient,
                 summary=gettext_noop("patient file %(file)s updated"),
                 params={"file": patient.file_number},
                 details={"fields": sorted(set(changed))})
    return patient


# --- merging two files of one person ----------------------------------------------------------

#: Relations that stay on the merged stub: the audit trail is history of what happened to
#: that file, and merge records explain the stub itself; a possible duplicate found after an
#: offline registration names the two files it compared (the merge is its answer).
MERGE_KEEPS = {"mass.auditevent", "patients.patientmerge", "outreach.possibleduplicate"}

#: Identity details copied to the kept file when it has none.
MERGE_COPIES = ["last_name", "first_name", "birth_date", "birth_year", "language",
                "nationality", "niss", "phone", "address", "distinguishing_note"]


class MergeConflict(ValidationError):
    pass


def _merge_conflicts_of_apps(*, kept: Patient, merged: Patient) -> list[str]:
    """Why the other apps forbid this merge (mass.contributions.MERGE_CHECKS)."""
    return [reason for check in contributions.MERGE_CHECKS
            for reason in check(kept=kept, merged=merged)]


def patient_relations():
    """Every foreign key (or one-to-one) of any model that points at Patient, including the
    hidden ones (``related_name="+"``) and the through tables of many-to-many fields: the
    merge moves whatever another app attaches to a patient without knowing that app."""
    for relation in Patient._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete
                and (relation.one_to_many or relation.one_to_one)):
            continue
        model = relation.related_model
        if model._meta.label_lower in MERGE_KEEPS or model._meta.proxy:
            continue
        yield model, relation.field


def patient_merge_preview(*, kept: Patient, merged: Patient) -> dict[str, int]:
    """What a merge would move: rows per model, for the confirmation page."""
    counts = {}
    for model, field in patient_relations():
        rows = model._base_manager.filter(**{field.name: merged})
        if model is Episode:  # the joined ones stay (see merge_episodes)
            rows = rows.filter(pk__in=_episodes_moving(kept=kept, merged=merged))
        count = rows.count()
        if count:
            counts[_model_label(model, field)] = count
    return counts


def _episodes_moving(*, kept: Patient, merged: Patient) -> list[int]:
    """The merged file's episodes a merge would move: all but those it joins (and those
    joined by an earlier merge)."""
    plan = selectors.merge_episodes(kept=kept, merged=merged)
    joined = {e.pk for join in plan.joins for e in join.joined}
    return [e.pk for e in plan.episodes if e.patient_id == merged.pk and e.pk not in joined]


def _model_label(model, field) -> str:
    label = model._meta.label_lower
    if model is Patient:
        return f"{label}.{field.name}"
    return label


def _move(model, field, *, kept: Patient, merged: Patient) -> tuple[int, int]:
    """Move the rows of ``model`` from ``merged`` to ``kept``: (rows moved, rows left)."""
    rows = model._base_manager.filter(**{field.name: merged})
    if model is Episode:
        # Joined into an episode of the stay (_episodes_join): recorded on the stub.
        rows = rows.filter(joined_into__isnull=True)
    try:
        with transaction.atomic():
            return rows.update(**{field.name: kept}), 0
    except IntegrityError:
        pass
    # A record the kept file already has (both files at the same group session, say, or a
    # many-to-many link present on both) cannot be a second row of the kept file, and a
    # record is never deleted: that one stays on the merged file, which points at the kept
    # one, and the merge record says so. The rest moves, one row at a time (rare: only
    # after a conflict).
    moved = left = 0
    for pk in rows.order_by("pk").values_list("pk", flat=True):
        try:
            with transaction.atomic():
                moved += model._base_manager.filter(pk=pk).update(**{field.name: kept})
        except IntegrityError:
            left += 1
    return moved, left


@transaction.atomic
def patient_merge(*, kept: Patient, merged: Patient, reason: str, actor) -> PatientMerge:
    """Make ``merged`` a stub of ``kept``: every record attached to it moves to ``kept`` (in
    every app: see :func:`patient_relations`), empty identity details of ``kept`` are taken
    from it, and a PatientMerge row and an audit row say what happened and why.

    Episodes of the two files that overlap are one stay of one person: they are joined into
    one (:func:`_episodes_join`) rather than moved side by side, so that the stay is not
    counted as a new request plus a resumption. Episodes the 6-month rule has ended, with
    the contacts of both files, get their closure written, so that at most one stays open."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why these two files are the same person."), code="reason")
    if kept.pk == merged.pk:
        raise ValidationError(_("A file cannot be merged into itself."), code="same")
    kept, merged = _lock_both_files(kept=kept, merged=merged)
    if reasons := _merge_conflicts_of_apps(kept=kept, merged=merged):
        raise MergeConflict(reasons, code="conflict")
    plan = selectors.merge_episodes(kept=kept, merged=merged)
    joins = _episodes_join(plan, kept=kept, actor=actor)
    copied = _identity_fill_in(kept=kept, merged=merged)

    # The merged file becomes a stub first: the database lets a ledger row change file only
    # towards the file its own was merged into (mass.database.triggers.AppendOnly).
    merged.status = Patient.Status.MERGED
    merged.merged_into = kept
    if "niss" in copied:
        merged.niss = ""  # one NISS, one file: it now identifies the kept file
    merged.save(update_fields=["status", "merged_into", "niss", "updated_at"])

    moved, left = _move_records(kept=kept, merged=merged)
    recorded = {label: rows for step in contributions.MERGE_STEPS
                for label, rows in step(kept=kept, merged=merged, actor=actor).items()}
    if joined_left := sum(e.patient_id == merged.pk for j in joins for e in j.joined):
        left["patients.episode"] = left.get("patients.episode", 0) + joined_left
    joined_episodes = [_episode_kind_after_join(join, kept=kept) for join in joins]

    if copied:
        kept.save(update_fields=[*copied, "updated_at"])
    record = PatientMerge.objects.create(kept=kept, merged=merged, reason=reason, moved=moved,
                                         left=left, recorded=recorded, copied_fields=copied,
                                         merged_by=actor, joined_episodes=joined_episodes)
    audit_record(actor=actor, action=Action.MERGE, patient=kept, obj=record,
                 summary=gettext_noop("file %(merged)s merged into %(kept)s"),
                 params={"merged": merged.file_number, "kept": kept.file_number},
                 details={"merged_patient_id": merged.pk, "moved": moved, "left": left,
                          "recorded": recorded, "copied": sorted(copied), "reason": reason[:200],
                          "joined_episodes": joined_episodes})
    return record


def _lock_both_files(*, kept: Patient, merged: Patient) -> tuple[Patient, Patient]:
    """Both files locked (in id order, so two merges cannot deadlock) and read afresh;
    neither may already be merged."""
    locked = {p.pk: p for p in Patient.objects.select_for_update().filter(
        pk__in=[kept.pk, merged.pk]).order_by("pk")}
    kept, merged = locked[kept.pk], locked[merged.pk]
    for patient in (kept, merged):
        if patient.status == Patient.Status.MERGED:
            raise ValidationError(
                _("File %(file)s is already merged into another file.")
                % {"file": patient.file_number}, code="merged")
    return kept, merged


def _identity_fill_in(*, kept: Patient, merged: Patient) -> dict:
    """The empty identity details of ``kept`` taken from ``merged`` (set on ``kept``, not
    saved): what was copied, as the merge record keeps it."""
    copied = {}
    for name in MERGE_COPIES:
        value = getattr(merged, name)
        if value not in ("", None) and getattr(kept, name) in ("", None):
            copied[name] = value.isoformat() if isinstance(value, datetime.date) else value
            setattr(kept, name, value)
    if kept.sex == Patient.Sex.UNKNOWN and merged.sex != Patient.Sex.UNKNOWN:
        copied["sex"] = kept.sex = merged.sex
    return copied


def _move_records(*, kept: Patient, merged: Patient) -> tuple[dict, dict]:
    """Every app's records of ``merged`` moved to ``kept``: how many moved and how many the
    database left on the stub, by model."""
    moved, left = {}, {}
    for model, field in patient_relations():
        count, stayed = _move(model, field, kept=kept, merged=merged)
        if count:
            moved[_model_label(model, field)] = count
        if stayed:
            left[_model_label(model, field)] = stayed
    return moved, left


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def _episodes_join(plan, *, kept: Patient, actor) -> list:
    """Before the records move: join each group of overlapping episodes of the two files
    into its earliest one, and write down the 6-month rule's end of every other episode
    that has none yet, so that the kept file ends with at most one open episode.

    The joined episodes are not changed but for ``joined_into``: the merged file's stay on
    the stub (``_move`` leaves them), the kept file's stay where they are; none counts any
    more. The earliest episode takes the stay's end (the closure of the episode that ended
    last, or none while the stay runs); what it was before goes in the merge record."""
    joined_ids = {e.pk for join in plan.joins for e in join.joined}
    stays = {join.kept.pk: join for join in plan.joins}
    for join in plan.joins:
        Episode.objects.filter(pk__in=[e.pk for e in join.joined]).update(
            joined_into=join.kept)
    # Closures by the rule first: the kept episode of a stay that runs may reopen below.
    for episode in plan.episodes:
        if (episode.pk not in joined_ids and episode.pk not in stays
                and episode.closed_on is None and episode.ended_on is not None):
            episode_close_lapsed(episode=episode, ended_on=episode.ended_on, actor=actor)
    for join in plan.joins:
        _stay_takes_its_end(join, kept=kept, actor=actor)
    return plan.joins


def _stay_takes_its_end(join, *, kept: Patient, actor) -> None:
    """The earliest episode of a joined stay takes the stay's end (what it was before goes
    in ``join.before``), and its closure by the 6-month rule when the stay has ended."""
    episode, source = join.kept, join.end_from
    join.before = {"patient_id": episode.patient_id, "kind": episode.kind,
                   "closed_on": _iso(episode.closed_on),
                   "closure_reason": episode.closure_reason}
    if source is not episode:
        episode.closed_on, episode.closure_reason = source.closed_on, source.closure_reason
        episode.closure_note, episode.closed_by = source.closure_note, source.closed_by
        episode.save(update_fields=["closed_on", "closure_reason", "closure_note",
                                    "closed_by"])
        audit_record(actor=actor, action=Action.UPDATE, patient=kept, obj=episode,
                     summary=gettext_noop("episode joined with the overlapping episodes of a "
                                          "merged file: it takes the end of the stay"),
                     details={"joined": [e.pk for e in join.joined],
                              "closed_on": _iso(episode.closed_on),
                              "before": join.before})
    if episode.closed_on is None and join.ended_on is not None:
        episode_close_lapsed(episode=episode, ended_on=join.ended_on, actor=actor)


def _episode_kind_after_join(join, *, kept: Patient) -> dict:
    """Once the records have moved: the stay's kind follows the person's history (new when
    no episode of either file opened before it), and the merge record's entry of the join."""
    episode = join.kept
    earlier = (Episode.objects.counted().filter(patient=kept)
               .filter(Q(opened_on__lt=episode.opened_on)
                       | Q(opened_on=episode.opened_on, pk__lt=episode.pk)).exists())
    kind = Episode.Kind.RESUMPTION if earlier else Episode.Kind.NEW
    if episode.kind != kind:
        episode.kind = kind
        episode.save(update_fields=["kind"])
    questionnaires = contributions.tdi_record_ids(
        episode_ids=[episode.pk, *(e.pk for e in join.joined)])
    return {"episode": episode.pk, "joined": [e.pk for e in join.joined],
            "opened_on": _iso(join.opened_on), "ended_on": _iso(join.ended_on),
            "ended_by_rule": join.ended_by_rule, "kind": kind, "before": join.before,
            "questionnaires": questionnaires}


# --- walk-ins and harm-reduction material ------------------------------------------------------

#: A second click within this time on the same person and purpose is the same arrival.
DOUBLE_CLICK = datetime.timedelta(minutes=2)


@transaction.atomic
def visit_log(*, patient: Patient, purpose: str, site, actor, date: datetime.date | None = None,
              time: datetime.time | None = None, note: str = "") -> tuple[Visit, bool]:
    """Log a walk-in. Returns (visit, created): the same person logged for the same purpose
    moments ago is not logged twice (a double click, two people at the desk)."""
    patient_check_open(patient, for_contact=True)
    now = timezone.localtime()
    date = date or now.date()
    if date > now.date():
        raise ValidationError(_("A walk-in cannot be in the future."), code="future")
    if time is None and date == now.date():
        time = now.time().replace(second=0, microsecond=0)
    if purpose not in Visit.Purpose.values:
        raise ValidationError(_("Unknown purpose."), code="purpose")
    # Serialise arrivals of one person so that two clicks at once make one walk-in.
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    recent = (Visit.objects.standing().filter(patient=patient, date=date, purpose=purpose,
                                              created_at__gte=timezone.now() - DOUBLE_CLICK)
              .order_by("-id").first())
    if recent is not None:
        return recent, False
    visit = Visit(patient=patient, purpose=purpose, site=site, date=date, time=time,
                  note=note.strip(), logged_by=actor)
    visit.full_clean()
    visit.save()
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=visit,
                 summary=gettext_noop("walk-in %(purpose)s"), params={"purpose": visit.purpose})
    return visit, True


@transaction.atomic
def harm_reduction_log(*, site, date: datetime.date, quantities: dict[str, tuple[int, int]],
                       actor, patient: Patient | None = None) -> list[HarmReductionContact]:
    """Record material handed out and returned, one row per kind of material. Anonymous
    unless a patient is given."""
    if patient is not None:
        patient_check_open(patient)
    if date > timezone.localdate():
        raise ValidationError(_("A contact cannot be in the future."), code="future")
    rows = []
    for material, (handed_out, returned) in quantities.items():
        if not (handed_out or returned):
            continue
        contact = HarmReductionContact(date=date, site=site, patient=patient,
                                       material=material, handed_out=handed_out or 0,
                                       returned=returned or 0, logged_by=actor)
        contact.full_clean()
        rows.append(contact)
    if not rows:
        raise ValidationError(_("Enter at least one quantity handed out or returned."),
                              code="empty")
    HarmReductionContact.objects.bulk_create(rows)
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=rows[0],
                 summary=gettext_noop("harm-reduction material: %(materials)s"),
                 params={"materials": [
                     phrase(gettext_noop("%(material)s +%(handed_out)s/-%(returned)s"),
                            material=r.material, handed_out=r.handed_out, returned=r.returned)
                     for r in rows]})
    return rows


@transaction.atomic
def visit_cancel(*, visit: Visit, reason: str, actor) -> VisitCancellation:
    """Cancel a walk-in logged by mistake (mass.corrections: its author or a coordinator,
    once, with a reason). The walk-in stays, struck through; it is no contact any more."""
    current = Visit.objects.select_for_update().get(pk=visit.pk)
    reason = cancellation_check(record=current, author_id=current.logged_by_id, reason=reason,
                                actor=actor)
    cancellation = VisitCancellation.objects.create(visit=current, reason=reason,
                                                    cancelled_by=actor)
    audit_record(actor=actor, action=Action.CANCEL, patient=current.patient, obj=cancellation,
                 summary=gettext_noop("walk-in %(visit)s of %(date)s cancelled"),
                 params={"visit": current.pk, "date": current.date.isoformat()},
                 details={"visit": current.pk})
    return cancellation


@transaction.atomic
def harm_reduction_cancel(*, contact: HarmReductionContact, reason: str,
                          actor) -> HarmReductionContactCancellation:
    """Cancel a harm-reduction entry (one material of a hand-out) recorded by mistake,
    anonymous or named: its author or a coordinator, once, with a reason."""
    current = HarmReductionContact.objects.select_for_update().get(pk=contact.pk)
    reason = cancellation_check(record=current, author_id=current.logged_by_id, reason=reason,
                                actor=actor)
    cancellation = HarmReductionContactCancellation.objects.create(
        contact=current, reason=reason, cancelled_by=actor)
    audit_record(actor=actor, action=Action.CANCEL, patient=current.patient, obj=cancellation,
                 summary=gettext_noop("harm-reduction entry %(contact)s of %(date)s cancelled "
                                      "(%(material)s +%(handed_out)s/-%(returned)s)"),
                 params={"contact": current.pk, "date": current.date.isoformat(),
                         "material": current.material, "handed_out": current.handed_out,
                         "returned": current.returned},
                 details={"contact": current.pk})
    return cancellation


# --- treatment episodes -----------------------------------------------------------------------

@transaction.atomic
def episode_open(*, patient: Patient, opened_on: datetime.date, actor
                 ) -> tuple[Episode, Episode | None]:
    """Open a treatment episode on a treatment request recorded by staff. Returns
    (episode, closed) where ``closed`` is an earlier episode whose end by the 6-month rule
    this wrote down first (or None).

    The kind follows docs/domain.md: *new* when the person has no earlier episode,
    *resumption* otherwise. While an episode runs (not closed, and a contact less than six
    months ago) nothing is opened: the person is in treatment already. An episode that the
    6-month rule has ended but whose closure nobody has written yet is closed as of its last
    contact (``episode_close_lapsed``) before the resumption opens.
    """
    patient_check_open(patient, for_contact=True)
    if opened_on > timezone.localdate():
        raise ValidationError(_("An episode cannot open in the future."), code="future")
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    episodes = list(Episode.objects.counted().filter(patient=patient)
                    .with_end(today=opened_on).order_by("-opened_on", "-id"))
    if episodes and episodes[0].opened_on > opened_on:
        raise ValidationError(
            _("An episode opened on %(date)s already; a new one cannot start before it.")
            % {"date": episodes[0].opened_on.strftime("%d/%m/%Y")}, code="order")
    running = next((e for e in episodes if e.ended_on is None), None)
    if running is not None:
        raise ValidationError(
            _("An episode is open since %(date)s and the last contact is less than "
              "6 months old: the person is still in treatment. Close that episode first "
              "if it has ended.") % {"date": running.opened_on.strftime("%d/%m/%Y")},
            code="open")
    closed = None
    lapsed = next((e for e in episodes if e.closed_on is None), None)
    if episodes and episodes[0].ended_on and episodes[0].ended_on > opened_on:
        raise ValidationError(
            _("The previous episode closed on %(date)s; a new one cannot start before.")
            % {"date": episodes[0].ended_on.strftime("%d/%m/%Y")}, code="order")
    if lapsed is not None:
        closed = episode_close_lapsed(episode=lapsed, ended_on=lapsed.ended_on, actor=actor)
    kind = Episode.Kind.RESUMPTION if episodes else Episode.Kind.NEW
    episode = Episode.objects.create(patient=patient, opened_on=opened_on, kind=kind,
                                     opened_by=actor)
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=episode,
                 summary=gettext_noop("episode opened (%(episode_kind)s)"),
                 params={"episode_kind": kind})
    return episode, closed


def episode_close_lapsed(*, episode: Episode, ended_on: datetime.date, actor=None) -> Episode:
    """Write down the end of an episode by the 6-month rule: closed as of its last contact
    ``ended_on``, reason "no contact for six months", with its audit row. The figures apply
    the rule whether or not this was written (``Episode.objects.with_end()``); this records
    it on the file. ``actor`` is None for the nightly job. Call inside a transaction, with
    the episode's row read as it is now."""
    episode.closed_on, episode.closure_reason = ended_on, Episode.ClosureReason.SIX_MONTHS
    episode.closure_note, episode.closed_by = "", actor
    episode.save(update_fields=["closed_on", "closure_reason", "closure_note", "closed_by"])
    audit_record(actor=actor, action=Action.UPDATE, patient=episode.patient, obj=episode,
                 username="" if actor else "system",
                 summary=gettext_noop("episode closed automatically: no contact for six "
                                      "months"),
                 details={"closed_on": ended_on.isoformat(), "reason": "six_months"})
    return episode


def episodes_record_lapses(*, today: datetime.date | None = None
                           ) -> tuple[list[Episode], list[Episode]]:
    """The nightly job: for every episode without a written closure, record on it the end
    by the 6-month rule as of ``today`` (``lapse_recorded_on``), with its audit row "episode
    closed automatically: no contact for six months"; and withdraw a recorded end that the
    records no longer give (a contact entered since, inside the gap), audited too. Returns
    (recorded, withdrawn).

    Nothing here writes the closure itself (``closed_on``): the figures read the rule from
    the records (``Episode.objects.with_end()``), so that a backdated contact entered after
    this job ran still counts. The closure is written when a new request opens a resumption
    (``episode_open``) or a merge joins episodes. A closure made by hand is never touched.
    One transaction per episode, so that a long run holds no lock for long."""
    today = today or timezone.localdate()
    recorded, withdrawn = [], []
    changed = (Episode.objects.counted().filter(closed_on__isnull=True).with_end(today=today)
               .filter(Q(ended_on__isnull=False, lapse_recorded_on__isnull=True)
                       | (Q(ended_on__isnull=False) & ~Q(lapse_recorded_on=F("ended_on")))
                       | Q(ended_on__isnull=True, lapse_recorded_on__isnull=False))
               .order_by("id").values_list("pk", flat=True))
    for pk in list(changed):
        with transaction.atomic():
            episode = (Episode.objects.select_for_update(of=("self",)).select_related("patient")
                       .with_end(today=today).get(pk=pk))
            if episode.closed_on is not None or episode.ended_on == episode.lapse_recorded_on:
                continue
            before, episode.lapse_recorded_on = episode.lapse_recorded_on, episode.ended_on
            episode.save(update_fields=["lapse_recorded_on"])
            if episode.ended_on is not None:
                audit_record(actor=None, action=Action.UPDATE, patient=episode.patient,
                             obj=episode, username="system",
                             summary=gettext_noop("episode closed automatically: no "
                                                  "contact for six months"),
                             details={"closed_on": episode.ended_on.isoformat(),
                                      "reason": "six_months"})
                recorded.append(episode)
            else:
                audit_record(actor=None, action=Action.UPDATE, patient=episode.patient,
                             obj=episode, username="system",
                             summary=gettext_noop("end by the 6-month rule withdrawn: a "
                                                  "contact recorded since falls inside "
                                                  "the gap"),
                             details={"was": before.isoformat()})
                withdrawn.append(episode)
    return recorded, withdrawn


@transaction.atomic
def episode_close(*, episode: Episode, closed_on: datetime.date, reason: str, actor,
                  note: str = "") -> Episode:
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    patient_check_open(episode.patient)
    if reason == Episode.ClosureReason.SIX_MONTHS:
        raise ValidationError(_("Choose why the episode closes."), code="reason")
    if not episode.is_open:
        raise ValidationError(_("This episode is already closed."), code="closed")
    if reason not in Episode.ClosureReason.values:
        raise ValidationError(_("Choose why the episode closes."), code="reason")
    if closed_on > timezone.localdate():
        raise ValidationError(_("An episode cannot close in the future."), code="future")
    if closed_on < episode.opened_on:
        raise ValidationError(
            _("An episode cannot close before it opened (%(date)s).")
            % {"date": episode.opened_on.strftime("%d/%m/%Y")}, code="order")
    episode.closed_on, episode.closure_reason = closed_on, reason
    episode.closure_note, episode.closed_by = note.strip(), actor
    episode.save(update_fields=["closed_on", "closure_reason", "closure_note", "closed_by"])
    audit_record(actor=actor, action=Action.UPDATE, patient=episode.patient, obj=episode,
                 summary=gettext_noop("episode closed (%(closure_reason)s)"),
                 params={"closure_reason": reason},
                 details={"closed_on": closed_on.isoformat(), "reason": reason})
    return episode


# --- who have we lost -------------------------------------------------------------------------

@transaction.atomic
def outreach_attempt_record(*, patient: Patient, means: str, result: str, actor,
                            site=None, date: datetime.date | None = None) -> OutreachAttempt:
    """Record that staff tried to reach a person today, or on ``date`` (an attempt made on
    an outreach round and synchronised later: a change of their file, audited). Not a
    contact: nothing else moves (the episode's last contact, the figures)."""
    patient_check_open(patient, for_contact=True)
    date = date or timezone.localdate()
    if date > timezone.localdate():
        raise ValidationError(_("An attempt cannot be in the future."), code="future")
    if means not in OutreachAttempt.Means.values:
        raise ValidationError(_("Choose how the person was sought."), code="means")
    if result not in OutreachAttempt.Result.values:
        raise ValidationError(_("Choose the result of the attempt."), code="result")
    attempt = OutreachAttempt(patient=patient, date=date, means=means,
                              result=result, site=site, made_by=actor)
    attempt.full_clean()
    attempt.save()
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=attempt,
                 summary=gettext_noop("outreach attempt (%(means)s: %(outreach_result)s)"),
                 params={"means": means, "outreach_result": result})
    return attempt


def worklist_days_check(days: int) -> None:
    """A worklist threshold (or the page's ``days``) is 1 to 365 days."""
    if not WORKLIST_DAYS_MIN <= days <= WORKLIST_DAYS_MAX:
        raise ValidationError(_("A number of days without contact is between 1 and 365."),
                              code="days")


@transaction.atomic
def worklist_thresholds_set(*, substitution_days: int, other_days: int,
                            actor) -> WorklistThresholds:
    """The coordinators' thresholds of "who have we lost"; the audit row keeps the values
    before and after. Out of range: refused, nothing written."""
    for days in (substitution_days, other_days):
        worklist_days_check(days)
    thresholds = (WorklistThresholds.objects.select_for_update()
                  .filter(pk=WorklistThresholds.ROW).first() or WorklistThresholds())
    before = {"substitution_days": thresholds.substitution_days,
              "other_days": thresholds.other_days}
    thresholds.substitution_days, thresholds.other_days = substitution_days, other_days
    thresholds.updated_by = actor
    thresholds.full_clean()
    thresholds.save()
    audit_record(actor=actor, action=Action.UPDATE, obj=thresholds,
                 summary=gettext_noop("worklist thresholds: %(substitution_days)s / "
                                      "%(other_days)s days"),
                 params={"substitution_days": substitution_days, "other_days": other_days},
                 details={"before": before, "after": {"substitution_days": substitution_days,
                                                      "other_days": other_days}})
    return thresholds


# --- identification photos -------------------------------------------------------------------


@transaction.atomic
def patient_photo_store(*, patient: Patient, upload, source: str, consent_given: bool,
                        actor) -> PatientPhoto:
    """Store the person's identification photo (from the device camera or a file), replacing
    the one they had. A photo is stored only with their consent: on record already, or given
    now (``consent_given``: staff asked and the person agreed), which is recorded. The upload
    must really be a photo of at most 10 MB (patients.photos). Refused: ValidationError with
    code "photo" or "consent", nothing written, no file left."""
    patient_check_open(patient)
    if source not in PatientPhoto.Source.values:
        raise ValidationError(_("Say how the photo was taken."), code="source")
    image, thumb = photos.photo_reencode(upload)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)  # one change at a time
    consent = selectors.photo_consent(patient=patient)
    consent_recorded = False
    if consent is None or consent.decision != PhotoConsent.Decision.GIVEN:
        if not consent_given:
            raise ValidationError(_("Ask the person first: a photo is stored only with their "
                                    "consent. Tick the consent box once they agree."),
                                  code="consent")
        PhotoConsent.objects.create(patient=patient, decision=PhotoConsent.Decision.GIVEN,
                                    recorded_by=actor)
        consent_recorded = True
    photo = PatientPhoto.objects.filter(patient=patient).first()
    replaced = photo.token if photo else None
    token = photos.photo_token()
    photos.photo_files_write(token, image, thumb)
    try:
        if photo is None:
            photo = PatientPhoto(patient=patient)
        photo.token, photo.source = token, source
        photo.taken_at, photo.taken_by = timezone.now(), actor
        photo.save()
        audit_record(actor=actor, action=Action.UPDATE if replaced else Action.CREATE,
                     obj=photo, patient=patient,
                     summary=(gettext_noop("identification photo of %(file)s (%(photo_source)s, "
                                           "consent given)") if consent_recorded else
                              gettext_noop("identification photo of %(file)s (%(photo_source)s)")),
                     params={"file": patient.file_number, "photo_source": source},
                     details={"source": source, "replaced": bool(replaced),
                              "consent_recorded": consent_recorded})
    except BaseException:
        photos.photo_files_erase(token)
        raise
    if replaced:
        # The old files go once the new photo is committed (a failed commit keeps them).
        transaction.on_commit(lambda: photos.photo_files_erase(replaced))
    return photo


@transaction.atomic
def patient_photo_consent_withdraw(*, patient: Patient, actor) -> PhotoConsent:
    """The person withdraws their consent: recorded (append-only), and their photo erased,
    its row and its files (the photo is not clinical: nothing of it is kept). The files go
    when the transaction commits, so a failed withdrawal leaves row and files together.
    Refused when there is neither consent nor photo to withdraw."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    consent = selectors.photo_consent(patient=patient)
    photo = PatientPhoto.objects.filter(patient=patient).first()
    if photo is None and (consent is None or consent.decision != PhotoConsent.Decision.GIVEN):
        raise ValidationError(_("There is no photo consent to withdraw on this file."),
                              code="consent")
    withdrawn = PhotoConsent.objects.create(patient=patient, recorded_by=actor,
                                            decision=PhotoConsent.Decision.WITHDRAWN)
    token = photo.token if photo else None
    if photo is not None:
        photo.delete()
    audit_record(actor=actor, action=Action.UPDATE, obj=withdrawn, patient=patient,
                 summary=(gettext_noop("photo consent withdrawn for %(file)s; photo erased")
                          if token else gettext_noop("photo consent withdrawn for %(file)s")),
                 params={"file": patient.file_number},
                 details={"photo_erased": bool(token)})
    if token:
        transaction.on_commit(lambda: photos.photo_files_erase(token))
    return withdrawn
