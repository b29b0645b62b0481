"""Every page that shows one patient's record is an audited read (patient-rights law of 22
August 2002: the patient may ask who read their file), on GET, like the consultation page. The
summary names the record, never its content (coordinators read the audit trail)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from consultations.models import ConsultationAmendment
from mass.models import AuditEvent
from tests.conftest import EN
from tests.factories import ConsultationFactory, ReferralFactory, ScreeningTestFactory


def the_read(actor, obj) -> AuditEvent:
    return AuditEvent.objects.get(action=AuditEvent.Action.VIEW, actor=actor,
                                  object_type=obj._meta.label_lower, object_id=str(obj.pk))


def test_amendment_page_is_an_audited_read(doctor_client, doctor_user):
    consultation = ConsultationFactory(author=doctor_user, note="AMEND-PAGE-TEXT",
                                       signed_at=timezone.now(), signed_by=doctor_user)

    response = doctor_client.get(reverse("consultations:amend", args=[consultation.pk]))

    assert "AMEND-PAGE-TEXT" in response.content.decode()
    event = the_read(doctor_user, consultation)
    assert event.patient_id == consultation.patient_id
    assert event.details == {"text_shown": True}
    assert "AMEND-PAGE-TEXT" not in event.summary


def test_amendment_refused_writes_a_read_and_no_amendment(doctor_client, doctor_user):
    consultation = ConsultationFactory(author=doctor_user, signed_at=timezone.now(),
                                       signed_by=doctor_user)

    response = doctor_client.post(reverse("consultations:amend", args=[consultation.pk]),
                                  {"reason": "", "text": "x"}, **EN)

    assert "Give the reason for the amendment." in response.content.decode()
    assert not ConsultationAmendment.objects.exists()
    # The form shown again shows the note: a read, and nothing else.
    assert list(AuditEvent.objects.filter(patient__isnull=False)
                .values_list("action", "summary")) == [
        ("view", f"consultation {consultation.pk} (amendment form)")]


def test_edit_page_of_an_open_note_is_an_audited_read(doctor_client, doctor_user):
    consultation = ConsultationFactory(author=doctor_user, note="EDIT-PAGE-TEXT")

    response = doctor_client.get(reverse("consultations:update", args=[consultation.pk]))

    assert "EDIT-PAGE-TEXT" in response.content.decode()
    event = the_read(doctor_user, consultation)
    assert event.patient_id == consultation.patient_id
    assert "EDIT-PAGE-TEXT" not in event.summary


def test_referral_outcome_page_is_an_audited_read(social_worker_client, social_worker_user):
    referral = ReferralFactory(reason="REFERRAL-PAGE-REASON")

    response = social_worker_client.get(
        reverse("consultations:referral_outcome", args=[referral.pk]))

    assert referral.partner.name in response.content.decode()
    event = the_read(social_worker_user, referral)
    assert event.patient_id == referral.patient_id
    assert "REFERRAL-PAGE-REASON" not in event.summary


def test_screening_result_page_is_an_audited_read(nurse_client, nurse_user):
    screening = ScreeningTestFactory(follow_up="SCREENING-PAGE-FOLLOW-UP")

    response = nurse_client.get(reverse("consultations:screening_result", args=[screening.pk]))

    assert "SCREENING-PAGE-FOLLOW-UP" in response.content.decode()  # the form is filled in
    event = the_read(nurse_user, screening)
    assert event.patient_id == screening.patient_id
    assert "SCREENING-PAGE-FOLLOW-UP" not in event.summary


@pytest.mark.parametrize("name", ["referral_outcome", "screening_result"])
def test_a_page_refused_writes_no_read(reception_client, name):
    obj = ReferralFactory() if name == "referral_outcome" else ScreeningTestFactory()
    response = reception_client.get(reverse(f"consultations:{name}", args=[obj.pk]))
    assert response.status_code == 403  # reception holds neither page's permission
    assert not AuditEvent.objects.filter(patient__isnull=False).exists()  # (logins only)
