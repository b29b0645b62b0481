"""Writes of the outreach app: devices, and the records a round synchronises.

A sync is not one transaction: each record is its own (with the audit row its service
writes and its ``SyncedRecord``), so a refused record leaves the rest of the batch accepted,
and an accepted one stays accepted whatever comes after it. Each record is answered
``accepted``, ``already`` (its UUID was accepted before for this user: nothing is written)
or ``refused`` with the reason in the user's language. Records are written through the same
services as at the desk (``visit_log``, ``consultation_create``...), dated when they were
made (``made_at``) and at the place they were made: the figures count them there and then.
"""

import datetime
import uuid
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alerts.models import Alert
from consultations import services as consultation_services
from consultations.models import Consultation, Partner, ScreeningTest
from consultations.selectors import writable_disciplines
from mass.audit import Action, audit_record
from mass.models import Site
from outreach.models import OutreachDevice, PossibleDuplicate, SyncedRecord
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.models import HarmReductionContact, OutreachAttempt, Patient, Visit

#: How long a prepared round may be used: the device wipes it after this (docs/security.md).
ROUND_HOURS = 12
#: Records made longer ago than the round plus this margin are refused: the device should
#: have wiped them; they are recorded at the desk, from the person's account.
ROUND_MARGIN = datetime.timedelta(hours=1)
#: A device clock a little ahead is tolerated; days ahead are refused.
CLOCK_MARGIN = datetime.timedelta(minutes=5)
#: A short note written on a phone; a longer one is written at the desk.
NOTE_MAX_CHARS = 2000
#: Records in one sync request (a round is a few dozen; the device sends in chunks).
SYNC_MAX_RECORDS = 500
DEVICE_NAME_MAX = 100
#: After a device of a member is disabled (lost), no new device for that member for this
#: long: the lost phone may keep the password and the authenticator, and its page registers
#: itself again when refused. By then whatever round the lost phone held has expired. A
#: coordinator's reset of the member's password ends the wait: the phone's holder no longer
#: knows it.
DISABLED_DEVICE_WAIT = datetime.timedelta(hours=ROUND_HOURS)

ACCEPTED, ALREADY, REFUSED = "accepted", "already", "refused"
K = SyncedRecord.Kind

#: The fields each kind may carry besides the common ones; any other field is refused.
COMMON_FIELDS = {"uuid", "kind", "made_at", "site", "patient", "person"}
KIND_FIELDS = {
    K.PERSON: {"alias", "birth_year", "sex"},
    K.CONTACT: {"purpose"},
    K.MATERIAL: {"lines"},
    K.NOTE: {"text", "discipline"},
    K.SCREENING: {"test", "result"},
    K.REFERRAL: {"partner", "text"},
    K.ATTEMPT: {"outcome", "means"},
    K.INITIATION: {"text"},
}
#: The permission each kind needs on top of ``outreach.use_outreach`` (the desk's own). The
#: mobile team registers people and hands out material, which at the centre is the desk's.
KIND_PERMISSIONS = {
    K.CONTACT: "patients.add_visit",
    K.NOTE: "consultations.add_consultation",
    K.INITIATION: "consultations.add_consultation",
    K.SCREENING: "consultations.add_screeningtest",
    K.REFERRAL: "consultations.add_referral",
    K.ATTEMPT: "patients.add_outreachattempt",
}
#: An initiation is a medical decision: its note is written in one of these disciplines.
INITIATION_DISCIPLINES = (Consultation.Discipline.MEDICAL, Consultation.Discipline.NURSING)


# --- devices ----------------------------------------------------------------------------------


def device_register(*, name: str, actor) -> OutreachDevice:
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        raise ValidationError(_("Give the device a name (e.g. “team phone 2”)."),
                              code="name")
    if len(name) > DEVICE_NAME_MAX:
        raise ValidationError(_("The device's name is too long (at most %(max)s characters).")
                              % {"max": DEVICE_NAME_MAX}, code="name")
    since = timezone.now() - DISABLED_DEVICE_WAIT
    if actor.password_reset_at is not None:
        since = max(since, actor.password_reset_at)
    lost = (OutreachDevice.objects.filter(user=actor, disabled_at__gt=since)
            .order_by("-disabled_at").first())
    if lost is not None:
        # Audited in its own transaction, as a refused sync of a disabled device: it may be
        # whoever holds the lost phone.
        with transaction.atomic():
            audit_record(actor=actor, action=Action.LOGIN_FAILED, obj=lost,
                         summary=gettext_noop("new outreach device refused: %(name)s was "
                                              "disabled (lost) recently"),
                         params={"name": lost.name},
                         details={"disabled_at": lost.disabled_at.isoformat()})
        raise ValidationError(
            _("Your device %(name)s was disabled as lost at %(when)s: a new device can be "
              "registered for you from %(until)s, or as soon as a coordinator has reset your "
              "password. Meanwhile, record at the desk.")
            % {"name": lost.name,
               "when": date_format(timezone.localtime(lost.disabled_at),
                                   "SHORT_DATETIME_FORMAT"),
               "until": date_format(timezone.localtime(lost.disabled_at
                                                       + DISABLED_DEVICE_WAIT),
                                    "SHORT_DATETIME_FORMAT")},
            code="disabled_recently")
    with transaction.atomic():
        device = OutreachDevice.objects.create(user=actor, name=name)
        audit_record(actor=actor, action=Action.CREATE, obj=device,
                     summary=gettext_noop("outreach device %(name)s registered"),
                     params={"name": name})
    return device


@transaction.atomic
def device_disable(*, device: OutreachDevice, actor) -> OutreachDevice:
    """A lost or stolen device: from now on the server refuses what it sends (each record,
    audited) and prepares no round for it. Once, for good. Its owner is logged out
    everywhere (whoever holds the phone holds its session, and the page would register the
    phone again as a new device), and may register no new device for
    ``DISABLED_DEVICE_WAIT``."""
    device = OutreachDevice.objects.select_for_update().get(pk=device.pk)
    if device.is_disabled:
        raise ValidationError(_("This device was already disabled."), code="disabled")
    device.disabled_at, device.disabled_by = timezone.now(), actor
    device.save(update_fields=["disabled_at", "disabled_by"])
    # The sessions' hash includes the stamp (mass.models.User.get_session_auth_hash): every
    # open session of the owner ends, as at a second factor reset.
    type(device.user).objects.filter(pk=device.user_id).update(
        security_stamp=F("security_stamp") + 1)
    audit_record(actor=actor, action=Action.UPDATE, obj=device,
                 summary=gettext_noop("outreach device %(name)s of %(owner)s disabled (lost)"),
                 params={"name": device.name, "owner": device.user.get_username()})
    return device


def device_refusal_record(*, device: OutreachDevice, actor, what: str, record_uuid=None):
    """A disabled device tried to sync or prepare a round: audited, each time, in its own
    transaction (the refusal itself writes nothing else). As a failed authentication: the
    device is a credential taken back, and whoever holds it may be trying."""
    with transaction.atomic():
        audit_record(actor=actor, action=Action.LOGIN_FAILED, obj=device,
                     summary=gettext_noop("refused from disabled outreach device %(name)s: "
                                          "%(what)s"),
                     params={"name": device.name, "what": what},
                     details={"uuid": str(record_uuid) if record_uuid else None})


# --- sync -------------------------------------------------------------------------------------


@dataclass
class Batch:
    """What one sync request shares between its records: read once, not per record."""

    actor: object
    device: OutreachDevice | None
    sites: dict = field(default_factory=dict)
    patients: dict = field(default_factory=dict)
    now: datetime.datetime = field(default_factory=timezone.now)


def records_sync(*, device_id, records: list, actor) -> list[dict]:
    """Each record in the order sent, answered ``{"uuid", "status", "reason", "patient"}``.
    Not atomic as a whole, on purpose (see the module's docstring)."""
    if not isinstance(records, list):
        raise ValidationError(_("The records must be a list."), code="records")
    if len(records) > SYNC_MAX_RECORDS:
        raise ValidationError(_("At most %(max)s records per sync: send the rest after.")
                              % {"max": SYNC_MAX_RECORDS}, code="too_many")
    try:
        device = OutreachDevice.objects.filter(pk=uuid.UUID(str(device_id)), user=actor).first()
    except ValueError:
        device = None
    batch = Batch(actor=actor, device=device)
    return [record_sync(raw=raw, batch=batch) for raw in records]


def _answer(raw_uuid, status, reason="", patient=None) -> dict:
    return {"uuid": raw_uuid, "status": status, "reason": str(reason), "patient": patient}


def record_sync(*, raw, batch: Batch) -> dict:
    actor = batch.actor
    raw_uuid = raw.get("uuid") if isinstance(raw, dict) else None
    try:
        record_uuid = uuid.UUID(str(raw_uuid))
    except ValueError:
        return _answer(raw_uuid, REFUSED, _("The record has no valid identifier (UUID)."))
    if batch.device is None:
        return _answer(raw_uuid, REFUSED, _("This device is not registered for you: register "
                                            "it again from the outreach page."))
    if batch.device.is_disabled:
        return _disabled_device_refusal(batch, record_uuid=record_uuid, raw_uuid=raw_uuid)
    earlier = _earlier(record_uuid, actor, raw_uuid=raw_uuid)
    if earlier is not None:
        return earlier
    try:
        with transaction.atomic():
            # The device was read once for the request; a coordinator may disable it while
            # a long batch is received: read again in each record's transaction, so what
            # comes after the disable is refused. Without a lock: a record whose check ran
            # before the disable committed is one made before it.
            if not OutreachDevice.objects.filter(pk=batch.device.pk,
                                                 disabled_at__isnull=True).exists():
                raise _DisabledMeanwhile
            made = _record_write(raw, record_uuid=record_uuid, batch=batch)
    except _DisabledMeanwhile:
        batch.device.refresh_from_db()
        return _disabled_device_refusal(batch, record_uuid=record_uuid, raw_uuid=raw_uuid)
    except ValidationError as refusal:
        return _answer(raw_uuid, REFUSED, " ".join(refusal.messages))
    except IntegrityError:
        # The same UUID sent twice at once (two tabs, a retry): the other one won. Any other
        # rule of the database this record breaks refuses it alone, like a service would.
        earlier = _earlier(record_uuid, actor, raw_uuid=raw_uuid)
        if earlier is not None:
            return earlier
        return _answer(raw_uuid, REFUSED, _("The database refused this record: record it at "
                                            "the desk."))
    return _answer(raw_uuid, ACCEPTED, made.reason, made.patient_id)


class _DisabledMeanwhile(Exception):
    """The device was disabled after the sync request read it: leaves the record's
    transaction, which writes nothing."""


def _disabled_device_refusal(batch: Batch, *, record_uuid, raw_uuid) -> dict:
    device_refusal_record(device=batch.device, actor=batch.actor, what="sync",
                          record_uuid=record_uuid)
    return _answer(raw_uuid, REFUSED, _("Device disabled: it was reported lost. Nothing "
                                        "from it is accepted; record this at the desk."))


def _earlier(record_uuid, actor, *, raw_uuid) -> dict | None:
    """The answer for a UUID seen before: ``already`` when it was this user's, refused as
    forged (audited) when another user's. Answered with the UUID as the device sent it."""
    earlier = SyncedRecord.objects.filter(uuid=record_uuid).first()
    if earlier is None:
        return None
    if earlier.user_id == actor.pk:
        return _answer(raw_uuid, ALREADY, _("Already received."), earlier.patient_id)
    # A failed authentication, as a disabled device: someone sends what is not theirs.
    with transaction.atomic():
        audit_record(actor=actor, action=Action.LOGIN_FAILED,
                     summary=gettext_noop("outreach sync refused: identifier of another "
                                          "member of staff's record"),
                     details={"uuid": str(record_uuid), "synced_record": earlier.pk})
    return _answer(raw_uuid, REFUSED,
                   _("This identifier belongs to a record of another member of staff: "
                     "refused."))


@dataclass
class Made:
    obj: object
    patient_id: int | None
    reason: str = ""


def _refuse(message, code="invalid"):
    raise ValidationError(message, code=code)


def _record_write(raw: dict, *, record_uuid, batch: Batch) -> Made:
    actor = batch.actor
    kind = raw.get("kind")
    if kind not in K.values:
        _refuse(_("Unknown kind of record."), "kind")
    unknown = set(raw) - COMMON_FIELDS - KIND_FIELDS[kind]
    if unknown:
        _refuse(_("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
                "fields")
    if (permission := KIND_PERMISSIONS.get(kind)) and not actor.has_perm(permission):
        _refuse(_("Your role does not record this kind of record (%(kind)s).")
                    % {"kind": K(kind).label}, "role")
    made_at = _made_at(raw.get("made_at"), now=batch.now)
    site = _site(raw.get("site"), batch)
    local = timezone.localtime(made_at)
    when = {"date": local.date()}
    if kind == K.PERSON and (raw.get("patient") is not None or raw.get("person") is not None):
        _refuse(_("A registration is of a new person: it names no file."), "patient")
    patient = None if kind == K.PERSON else _patient(raw, batch)
    if patient is None and kind not in (K.PERSON, K.MATERIAL):
        _refuse(_("Choose the person this record is about."), "patient")

    made = WRITERS[kind](raw, patient=patient, site=site, when=when,
                         time=local.time().replace(second=0, microsecond=0), actor=actor)
    SyncedRecord.objects.create(
        uuid=record_uuid, user=actor, device=batch.device, kind=kind, made_at=made_at,
        site=site, patient_id=made.patient_id,
        content_type=ContentType.objects.get_for_model(made.obj), object_id=made.obj.pk)
    return made


def _is_id(value) -> bool:
    """A database id as JSON sends it: an int (not a bool, which is one in Python). Checked
    before the value is a key of the batch's caches: a list or an object is not hashable."""
    return isinstance(value, int) and not isinstance(value, bool)


def _made_at(value, *, now) -> datetime.datetime:
    try:
        made_at = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but no such time: 30 February, an offset of 99 hours
        made_at = None
    if made_at is None or timezone.is_naive(made_at):
        _refuse(_("The record has no valid time (ISO 8601 with its offset)."), "made_at")
    if made_at > now + CLOCK_MARGIN:
        try:
            when = date_format(timezone.localtime(made_at), "SHORT_DATETIME_FORMAT")
        except OverflowError:  # the last day of year 9999 in a zone west of Brussels
            when = value
        _refuse(_("The record is dated in the future (%(when)s): check the device's clock, "
                  "and record it at the desk.") % {"when": when}, "future")
    if made_at < now - datetime.timedelta(hours=ROUND_HOURS) - ROUND_MARGIN:
        _refuse(_("The record is older than a round (%(hours)s hours): record it at the "
                  "desk.") % {"hours": ROUND_HOURS}, "expired")
    return made_at


def _site(value, batch: Batch) -> Site:
    if not _is_id(value):
        _refuse(_("Unknown or closed site."), "site")
    if value not in batch.sites:
        batch.sites[value] = Site.objects.filter(pk=value, is_active=True).first()
    site = batch.sites[value]
    if site is None:
        _refuse(_("Unknown or closed site."), "site")
    if not site.is_outreach:
        _refuse(_("%(site)s is not an outreach site: record this at the desk.")
                % {"site": site.name}, "site")
    return site


def _patient(raw: dict, batch: Batch) -> Patient | None:
    """The file the record is about: ``patient`` (a file of the round) or ``person`` (the
    client UUID of a person registered offline, in this batch or an earlier one of this
    user). A file merged meanwhile gives the file it was merged into."""
    patient_id, person = raw.get("patient"), raw.get("person")
    if patient_id is not None and person is not None:
        _refuse(_("A record is about a file or a new person, not both."), "patient")
    if person is not None:
        try:
            if not isinstance(person, str):
                raise ValueError(person)
            person_uuid = uuid.UUID(person)
        except ValueError:
            _refuse(_("Unknown person."), "person")
        registered = SyncedRecord.objects.filter(uuid=person_uuid, user=batch.actor,
                                                 kind=K.PERSON).first()
        if registered is None:
            _refuse(_("The person this record is about was not registered (refused, or not "
                      "sent yet)."), "person")
        patient_id = registered.patient_id
    if patient_id is None:
        return None
    if not _is_id(patient_id):
        _refuse(_("Unknown patient file."), "patient")
    if not batch.actor.has_perm("patients.view_patient"):
        _refuse(_("Your role may not record on patient files."), "role")
    if patient_id not in batch.patients:
        patient = Patient.objects.select_related("merged_into").filter(pk=patient_id).first()
        # A merge moves everything to the kept file; a kept file merged again, onwards.
        for _hop in range(10):
            if patient is None or patient.merged_into_id is None:
                break
            patient = Patient.objects.select_related("merged_into").get(
                pk=patient.merged_into_id)
        batch.patients[patient_id] = patient
    patient = batch.patients[patient_id]
    if patient is None:
        _refuse(_("Unknown patient file."), "patient")
    return patient


def _text(raw: dict, *, limit: int = NOTE_MAX_CHARS) -> str:
    text = raw.get("text")
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        _refuse(_("The text is empty."), "text")
    if len(text) > limit:
        _refuse(_("The text is too long (%(length)s characters, at most %(max)s): write the "
                  "rest at the desk.") % {"length": len(text), "max": limit}, "too_long")
    return text


def _choice(raw: dict, name: str, choices, *, default=None) -> str:
    value = raw.get(name, default)
    if value not in choices:
        _refuse(_("Unknown value for %(field)s.") % {"field": name}, name)
    return value


# --- one writer per kind ------------------------------------------------------------------------


def _write_person(raw, *, patient, site, when, time, actor) -> Made:
    if not actor.has_perm("outreach.use_outreach"):
        _refuse(_("Your role does not register people."), "role")
    alias = raw.get("alias")
    alias = " ".join(alias.split()) if isinstance(alias, str) else ""
    if not alias:
        _refuse(_("Give the person's alias."), "alias")
    birth_year = raw.get("birth_year")
    if birth_year is not None and (not isinstance(birth_year, int) or isinstance(birth_year, bool)
                                   or not 1900 <= birth_year <= when["date"].year):
        _refuse(_("Unknown value for %(field)s.") % {"field": "birth_year"}, "birth_year")
    sex = _choice(raw, "sex", Patient.Sex.values, default=Patient.Sex.UNKNOWN)
    patient = patient_services.patient_create(alias=alias, birth_year=birth_year, sex=sex,
                                              actor=actor)
    duplicates = possible_duplicates_record(patient=patient, actor=actor)
    reason = (_("Registered as file %(file)s; it may be the same person as file %(files)s: "
                "offered for merge.")
              % {"file": patient.file_number,
                 "files": ", ".join(d.existing.file_number for d in duplicates)}
              if duplicates else _("Registered as file %(file)s.")
              % {"file": patient.file_number})
    return Made(patient, patient.pk, reason)


def possible_duplicates_record(*, patient: Patient, actor) -> list[PossibleDuplicate]:
    """A person registered offline (the team could not search) whose alias reads like an
    existing file's, with the same birth year or one of them unknown: registered anyway, and
    offered for merge to those who merge files (outreach:duplicates), as the desk shows its
    likely duplicates before registering."""
    found = []
    for duplicate in patient_selectors.patient_duplicates(
            alias=patient.alias, birth_year=patient.birth_year, exclude_pk=patient.pk,
            limit=5):
        other = duplicate.patient
        if duplicate.patient.score < 0.6:
            continue
        if None not in (patient.birth_year, other.birth_year) \
                and patient.birth_year != other.birth_year:
            continue
        reasons = ["similar_alias"]
        if patient.birth_year is not None and patient.birth_year == other.birth_year:
            reasons.append("same_birth_year")
        found.append(PossibleDuplicate(registered=patient, existing=other, reasons=reasons))
    if found:
        PossibleDuplicate.objects.bulk_create(found)
        audit_record(actor=actor, action=Action.SEARCH, patient=patient,
                     summary=gettext_noop("offline registration %(file)s: %(count)s possible "
                                          "duplicates offered for merge"),
                     params={"file": patient.file_number, "count": len(found)},
                     details={"patients": sorted(d.existing_id for d in found)})
    return found


def _write_contact(raw, *, patient, site, when, time, actor) -> Made:
    purpose = _choice(raw, "purpose", Visit.Purpose.values, default=Visit.Purpose.OTHER)
    visit, _created = patient_services.visit_log(patient=patient, purpose=purpose, site=site,
                                                 actor=actor, time=time, **when)
    return Made(visit, patient.pk)


def _write_material(raw, *, patient, site, when, time, actor) -> Made:
    if not actor.has_perm("outreach.use_outreach"):
        _refuse(_("Your role does not hand out material."), "role")
    lines = raw.get("lines")
    if not isinstance(lines, list) or not lines:
        _refuse(_("Enter at least one quantity handed out or returned."), "lines")
    quantities = {}
    for line in lines:
        if not isinstance(line, dict) or set(line) - {"code", "handed_out", "returned"}:
            _refuse(_("Unknown fields in the material."), "lines")
        code = _choice(line, "code", HarmReductionContact.Material.values)
        counts = [line.get("handed_out", 0), line.get("returned", 0)]
        if code in quantities or not all(isinstance(n, int) and not isinstance(n, bool)
                                          and 0 <= n <= 10000 for n in counts):
            _refuse(_("Each material once, with quantities from 0 to 10000."), "lines")
        quantities[code] = tuple(counts)
    rows = patient_services.harm_reduction_log(site=site, quantities=quantities, actor=actor,
                                               patient=patient, **when)
    return Made(rows[0], patient.pk if patient else None)


def _write_note(raw, *, patient, site, when, time, actor) -> Made:
    text = _text(raw)
    discipline = raw.get("discipline")
    if discipline not in writable_disciplines(actor):
        _refuse(_("You cannot write a note in this discipline."), "discipline")
    note = consultation_services.consultation_create(
        patient=patient, discipline=discipline, time=time, site=site, note=text, actor=actor,
        **when)
    return Made(note, patient.pk)


def _write_screening(raw, *, patient, site, when, time, actor) -> Made:
    test = _choice(raw, "test", ScreeningTest.Test.values)
    result = _choice(raw, "result", ScreeningTest.Result.values,
                     default=ScreeningTest.Result.PENDING)
    screening = consultation_services.screening_test_create(
        patient=patient, test=test, result=result, actor=actor, **when)
    return Made(screening, patient.pk)


def _write_referral(raw, *, patient, site, when, time, actor) -> Made:
    partner_id = raw.get("partner")
    partner = (Partner.objects.filter(pk=partner_id, is_active=True).first()
               if isinstance(partner_id, int) and not isinstance(partner_id, bool) else None)
    if partner is None:
        _refuse(_("Choose the partner the person is referred to."), "partner")
    referral = consultation_services.referral_create(
        patient=patient, partner=partner, reason=_text(raw, limit=500), actor=actor, **when)
    return Made(referral, patient.pk)


def _write_attempt(raw, *, patient, site, when, time, actor) -> Made:
    result = _choice(raw, "outcome", OutreachAttempt.Result.values)
    means = _choice(raw, "means", OutreachAttempt.Means.values,
                    default=OutreachAttempt.Means.VISIT)
    attempt = patient_services.outreach_attempt_record(
        patient=patient, means=means, result=result, site=site, actor=actor, **when)
    return Made(attempt, patient.pk)


def _write_initiation(raw, *, patient, site, when, time, actor) -> Made:
    """A substitution treatment decided outside: no dose is ever recorded offline (the
    dispensary stays at the counter). What the team decided is a note, and the request for a
    prescription is a "doctor before any dose" alert on the file: every nurse at the counter
    and every doctor sees it on the file and on the dispensing list until a doctor, having
    written the prescription (or decided otherwise), ends it. An alert rather than a task
    list nobody opens: it is where the counter already looks before any dose."""
    writable = writable_disciplines(actor)
    discipline = next((d for d in INITIATION_DISCIPLINES if d in writable), None)
    if discipline is None:
        _refuse(_("A substitution initiation is recorded by a doctor or a nurse."), "role")
    note = consultation_services.consultation_create(
        patient=patient, discipline=discipline, time=time, site=site, note=_text(raw),
        actor=actor, **when)
    patient_services.patient_check_open(patient)
    # Not through alerts.services.alert_record: a nurse does not record "doctor before any
    # dose" at the counter (alerts.rules), but here the alert is the team's request to the
    # doctors, who end it.
    alert = Alert.objects.create(
        patient=patient, kind=Alert.Kind.DOCTOR_FIRST, recorded_by=actor,
        recorded_at=timezone.now(),
        text=(_("Substitution initiation decided on outreach (%(date)s, %(site)s): "
                "prescription requested.")
              % {"date": date_format(when["date"], "SHORT_DATE_FORMAT"),
                 "site": site.name})[:200])
    audit_record(actor=actor, action=Action.CREATE, patient=patient, obj=alert,
                 summary=gettext_noop("alert recorded"),
                 details={"outreach_initiation": note.pk})
    return Made(note, patient.pk, _("Note recorded; a doctor is asked for the prescription."))


WRITERS = {
    K.PERSON: _write_person,
    K.CONTACT: _write_contact,
    K.MATERIAL: _write_material,
    K.NOTE: _write_note,
    K.SCREENING: _write_screening,
    K.REFERRAL: _write_referral,
    K.ATTEMPT: _write_attempt,
    K.INITIATION: _write_initiation,
}
