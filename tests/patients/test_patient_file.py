import datetime

import pytest
from django.utils import timezone

from mass.contributions import PATIENT_PANELS, Panel
from mass.models import AuditEvent
from patients.models import Patient
from tests.conftest import EN
from tests.factories import EpisodeFactory, PatientFactory, VisitFactory, woeringen


def test_patient_file_is_audited_as_a_read(reception_client, reception_user):
    patient = PatientFactory(alias="Momo")
    response = reception_client.get(f"/patients/{patient.pk}/", **EN)
    assert response.status_code == 200 and "Momo" in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
    assert event.patient == patient and event.actor == reception_user


def test_patient_file_shows_episodes_and_walk_ins(reception_client):
    patient = PatientFactory(alias="Momo")
    today = timezone.localdate()
    EpisodeFactory(patient=patient, opened_on=today - datetime.timedelta(days=400),
                   closed_on=today - datetime.timedelta(days=300), closure_reason="moved")
    EpisodeFactory(patient=patient, opened_on=today - datetime.timedelta(days=10),
                   kind="resumption")
    VisitFactory(patient=patient, date=today, purpose="hygiene", site=woeringen(),
                 note="<i>douche</i>")
    content = reception_client.get(f"/patients/{patient.pk}/", **EN).content.decode()
    assert 'data-episode="new"' in content and 'data-episode="resumption"' in content
    assert "Moved" in content and "Shower, laundry, rest" in content
    assert "MASS Woeringen" in content and "&lt;i&gt;douche&lt;/i&gt;" in content
    assert f'data-last-contact>{today:%d/%m/%Y}' in content


def test_patient_file_warns_after_six_months_without_contact(reception_client):
    patient = PatientFactory()
    today = timezone.localdate()
    EpisodeFactory(patient=patient, opened_on=today - datetime.timedelta(days=400))
    VisitFactory(patient=patient, date=today - datetime.timedelta(days=200))
    content = reception_client.get(f"/patients/{patient.pk}/", **EN).content.decode()
    assert "data-lost-contact" in content


@pytest.fixture
def test_panel():
    def context(request, patient):
        if not request.user.has_perm("patients.add_visit"):
            return None
        return {"greeting": f"<b>hello {patient.alias}</b>"}
    PATIENT_PANELS.register_panel(Panel(key="zz_test", title="Test panel",
                                        template="patients/tests/panel.html", context=context,
                                        order=999))
    yield
    PATIENT_PANELS.unregister("zz_test")


def test_patient_file_renders_the_panels_of_other_apps(client, reception_user, coordinator_user,
                                                       test_panel, tmp_path, settings):
    (tmp_path / "patients" / "tests").mkdir(parents=True)
    (tmp_path / "patients" / "tests" / "panel.html").write_text(
        "<p data-test-panel>{{ greeting }} {{ patient.file_number }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0],
                           "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    patient = PatientFactory(alias="Momo", file_number="F42")
    client.force_login(reception_user)
    content = client.get(f"/patients/{patient.pk}/").content.decode()
    assert 'data-panel="zz_test"' in content and "Test panel" in content
    assert "&lt;b&gt;hello Momo&lt;/b&gt; F42" in content
    client.force_login(coordinator_user)
    content = client.get(f"/patients/{patient.pk}/").content.decode()
    assert 'data-panel="zz_test"' not in content


def test_merged_stub_shows_where_it_went(reception_client):
    kept = PatientFactory(alias="Kept", file_number="K1")
    stub = PatientFactory(alias="Stub", file_number="S1", status=Patient.Status.MERGED,
                          merged_into=kept)
    content = reception_client.get(f"/patients/{stub.pk}/", **EN).content.decode()
    assert "This file was merged into file K1" in content
    assert f'href="/patients/{kept.pk}/"' in content
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, patient=stub).exists()


def test_patient_file_is_404_without_the_right(client, staff_factory):
    patient = PatientFactory()
    client.force_login(staff_factory())
    assert client.get(f"/patients/{patient.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()


def test_unknown_patient_is_404(reception_client):
    assert reception_client.get("/patients/999999/").status_code == 404


# session, user, permissions and roles (one), patient, audit insert, episodes, walk-ins,
# merges, contact days (walk-ins + each other app's contact querysets), session save (3),
# plus what each registered panel needs.
@pytest.mark.parametrize("rows", [1, 4])
def test_patient_file_query_count_is_constant(reception_client, django_assert_num_queries,
                                              rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    def make_patient():
        patient = PatientFactory()
        VisitFactory(patient=patient, date=today, site=woeringen())
        return patient
    today = timezone.localdate()
    patient = make_patient()
    for n in range(rows):
        EpisodeFactory(patient=patient, opened_on=today - datetime.timedelta(days=100 * n + 50),
                       closed_on=today - datetime.timedelta(days=100 * n + 40),
                       closure_reason="other")
        VisitFactory(patient=patient, date=today - datetime.timedelta(days=n), site=woeringen())
    reception_client.get(f"/patients/{patient.pk}/")
    other = make_patient()
    with CaptureQueriesContext(connection) as baseline:
        reception_client.get(f"/patients/{other.pk}/")
    with django_assert_num_queries(len(baseline)):
        response = reception_client.get(f"/patients/{patient.pk}/")
    assert response.content.decode().count("data-episode=") == rows
