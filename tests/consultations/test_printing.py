"""The referral letter: printed from a referral, for the partner, in the patient's language."""

import pytest
from django.urls import reverse

from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.conftest import EN, make_staff
from tests.factories import PartnerFactory, PatientFactory, ReferralFactory


@pytest.fixture
def referral(db):
    author = make_staff(Role.SOCIAL_WORKER, username="t_letter_author", first_name="Sophie",
                        last_name="Sociale")
    partner = PartnerFactory(name="Projet Lama", address="Rue de la Senne 2, 1000 Bruxelles",
                             contact_person="Dr Claes")
    patient = PatientFactory(alias="Kéké", first_name="Jean", last_name="Dupont",
                             birth_year=1978, language="nl")
    return ReferralFactory(patient=patient, partner=partner, referred_by=author,
                           reason="Needs a detox bed")


def letter_url(referral):
    return reverse("consultations:referral_letter", args=[referral.pk])


def document(response) -> str:
    page = response.content.decode()
    return page[page.index("<article"):page.index("</article>")]


def test_clinician_prints_the_referral_letter(doctor_client, doctor_user, referral):
    response = doctor_client.get(letter_url(referral), **EN)
    assert response.status_code == 200
    text = document(response)
    for shown in ["Projet Lama", "Rue de la Senne 2", "Dr Claes", "Jean Dupont", "Kéké",
                  referral.patient.file_number, "Needs a detox bed", "Sophie Sociale",
                  "Rue de Woeringen 16-18", str(doctor_user)]:
        assert shown in text, shown
    # The patient speaks Dutch: the letter is Dutch, the role of its author too.
    assert 'lang="nl"' in text and "MSOC Brussel" in text and "Maatschappelijk werker" in text
    event = AuditEvent.objects.get(object_type="consultations.referral")
    assert (event.action, event.actor, event.patient) == ("view", doctor_user,
                                                          referral.patient)
    assert "letter printed" in event.summary


def test_referral_letter_in_french_for_a_french_speaker(doctor_client, referral):
    referral.patient.language = "fr"
    referral.patient.save(update_fields=["language"])
    text = document(doctor_client.get(letter_url(referral), **EN))
    assert 'lang="fr"' in text and "MASS de Bruxelles" in text and "Assistant·e social·e" in text


def test_referral_letter_only_for_those_who_read_the_reason(client, referral):
    for role in [Role.RECEPTION, Role.COORDINATOR]:
        client.force_login(make_staff(role, username=f"t_letter_{role.value}"))
        response = client.get(letter_url(referral), **EN)
        # They see that a referral exists (the file's panel), not why: a 404, as for the reason.
        assert response.status_code == 404, role
        assert "Needs a detox bed" not in response.content.decode()
    client.force_login(make_staff(username="t_letter_norole"))
    assert client.get(letter_url(referral), **EN).status_code == 403
    client.force_login(make_staff(Role.PSYCHOLOGIST, username="t_letter_psy"))
    assert client.get(reverse("consultations:referral_letter", args=[999999]),
                      **EN).status_code == 404
    assert client.post(letter_url(referral), **EN).status_code == 405
    assert not AuditEvent.objects.filter(object_type="consultations.referral").exists()


def test_the_referrals_panel_links_the_letter(social_worker_client, referral):
    page = social_worker_client.get(referral.patient.get_absolute_url(), **EN).content.decode()
    assert f'href="{letter_url(referral)}"' in page
