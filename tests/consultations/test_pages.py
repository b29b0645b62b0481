"""Every page of the app renders for the role that uses it."""

import pytest
from django.urls import reverse

from mass.accounts.roles import Role
from tests.factories import (
    ConsultationFactory,
    GroupSessionFactory,
    PartnerFactory,
    PatientFactory,
    ReferralFactory,
    ScreeningTestFactory,
)


@pytest.mark.parametrize("role,url_of", [
    (Role.DOCTOR, lambda o: reverse("consultations:list")),
    (Role.DOCTOR, lambda o: reverse("consultations:create")),
    (Role.DOCTOR, lambda o: reverse("consultations:create") + f"?patient={o['patient'].pk}"),
    (Role.DOCTOR, lambda o: reverse("consultations:update", args=[o["open"].pk])),
    (Role.DOCTOR, lambda o: reverse("consultations:detail", args=[o["open"].pk])),
    (Role.DOCTOR, lambda o: reverse("consultations:timeline", args=[o["patient"].pk])),
    (Role.PSYCHOLOGIST, lambda o: reverse("consultations:groups")),
    (Role.PSYCHOLOGIST, lambda o: reverse("consultations:group_create")),
    (Role.PSYCHOLOGIST, lambda o: reverse("consultations:group_detail", args=[o["session"].pk])),
    (Role.RECEPTION, lambda o: reverse("consultations:partners")),
    (Role.COORDINATOR, lambda o: reverse("consultations:partner_create")),
    (Role.COORDINATOR, lambda o: reverse("consultations:partner_update",
                                         args=[o["partner"].pk])),
    (Role.SOCIAL_WORKER, lambda o: reverse("consultations:partner_detail",
                                           args=[o["partner"].pk])),
    (Role.SOCIAL_WORKER, lambda o: reverse("consultations:referral_create")
     + f"?patient={o['patient'].pk}"),
    (Role.SOCIAL_WORKER, lambda o: reverse("consultations:referral_outcome",
                                           args=[o["referral"].pk])),
    (Role.NURSE, lambda o: reverse("consultations:screening_create")
     + f"?patient={o['patient'].pk}"),
    (Role.NURSE, lambda o: reverse("consultations:screening_result",
                                   args=[o["screening"].pk])),
])
def test_page_renders(client, staff_factory, role, url_of):
    user = staff_factory(role)
    patient = PatientFactory()
    objects = {
        "patient": patient,
        "open": ConsultationFactory(patient=patient, author=user),
        "session": GroupSessionFactory(),
        "partner": PartnerFactory(),
        "referral": ReferralFactory(patient=patient),
        "screening": ScreeningTestFactory(patient=patient),
    }
    client.force_login(user)
    response = client.get(url_of(objects))
    assert response.status_code == 200
    assert "<h1" in response.content.decode()


def test_patient_file_shows_the_panels(client, staff_factory):
    doctor = staff_factory(Role.DOCTOR)
    consultation = ConsultationFactory(author=doctor, note="PANEL-NOTE")
    client.force_login(doctor)
    response = client.get(reverse("patients:detail", args=[consultation.patient_id]))
    content = response.content.decode()
    assert 'data-panel="consultations"' in content and "PANEL-NOTE" in content
    assert reverse("consultations:timeline", args=[consultation.patient_id]) in content
    assert reverse("consultations:create") + f"?patient={consultation.patient_id}" in content
    assert 'data-panel="screening"' in content and 'data-panel="referrals"' in content


def test_sign_and_group_posts_are_refused_on_get(doctor_client):
    consultation = ConsultationFactory()
    assert doctor_client.get(reverse("consultations:sign",
                                     args=[consultation.pk])).status_code == 405


@pytest.mark.parametrize("rows", [1, 3, 12])
def test_patient_file_panels_of_the_app_constant_queries(staff_factory, django_assert_num_queries,
                                                          rows):
    """The consultations, referrals and screening panels: a fixed number of queries whatever
    the patient's history (the panels show the latest 10 rows)."""
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from consultations import panels
    from tests.factories import ConsultationAmendmentFactory
    reader = staff_factory(Role.DOCTOR)
    patient = PatientFactory()
    for _ in range(rows):
        author = staff_factory(Role.NURSE)
        consultation = ConsultationFactory(patient=patient, author=author)
        ConsultationAmendmentFactory(consultation=consultation, author=author)
        ReferralFactory(patient=patient, referred_by=author, partner=PartnerFactory())
        ScreeningTestFactory(patient=patient, performed_by=author)
    request = RequestFactory().get("/")
    request.user = reader
    specs = [(panels.consultations_context, "consultations/panel_consultations.html"),
             (panels.referrals_context, "consultations/panel_referrals.html"),
             (panels.screening_context, "consultations/panel_screening.html")]
    [context(request, patient) for context, _template in specs]  # the user's permission cache

    # Consultations and their amendments (2), referrals (1), screening tests (with their
    # cancellation) and their result's amendments (2).
    with django_assert_num_queries(5):
        html = "".join(render_to_string(template, context(request, patient), request=request)
                       for context, template in specs)
    assert html.count("data-referral=") == min(rows, 10)
