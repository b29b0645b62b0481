import datetime

import pytest
from django.test import RequestFactory
from django.utils import timezone

from mass.accounts.roles import Role
from mass.contributions import PATIENT_PANELS
from social.models import IncomeRecord
from social.panels import panel_context
from tests.conftest import EN
from tests.factories import (
    HousingRecordFactory,
    IncomeRecordFactory,
    PatientFactory,
    SocialActionFactory,
)


def days_ago(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def test_panel_is_registered():
    assert PATIENT_PANELS["social"].template == "social/_panel.html"


def test_patient_file_shows_current_situation_history_and_actions(social_worker_client,
                                                                  social_worker_user, patient):
    IncomeRecordFactory(patient=patient, date=days_ago(300), source="none")
    IncomeRecordFactory(patient=patient, date=days_ago(20), source="cpas")
    HousingRecordFactory(patient=patient, date=days_ago(5), situation="hotel")
    action = SocialActionFactory(patient=patient, social_worker=social_worker_user,
                                 type="identity_papers", due_on=None)

    page = social_worker_client.get(patient.get_absolute_url(), **EN).content.decode()

    panel = page.split('data-panel="social"')[1].split("</section>")[0]
    current = panel.split('data-current="income"')[1].split("</tr>")[0]
    assert "CPAS/OCMW income" in current
    assert "No own income" in panel  # in the history
    assert "Hotel" in panel.split('data-current="housing"')[1].split("</tr>")[0]
    assert f'data-social-action="{action.pk}"' in panel and "Identity papers" in panel
    assert 'name="next"' in panel and "Record a change" in panel


def test_quick_form_on_the_patient_file_records_and_returns(social_worker_client, patient):
    page = social_worker_client.get(patient.get_absolute_url()).content.decode()
    assert 'id="id_social_source"' in page
    response = social_worker_client.post(f"/social/patients/{patient.pk}/situation/", {
        "date": days_ago(0).isoformat(), "source": "unemployment",
        "next": patient.get_absolute_url()})
    assert response["Location"] == patient.get_absolute_url()
    assert IncomeRecord.objects.get(patient=patient).source == "unemployment"


@pytest.mark.parametrize("role,situation,actions,form", [
    (Role.SOCIAL_WORKER, True, True, True),
    (Role.DOCTOR, True, True, False),
    (Role.NURSE, True, False, False),
    (Role.PSYCHOLOGIST, True, False, False),
    (Role.COORDINATOR, False, True, False),
])
def test_panel_by_role(client, staff_factory, social_worker_user, patient, role, situation,
                       actions, form):
    IncomeRecordFactory(patient=patient, date=days_ago(20), source="salary")
    action = SocialActionFactory(patient=patient, social_worker=social_worker_user)
    client.force_login(staff_factory(role))
    response = client.get(patient.get_absolute_url(), **EN)
    if response.status_code != 200:  # this role does not open patient files at all
        return
    page = response.content.decode()
    assert ('data-current="income"' in page) is situation
    assert (f'data-social-action="{action.pk}"' in page) is actions
    assert ('id="id_social_source"' in page) is form


def test_reception_gets_no_social_panel(reception_user, patient):
    request = RequestFactory().get("/")
    request.user = reception_user
    assert panel_context(request, patient) is None


@pytest.mark.parametrize("many", [False, True])
def test_panel_queries_are_bounded(social_worker_user, django_assert_num_queries, many):
    patient = PatientFactory()
    for i in range(20 if many else 1):
        IncomeRecordFactory(patient=patient, date=days_ago(10 + i), source="cpas")
        HousingRecordFactory(patient=patient, date=days_ago(10 + i), situation="squat")
        SocialActionFactory(patient=patient, social_worker=social_worker_user)
    request = RequestFactory().get("/")
    request.user = social_worker_user
    panel_context(request, patient)  # warms the permission cache of the user
    # One query per dimension of the situation (6) and one for the actions.
    with django_assert_num_queries(7):
        context = panel_context(request, patient)
    assert len(context["actions"]) == (20 if many else 1)
