import datetime

import pytest
from django.utils import timezone

from mass.accounts.roles import Role
from mass.models import AuditEvent, Site
from patients.models import HarmReductionContact, Patient, Visit
from tests.conftest import EN, make_staff
from tests.factories import PatientFactory, SiteFactory, VisitFactory, woeringen


def arrive(client, patient, purpose="dispensing", htmx=False, **extra):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post("/reception/arrivals/", {"patient": patient.pk, "purpose": purpose,
                                                **extra}, **EN, **headers)


def test_board_shows_todays_walk_ins(reception_client):
    today = timezone.localdate()
    momo = PatientFactory(alias="Momo")
    VisitFactory(patient=momo, date=today, time=datetime.time(10, 5), purpose="dispensing",
                 site=woeringen())
    VisitFactory(patient=PatientFactory(alias="Hier"), date=today - datetime.timedelta(days=1))
    content = reception_client.get("/reception/", **EN).content.decode()
    assert "Momo" in content and "10:05" in content and "Dispensing" in content
    assert "MASS Woeringen" in content and "Hier" not in content
    assert "1 person" in content


def test_search_result_logs_an_arrival_in_one_click(reception_client, reception_user):
    momo = PatientFactory(alias="Momo")
    results = reception_client.get("/reception/search/", {"q": "momo"},
                                   HTTP_HX_REQUEST="true", **EN).content.decode()
    # each result carries one button per purpose, numbered for the keyboard
    assert 'data-arrival-row' in results and f'name="patient" value="{momo.pk}"' in results
    assert results.count('name="purpose"') == len(Visit.Purpose.values)
    response = arrive(reception_client, momo, purpose="hygiene")
    assert response.status_code == 302 and response["Location"] == "/reception/"
    visit = Visit.objects.get()
    assert visit.patient == momo and visit.purpose == "hygiene"
    assert visit.date == timezone.localdate() and visit.time is not None
    assert visit.site == woeringen() and visit.logged_by == reception_user
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, patient=momo,
                                     object_type="patients.visit").exists()


def test_arrival_with_htmx_returns_the_updated_board(reception_client):
    momo = PatientFactory(alias="Momo")
    response = arrive(reception_client, momo, htmx=True)
    content = response.content.decode()
    assert "<html" not in content and 'id="today"' in content
    assert "Momo arrived: Dispensing." in content and "data-visit" in content


def test_double_click_logs_one_arrival(reception_client):
    momo = PatientFactory(alias="Momo")
    arrive(reception_client, momo)
    response = arrive(reception_client, momo, htmx=True)
    assert "logged a moment ago already" in response.content.decode()
    assert Visit.objects.count() == 1
    arrive(reception_client, momo, purpose="social")
    assert Visit.objects.count() == 2


def test_arrival_at_the_desk_site_chosen_on_the_board(reception_client):
    shelter = SiteFactory(name="Samusocial test")
    reception_client.get("/reception/", {"site": shelter.pk})
    arrive(reception_client, PatientFactory())
    assert Visit.objects.get().site == shelter


@pytest.mark.parametrize("purpose", ["", "party"])
def test_arrival_with_bad_purpose_writes_nothing(reception_client, purpose):
    response = arrive(reception_client, PatientFactory(), purpose=purpose, htmx=True)
    assert "could not be logged" in response.content.decode()
    assert not Visit.objects.exists()


def test_arrival_for_unknown_patient_writes_nothing(reception_client):
    response = reception_client.post("/reception/arrivals/", {"patient": 999999,
                                                              "purpose": "other"}, **EN)
    assert response.status_code == 302 and not Visit.objects.exists()


def test_arrival_on_a_merged_file_is_refused(reception_client):
    kept = PatientFactory(file_number="K5")
    stub = PatientFactory(file_number="S5", status=Patient.Status.MERGED, merged_into=kept)
    response = arrive(reception_client, stub, htmx=True)
    assert "was merged into file K5" in response.content.decode()
    assert not Visit.objects.exists()


def test_arrival_of_a_deceased_person_is_refused(reception_client):
    patient = PatientFactory(status=Patient.Status.DECEASED)
    response = arrive(reception_client, patient, htmx=True)
    assert "recorded as deceased" in response.content.decode()
    assert not Visit.objects.exists()


def test_arrival_is_post_only(reception_client):
    assert reception_client.get("/reception/arrivals/").status_code == 405
    assert reception_client.get("/reception/harm-reduction/").status_code == 405


def test_board_refused_to_coordinator(coordinator_client):
    assert coordinator_client.get("/reception/").status_code == 403
    assert coordinator_client.get("/reception/search/?q=a").status_code == 403
    momo = PatientFactory()
    assert arrive(coordinator_client, momo).status_code == 403
    assert not Visit.objects.exists()


def test_board_search_offers_registration_when_nobody_matches(reception_client):
    content = reception_client.get("/reception/search/", {"q": "Inconnu"}, **EN).content.decode()
    assert "/patients/new/?alias=Inconnu" in content


def test_walk_in_with_details(reception_client):
    patient = PatientFactory()
    shelter = SiteFactory(name="Hôtel test")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = reception_client.post(f"/patients/{patient.pk}/walk-ins/new/", {
        "date": yesterday.isoformat(), "time": "21:30", "purpose": "harm_reduction",
        "site": shelter.pk, "note": "maraude"}, **EN)
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.date, visit.time, visit.site, visit.note) == (
        yesterday, datetime.time(21, 30), shelter, "maraude")


@pytest.mark.parametrize("data,message", [
    ({"date": "2025-02-29"}, "Enter a valid date"),
    ({"date": (timezone.localdate() + datetime.timedelta(days=2)).isoformat()},
     "cannot be in the future"),
    ({"time": "25:00"}, "Enter a valid time"),
    ({"purpose": "party"}, "Select a valid choice"),
    ({"site": ""}, "This field is required"),
    ({"note": "n" * 201}, "at most 200 characters"),
])
def test_walk_in_bad_input_writes_nothing(reception_client, data, message):
    patient = PatientFactory()
    form = {"date": timezone.localdate().isoformat(), "purpose": "other",
            "site": woeringen().pk, **data}
    response = reception_client.post(f"/patients/{patient.pk}/walk-ins/new/", form, **EN)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Visit.objects.exists()


def test_anonymous_harm_reduction_material_by_type(reception_client, reception_user):
    response = reception_client.post("/reception/harm-reduction/", {
        "site": woeringen().pk, "out_syringe": "20", "ret_syringe": "15", "out_foil": "5"},
        **EN)
    assert response.status_code == 302
    rows = {c.material: c for c in HarmReductionContact.objects.all()}
    assert set(rows) == {"syringe", "foil"}
    assert (rows["syringe"].handed_out, rows["syringe"].returned) == (20, 15)
    assert rows["foil"].patient is None and rows["foil"].logged_by == reception_user
    content = reception_client.get("/reception/", **EN).content.decode()
    assert "Syringes" in content and "20" in content


@pytest.mark.parametrize("data,message", [
    ({}, "Enter at least one quantity"),
    ({"out_syringe": "-3"}, "greater than or equal to 0"),
    ({"out_syringe": "10001"}, "less than or equal to 10000"),
    ({"out_syringe": "beaucoup"}, "Enter a whole number"),
    ({"site": ""}, "This field is required"),
])
def test_harm_reduction_bad_input_writes_nothing(reception_client, data, message):
    form = {"site": woeringen().pk, **data}
    response = reception_client.post("/reception/harm-reduction/", form, **EN)
    assert response.status_code == 200 and message in response.content.decode()
    assert not HarmReductionContact.objects.exists()


@pytest.mark.parametrize("role_client", ["nurse_client", "psychologist_client",
                                         "coordinator_client"])
def test_the_desk_is_reception_s(db, request, role_client):
    """Clinicians see the board (to open consultations), the coordinator not; nobody but
    reception searches or logs material there."""
    client = request.getfixturevalue(role_client)
    expected = 403 if role_client == "coordinator_client" else 200
    assert client.get("/reception/").status_code == expected
    assert client.get("/reception/search/", {"q": "a"}).status_code == 403
    response = client.post("/reception/harm-reduction/", {"site": woeringen().pk,
                                                          "out_naloxone": "1"})
    assert response.status_code == 403
    assert not HarmReductionContact.objects.exists()


def test_clinicians_log_a_walk_in_from_the_patient_file(nurse_client):
    patient = PatientFactory()
    response = arrive(nurse_client, patient, purpose="dispensing")
    assert response.status_code == 302 and Visit.objects.get().patient == patient


# session, user, permissions and roles (one query: mass.accounts.backends), the day's
# walk-ins with their counts and material and the sites (one statement), session save (3);
# the read row naming the patients of the board (one INSERT, mass.audit.audit_list_read);
# the alerts the desk reads of those patients (one).
BOARD_QUERIES = 9


@pytest.mark.parametrize("rows", [1, 30])
def test_board_query_count_is_constant(reception_client, django_assert_num_queries, rows):
    today = timezone.localdate()
    site = Site.objects.get(name="MASS Woeringen")
    for n in range(rows):
        VisitFactory(date=today, site=site, logged_by=None, purpose="dispensing")
        HarmReductionContact.objects.create(date=today, site=site, material="syringe",
                                            handed_out=n + 1)
    reception_client.get("/reception/")
    with django_assert_num_queries(BOARD_QUERIES):
        response = reception_client.get("/reception/")
    assert response.content.decode().count("data-visit") == rows


@pytest.mark.parametrize("rows", [1, 15])
def test_board_search_query_count_is_constant(reception_client, django_assert_num_queries,
                                              rows):
    for n in range(rows):
        PatientFactory(alias=f"Dupont {n}")
    reception_client.get("/reception/search/", {"q": "dupont"})
    # As the patient search (tests/patients/test_search.py), plus one for the latest
    # episode of every person shown (ended, or its TDI questionnaire due), one for the alerts
    # the desk reads of them (the user's roles, which decide the kinds, come with the
    # permissions), and one for what each usually comes for (and the centre's most frequent
    # purpose).
    with django_assert_num_queries(11):
        response = reception_client.get("/reception/search/", {"q": "dupont"})
    assert response.content.decode().count("data-arrival-row") == rows


def test_board_shows_the_latest_walk_ins_and_counts_the_rest(reception_client):
    from patients.selectors import BOARD_ROWS
    today = timezone.localdate()
    for _ in range(BOARD_ROWS + 3):
        VisitFactory(date=today)
    content = reception_client.get("/reception/", **EN).content.decode()
    assert content.count("data-visit") == BOARD_ROWS
    assert "and 3 earlier walk-ins today" in content


# The board's walk-ins, the search results and the harm-reduction inputs are rendered by
# Jinja2 templates (patients/rows.py): what they show, escaped.


def test_board_rows_show_who_when_what_where_and_by_whom_escaped(reception_client):
    today = timezone.localdate()
    desk = make_staff(Role.RECEPTION, username="t_desk", first_name="Rita", last_name="<b>R</b>")
    shelter = SiteFactory(name='Abri <i>"nuit"</i>')
    patient = PatientFactory(alias="Zoé <b>&", file_number="T<1>")
    VisitFactory(patient=patient, date=today, time=datetime.time(9, 5), site=shelter,
                 logged_by=desk, purpose="social")
    VisitFactory(patient=patient, date=today, time=None, site=None, logged_by=None)
    content = reception_client.get("/reception/", **EN).content.decode()
    rows = content.split("data-visit")[1:]
    assert len(rows) == 2 and "<b>" not in content.split('id="today"')[1]
    assert "<td></td>" in rows[0]  # no time: first, as the newest
    assert "<td>09:05</td>" in rows[1] and "Social" in rows[1]
    assert f'href="/patients/{patient.pk}/">Zoé &lt;b&gt;&amp;</a>' in rows[1]
    assert "T&lt;1&gt;" in rows[1] and "Abri &lt;i&gt;&quot;nuit&quot;&lt;/i&gt;" in rows[1]
    assert "Rita &lt;b&gt;R&lt;/b&gt;" in rows[1]


def test_board_search_rows_by_status(reception_client):
    kept = PatientFactory(alias="Kept <x>", file_number="K7")
    PatientFactory(alias="Stub", file_number="S7", status=Patient.Status.MERGED,
                   merged_into=kept)
    PatientFactory(alias="Momo gone", status=Patient.Status.DECEASED, birth_year=1970)
    PatientFactory(alias="Momo here", last_name="Dupont", first_name="Jean", birth_year=1971)

    def search(q):
        return reception_client.get("/reception/search/", {"q": q}, HTTP_HX_REQUEST="true",
                                    **EN).content.decode()

    stub = search("S7")
    assert f'href="/patients/{kept.pk}/" class="small">merged into K7</a>' in stub
    assert "data-arrival-form" not in stub
    rows = {row.split('class="fw-semibold">')[1].split("<")[0]: row
            for row in search("momo").split("data-arrival-row")[1:]}
    assert "data-arrival-form" not in rows["Momo gone"] and "Deceased" in rows["Momo gone"]
    assert "· 1970" in rows["Momo gone"]
    here = rows["Momo here"]
    assert "· Dupont Jean · 1971" in here and here.count('name="purpose"') == 6
    assert 'name="csrfmiddlewaretoken"' in here
    assert '<kbd class="d-none d-md-inline">1</kbd>' in here


def test_harm_reduction_form_keeps_what_was_typed_and_says_what_is_wrong(reception_client):
    response = reception_client.post("/reception/harm-reduction/", {
        "site": woeringen().pk, "out_syringe": '7"><b>', "ret_foil": "4"}, **EN)
    content = response.content.decode()
    assert 'value="7&quot;&gt;&lt;b&gt;"' in content and 'value="4"' in content
    assert 'class="form-control form-control-sm is-invalid"' in content
    assert "Enter a whole number." in content
    assert content.count('type="number"') == 2 * len(HarmReductionContact.Material.values)


def test_clinicians_open_a_consultation_from_the_board(client, staff_factory):
    """Issue 4: quick entry of a consultation from the reception board. Clinicians see who
    came today with a consultation link; logging arrivals stays at the desk."""
    from mass.accounts.roles import Role
    patient = PatientFactory(alias="Bibi")
    VisitFactory(patient=patient, date=timezone.localdate())
    client.force_login(staff_factory(Role.PSYCHOLOGIST))
    response = client.get("/reception/", HTTP_ACCEPT_LANGUAGE="en")
    content = response.content.decode()
    assert response.status_code == 200 and "Bibi" in content
    link = f'href="/consultations/new/?patient={patient.pk}" data-consult'
    assert link in content
    assert "data-arrival-search" not in content  # no arrival logging away from the desk
    form = client.get(f"/consultations/new/?patient={patient.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 200 and "Bibi" in form.content.decode()


def test_the_desk_sees_no_consultation_link(reception_client):
    VisitFactory(patient=PatientFactory(), date=timezone.localdate())
    content = reception_client.get("/reception/").content.decode()
    assert "data-consult" not in content and "data-arrival-search" in content


def test_desk_shows_the_behaviour_alerts_reception_reads(reception_client):
    """Reception meets the person: the board and the desk's search show the behaviour and
    safety alerts (escaped), never a medical alert reception may not read."""
    from tests.factories import AlertFactory
    patient = PatientFactory(alias="Kéké")
    VisitFactory(patient=patient, date=timezone.localdate())
    AlertFactory(patient=patient, kind="behaviour", text="<b>Never alone</b> with him")
    AlertFactory(patient=patient, kind="allergy", text="Penicillin")
    for page in (reception_client.get("/reception/", **EN),
                 reception_client.get("/reception/search/", {"q": "keke"}, **EN)):
        content = page.content.decode()
        assert 'data-alert="behaviour"' in content
        assert "&lt;b&gt;Never alone&lt;/b&gt; with him" in content
        assert "Penicillin" not in content and 'data-alert="allergy"' not in content
