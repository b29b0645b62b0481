"""The audit trail is read by the coordinator, who reads no clinical text (docs/domain.md):
what the services write in it must not carry the free text of a note, a reason or a social
situation. Each write below goes through its service with a unique text; the coordinator's
audit pages must not show any of them."""

import datetime
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mass.accounts.roles import Role
from tests.access.world import day


def confidential_writes(world) -> dict[str, str]:
    """Write through the services, by the world's author (who holds every clinical role);
    return what was typed, by field."""
    from consultations import services as consultations
    from dispensary import services as dispensary
    from social import services as social

    texts = {}

    def text(key):
        texts[key] = f"AUDITX{len(texts):02d}X{key.upper().replace('_', '')}"
        return texts[key]

    author, patient = world.author, world.patient
    note = consultations.consultation_create(
        patient=patient, discipline="psychological", date=day(), note=text("note"), sign=True,
        actor=author)
    consultations.consultation_amend(consultation=note, text=text("amendment"),
                                     reason=text("amendment_reason"), actor=author)
    consultations.referral_create(patient=patient, partner=world.partner, date=day(),
                                  reason=text("referral_reason"), actor=author)
    consultations.screening_test_create(patient=patient, date=day(), test="hiv",
                                        follow_up=text("screening_follow_up"), actor=author)
    from tests.factories import PatientFactory

    rx = dispensary.prescription_create(
        patient=PatientFactory(alias="Nouveau"), product=world.product, daily_dose=Decimal(40),
        start_date=day(), instructions=text("prescription_instructions"),
        # 40 mg to start is above the methadone induction rule: confirmed, with a reason
        induction_confirmed=True,
        induction_override_reason=text("induction_override_reason"), actor=author)
    dispensary.dispensation_record(prescription=rx, part="day", intoxication_signs=False,
                                   observations=text("observations"), actor=world.users[Role.NURSE])
    social.situation_record(patient=patient, date=day(-1), actor=author,
                            changes={"address": {"address": text("social_address")}})
    action = social.social_action_open(patient=patient, type="insurance", social_worker=author,
                                       opened_on=day(), notes=text("social_notes"),
                                       actor=author)
    social.social_action_progress(action=action, status="done", note=text("social_note"),
                                  outcome=text("social_outcome"), actor=author)
    return texts


def audit_pages(client) -> bytes:
    content = b""
    for page in (1, 2):
        response = client.get(reverse("audit_list"), {"page": page})
        assert response.status_code == 200
        content += response.content
    return content


def test_audit_trail_shows_the_coordinator_no_clinical_text(world):
    texts = confidential_writes(world)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users[Role.COORDINATOR])
    content = audit_pages(client)
    assert b"social action" in content  # the writes are there
    shown = [key for key, typed in texts.items() if typed.encode() in content]
    assert not shown


def test_audit_trail_shows_no_reason_for_ending_a_prescription(world):
    from dispensary import services as dispensary

    reason = "AUDITXENDREASON relapse, admitted to hospital"
    dispensary.prescription_end(prescription=world.prescription,
                                end_date=timezone.localdate() - datetime.timedelta(days=1),
                                reason=reason, actor=world.users[Role.DOCTOR])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users[Role.COORDINATOR])
    assert b"AUDITXENDREASON" not in audit_pages(client)


def test_every_kind_of_record_the_services_write_has_its_summary_readers(world):
    """The kinds the services write (the world, the writes above) are each in the table of
    who reads their summaries (mass.audit.summaries): none falls back to the neutral label
    for want of a decision. tests/mass/test_audit_summaries.py checks the table against
    every model."""
    from mass.audit.summaries import SUMMARY_READERS
    from mass.models import AuditEvent

    confidential_writes(world)
    written = set(AuditEvent.objects.exclude(object_type="")
                  .values_list("object_type", flat=True))
    assert "dispensary.dispensation" in written  # the writes are there
    assert sorted(written - set(SUMMARY_READERS)) == []
