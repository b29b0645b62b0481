import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from consultations.models import Partner, Referral, ScreeningTest
from mass.accounts.roles import Role
from mass.models import AuditEvent
from patients.models import Patient
from tests.conftest import EN
from tests.factories import PartnerFactory, PatientFactory, ReferralFactory, ScreeningTestFactory

# Computed when the tests are collected: two days ahead stays in the future for a run that
# crosses midnight.
TOMORROW = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()


# --- partners -------------------------------------------------------------------------------


def test_partner_directory_search_and_filter(reception_client):
    PartnerFactory(name="CPAS d'Anderlecht", kind="cpas", address="Rue d'Aumale 21")
    PartnerFactory(name="CHU Saint-Pierre", kind="hospital")
    url = reverse("consultations:partners")

    assert "CHU Saint-Pierre" in reception_client.get(url).content.decode()
    content = reception_client.get(url + "?q=anderlecht").content.decode()
    assert "CPAS d&#x27;Anderlecht" in content and "Saint-Pierre" not in content
    content = reception_client.get(url + "?kind=hospital").content.decode()
    assert "Saint-Pierre" in content and "Anderlecht" not in content
    # accent-insensitive
    assert "Saint-Pierre" in reception_client.get(url + "?q=chu+saint").content.decode()


def test_coordinator_adds_a_partner(coordinator_client):
    response = coordinator_client.post(reverse("consultations:partner_create"), {
        "name": "Projet Lama", "kind": "treatment", "phone": "02 270 69 49",
        "is_active": "on"})
    partner = Partner.objects.get(name="Projet Lama")
    assert response.status_code == 302 and partner.kind == "treatment"
    assert AuditEvent.objects.filter(object_id=str(partner.pk), action="create").exists()


def test_bad_partner_input_writes_nothing(coordinator_client):
    PartnerFactory(name="Transit")
    response = coordinator_client.post(reverse("consultations:partner_create"), {
        "name": "Transit", "kind": "treatment", "email": "not-an-email"}, **EN)
    content = response.content.decode()
    assert "Partner with this Name already exists." in content
    assert "Enter a valid email address." in content
    assert Partner.objects.count() == 1


def test_reception_cannot_edit_partners(reception_client):
    partner = PartnerFactory()
    assert reception_client.get(reverse("consultations:partner_create")).status_code == 403
    assert reception_client.post(reverse("consultations:partner_update", args=[partner.pk]),
                                 {"name": "x", "kind": "other"}).status_code == 403


def test_partner_list_constant_queries(reception_client, django_assert_num_queries):
    url = reverse("consultations:partners")
    PartnerFactory()
    reception_client.get(url)
    with django_assert_num_queries(8):
        reception_client.get(url)
    PartnerFactory.create_batch(3)
    with django_assert_num_queries(8):
        response = reception_client.get(url)
    assert len(response.context["page"].object_list) == 4


def test_partner_page_constant_queries(social_worker_client, django_assert_num_queries):
    partner = PartnerFactory()
    url = reverse("consultations:partner_detail", args=[partner.pk])
    ReferralFactory(partner=partner)
    social_worker_client.get(url)
    # 10 with the read row naming the patients referred (one INSERT, audit_list_read).
    with django_assert_num_queries(10):
        social_worker_client.get(url)
    ReferralFactory.create_batch(3, partner=partner)
    with django_assert_num_queries(10):
        response = social_worker_client.get(url)
    assert len(response.context["referrals"].object_list) == 4


# --- referrals ------------------------------------------------------------------------------


def referral_url(patient):
    return reverse("consultations:referral_create") + f"?patient={patient.pk}"


def test_social_worker_refers_a_patient(social_worker_client, social_worker_user):
    patient, partner = PatientFactory(), PartnerFactory(name="CPAS de Bruxelles")
    response = social_worker_client.post(referral_url(patient), {
        "partner": partner.pk, "date": timezone.localdate().isoformat(),
        "reason": "Revenu d'intégration"})
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert (referral.patient, referral.partner, referral.outcome, referral.referred_by) == (
        patient, partner, "pending", social_worker_user)


@pytest.mark.parametrize("data,message", [
    ({"reason": ""}, "This field is required."),
    ({"date": TOMORROW}, "The date cannot be later than today."),
    ({"partner": ""}, "This field is required."),
])
def test_bad_referral_writes_nothing(social_worker_client, data, message):
    patient, partner = PatientFactory(), PartnerFactory()
    post = {"partner": partner.pk, "date": timezone.localdate().isoformat(), "reason": "r"}
    post.update(data)
    response = social_worker_client.post(referral_url(patient), post, **EN)
    assert message in response.content.decode()
    assert not Referral.objects.exists()


def test_referral_of_a_merged_file_is_refused(social_worker_client):
    kept = PatientFactory(alias="Kept")
    merged = PatientFactory(status=Patient.Status.MERGED, merged_into=kept)
    response = social_worker_client.post(referral_url(merged), {
        "partner": PartnerFactory().pk, "date": timezone.localdate().isoformat(),
        "reason": "r"}, **EN)
    assert "merged into Kept" in response.content.decode()
    assert not Referral.objects.exists()


def test_referral_outcome(social_worker_client):
    referral = ReferralFactory(date=timezone.localdate() - datetime.timedelta(days=10))
    url = reverse("consultations:referral_outcome", args=[referral.pk])

    response = social_worker_client.post(url, {
        "outcome": "not_seen", "outcome_date": (referral.date - datetime.timedelta(days=1))
        .isoformat()}, **EN)
    assert "The outcome cannot be known before the referral." in response.content.decode()
    referral.refresh_from_db()
    assert referral.outcome == "pending"

    social_worker_client.post(url, {"outcome": "seen",
                                    "outcome_date": timezone.localdate().isoformat()})
    referral.refresh_from_db()
    assert referral.outcome == "seen" and referral.outcome_date == timezone.localdate()


FINAL = "This outcome is recorded and final"


@pytest.mark.parametrize("recorded,attempt", [
    ("seen", "not_seen"), ("not_seen", "seen"), ("seen", "pending"), ("not_seen", "not_seen")])
def test_recorded_outcome_is_final(social_worker_client, recorded, attempt):
    known_on = timezone.localdate() - datetime.timedelta(days=2)
    referral = ReferralFactory(date=known_on, outcome=recorded, outcome_date=known_on)
    url = reverse("consultations:referral_outcome", args=[referral.pk])

    response = social_worker_client.post(
        url, {"outcome": attempt, "outcome_date": timezone.localdate().isoformat()}, **EN)

    content = response.content.decode()
    assert response.status_code == 200
    assert FINAL in content and "record a new referral" in content
    referral.refresh_from_db()
    assert (referral.outcome, referral.outcome_date) == (recorded, known_on)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).exists()


def test_final_outcome_page_offers_a_new_referral_not_the_form(social_worker_client):
    referral = ReferralFactory(outcome="seen", outcome_date=timezone.localdate())

    response = social_worker_client.get(
        reverse("consultations:referral_outcome", args=[referral.pk]), **EN)

    content = response.content.decode()
    assert FINAL in content and 'name="outcome"' not in content
    assert referral_url(referral.patient) in content


def test_outcome_final_in_the_service_too(social_worker_user):
    """Two people at once: the second one had the form open while the first saved."""
    from django.core.exceptions import ValidationError

    from consultations import services
    referral = ReferralFactory(date=timezone.localdate())
    services.referral_set_outcome(referral=referral, outcome="seen",
                                  outcome_date=timezone.localdate(), actor=social_worker_user)
    with pytest.raises(ValidationError, match="final"):
        services.referral_set_outcome(referral=referral, outcome="not_seen",
                                      outcome_date=timezone.localdate(),
                                      actor=social_worker_user)
    referral.refresh_from_db()
    assert referral.outcome == "seen"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).count() == 1


def test_pending_is_not_an_outcome(social_worker_client):
    referral = ReferralFactory(date=timezone.localdate())
    response = social_worker_client.post(
        reverse("consultations:referral_outcome", args=[referral.pk]),
        {"outcome": "pending", "outcome_date": timezone.localdate().isoformat()}, **EN)
    assert "Select a valid choice." in response.content.decode()
    referral.refresh_from_db()
    assert referral.outcome == "pending" and referral.outcome_date is None


def test_outcome_link_only_while_pending(client, social_worker_user):
    from tests.consultations.test_confidentiality import render_my_panels
    patient = PatientFactory()
    pending = ReferralFactory(patient=patient)
    seen = ReferralFactory(patient=patient, outcome="seen", outcome_date=timezone.localdate())
    panel = render_my_panels(social_worker_user, patient)
    assert reverse("consultations:referral_outcome", args=[pending.pk]) in panel
    assert reverse("consultations:referral_outcome", args=[seen.pk]) not in panel


def test_reception_cannot_refer(reception_client):
    assert reception_client.get(referral_url(PatientFactory())).status_code == 403


# --- screening ------------------------------------------------------------------------------


def screening_url(patient):
    return reverse("consultations:screening_create") + f"?patient={patient.pk}"


def test_nurse_records_a_test_then_its_result(nurse_client, nurse_user):
    patient = PatientFactory()
    nurse_client.post(screening_url(patient), {
        "test": "hcv", "date": timezone.localdate().isoformat(), "result": "pending"})
    screening = ScreeningTest.objects.get()
    assert screening.performed_by == nurse_user and screening.result == "pending"

    nurse_client.post(reverse("consultations:screening_result", args=[screening.pk]), {
        "result": "positive", "result_date": timezone.localdate().isoformat(),
        "follow_up": "Referred to Saint-Pierre hepatology"})

    screening.refresh_from_db()
    assert screening.result == "positive"
    assert screening.follow_up == "Referred to Saint-Pierre hepatology"
    audit = AuditEvent.objects.filter(object_id=str(screening.pk)).values_list("summary",
                                                                                flat=True)
    assert all("positive" not in summary for summary in audit)


def test_recorded_result_is_not_overwritten(nurse_client):
    """A recorded result is amended with a reason (tests/consultations/test_corrections.py),
    never overwritten: without a reason, nothing is written."""
    screening = ScreeningTestFactory(result="negative", result_date=timezone.localdate())
    response = nurse_client.post(
        reverse("consultations:screening_result", args=[screening.pk]),
        {"result": "positive", "result_date": timezone.localdate().isoformat()}, **EN)
    assert "Give the reason for the amendment." in response.content.decode()
    screening.refresh_from_db()
    assert screening.result == "negative" and not screening.amendments.exists()


@pytest.mark.parametrize("data,message", [
    ({"date": TOMORROW}, "The date cannot be later than today."),
    ({"test": "syphilis"}, "Select a valid choice."),
    ({"result": "negative", "result_date": "2000-01-01"},
     "The result cannot be known before the test."),
])
def test_bad_screening_writes_nothing(nurse_client, data, message):
    post = {"test": "hiv", "date": timezone.localdate().isoformat(), "result": "pending"}
    post.update(data)
    response = nurse_client.post(screening_url(PatientFactory()), post, **EN)
    assert message in response.content.decode()
    assert not ScreeningTest.objects.exists()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.PSYCHOLOGIST, Role.SOCIAL_WORKER,
                                  Role.COORDINATOR])
def test_screening_refused_outside_medical_roles(client, staff_factory, role):
    client.force_login(staff_factory(role))
    patient = PatientFactory()
    response = client.post(screening_url(patient), {
        "test": "hiv", "date": timezone.localdate().isoformat(), "result": "pending"})
    # A role without the screening permissions is refused the page itself.
    assert response.status_code == 403
    assert not ScreeningTest.objects.exists()
