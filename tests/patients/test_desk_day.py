"""The desk's day (issue 14, part 3): registering logs the arrival, the usual purpose is the
default, reception starts at the desk, the duplicate check only with files to check, the desk
page whole after a refused form, the merge preview in words."""

import datetime
import re

import pytest
from django.utils import timezone

from mass.models import AuditEvent
from patients.models import HarmReductionContact, Patient, Visit
from tests.conftest import EN
from tests.factories import PatientFactory, VisitFactory, woeringen

HTMX = {"HTTP_HX_REQUEST": "true"}


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def usual_button(content: str, patient) -> str:
    """The purpose of the highlighted button (Enter presses it) on the person's row."""
    form = content.split(f'name="patient" value="{patient.pk}"', 1)[1].split("</form>", 1)[0]
    return re.findall(r'name="purpose" value="([a-z_]+)"\s+class="btn btn-sm btn-primary" '
                      r'data-usual', form)[0]


# --- what the person usually comes for -------------------------------------------------------


def test_search_highlights_what_each_person_usually_comes_for(reception_client):
    social, new = PatientFactory(alias="Tintin Social"), PatientFactory(alias="Tintin Neuf")
    for day in (3, 5, 8):
        VisitFactory(patient=social, date=days_ago(day), purpose="social")
    VisitFactory(patient=social, date=days_ago(4), purpose="hygiene")
    # An older habit, beyond the 90 days, does not count.
    for day in (100, 110, 120, 130):
        VisitFactory(patient=social, date=days_ago(day), purpose="consultation")
    # The centre's most frequent purpose over the 90 days: someone with no history gets it.
    for day in range(1, 5):
        VisitFactory(date=days_ago(day), purpose="hygiene")
    content = reception_client.get("/reception/search/", {"q": "tintin"}, **HTMX,
                                   **EN).content.decode()
    assert usual_button(content, social) == "social"
    assert usual_button(content, new) == "hygiene"
    assert content.count("data-usual") == 2
    # The digits keep their order for everyone: 1 is always the first purpose.
    assert content.index('value="consultation"') < content.index('value="dispensing"')


def test_without_any_walk_in_the_usual_purpose_is_dispensing(reception_client):
    momo = PatientFactory(alias="Momo")
    content = reception_client.get("/reception/search/", {"q": "momo"}, **HTMX,
                                   **EN).content.decode()
    assert usual_button(content, momo) == "dispensing"


def test_the_walk_in_form_proposes_the_usual_purpose(reception_client):
    patient = PatientFactory()
    VisitFactory.create_batch(2, patient=patient, date=days_ago(2), purpose="harm_reduction")
    content = reception_client.get(f"/patients/{patient.pk}/walk-ins/new/",
                                   **EN).content.decode()
    assert re.search(r'<option value="harm_reduction" selected>', content)
    assert not re.search(r'<option value="other" selected>', content)


@pytest.mark.parametrize("rows", [1, 3])
def test_desk_search_query_count_does_not_grow_with_the_usual_purposes(
        reception_client, django_assert_num_queries, rows):
    for n in range(rows):
        patient = PatientFactory(alias=f"Dupont {n}")
        VisitFactory(patient=patient, date=days_ago(1), purpose="social")
    reception_client.get("/reception/search/", {"q": "dupont"})
    with django_assert_num_queries(11):  # as tests/patients/test_reception.py
        response = reception_client.get("/reception/search/", {"q": "dupont"})
    assert response.content.decode().count("data-usual") == rows


@pytest.mark.parametrize("rows", [1, 3])
def test_board_query_count_is_constant_with_1_and_3_rows(reception_client,
                                                         django_assert_num_queries, rows):
    from tests.patients.test_reception import BOARD_QUERIES
    for _ in range(rows):
        VisitFactory(date=timezone.localdate(), site=woeringen(), purpose="dispensing")
    reception_client.get("/reception/")
    with django_assert_num_queries(BOARD_QUERIES):
        response = reception_client.get("/reception/")
    assert response.content.decode().count("data-visit") == rows


# --- registering is the arrival -------------------------------------------------------------


def test_the_registration_form_offers_the_arrival_ticked_with_the_centre_s_purpose(
        reception_client):
    VisitFactory.create_batch(3, date=days_ago(1), purpose="social")
    content = reception_client.get("/patients/new/", **EN).content.decode()
    assert re.search(r'name="log_arrival"[^>]*checked', content)
    assert re.search(r'<option value="social" selected>', content)


def test_registering_logs_the_arrival_in_the_same_step(reception_client, reception_user):
    response = reception_client.post("/patients/new/", {
        "alias": "Nouveau", "sex": "U", "log_arrival": "on", "arrival_purpose": "hygiene"},
        **EN)
    patient = Patient.objects.get(alias="Nouveau")
    visit = Visit.objects.get()
    assert response.status_code == 302 and response["Location"] == "/reception/"
    assert (visit.patient, visit.purpose, visit.date) == (
        patient, "hygiene", timezone.localdate())
    assert visit.site == woeringen() and visit.logged_by == reception_user
    audited = set(AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, patient=patient)
                  .values_list("object_type", flat=True))
    assert audited == {"patients.patient", "patients.visit"}
    board = reception_client.get("/reception/", **EN).content.decode()
    assert "Nouveau arrived: Shower, laundry, rest." in board and "data-visit" in board


def test_registering_without_the_arrival_logs_none(reception_client):
    response = reception_client.post("/patients/new/", {"alias": "Papier", "sex": "U",
                                                        "arrival_purpose": "social"}, **EN)
    patient = Patient.objects.get(alias="Papier")
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert not Visit.objects.exists()


@pytest.mark.parametrize("purpose,message", [
    ("", "Choose what the person came for"),
    ("party", "Select a valid choice"),
])
def test_registering_with_a_bad_arrival_writes_nothing(reception_client, purpose, message):
    response = reception_client.post("/patients/new/", {
        "alias": "Nouveau", "sex": "U", "log_arrival": "on", "arrival_purpose": purpose},
        **EN)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Patient.objects.exists() and not Visit.objects.exists()


def test_a_refused_arrival_registers_nothing_either(reception_user):
    """One transaction: when the walk-in is refused, the file is not left behind."""
    from django.core.exceptions import ValidationError

    from patients import services
    with pytest.raises(ValidationError):
        services.patient_register(alias="Nouveau", arrival_purpose="party", site=woeringen(),
                                  actor=reception_user)
    assert not Patient.objects.exists() and not Visit.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).exists()


# --- the duplicate check --------------------------------------------------------------------


def test_the_duplicate_check_box_shows_only_with_files_to_check(reception_client):
    assert "not_a_duplicate" not in reception_client.get("/patients/new/",
                                                         **EN).content.decode()
    # Refused for another reason, with nobody alike: still no box.
    content = reception_client.post("/patients/new/", {"alias": "", "sex": "U"},
                                    **EN).content.decode()
    assert "This field is required" in content and "not_a_duplicate" not in content
    PatientFactory(alias="Kéké", birth_year=1980, sex="M")
    content = reception_client.post("/patients/new/", {"alias": "Keke", "sex": "U"},
                                    **EN).content.decode()
    assert "data-duplicates" in content and 'name="not_a_duplicate"' in content
    # The files to check tell themselves apart (patients.identity).
    assert "born 1980" in content and "Male" in content
    assert Patient.objects.count() == 1


# --- the desk comes back whole --------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_a_refused_harm_reduction_entry_shows_the_whole_desk(reception_client, headers):
    VisitFactory(patient=PatientFactory(alias="Momo"), date=timezone.localdate())
    response = reception_client.post("/reception/harm-reduction/", {
        "site": woeringen().pk, "out_syringe": "-1"}, **headers, **EN)
    content = response.content.decode()
    assert response.status_code == 200 and "greater than or equal to 0" in content
    assert 'id="arrival-q"' in content and "data-arrival-search" in content
    assert 'id="today"' in content and "Momo" in content
    assert not HarmReductionContact.objects.exists()


# --- reception starts at the desk -----------------------------------------------------------


def test_reception_lands_on_the_desk(client, reception_user):
    client.force_login(reception_user)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/reception/"


def test_reception_signing_in_lands_on_the_desk(client, staff_factory):
    from mass.accounts.roles import Role
    user = staff_factory(Role.RECEPTION)
    user.set_password("a long enough password 14")
    user.save()
    response = client.post("/accounts/login/", {"username": user.username,
                                                "password": "a long enough password 14"},
                           follow=True, **EN)
    assert response.redirect_chain[-1][0] == "/reception/"
    assert 'id="arrival-q"' in response.content.decode()


def test_other_roles_keep_their_start_page(nurse_client):
    response = nurse_client.get("/", **EN)
    assert response.status_code == 200 and "data-section" in response.content.decode()


# --- the merge in words ---------------------------------------------------------------------


def test_the_merge_preview_names_records_in_words(coordinator_client):
    kept, other = PatientFactory(file_number="K14"), PatientFactory(file_number="D14")
    VisitFactory.create_batch(2, patient=other)
    VisitFactory(patient=kept)
    content = coordinator_client.post(f"/patients/{kept.pk}/merge/", {
        "other": "D14", "reason": "same person"}, **EN).content.decode()
    assert "2 walk-ins" in content and "patients.visit" not in content
    coordinator_client.post(f"/patients/{kept.pk}/merge/", {
        "other": "D14", "reason": "same person", "confirm": "True"}, **EN)
    stub = coordinator_client.get(f"/patients/{other.pk}/", **EN).content.decode()
    assert "2 walk-ins" in stub and "patients.visit" not in stub


def test_records_in_words_are_singular_for_one():
    from django.utils import translation

    from patients.selectors import records_in_words
    with translation.override("en"):
        assert records_in_words({"patients.visit": 1, "patients.episode": 3}) == [
            "1 walk-in", "3 episodes"]


def test_cancelled_walk_ins_do_not_make_a_habit(reception_client, reception_user):
    # Three walk-ins logged on the wrong file and cancelled: not what this person comes for.
    from patients.models import VisitCancellation
    kiki = PatientFactory(alias="Kiki Habit")
    VisitFactory(patient=kiki, date=days_ago(2), purpose="hygiene")
    for day in (3, 4, 5):
        VisitCancellation.objects.create(
            visit=VisitFactory(patient=kiki, date=days_ago(day), purpose="social"),
            reason="wrong file", cancelled_by=reception_user)
    content = reception_client.get("/reception/search/", {"q": "kiki habit"}, **HTMX,
                                   **EN).content.decode()
    assert usual_button(content, kiki) == "hygiene"
