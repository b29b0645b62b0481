"""Who sees what, query counts of the list pages, the patient-file panel."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.conftest import EN, make_staff
from tests.dispensary.conftest import day, give, history, reviewed
from tests.factories import DispensationFactory, PatientFactory, PrescriptionFactory

#: Queries of the dispensing list, whatever the number of patients: session, user, the
#: user's permissions and roles (one query: mass.accounts.backends), the centre's calendar
#: (opening hours and closures), the prescriptions with their last dose and review, today's
#: entries, their products and the prescriptions' (one); saving the session (three, with
#: its savepoint); the read row naming the listed patients (one INSERT,
#: mass.audit.audit_list_read).
LIST_QUERIES = 11
#: The pages that show the day's rows also read the patients' active alerts (one query) and
#: their last QTc for "ECG due" (one query: clinical.selectors.derived_alerts_by_patient).
ALERTS_QUERY = 2
#: The register page: as the list without the calendar, prescriptions, entries and
#: products, with the balances and the recent entries.
REGISTER_QUERIES = 8
ONE_DAY = datetime.timedelta(days=1)


def due_patients(count):
    for index in range(count):
        rx = PrescriptionFactory(patient=PatientFactory(alias=f"P{index:03d}"),
                                 start_date=day(-20), evening_dose=index % 2 * 20,
                                 take_home_weekdays=[day(1).weekday()] if index % 3 else [])
        history(rx, days_ago=[1] if index % 4 else [4])
        if index % 5 == 0:  # given today (after a doctor's review when held)
            DispensationFactory(prescription=rx, part="morning" if rx.is_split else "day",
                                quantity=rx.part_dose("morning" if rx.is_split else "day"),
                                review=None if index % 4 else reviewed(rx))


@pytest.mark.parametrize("count", [1, 100])
def test_dispensing_list_constant_queries(nurse_client, django_assert_num_queries, count,
                                          stock):
    due_patients(count)
    with django_assert_num_queries(LIST_QUERIES + ALERTS_QUERY):
        response = nurse_client.get(reverse("dispensary:today"))
    assert response.content.decode().count('class="dose-row') == count


@pytest.mark.parametrize("count", [1, 3])
def test_searched_dispensing_list_constant_queries(nurse_client, django_assert_num_queries,
                                                   count, stock):
    due_patients(3)
    for index in range(count):
        rx = PrescriptionFactory(patient=PatientFactory(alias=f"Dédé {index}"),
                                 start_date=day(-20))
        history(rx, days_ago=[1])
    # The search as the whole list: the same queries, the accents and case aside in SQL.
    with django_assert_num_queries(LIST_QUERIES + ALERTS_QUERY):
        response = nurse_client.get(reverse("dispensary:today"), {"q": "DEDE"})
    assert response.content.decode().count('class="dose-row') == count


@pytest.mark.parametrize("count", [1, 30])
def test_prescriptions_page_constant_queries(doctor_client, django_assert_num_queries, count,
                                             stock):
    due_patients(count)
    with django_assert_num_queries(LIST_QUERIES + 2 + ALERTS_QUERY):
        response = doctor_client.get(reverse("dispensary:prescriptions"))
    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 3])
def test_register_page_constant_queries(nurse_client, django_assert_num_queries, count,
                                        stock, staff_factory):
    from dispensary import services
    from tests.factories import methadone_syrup
    for index in range(count):
        services.register_count(product=methadone_syrup(), counted=10000 - index,
                                reason_code="spillage" if index else "",
                                actor=staff_factory(Role.NURSE))
    with django_assert_num_queries(REGISTER_QUERIES):
        response = nurse_client.get(reverse("dispensary:register"))
    assert response.status_code == 200


@pytest.mark.parametrize("entries", [1, 40])
def test_monthly_register_constant_queries(nurse_client, entries, stock, patient):
    from dispensary import services
    from tests.conftest import make_staff
    rx = PrescriptionFactory(patient=patient, start_date=day(1 - entries), daily_dose=5)
    actor = make_staff(Role.NURSE, username="t_register_nurse")
    for delta in range(entries - 1, -1, -1):
        services.dispensation_record(prescription=rx, part="day", intoxication_signs=False,
                                     actor=actor, today=day(-delta), hand_take_home=False)
    url = reverse("dispensary:register_month", args=[rx.product.pk, day().year, day().month])
    counts = {}
    for detail in ("", "1"):
        with CaptureQueriesContext(connection) as queries:
            assert nurse_client.get(url, {"detail": detail}).status_code == 200
        counts[detail] = len(queries)
    # Per day or entry by entry, with 1 or 40 entries; the read is audited; the letterhead
    # is read from the centre's site (one query; the grouped doses take one query, not two).
    assert counts == {"": 13, "1": 12}


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.PSYCHOLOGIST, Role.SOCIAL_WORKER,
                                  Role.COORDINATOR])
def test_non_dispensing_roles_are_refused(client, staff_factory, role, rx):
    client.force_login(staff_factory(role))
    for url in [reverse("dispensary:today"), reverse("dispensary:dispense", args=[rx.pk]),
                reverse("dispensary:prescriptions"),
                reverse("dispensary:prescription_create", args=[rx.patient.pk]),
                reverse("dispensary:review", args=[rx.pk])]:
        assert client.get(url).status_code == 403, url
    assert give(client, rx).status_code == 403
    # The dispensing record of a patient: not for them either (403 before any lookup).
    assert client.get(reverse("dispensary:patient", args=[rx.patient.pk])).status_code == 403


def test_unknown_prescription_is_404(nurse_client, stock):
    assert nurse_client.get(reverse("dispensary:dispense", args=[999999])).status_code == 404
    assert give(nurse_client, type("X", (), {"pk": 999999})).status_code == 404


def test_list_is_get_only(nurse_client):
    assert nurse_client.post(reverse("dispensary:today")).status_code == 405
    assert nurse_client.delete(reverse("dispensary:dispense", args=[1])).status_code == 405


def test_panel_on_the_patient_file_for_dispensing_roles(client, staff_factory, rx):
    url = reverse("patients:detail", args=[rx.patient.pk])
    for role, shown in [(Role.NURSE, True), (Role.DOCTOR, True), (Role.PSYCHIATRIST, True),
                        (Role.PSYCHOLOGIST, False), (Role.SOCIAL_WORKER, False),
                        (Role.RECEPTION, False), (Role.COORDINATOR, False)]:
        client.force_login(staff_factory(role))
        response = client.get(url, **EN)
        content = response.content.decode()
        assert response.status_code == 200, role
        assert ('data-panel="dispensary"' in content) is shown, role
        if shown:
            assert "data-dose-plot" in content and "<svg" in content
            assert "Dose history" in content and 'data-today-state="due"' in content


def test_dispense_in_one_action_from_the_patient_file(nurse_client, rx):
    file_url = reverse("patients:detail", args=[rx.patient.pk])
    content = nurse_client.get(file_url, **EN).content.decode()
    assert f'data-give="{rx.pk}-day"' in content
    response = give(nurse_client, rx, next=file_url)
    assert response.status_code == 302 and response["Location"] == file_url
    content = nurse_client.get(file_url, **EN).content.decode()
    assert 'data-today-state="done"' in content


def test_panel_has_no_inline_style_or_script(nurse_client, rx):
    content = nurse_client.get(reverse("dispensary:patient", args=[rx.patient.pk]),
                               **EN).content.decode()
    assert " style=" not in content and "<style" not in content
    assert "<script>" not in content and "onclick" not in content


def test_panel_queries_do_not_grow_with_history(nurse_client, patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-200))
    history(rx, days_ago=[1])
    url = reverse("patients:detail", args=[patient.pk])
    with CaptureQueriesContext(connection) as short:
        nurse_client.get(url)
    history(rx, days_ago=list(range(2, 150)))
    for delta in (50, 100):
        PrescriptionFactory(patient=patient, start_date=day(-delta + 1))
    with CaptureQueriesContext(connection) as long:
        nurse_client.get(url)
    assert len(long) == len(short)


def test_dispensing_record_page_is_audited(nurse_client, nurse_user, rx):
    response = nurse_client.get(reverse("dispensary:patient", args=[rx.patient.pk]), **EN)
    assert response.status_code == 200
    assert AuditEvent.objects.filter(actor=nurse_user, action="view",
                                     patient=rx.patient).exists()


def test_navigation_shows_dispensary_sections_by_role(client, staff_factory):
    for role, visible, hidden in [
        (Role.NURSE, ["dispensary"], ["prescriptions"]),
        (Role.DOCTOR, ["prescriptions"], ["dispensary", "register"]),
        (Role.COORDINATOR, ["register"], ["dispensary", "prescriptions"]),
    ]:
        client.force_login(staff_factory(role))
        content = client.get("/").content.decode()
        for key in visible:
            assert f'data-nav="{key}"' in content, (role, key)
        for key in hidden:
            assert f'data-nav="{key}"' not in content, (role, key)


def test_dispensing_record_pages_long_history(nurse_client, patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-200))
    history(rx, days_ago=list(range(1, 151)))
    url = reverse("dispensary:patient", args=[patient.pk])
    first = nurse_client.get(url, **EN).content.decode()
    assert first.count("data-entry=") == 100 and "Page 1 of 2" in first
    second = nurse_client.get(url, {"page": 2}, **EN).content.decode()
    assert second.count("data-entry=") == 50


def test_dispensing_and_review_forms_are_audited_reads(nurse_client, doctor_client, nurse_user,
                                                       doctor_user, rx):
    nurse_client.get(reverse("dispensary:dispense", args=[rx.pk]))
    doctor_client.get(reverse("dispensary:review", args=[rx.pk]))
    assert AuditEvent.objects.filter(action="view", patient=rx.patient,
                                     actor=nurse_user).exists()
    assert AuditEvent.objects.filter(action="view", patient=rx.patient,
                                     actor=doctor_user).exists()


def long_record(patient, count, *, doctor):
    """``count`` of everything the dispensing record lists: prescriptions (dose changes),
    doses, cancelled doses and doctor's reviews, with whoever recorded them."""
    from dispensary import services
    from dispensary.models import HoldReview, Pharmacy
    pharmacy = Pharmacy.objects.create(name=f"Pharmacie {count}")
    start = day(-3 * count - 10)
    for index in range(count):
        rx = PrescriptionFactory(patient=patient, start_date=start + 3 * index * ONE_DAY,
                                 end_date=start + (3 * index + 2) * ONE_DAY,
                                 daily_dose=60 + index, evening_dose=index % 2 * 20,
                                 prescribed_by=doctor)
        part = "morning" if rx.is_split else "day"
        first = DispensationFactory(prescription=rx, date=rx.start_date, part=part,
                                    quantity=rx.part_dose(part),
                                    dispensed_by=make_staff(Role.NURSE))
        services.dispensation_cancel(dispensation=first, reason="Wrong patient.",
                                     actor=doctor)
        DispensationFactory(prescription=rx, date=rx.start_date + ONE_DAY, part=part,
                            quantity=rx.part_dose(part), dispensed_by=make_staff(Role.NURSE))
        HoldReview.objects.create(patient=patient, prescription=rx, substance="methadone",
                                  reviewed_on=rx.start_date, missed_days=3,
                                  decision="resume", note=f"Review {index}",
                                  reviewed_by=doctor)
    PrescriptionFactory(patient=patient, start_date=day(-2), pharmacy=pharmacy,
                        prescribed_by=doctor)
    rx = PrescriptionFactory(patient=patient, start_date=day(-1), prescribed_by=doctor)
    DispensationFactory(prescription=rx, date=day(-1), review=reviewed(rx, -1, missed=9))


#: The patient's dispensing record: session, user, permissions and roles (one), the patient, the
#: page of entries and their count, the prescriptions, the day's rules (four, with the centre's
#: calendar and the products), the reviews, the patient's episodes (a return after a lapse is said
#: at the counter), the audit row (with its savepoint) and the session's save; the patient's active
#: alerts for the day's rules and for the banner (two), and the clinical app's "ECG due" in the
#: banner and on the day's row (two).
RECORD_QUERIES = 21


@pytest.mark.parametrize("count", [1, 12])
def test_dispensing_record_page_constant_queries(nurse_client, django_assert_num_queries,
                                                 doctor_user, patient, count, stock):
    long_record(patient, count, doctor=doctor_user)
    url = reverse("dispensary:patient", args=[patient.pk])
    with django_assert_num_queries(RECORD_QUERIES):
        response = nurse_client.get(url, **EN)
    content = response.content.decode()
    assert content.count("data-entry=") == 2 * count + 1
    assert content.count("data-cancelled") == count
    assert content.count("data-history-prescription=") == count + 2
    assert content.count("Review ") == min(count, 9)  # the last 10 reviews


@pytest.mark.parametrize("count", [1, 20])
def test_products_page_constant_queries(coordinator_client, django_assert_num_queries, count):
    from dispensary.models import Pharmacy, Product
    for index in range(count):
        Product.objects.create(name=f"Product {index}", substance=f"substance-{index}",
                               form="tablet", max_daily_dose=10, is_active=index % 2 == 0)
        Pharmacy.objects.create(name=f"Pharmacy {index}", is_active=index % 2 == 0)
    with django_assert_num_queries(PRODUCTS_QUERIES):
        response = coordinator_client.get(reverse("dispensary:products"), **EN)
    content = response.content.decode()
    assert content.count("<tr") == 1 + Product.objects.count() + 1 + count


#: The products page: session, user, permissions and roles (one), the products, the
#: partner pharmacies, the session's save (three).
PRODUCTS_QUERIES = 8
