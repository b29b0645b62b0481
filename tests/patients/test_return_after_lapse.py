"""A person whose last episode has ended comes back (issue 11, part 2): the desk, the
consultation form and the dispensing counter say so and offer a resumption in one step;
nothing opens an episode by itself."""

import datetime

import pytest
from django.utils import timezone

from patients.models import Episode
from patients.selectors import months_before
from tests.conftest import EN
from tests.factories import EpisodeFactory, PatientFactory, TdiRecordFactory, VisitFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = timezone.localdate


def short(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


@pytest.fixture
def lapsed(db):
    """Opened 14 months ago, seen that day only: the 6-month rule ended it that day (no
    closure written yet)."""
    patient = PatientFactory(alias="Zorro")
    opened = months_before(TODAY(), 14)
    EpisodeFactory(patient=patient, opened_on=opened)
    VisitFactory(patient=patient, date=opened)
    return patient


def arrive(client, patient, **headers):
    return client.post("/reception/arrivals/", {"patient": patient.pk,
                                                "purpose": "consultation"}, **headers, **EN)


def assert_offered(content: str, patient, *, by_rule: bool = True, button: bool = True):
    ended = (Episode.objects.filter(patient=patient).with_end().order_by("-opened_on")
             .first().ended_on)
    assert "data-lapse" in content
    assert f"episode ended {short(ended)}" in content
    assert ("by the 6-month rule" in content) is by_rule
    assert (f'action="/patients/{patient.pk}/episodes/open/"' in content) is button
    if button:
        assert f'name="opened_on" value="{TODAY().isoformat()}"' in content


def test_desk_arrival_says_the_person_is_back_and_offers_a_resumption(reception_client, lapsed):
    content = arrive(reception_client, lapsed, **HTMX).content.decode()
    assert "Zorro arrived" in content
    assert_offered(content, lapsed)
    # the last contact before today's arrival, not the arrival itself
    assert "Last contact 14 months ago;" in content
    assert Episode.objects.filter(patient=lapsed).count() == 1  # nothing opened by itself


def test_desk_arrival_without_htmx_shows_it_once_on_the_board(reception_client, lapsed):
    response = arrive(reception_client, lapsed)
    assert response.status_code == 302
    assert_offered(reception_client.get("/reception/", **EN).content.decode(), lapsed)
    assert "data-lapse" not in reception_client.get("/reception/", **EN).content.decode()
    assert Episode.objects.filter(patient=lapsed).count() == 1


def test_desk_arrival_of_someone_in_treatment_says_nothing_more(reception_client):
    patient = PatientFactory()
    EpisodeFactory(patient=patient, opened_on=TODAY() - datetime.timedelta(days=20))
    TdiRecordFactory(episode=patient.episodes.get())
    content = arrive(reception_client, patient, **HTMX).content.decode()
    assert "data-lapse" not in content
    search = reception_client.get("/reception/search/", {"q": patient.alias}, **HTMX,
                                  **EN).content.decode()
    assert "data-episode-ended" not in search and "data-tdi-due" not in search


def test_desk_search_marks_an_ended_episode(reception_client, lapsed):
    closed = PatientFactory(alias="Zorba")
    EpisodeFactory(patient=closed, opened_on=TODAY() - datetime.timedelta(days=90),
                   closed_on=TODAY() - datetime.timedelta(days=10), closure_reason="moved")
    content = reception_client.get("/reception/search/", {"q": "zor"}, **HTMX,
                                   **EN).content.decode()
    opened = lapsed.episodes.get().opened_on
    assert f"Episode ended {short(opened)} by the 6-month rule" in content
    assert f"Episode ended {short(TODAY() - datetime.timedelta(days=10))}<" in content
    assert Episode.objects.count() == 2


def test_resumption_in_one_step_then_the_questionnaire_is_due(reception_client, lapsed):
    response = reception_client.post(f"/patients/{lapsed.pk}/episodes/open/",
                                      {"opened_on": TODAY().isoformat()}, **EN)
    resumption = Episode.objects.get(patient=lapsed, opened_on=TODAY())
    assert resumption.kind == Episode.Kind.RESUMPTION
    assert response["Location"] == f"/reporting/tdi/{resumption.pk}/"
    earlier = Episode.objects.exclude(pk=resumption.pk).get(patient=lapsed)
    assert earlier.closure_reason == "six_months"  # the rule's end written down first
    # Left without filling it: the file and the desk say the questionnaire is due.
    file = reception_client.get(f"/patients/{lapsed.pk}/", **EN).content.decode()
    assert f"TDI questionnaire due for the episode opened on {short(TODAY())}" in file
    assert "data-lapse" not in file
    search = reception_client.get("/reception/search/", {"q": "zorro"}, **HTMX,
                                  **EN).content.decode()
    assert "data-tdi-due" in search and "data-episode-ended" not in search


def test_resumption_while_an_episode_runs_is_refused_and_writes_nothing(reception_client,
                                                                         lapsed):
    """The page was shown, then someone opened the resumption in another tab: the second
    click is refused with a clear message."""
    reception_client.post(f"/patients/{lapsed.pk}/episodes/open/",
                          {"opened_on": TODAY().isoformat()}, **EN)
    response = reception_client.post(f"/patients/{lapsed.pk}/episodes/open/",
                                     {"opened_on": TODAY().isoformat()}, **EN, follow=True)
    assert "still in treatment" in response.content.decode()
    assert Episode.objects.filter(patient=lapsed).count() == 2


def test_hand_closure_is_said_as_such(reception_client):
    patient = PatientFactory()
    EpisodeFactory(patient=patient, opened_on=TODAY() - datetime.timedelta(days=90),
                   closed_on=TODAY() - datetime.timedelta(days=30), closure_reason="moved")
    VisitFactory(patient=patient, date=TODAY() - datetime.timedelta(days=3))
    content = arrive(reception_client, patient, **HTMX).content.decode()
    assert_offered(content, patient, by_rule=False)
    assert f"Last contact on {short(TODAY() - datetime.timedelta(days=3))};" in content


def test_consultation_form_offers_a_resumption(doctor_client, lapsed):
    content = doctor_client.get(f"/consultations/new/?patient={lapsed.pk}", **EN
                                ).content.decode()
    assert_offered(content, lapsed)
    assert Episode.objects.filter(patient=lapsed).count() == 1


def test_dispensing_counter_offers_a_resumption(nurse_client, lapsed):
    content = nurse_client.get(f"/dispensary/patients/{lapsed.pk}/", **EN).content.decode()
    assert_offered(content, lapsed)
    assert Episode.objects.filter(patient=lapsed).count() == 1


def test_a_role_that_may_not_open_episodes_sees_no_button(coordinator_client, lapsed):
    content = coordinator_client.get(f"/patients/{lapsed.pk}/", **EN).content.decode()
    assert_offered(content, lapsed, button=False)
    assert Episode.objects.filter(patient=lapsed).count() == 1


@pytest.mark.parametrize("rows", [1, 3])
def test_desk_search_marks_cost_one_query_whatever_the_rows(reception_client,
                                                            django_assert_num_queries, rows):
    for n in range(rows):
        patient = PatientFactory(alias=f"Dupont {n}")
        EpisodeFactory(patient=patient, opened_on=months_before(TODAY(), 10 + n))
    reception_client.get("/reception/search/", {"q": "dupont"})
    with django_assert_num_queries(11):  # as tests/patients/test_reception.py
        response = reception_client.get("/reception/search/", {"q": "dupont"})
    assert response.content.decode().count("data-episode-ended") == rows
