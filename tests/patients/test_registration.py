import datetime

import pytest
from django.utils import timezone

from mass.models import AuditEvent
from patients.models import Patient
from tests.conftest import EN
from tests.factories import PatientFactory

# A valid NISS: 85073003328 (check digits 97 - 850730033 % 97 = 28).
VALID_NISS = "85073003328"


def register(client, **data):
    return client.post("/patients/new/", {"sex": "U", **data}, **EN)


def test_registration_with_alias_only(reception_client, reception_user):
    response = register(reception_client, alias="Momo")
    patient = Patient.objects.get(alias="Momo")
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    assert patient.file_number.isdigit() and patient.created_by == reception_user
    assert patient.status == Patient.Status.ACTIVE and patient.last_name == ""
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, patient=patient)
    assert event.actor == reception_user


def test_registration_gives_distinct_file_numbers(reception_client):
    register(reception_client, alias="Un")
    register(reception_client, alias="Deux", not_a_duplicate="on")
    numbers = list(Patient.objects.values_list("file_number", flat=True))
    assert len(set(numbers)) == 2


def test_generated_file_number_skips_a_number_taken_by_an_import(reception_client):
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('patients_file_number_seq')")
        taken = cursor.fetchone()[0] + 1
    PatientFactory(file_number=str(taken))
    register(reception_client, alias="Nouveau")
    assert Patient.objects.get(alias="Nouveau").file_number == str(taken + 1)


def test_registration_with_every_detail(reception_client):
    response = register(reception_client, alias="Jojo", last_name="Dupont", first_name="Jean",
                        birth_date="1978-03-02", sex="M", language="fr", nationality="BE",
                        niss="85.07.30-033.28", phone="0470 12 34 56",
                        address="Rue Haute 1, 1000 Bruxelles", notes="Aime le café.")
    assert response.status_code == 302
    patient = Patient.objects.get(alias="Jojo")
    assert patient.niss == VALID_NISS and patient.birth_year == 1978
    assert patient.birth_date == datetime.date(1978, 3, 2)


def test_registration_form_page(reception_client):
    response = reception_client.get("/patients/new/?alias=Titi", **EN)
    assert response.status_code == 200
    assert 'value="Titi"' in response.content.decode()


def test_registration_refused_to_coordinator(coordinator_client):
    assert coordinator_client.get("/patients/new/").status_code == 403
    assert register(coordinator_client, alias="X").status_code == 403
    assert not Patient.objects.exists()


BAD_INPUT = [
    ({"alias": ""}, "This field is required"),
    ({"alias": "   "}, "This field is required"),
    ({"alias": "A", "birth_date": "2001-02-30"}, "Enter a valid date"),
    ({"alias": "A", "birth_date": "30/13/1990"}, "Enter a valid date"),
    ({"alias": "A", "birth_date": (timezone.localdate() + datetime.timedelta(days=2)).isoformat()},
     "A birth date cannot be in the future"),
    ({"alias": "A", "birth_date": "1850-01-01"}, "too far in the past"),
    ({"alias": "A", "birth_year": str(timezone.localdate().year + 1)},
     "A birth year cannot be in the future"),
    ({"alias": "A", "birth_date": "1980-01-01", "birth_year": "1981"},
     "The birth year differs from the birth date"),
    ({"alias": "A", "niss": "85073003362"}, "not a valid NISS/INSZ"),
    ({"alias": "A", "niss": "1234"}, "not a valid NISS/INSZ"),
    ({"alias": "A", "sex": "Z"}, "Select a valid choice"),
    ({"alias": "A", "language": "klingon"}, "Select a valid choice"),
    ({"alias": "x" * 101}, "at most 100 characters"),
    ({"alias": "A", "notes": "y" * 4001}, "at most 4000 characters"),
    ({"alias": "<script>alert(1)</script>"}, "must not contain HTML tags"),
    ({"alias": "A", "last_name": "<b onmouseover=x>Dupont</b>"}, "must not contain HTML tags"),
]


@pytest.mark.parametrize("language,message", [
    ("fr", "Une date de naissance ne peut pas être dans le futur."),
    ("nl", "Een geboortedatum kan niet in de toekomst liggen."),
])
def test_bad_input_message_is_in_the_users_language(reception_client, reception_user,
                                                    language, message):
    """The message is in the language the member chose (French by default)."""
    reception_user.language = language
    reception_user.save(update_fields=["language"])
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = reception_client.post("/patients/new/", {"alias": "A", "sex": "U",
                                                        "birth_date": tomorrow})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Patient.objects.exists()


@pytest.mark.parametrize("data,message", BAD_INPUT)
def test_registration_bad_input_returns_form_and_writes_nothing(reception_client, data,
                                                                 message):
    response = register(reception_client, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).exists()


def test_registration_refuses_duplicate_file_number(reception_client):
    PatientFactory(file_number="A123", alias="Ancien")
    response = register(reception_client, alias="Nouveau", file_number="a123")
    assert "A file with this file number already exists" in response.content.decode()
    assert Patient.objects.count() == 1


def test_registration_refuses_a_niss_of_another_file(reception_client):
    PatientFactory(alias="Zorro", niss=VALID_NISS)
    response = register(reception_client, alias="Bibi", niss=VALID_NISS, not_a_duplicate="on")
    assert "Another file already has this NISS/INSZ number" in response.content.decode()
    assert Patient.objects.count() == 1


def test_script_in_notes_is_stored_as_text_and_rendered_escaped(reception_client):
    register(reception_client, alias="Lulu", notes="<script>alert('x')</script> & co")
    patient = Patient.objects.get(alias="Lulu")
    content = reception_client.get(f"/patients/{patient.pk}/").content.decode()
    assert "<script>alert('x')</script>" not in content
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in content


def test_lone_less_than_sign_is_text(reception_client):
    register(reception_client, alias="Coeur <3")
    assert Patient.objects.filter(alias="Coeur <3").exists()


def test_duplicate_warning_before_saving(reception_client):
    existing = PatientFactory(alias="Mohamed", last_name="Benali", birth_year=1980)
    response = register(reception_client, alias="Mohammed", birth_year="1980")
    content = response.content.decode()
    assert response.status_code == 200
    assert "This person may already have a file" in content
    assert f"/patients/{existing.pk}/" in content and "same birth year" in content
    assert Patient.objects.count() == 1


def test_duplicate_warning_on_same_niss_with_other_alias(reception_client):
    existing = PatientFactory(alias="Zorro", niss=VALID_NISS)
    response = register(reception_client, alias="Bibi", niss="85073003328")
    content = response.content.decode()
    assert "same NISS/INSZ" in content and existing.file_number in content
    assert Patient.objects.count() == 1


def test_registering_anyway_after_the_warning(reception_client):
    PatientFactory(alias="Mohamed")
    response = register(reception_client, alias="Mohammed", not_a_duplicate="on")
    assert response.status_code == 302
    assert Patient.objects.filter(alias="Mohammed").exists()


def test_no_warning_for_a_different_person(reception_client):
    PatientFactory(alias="Mohamed")
    response = register(reception_client, alias="Wladimir")
    assert response.status_code == 302


def test_update_changes_details_and_audits(reception_client, reception_user):
    patient = PatientFactory(alias="Momo")
    response = reception_client.post(f"/patients/{patient.pk}/edit/", {
        "alias": "Momo", "last_name": "Martin", "sex": "M", "status": "inactive"}, **EN)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.last_name == "Martin" and patient.status == "inactive"
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, patient=patient)
    assert event.details["fields"] == ["last_name", "sex", "status"]


@pytest.mark.parametrize("data,message", [
    ({"alias": "", "sex": "U", "status": "active"}, "This field is required"),
    ({"alias": "M", "sex": "U", "status": "merged"}, "Select a valid choice"),
    ({"alias": "M", "sex": "U", "status": "active", "niss": "11111111111"}, "not a valid NISS"),
])
def test_update_bad_input_writes_nothing(reception_client, data, message):
    patient = PatientFactory(alias="Momo")
    response = reception_client.post(f"/patients/{patient.pk}/edit/", data, **EN)
    assert response.status_code == 200 and message in response.content.decode()
    patient.refresh_from_db()
    assert patient.alias == "Momo" and patient.status == "active"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).exists()


def test_update_refused_to_coordinator_as_404(coordinator_client):
    patient = PatientFactory(alias="Momo")
    response = coordinator_client.post(f"/patients/{patient.pk}/edit/",
                                       {"alias": "X", "sex": "U", "status": "active"})
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.alias == "Momo"
