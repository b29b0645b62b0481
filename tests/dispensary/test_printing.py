"""Printed documents of the dispensary: the prescription for a partner pharmacy, and the
month's register that adds up line by line."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from dispensary import services
from dispensary.models import Dispensation, Pharmacy
from dispensary.selectors import monthly_register
from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.conftest import EN, make_staff
from tests.dispensary.conftest import day, give, history
from tests.factories import PatientFactory, PrescriptionFactory


@pytest.fixture
def pharmacy_rx(db, doctor_user):
    pharmacy = Pharmacy.objects.create(name="Pharmacie Sainte-Catherine",
                                       address="Place Sainte-Catherine 1, 1000 Bruxelles")
    patient = PatientFactory(alias="Kéké", last_name="Dupont", first_name="Jean",
                             birth_year=1978, niss="78010112345", language="fr")
    return PrescriptionFactory(patient=patient, start_date=day(-2), pharmacy=pharmacy,
                               daily_dose=Decimal(45), take_home_weekdays=[6],
                               prescribed_by=doctor_user, instructions="Dilute in water")


def print_url(rx):
    return reverse("dispensary:prescription_print", args=[rx.pk])


def test_prescriber_prints_the_prescription_for_the_pharmacy(doctor_client, doctor_user,
                                                            pharmacy_rx):
    response = doctor_client.get(print_url(pharmacy_rx), **EN)
    assert response.status_code == 200
    page = response.content.decode()
    document = page[page.index("<article"):]
    # The pharmacy, the patient as a pharmacy needs them, the product, dose, dates, take-home.
    for text in ["Pharmacie Sainte-Catherine", "Place Sainte-Catherine 1", "Dupont", "Jean",
                 "1978", "78010112345", pharmacy_rx.patient.file_number, "Methadone",
                 "45 mg", "Dilute in water", "Rue de Woeringen 16-18", "MASS de Bruxelles",
                 str(doctor_user)]:
        assert text in document, text
    assert re.search(r"data-take-home>[^<]*\b(dim|dimanche)\.?", document, re.IGNORECASE)
    # The patient is French-speaking: the document is in French, the toolbar in English.
    assert 'lang="fr"' in document and "dose journalière" in document
    assert ">Print</button>" in page
    event = AuditEvent.objects.get(object_type="dispensary.prescription")
    assert (event.action, event.actor, event.patient) == ("view", doctor_user,
                                                          pharmacy_rx.patient)
    assert "printed for the pharmacy" in event.summary


def test_prescription_print_follows_the_patient_language(doctor_client, pharmacy_rx):
    pharmacy_rx.patient.language = "nl"
    pharmacy_rx.patient.save(update_fields=["language"])
    page = doctor_client.get(print_url(pharmacy_rx), **EN).content.decode()
    document = page[page.index("<article"):]
    assert 'lang="nl"' in document and "MSOC Brussel" in document
    assert "Voorschrift" in document and "dagdosis" in document and "dose journalière" not in page


def test_prescription_print_is_for_prescribers_only(client, pharmacy_rx):
    for role, status in [(Role.NURSE, 403), (Role.RECEPTION, 403), (Role.PSYCHOLOGIST, 403),
                         (Role.COORDINATOR, 403), (Role.PSYCHIATRIST, 200)]:
        client.force_login(make_staff(role, username=f"t_print_{role.value}"))
        response = client.get(print_url(pharmacy_rx), **EN)
        assert response.status_code == status, role
        assert ("Dilute in water" in response.content.decode()) == (status == 200), role
    # Only the psychiatrist's print read the file.
    assert AuditEvent.objects.filter(patient=pharmacy_rx.patient).count() == 1


def test_prescription_at_the_mass_has_no_pharmacy_print(doctor_client, db):
    at_mass = PrescriptionFactory(start_date=day(-1))
    assert doctor_client.get(print_url(at_mass), **EN).status_code == 404
    assert doctor_client.get(reverse("dispensary:prescription_print", args=[999999]),
                             **EN).status_code == 404
    assert not AuditEvent.objects.filter(object_type="dispensary.prescription").exists()


def test_prescription_print_is_get_only(doctor_client, pharmacy_rx):
    assert doctor_client.post(print_url(pharmacy_rx)).status_code == 405


def test_the_patient_dispensing_page_links_the_print(doctor_client, pharmacy_rx):
    page = doctor_client.get(reverse("dispensary:patient", args=[pharmacy_rx.patient.pk]),
                             **EN).content.decode()
    assert f'data-print-prescription="{pharmacy_rx.pk}"' in page
    assert print_url(pharmacy_rx) in page


# --- the month's register -------------------------------------------------------------------


def adds_up(opening, lines) -> bool:
    balance = opening
    for line in lines:
        balance = balance + (line["in"] or 0) - (line["out"] or 0)
        if balance != line["balance"]:
            return False
    return True


@pytest.fixture
def busy_day(nurse_client, stock):
    """Three doses given today, the first cancelled between the second and the third, and a
    stock count (with a spillage) between the third and a fourth."""
    patients = [PatientFactory(alias=f"Reg{n}") for n in range(4)]
    prescriptions = [PrescriptionFactory(patient=p, start_date=day(-10)) for p in patients]
    for rx in prescriptions:
        history(rx, days_ago=[1])  # in treatment: yesterday's dose (no review needed)
    for rx in prescriptions[:2]:
        assert give(nurse_client, rx).status_code == 302
    first = Dispensation.objects.get(prescription=prescriptions[0], date=day())
    services.dispensation_cancel(dispensation=first, reason="Wrong file",
                                 actor=make_staff(Role.DOCTOR, username="t_reg_doctor"))
    assert give(nurse_client, prescriptions[2]).status_code == 302
    services.register_count(product=stock.product, counted=Decimal(9870),
                            reason_code="spillage", note="",
                            actor=make_staff(Role.NURSE, username="t_reg_counter"))
    assert give(nurse_client, prescriptions[3]).status_code == 302
    return stock.product


def test_register_adds_up_line_by_line_with_a_cancellation(busy_day):
    today = day()
    register = monthly_register(product=busy_day, year=today.year, month=today.month)
    lines = register.lines
    # receipt, 2 doses, the cancellation, 1 dose, the count, 1 dose: the cancellation splits
    # the day's doses, and it puts its dose back on its own line.
    assert [line["kind"] or f"{line['doses']} doses" for line in lines] == [
        "Receipt", "2 doses", "Dispensation cancelled", "1 doses", "Stock count", "1 doses"]
    assert [line["balance"] for line in lines] == [10000, 9880, 9940, 9880, 9870, 9810]
    assert lines[2]["balance"] > lines[1]["balance"]
    assert adds_up(register.opening_balance, lines)
    assert register.closing_balance == 9810
    # Entry by entry, too.
    detailed = monthly_register(product=busy_day, year=today.year, month=today.month,
                                detail=True)
    assert adds_up(detailed.opening_balance, detailed.lines)
    assert detailed.closing_balance == register.closing_balance


def test_register_print_shows_each_line_balance(client, coordinator_user, busy_day):
    today = day()
    client.force_login(coordinator_user)
    page = client.get(reverse("dispensary:register_month",
                              args=[busy_day.pk, today.year, today.month]), **EN
                      ).content.decode()
    opening = Decimal(re.search(r'data-opening="([^"]+)"', page).group(1))
    rows = re.findall(r'data-in="([^"]+)".*?data-out="([^"]+)".*?data-balance="([^"]+)"',
                      page, re.DOTALL)
    assert len(rows) == 6
    balance = opening
    for quantity_in, quantity_out, shown in rows:
        balance += Decimal(quantity_in) - Decimal(quantity_out)
        assert balance == Decimal(shown)
    assert "Rue de Woeringen 16-18" in page and "data-printed" in page
    assert AuditEvent.objects.filter(object_type="dispensary.product",
                                     summary__startswith="register ").count() == 1


def test_an_ended_prescription_prints_as_a_copy_not_valid_for_dispensing(doctor_client,
                                                                        pharmacy_rx):
    # (The document is in the patient's language, French here.)
    from django.utils import translation
    with translation.override("fr"):
        signature = translation.gettext("Signature")
    page = doctor_client.get(print_url(pharmacy_rx), **EN).content.decode()
    assert "data-ended" not in page
    assert signature in page.split("data-author", 1)[1]
    pharmacy_rx.end_date = day(-1)
    pharmacy_rx.save(update_fields=["end_date"])
    page = doctor_client.get(print_url(pharmacy_rx), **EN).content.decode()
    ended = page.split("data-ended>", 1)[1].split("</p>", 1)[0]
    assert pharmacy_rx.end_date.strftime("%Y") in ended
    assert signature not in page.split("data-author", 1)[1]
