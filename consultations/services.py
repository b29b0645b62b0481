"""Every write of the consultations app: one transaction each, with its audit row.

Audit summaries never contain note text: the audit trail is read by coordinators, who may not
read clinical notes.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from consultations import selectors
from consultations.models import (
    Consultation,
    ConsultationAmendment,
    GroupAttendance,
    GroupAttendanceCancellation,
    GroupSession,
    Partner,
    Referral,
    ScreeningResultAmendment,
    ScreeningTest,
    ScreeningTestCancellation,
)
from mass.accounts.roles import Role
from mass.audit import Action, audit_record
from mass.corrections import cancellation_check
from patients.models import Patient


def _refuse_merged(patient) -> None:
    if patient.merged_into_id is not None:
        raise ValidationError(
            _("This file was merged into %(kept)s: record it on that file.")
            % {"kept": patient.merged_into}
        )


def _refuse_future(date: datetime.date) -> None:
    if date > timezone.localdate():
        raise ValidationError(_("The date cannot be later than today."))


# --- consultations --------------------------------------------------------------------------


@transaction.atomic
def consultation_create(*, patient, discipline: str, date: datetime.date,
                        time: datetime.time | None = None, duration_minutes: int | None = None,
                        form: str = Consultation.Form.INDIVIDUAL, site=None, note: str = "",
                        is_personal_note: bool = False, sign: bool = False,
                        actor) -> Consultation:
    _refuse_merged(patient)
    _refuse_future(date)
    if discipline not in selectors.writable_disciplines(actor):
        raise ValidationError(_("You cannot write a note in this discipline."))
    consultation = Consultation(
        patient=patient, author=actor, discipline=discipline, form=form, site=site, date=date,
        time=time, duration_minutes=duration_minutes, note=note,
        is_personal_note=is_personal_note,
    )
    if sign:
        consultation.signed_at, consultation.signed_by = timezone.now(), actor
    consultation.full_clean()
    consultation.save()
    audit_record(actor=actor, action=Action.CREATE, obj=consultation,
                 summary=gettext_noop("consultation %(discipline)s %(date)s"),
                 params={"discipline": discipline, "date": str(date)},
                 details={"discipline": discipline, "signed": sign})
    return consultation


def _locked_for_update(consultation: Consultation) -> Consultation:
    return Consultation.objects.select_for_update().get(pk=consultation.pk)


@transaction.atomic
def consultation_update(*, consultation: Consultation, date: datetime.date,
                        time: datetime.time | None, duration_minutes: int | None, form: str,
                        site, note: str, is_personal_note: bool, discipline: str,
                        actor) -> Consultation:
    """The author corrects an open note. Refused once the note is locked."""
    current = _locked_for_update(consultation)
    if current.author_id != actor.pk:
        raise ValidationError(_("Only the author can edit a note."))
    if current.is_locked:
        raise ValidationError(_("This note is signed: add an amendment instead."))
    _refuse_future(date)
    if discipline not in selectors.writable_disciplines(actor):
        raise ValidationError(_("You cannot write a note in this discipline."))
    current.date, current.time, current.duration_minutes = date, time, duration_minutes
    current.form, current.site, current.note = form, site, note
    current.is_personal_note, current.discipline = is_personal_note, discipline
    current.full_clean()
    current.save(update_fields=["date", "time", "duration_minutes", "form", "site", "note",
                                "is_personal_note", "discipline", "updated_at"])
    audit_record(actor=actor, action=Action.UPDATE, obj=current,
                 summary=gettext_noop("consultation %(consultation)s edited before signature"),
                 params={"consultation": current.pk})
    return current


@transaction.atomic
def consultation_sign(*, consultation: Consultation, actor) -> Consultation:
    current = _locked_for_update(consultation)
    if current.author_id != actor.pk:
        raise ValidationError(_("Only the author can sign a note."))
    if current.is_locked:
        raise ValidationError(_("This note is already signed."))
    current.signed_at, current.signed_by = timezone.now(), actor
    current.save(update_fields=["signed_at", "signed_by", "updated_at"])
    audit_record(actor=actor, action=Action.UPDATE, obj=current,
                 summary=gettext_noop("consultation %(consultation)s signed"),
                 params={"consultation": current.pk})
    return current


@transaction.atomic
def consultation_amend(*, consultation: Consultation, text: str, reason: str,
                       actor) -> ConsultationAmendment:
    current = _locked_for_update(consultation)
    if not current.is_locked:
        raise ValidationError(_("This note is not signed yet: edit it instead."))
    if not selectors.consultation_amendable(actor, current):
        raise ValidationError(_("You cannot amend this note."))
    if not reason.strip():
        raise ValidationError(_("Give the reason for the amendment."))
    if not text.strip():
        raise ValidationError(_("Write the amendment."))
    amendment = ConsultationAmendment.objects.create(
        consultation=current, author=actor, text=text.strip(), reason=reason.strip())
    audit_record(actor=actor, action=Action.UPDATE, patient=current.patient, obj=amendment,
                 summary=gettext_noop("consultation %(consultation)s amended"),
                 params={"consultation": current.pk})
    return amendment


@transaction.atomic
def consultations_sign_due(*, actor=None) -> int:
    """Sign every note past the end of the day after its consultation (``sign_due_notes``).
    Signed without a signer: the automatic signature of the issue."""
    due = list(selectors.notes_due_for_signature().select_for_update()
               .values_list("pk", flat=True))
    if not due:
        return 0
    count = Consultation.objects.filter(pk__in=due, signed_at__isnull=True).update(
        signed_at=timezone.now(), updated_at=timezone.now())
    audit_record(actor=actor, action=Action.UPDATE,
                 summary=gettext_noop("%(count)s consultation notes signed automatically"),
                 params={"count": count},
                 details={"consultations": due[:1000]})
    return count


# --- groups ---------------------------------------------------------------------------------


@transaction.atomic
def group_session_create(*, date: datetime.date, kind: str, theme: str = "",
                         time: datetime.time | None = None, site=None, facilitators=(),
                         actor) -> GroupSession:
    _refuse_future(date)
    session = GroupSession(date=date, kind=kind, theme=theme, time=time, site=site,
                           created_by=actor)
    session.full_clean()
    session.save()
    session.facilitators.set(facilitators)
    audit_record(actor=actor, action=Action.CREATE, obj=session,
                 summary=gettext_noop("group session %(group_kind)s %(date)s"),
                 params={"group_kind": session.kind, "date": str(date)})
    return session


@transaction.atomic
def group_attendance_add(*, session: GroupSession, patient, actor) -> GroupAttendance:
    """Record that ``patient`` attended ``session``. Once per person and session; an
    attendance cancelled by mistake is recorded again by a new row that replaces it."""
    # Locked, and read afresh: a merge of this file at the same moment (which locks it
    # first) makes it a stub, whose rows would no longer be where this one expects them.
    patient = Patient.objects.select_for_update(no_key=True).get(pk=patient.pk)
    _refuse_merged(patient)
    last = _last_attendance(session=session, patient=patient)
    already = _("%(patient)s is already recorded in this session.") % {"patient": patient.alias}
    if last is not None and not last.cancelled:
        raise ValidationError(already)
    try:
        with transaction.atomic():
            return _attendance_create(session=session, patient=patient, replaces=last,
                                      actor=actor)
    except IntegrityError as exc:
        # Recorded by someone else since the check above (the database's constraints).
        raise ValidationError(already) from exc


def attendances_after_merge(*, kept, merged, actor) -> dict[str, int]:
    """Once ``merged``'s records have moved (patients.services.patient_merge): its standing
    attendances left on it, at sessions where ``kept``'s own attendance was cancelled, are
    recorded again on ``kept``, replacing the cancelled one. Rows left on a merged file count
    nowhere; the person did attend. Each is audited; the counts go in the merge record."""
    kept_standing = GroupAttendance.objects.standing().filter(patient=kept)
    left = (GroupAttendance.objects.standing().filter(patient=merged)
            .exclude(session__in=kept_standing.values("session"))
            .select_related("session").order_by("id"))
    for attendance in left:
        # The kept file was at the session (its first attendance kept this one on the stub)
        # and none of its rows there stands: its last one is cancelled.
        _attendance_create(session=attendance.session, patient=kept, actor=actor,
                           replaces=_last_attendance(session=attendance.session, patient=kept),
                           details={"merged_attendance": attendance.pk})
    return {"consultations.groupattendance": len(left)} if left else {}


def _last_attendance(*, session: GroupSession, patient) -> GroupAttendance | None:
    """The patient's attendance at the session that no other replaces (``cancelled``
    annotated), None when never recorded there."""
    return (GroupAttendance.objects.filter(session=session, patient=patient,
                                           replaced_by__isnull=True)
            .annotate(cancelled=Exists(GroupAttendanceCancellation.objects.filter(
                attendance=OuterRef("pk"))))
            .first())


def _attendance_create(*, session: GroupSession, patient, replaces: GroupAttendance | None,
                       actor, details: dict | None = None) -> GroupAttendance:
    """A new attendance, audited; ``replaces``: the cancelled one it records again."""
    attendance = GroupAttendance.objects.create(session=session, patient=patient,
                                                recorded_by=actor, replaces=replaces)
    if replaces is not None:
        details = {"replaces": replaces.pk, **(details or {})}
    audit_record(actor=actor, action=Action.CREATE, obj=attendance,
                 summary=gettext_noop("group attendance %(group_kind)s %(date)s"),
                 params={"group_kind": session.kind, "date": str(session.date)},
                 details=details)
    return attendance


@transaction.atomic
def group_attendance_cancel(*, attendance: GroupAttendance, reason: str,
                            actor) -> GroupAttendanceCancellation:
    """Cancel an attendance recorded by mistake (mass.corrections: who recorded it or a
    coordinator, once, with a reason): struck through on the session, no contact any more."""
    current = (GroupAttendance.objects.select_for_update(of=("self",))
               .select_related("session", "patient").get(pk=attendance.pk))
    reason = cancellation_check(record=current, author_id=current.recorded_by_id,
                                reason=reason, actor=actor)
    cancellation = GroupAttendanceCancellation.objects.create(
        attendance=current, reason=reason, cancelled_by=actor)
    audit_record(actor=actor, action=Action.CANCEL, patient=current.patient, obj=cancellation,
                 summary=gettext_noop("group attendance %(attendance)s of session %(session)s "
                                      "(%(date)s) cancelled"),
                 params={"attendance": current.pk, "session": current.session_id,
                         "date": current.session.date.isoformat()},
                 details={"attendance": current.pk, "session": current.session_id})
    return cancellation


# --- partners and referrals -----------------------------------------------------------------


@transaction.atomic
def partner_save(*, partner: Partner, actor) -> Partner:
    creating = partner.pk is None
    partner.full_clean()
    partner.save()
    audit_record(actor=actor, action=Action.CREATE if creating else Action.UPDATE, obj=partner,
                 summary=gettext_noop("partner %(name)s"), params={"name": partner.name})
    return partner


@transaction.atomic
def referral_create(*, patient, partner: Partner, date: datetime.date, reason: str,
                    actor) -> Referral:
    _refuse_merged(patient)
    _refuse_future(date)
    referral = Referral(patient=patient, partner=partner, date=date, reason=reason.strip(),
                        referred_by=actor)
    referral.full_clean()
    referral.save()
    audit_record(actor=actor, action=Action.CREATE, obj=referral,
                 summary=gettext_noop("referral to %(name)s %(date)s"),
                 params={"name": partner.name, "date": str(date)})
    return referral


#: Said wherever an outcome cannot be changed any more (service refusal, outcome page).
REFERRAL_OUTCOME_FINAL = gettext_lazy(
    "This outcome is recorded and final: it cannot be changed. If it is wrong, record a new "
    "referral to the partner.")


@transaction.atomic
def referral_set_outcome(*, referral: Referral, outcome: str, outcome_date: datetime.date,
                         actor) -> Referral:
    """A pending referral gets its outcome once; a recorded outcome is final (history is not
    rewritten: a mistake is corrected by a new referral)."""
    # Locked: two people recording an outcome at once are served one after the other, and the
    # second is refused.
    current = Referral.objects.select_for_update().get(pk=referral.pk)
    if current.outcome != Referral.Outcome.PENDING:
        raise ValidationError(str(REFERRAL_OUTCOME_FINAL), code="final")
    if outcome not in (Referral.Outcome.SEEN, Referral.Outcome.NOT_SEEN):
        raise ValidationError(_("Choose the outcome: seen or not seen."), code="outcome")
    _refuse_future(outcome_date)
    if outcome_date < current.date:
        raise ValidationError(_("The outcome cannot be known before the referral."))
    current.outcome, current.outcome_date = outcome, outcome_date
    current.full_clean()
    current.save(update_fields=["outcome", "outcome_date"])
    audit_record(actor=actor, action=Action.UPDATE, obj=current,
                 summary=gettext_noop("referral %(referral)s outcome %(referral_outcome)s"),
                 params={"referral": current.pk, "referral_outcome": outcome},
                 details={"previous_outcome": Referral.Outcome.PENDING, "outcome": outcome})
    return current


# --- screening ------------------------------------------------------------------------------


@transaction.atomic
def screening_test_create(*, patient, date: datetime.date, test: str,
                          result: str = ScreeningTest.Result.PENDING,
                          result_date: datetime.date | None = None, follow_up: str = "",
                          actor) -> ScreeningTest:
    _refuse_merged(patient)
    _refuse_future(date)
    if result != ScreeningTest.Result.PENDING and result_date is None:
        result_date = date
    screening = ScreeningTest(patient=patient, date=date, test=test, result=result,
                              result_date=result_date, follow_up=follow_up,
                              performed_by=actor)
    screening.full_clean()
    screening.save()
    audit_record(actor=actor, action=Action.CREATE, obj=screening,
                 summary=gettext_noop("screening %(test)s %(date)s"),
                 params={"test": screening.test, "date": str(date)})
    return screening


@transaction.atomic
def screening_test_record_result(*, screening: ScreeningTest, result: str,
                                 result_date: datetime.date, follow_up: str,
                                 actor) -> ScreeningTest:
    """A pending test gets its result once; a recorded result is never overwritten."""
    current = ScreeningTest.objects.select_for_update().get(pk=screening.pk)
    if current.result != ScreeningTest.Result.PENDING:
        raise ValidationError(_("This result is already recorded; a wrong result is corrected "
                                "by amending it."))
    if ScreeningTestCancellation.objects.filter(screening=current).exists():
        raise ValidationError(_("This test is cancelled."))
    if result == ScreeningTest.Result.PENDING:
        raise ValidationError(_("Choose the result."))
    _refuse_future(result_date)
    if result_date < current.date:
        raise ValidationError(_("The result cannot be known before the test."))
    current.result, current.result_date = result, result_date
    current.follow_up = follow_up or current.follow_up
    current.full_clean()
    current.save(update_fields=["result", "result_date", "follow_up"])
    audit_record(actor=actor, action=Action.UPDATE, obj=current,
                 summary=gettext_noop("screening %(screening)s result recorded"),
                 params={"screening": current.pk})
    return current


@transaction.atomic
def screening_result_amend(*, screening: ScreeningTest, result: str,
                           result_date: datetime.date, reason: str,
                           actor) -> ScreeningResultAmendment:
    """Correct a recorded result, like a note's amendment: a new row, the latest being the
    current result; the result first recorded and every amendment stay. Whoever may record a
    result may amend it (the test's readers: medical)."""
    current = ScreeningTest.objects.select_for_update().get(pk=screening.pk)
    if current.result == ScreeningTest.Result.PENDING:
        raise ValidationError(_("No result is recorded yet: record it instead."))
    if ScreeningTestCancellation.objects.filter(screening=current).exists():
        raise ValidationError(_("This test is cancelled."))
    if result not in (ScreeningTest.Result.NEGATIVE, ScreeningTest.Result.POSITIVE,
                      ScreeningTest.Result.INDETERMINATE):
        raise ValidationError(_("Choose the result."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the amendment."))
    _refuse_future(result_date)
    if result_date < current.date:
        raise ValidationError(_("The result cannot be known before the test."))
    previous = current.amendments.order_by("-created_at", "-id").first()
    was = previous.result if previous is not None else current.result
    amendment = ScreeningResultAmendment.objects.create(
        screening=current, result=result, result_date=result_date, reason=reason,
        author=actor)
    audit_record(actor=actor, action=Action.UPDATE, patient=current.patient, obj=amendment,
                 summary=gettext_noop("screening %(screening)s result amended"),
                 params={"screening": current.pk},
                 details={"screening": current.pk, "was": was, "now": result})
    return amendment


@transaction.atomic
def screening_test_cancel(*, screening: ScreeningTest, reason: str,
                          actor) -> ScreeningTestCancellation:
    """Cancel a test recorded by mistake (often on the wrong file): who performed it, or a
    doctor (mass.corrections), once, with a reason. It stays on the file, struck through."""
    current = ScreeningTest.objects.select_for_update().get(pk=screening.pk)
    reason = cancellation_check(record=current, author_id=current.performed_by_id,
                                reason=reason, actor=actor, overseer=Role.DOCTOR)
    cancellation = ScreeningTestCancellation.objects.create(
        screening=current, reason=reason, cancelled_by=actor)
    audit_record(actor=actor, action=Action.CANCEL, patient=current.patient, obj=cancellation,
                 summary=gettext_noop("screening %(screening)s cancelled"),
                 params={"screening": current.pk},
                 details={"screening": current.pk})
    return cancellation
