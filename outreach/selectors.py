"""Reads of the outreach app: the round a device prepares, the devices, the possible
duplicates, and the time from a first outreach contact to a first visit at the centre."""

import base64
import datetime
import uuid

from django.db.models import Max, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from alerts.models import Alert
from alerts.rules import readable_kinds
from consultations.models import Consultation, Partner, ScreeningTest
from consultations.selectors import writable_disciplines
from mass.models import Site
from outreach.models import OutreachDevice, PossibleDuplicate, SyncedRecord
from outreach.services import (
    INITIATION_DISCIPLINES,
    KIND_PERMISSIONS,
    NOTE_MAX_CHARS,
    ROUND_HOURS,
    SYNC_MAX_RECORDS,
)
from patients import photos
from patients.models import HarmReductionContact, OutreachAttempt, Patient, Visit
from patients.selectors import months_before

#: At most this many people on a device: the round is what the team may meet, not a copy
#: of the files (what a lost phone could hold).
ROUND_CAP = 300
#: People seen at the place in this many months are on its round (the 6-month rule's span).
ROUND_MONTHS = 6


def outreach_sites() -> list[Site]:
    """The places a round may be prepared for: active, not the centre (its desk records
    what happens there)."""
    return list(Site.objects.filter(is_active=True).exclude(kind=Site.Kind.CENTRE)
                .order_by("name"))


def outreach_site_get(*, pk) -> Site:
    try:
        site = Site.objects.get(pk=int(pk), is_active=True)
    except (TypeError, ValueError, Site.DoesNotExist):
        raise Http404 from None
    if not site.is_outreach:
        raise Http404
    return site


def device_get_for_user(*, user, pk) -> OutreachDevice | None:
    """The user's own device ``pk`` (disabled or not), or None."""
    try:
        device_id = uuid.UUID(str(pk))
    except ValueError:
        return None
    return OutreachDevice.objects.filter(pk=device_id, user=user).first()


def round_patient_ids(*, user, site: Site, today: datetime.date | None = None,
                      limit: int | None = None) -> list[int]:
    """The people of the round, the most recently seen first: those met at ``site`` in the
    last six months (a walk-in, a note, named material or an outreach attempt there) and
    those this user sought on outreach (their own attempts anywhere). Four grouped reads,
    each on its date index."""
    today = today or timezone.localdate()
    since = months_before(today, ROUND_MONTHS)
    sources = [
        Visit.objects.standing().filter(site=site, date__gte=since),
        Consultation.objects.filter(site=site, date__gte=since),
        HarmReductionContact.objects.standing().filter(site=site, date__gte=since,
                                                       patient__isnull=False),
        OutreachAttempt.objects.filter(Q(site=site) | Q(made_by=user), date__gte=since),
    ]
    last_seen: dict[int, datetime.date] = {}
    for queryset in sources:
        for patient_id, last in (queryset.order_by().values_list("patient_id")
                                 .annotate(last=Max("date"))):
            if last_seen.get(patient_id) is None or last > last_seen[patient_id]:
                last_seen[patient_id] = last
    ranked = sorted(last_seen, key=lambda pk: (last_seen[pk], pk), reverse=True)
    return ranked[:limit or ROUND_CAP]


def _photo_data_uri(patient) -> str | None:
    try:
        photo = patient.photo
    except Patient.photo.RelatedObjectDoesNotExist:
        return None
    try:
        data = photos.photo_read(photo.token, "thumb")
    except (FileNotFoundError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def round_prepare(*, user, site: Site) -> dict:
    """The round for ``site`` as the device stores it (encrypted): the people, what the role
    may see of them, and the choices the forms offer. The minimum for the round: no note,
    no dose, no address; alerts by kind only, photos only for the roles that see them."""
    now = timezone.now()
    ids = round_patient_ids(user=user, site=site)
    alert_kinds = readable_kinds(user)
    people = (Patient.objects.filter(pk__in=ids)
              .exclude(status__in=[Patient.Status.MERGED, Patient.Status.DECEASED])
              .select_related("photo")
              .prefetch_related(Prefetch(
                  "alerts", to_attr="round_alerts",
                  queryset=Alert.objects.filter(ended_at__isnull=True, kind__in=alert_kinds)
                  .order_by("kind", "id"))))
    order = {pk: rank for rank, pk in enumerate(ids)}
    people = sorted(people, key=lambda p: order[p.pk])
    sees_photos = user.has_perm("patients.view_patientphoto")
    return {
        "generated_at": now.isoformat(),
        "expires_at": (now + datetime.timedelta(hours=ROUND_HOURS)).isoformat(),
        "site": {"id": site.pk, "name": site.name},
        "sites": [{"id": s.pk, "name": s.name, "kind": s.kind} for s in outreach_sites()],
        "people": [{
            "id": p.pk, "file_number": p.file_number, "alias": p.alias,
            "birth_year": p.birth_year,
            "photo": _photo_data_uri(p) if sees_photos else None,
            "alerts": [{"kind": a.kind, "label": str(a.get_kind_display())}
                       for a in p.round_alerts],
        } for p in people],
        "materials": [{"code": code, "label": str(label)}
                      for code, label in HarmReductionContact.Material.choices],
        "note_disciplines": [{"code": d, "label": str(Consultation.Discipline(d).label)}
                             for d in writable_disciplines(user)],
        "partners": [{"id": pk, "name": name} for pk, name in
                     Partner.objects.filter(is_active=True).order_by("name")
                     .values_list("pk", "name")],
        "choices": {
            "contact_purposes": _choices(Visit.Purpose.choices),
            "screening_tests": _choices(ScreeningTest.Test.choices),
            "screening_results": _choices(ScreeningTest.Result.choices),
            "attempt_outcomes": _choices(OutreachAttempt.Result.choices),
            "sexes": _choices(Patient.Sex.choices),
        },
        "kinds": _allowed_kinds(user),
        "limits": {"note_max_chars": NOTE_MAX_CHARS, "sync_max_records": SYNC_MAX_RECORDS},
    }


def _choices(choices) -> list[dict]:
    return [{"code": code, "label": str(label)} for code, label in choices]


def _allowed_kinds(user) -> list[str]:
    """The kinds of record this user may sync (outreach.services.KIND_PERMISSIONS), so that
    the page offers only those."""
    allowed = []
    for kind in SyncedRecord.Kind.values:
        permission = KIND_PERMISSIONS.get(kind)
        if permission and not user.has_perm(permission):
            continue
        if kind == SyncedRecord.Kind.INITIATION and not set(INITIATION_DISCIPLINES) & set(
                writable_disciplines(user)):
            continue
        allowed.append(kind)
    return allowed


def devices_by_user() -> list[OutreachDevice]:
    """Every device, with its user and who disabled it, by user then newest first."""
    return list(OutreachDevice.objects.select_related("user", "disabled_by")
                .order_by("user__username", "-registered_at"))


def possible_duplicates() -> list[PossibleDuplicate]:
    """Offline registrations that may be a second file of someone, not merged yet."""
    return list(PossibleDuplicate.objects.select_related("registered", "existing")
                .filter(registered__merged_into__isnull=True,
                        existing__merged_into__isnull=True)
                .order_by("-found_at", "-id"))
