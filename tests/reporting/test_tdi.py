import csv
import datetime
import hashlib
import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction

from mass.accounts.roles import Role
from mass.models import AuditEvent
from reporting import exports
from reporting.models import TdiRecord
from tests.factories import EpisodeFactory, PatientFactory, TdiRecordFactory

D = datetime.date

VALID = {
    "setting": "treatment", "ever_treated": "1", "ost_ever": "1", "referral_source": "1",
    "living_with": "1", "accommodation": "2", "labour_status": "3", "education": "2",
    "primary_drug": "11", "route": "2", "frequency": "1", "age_first_use": "17",
    "secondary_drug_1": "22", "secondary_drug_2": "", "secondary_drug_3": "",
    "secondary_drug_4": "", "injected_ever": "1", "injected_12m": "2", "injected_30d": "2",
    "needle_shared_ever": "2", "needle_shared_12m": "2", "needle_shared_30d": "2",
    "based_on": "",
}


@pytest.fixture
def episode(db):
    patient = PatientFactory(alias="Tintin", file_number="2025-0042", birth_year=1990, sex="F")
    return EpisodeFactory(patient=patient, opened_on=D(2025, 4, 1))


def url(episode):
    return f"/reporting/tdi/{episode.pk}/"


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST,
                                  Role.PSYCHOLOGIST, Role.SOCIAL_WORKER])
def test_reception_and_clinicians_fill_the_questionnaire(client, staff_factory, episode, role):
    user = staff_factory(role)
    client.force_login(user)
    response = client.get(url(episode))
    assert response.status_code == 200
    assert "Tintin" in response.content.decode()
    response = client.post(url(episode), VALID)
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{episode.patient_id}/"
    record = TdiRecord.objects.get(episode=episode)
    assert (record.primary_drug, record.route, record.age_first_use) == (11, 2, 17)
    assert record.secondary_drug_1 == 22 and record.secondary_drug_2 is None
    assert record.recorded_by == user and record.supersedes is None
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, actor=user)
    assert event.patient == episode.patient
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, actor=user,
                                     patient=episode.patient).exists()


def test_coordinator_does_not_fill_questionnaires(coordinator_client, episode):
    assert coordinator_client.get(url(episode)).status_code == 403
    assert coordinator_client.post(url(episode), VALID).status_code == 403
    assert not TdiRecord.objects.exists()


def test_unknown_episode_is_404(reception_client, db):
    assert reception_client.get("/reporting/tdi/999999/").status_code == 404


def test_resumption_prefills_previously_treated(reception_client, episode):
    resumption = EpisodeFactory(patient=PatientFactory(), opened_on=D(2025, 5, 1),
                                kind="resumption")
    form = reception_client.get(url(resumption)).context["form"]
    assert form.initial["ever_treated"] == 2


@pytest.mark.parametrize("changes,field,message", [
    ({"secondary_drug_1": "11"}, "secondary_drug_1", "cannot be the primary drug"),
    ({"secondary_drug_2": "22"}, "secondary_drug_2", "already listed"),
    ({"injected_ever": "2", "injected_30d": "1"}, "injected_30d", "contradicts"),
    ({"needle_shared_12m": "1", "needle_shared_ever": "2"}, "needle_shared_12m",
     "contradicts"),
    ({"injected_ever": "2", "route": "1"}, "injected_ever", "primary drug is injected"),
    ({"age_first_use": "40"}, "age_first_use", "Older than the person"),
    ({"age_first_use": "0"}, "age_first_use", ""),
    ({"primary_drug": "77"}, "primary_drug", ""),
    ({"setting": "elsewhere"}, "setting", ""),
])
def test_bad_answers_return_the_form_and_write_nothing(reception_client, episode, changes,
                                                         field, message):
    response = reception_client.post(url(episode), {**VALID, **changes},
                                     HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert not TdiRecord.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).exists()


def test_correction_needs_a_reason_and_keeps_the_first_answers(reception_client, episode):
    first = TdiRecordFactory(episode=episode)
    data = {**VALID, "based_on": str(first.pk), "primary_drug": "22", "secondary_drug_1": ""}
    response = reception_client.post(url(episode), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "correction_reason" in response.context["form"].errors
    assert TdiRecord.objects.count() == 1
    reception_client.post(url(episode), {**data, "correction_reason": "crack, not heroin"})
    latest = TdiRecord.objects.latest("id")
    assert latest.supersedes == first and latest.primary_drug == 22
    assert latest.correction_reason == "crack, not heroin"
    first.refresh_from_db()
    assert first.primary_drug == 11  # the earlier answers stay
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).count() == 1


def test_someone_else_saving_meanwhile_is_not_overwritten(reception_client, episode):
    first = TdiRecordFactory(episode=episode)
    TdiRecordFactory(episode=episode, supersedes=first, correction_reason="by a colleague")
    response = reception_client.post(url(episode), {**VALID, "based_on": str(first.pk),
                                                    "correction_reason": "mine"},
                                     HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Someone else saved" in response.content.decode()
    assert TdiRecord.objects.count() == 2


def test_questionnaire_rows_are_append_only(episode):
    record = TdiRecordFactory(episode=episode)
    with pytest.raises(DatabaseError), transaction.atomic():
        TdiRecord.objects.filter(pk=record.pk).update(primary_drug=22)
    with pytest.raises(DatabaseError), transaction.atomic():
        TdiRecord.objects.filter(pk=record.pk).delete()


def test_patient_file_panel_shows_tdi_status(client, staff_factory, episode):
    TdiRecordFactory(episode=EpisodeFactory(patient=episode.patient, opened_on=D(2020, 1, 1),
                                            closed_on=D(2020, 6, 1), closure_reason="other"))
    nurse = staff_factory(Role.NURSE)
    client.force_login(nurse)
    content = client.get(f"/patients/{episode.patient_id}/", HTTP_ACCEPT_LANGUAGE="en"
                         ).content.decode()
    assert f'data-tdi-episode="{episode.pk}"' in content
    assert "Missing" in content and "Filled in" in content
    assert f"/reporting/tdi/{episode.pk}/" in content


def test_panel_context_queries_are_bounded(rf, nurse_user, episode, django_assert_num_queries):
    from reporting.panels import tdi_context
    request = rf.get("/")
    request.user = nurse_user
    nurse_user.has_perm("reporting.view_tdirecord")  # permissions cache
    with django_assert_num_queries(1):
        context = tdi_context(request, episode.patient)
    for year in range(2010, 2015):
        EpisodeFactory(patient=episode.patient, opened_on=D(year, 1, 1), closed_on=D(year, 2, 1),
                       closure_reason="other")
    with django_assert_num_queries(1):
        context = tdi_context(request, episode.patient)
    assert len(context["episodes"]) == 6


# --- the yearly TDI file ---------------------------------------------------------------------


@pytest.fixture
def tdi_year(episode):
    """2025: four episodes; one filled in, one without questionnaire, one outreach only, one
    corrected to harm reduction only; one episode of 2024."""
    TdiRecordFactory(episode=episode)
    missing = EpisodeFactory(patient=PatientFactory(sex="M"), opened_on=D(2025, 6, 1))
    outreach = EpisodeFactory(opened_on=D(2025, 7, 1))
    TdiRecordFactory(episode=outreach, setting="outreach_only")
    corrected = EpisodeFactory(opened_on=D(2025, 8, 1))
    first = TdiRecordFactory(episode=corrected)
    TdiRecordFactory(episode=corrected, supersedes=first, setting="harm_reduction_only",
                     correction_reason="only came for syringes")
    TdiRecordFactory(episode=EpisodeFactory(opened_on=D(2024, 12, 31)))
    return {"filled": episode, "missing": missing}


def read_tdi(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode()), delimiter=";"))


def test_tdi_file_has_one_row_per_treatment_episode(coordinator_client, tdi_year):
    response = coordinator_client.get("/reporting/tdi/year/2025/export/")
    assert response["Content-Disposition"] == 'attachment; filename="tdi-2025.csv"'
    rows = read_tdi(response.content)
    assert [row["questionnaire"] for row in rows] == ["1", "0"]
    filled, missing = rows
    assert list(filled) == exports.TDI_COLUMNS
    assert filled["treatment_year"] == "2025" and filled["treatment_month"] == "4"
    assert filled["sex"] == "2" and filled["birth_year"] == "1990"
    assert filled["age_at_entry"] == "35"
    assert (filled["primary_drug"], filled["route"], filled["secondary_drug_1"]) == (
        "11", "1", "22")
    assert filled["secondary_drug_2"] == ""
    assert missing["primary_drug"] == "99" and missing["age_first_use"] == "99"
    assert missing["sex"] == "1" and missing["birth_year"] == "" and missing["age_at_entry"] == "99"
    # Pseudonymised: stable, not the file number.
    assert "2025-0042" not in response.content.decode()
    assert filled["client_id"] == exports.pseudonym("2025-0042")
    assert len(filled["client_id"]) == 32


def test_tdi_file_links_episodes_of_one_person(coordinator_client, episode):
    EpisodeFactory(patient=episode.patient, opened_on=D(2025, 1, 1), closed_on=D(2025, 2, 1),
                   closure_reason="other")
    rows = read_tdi(coordinator_client.get("/reporting/tdi/year/2025/export/").content)
    assert len(rows) == 2 and rows[0]["client_id"] == rows[1]["client_id"]
    assert rows[0]["episode_id"] != rows[1]["episode_id"]


def test_tdi_export_is_audited_and_command_gives_the_same_file(coordinator_client, tdi_year,
                                                               tmp_path):
    web = coordinator_client.get("/reporting/tdi/year/2025/export/").content
    output = tmp_path / "tdi.csv"
    call_command("tdi_export", "--year", "2025", "--output", str(output), stderr=StringIO())
    assert output.read_bytes() == web
    events = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).order_by("id")
    assert [event.details["episodes"] for event in events] == [2, 2]
    assert events[1].username.startswith("cli")
    assert events[0].details["sha256"] == events[1].details["sha256"] == \
        hashlib.sha256(web).hexdigest()


def test_tdi_year_page_counts_missing_questionnaires(coordinator_client, tdi_year):
    response = coordinator_client.get("/reporting/tdi/year/2025/")
    assert response.context["counts"] == {"episodes": 4, "filled": 3, "excluded": 2,
                                          "missing": 1, "in_file": 2}
    assert f'data-episode="{tdi_year["missing"].pk}"' in response.content.decode()


def test_tdi_year_page_query_count_constant(coordinator_client, tdi_year,
                                            django_assert_num_queries):
    coordinator_client.get("/reporting/tdi/year/2025/")
    with django_assert_num_queries(10):
        coordinator_client.get("/reporting/tdi/year/2025/")
    for day in range(1, 10):
        TdiRecordFactory(episode=EpisodeFactory(opened_on=D(2025, 9, day)))
    with django_assert_num_queries(10):
        coordinator_client.get("/reporting/tdi/year/2025/")


def test_pseudonym_key_is_required_in_production(settings):
    from django.core.exceptions import ImproperlyConfigured
    settings.DEMO, settings.DEBUG = False, False
    settings.TDI_PSEUDONYM_KEY = ""
    import os
    key = os.environ.pop("TDI_PSEUDONYM_KEY", None)
    try:
        with pytest.raises(ImproperlyConfigured):
            exports.pseudonym_key()
        settings.TDI_PSEUDONYM_KEY = "s3cret"
        assert exports.pseudonym("X1") != exports.pseudonym("X1", b"other")
    finally:
        if key is not None:
            os.environ["TDI_PSEUDONYM_KEY"] = key


def test_export_without_pseudonym_key_says_why_and_writes_nothing(settings, coordinator_client):
    """Outside the demo, a server without TDI_PSEUDONYM_KEY tells the coordinator what is
    missing instead of failing (and ``check --deploy`` warns: mass.W003)."""
    import os

    from mass.accounts.security import check_tdi_pseudonym_key
    from mass.models import AuditEvent
    settings.DEMO, settings.DEBUG = False, False
    settings.TDI_PSEUDONYM_KEY = ""
    key = os.environ.pop("TDI_PSEUDONYM_KEY", None)
    try:
        response = coordinator_client.get("/reporting/tdi/year/2025/export/",
                                          HTTP_ACCEPT_LANGUAGE="en", follow=True)
        assert response.redirect_chain[0][0] == "/reporting/tdi/year/2025/"
        assert "TDI_PSEUDONYM_KEY" in response.content.decode()
        assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()
        assert [w.id for w in check_tdi_pseudonym_key(None)] == ["mass.W003"]
        settings.TDI_PSEUDONYM_KEY = "s3cret"
        assert check_tdi_pseudonym_key(None) == []
    finally:
        if key is not None:
            os.environ["TDI_PSEUDONYM_KEY"] = key
