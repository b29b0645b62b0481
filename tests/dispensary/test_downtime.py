"""The downtime sheet (today's and tomorrow's doses on paper) and the doses given on it,
recorded after the fact."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from dispensary import selectors, services
from dispensary.models import Dispensation, DispensationCancellation, RegisterEntry
from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.conftest import EN, make_staff
from tests.dispensary.conftest import balance, day, history, own_client
from tests.factories import PatientFactory, PrescriptionFactory

#: The sheet's queries, whatever the number of patients: session, user, permissions and roles (one
#: query); the centre's calendar (once for both days); for today and for tomorrow the prescriptions
#: with their last dose and review, the day's entries, their products, the patients' active alerts
#: and their last QTc ("ECG due"); the audit row; saving the session (three, with its savepoint).
SHEET_QUERIES = 18


def sections(page: str) -> tuple[str, str]:
    """The today and tomorrow parts of the sheet."""
    today_part, tomorrow_part = page.split('data-sheet-day="tomorrow"', 1)
    return today_part.split('data-sheet-day="today"', 1)[1], tomorrow_part


def row_of(section: str, rx) -> str:
    """The row of ``rx`` in a section of the sheet."""
    return section.split(f'data-sheet-row="{rx.pk}"', 1)[1].split("</tr>", 1)[0]


def paper(rx, delta=-1, **fields):
    """The paper-record form's data: the dose of day ``delta`` given at 09:30 by the nurse
    typing it in, no signs of intoxication."""
    return {"prescription": rx.pk, "day": day(delta).isoformat(), "time": "09:30",
            "part": rx.parts()[0], "action": "give", "intoxication": "none", **fields}


def paper_url(patient) -> str:
    return reverse("dispensary:paper_record", args=[patient.pk])


def ledger_and_register() -> tuple[int, int, int]:
    return (Dispensation.objects.count(), RegisterEntry.objects.count(),
            AuditEvent.objects.filter(action="create").count())


# --- the sheet ------------------------------------------------------------------------------


def test_downtime_sheet_opens_for_those_who_see_the_dispensing(
        nurse_client, doctor_client, psychiatrist_client, rx):
    for client in (nurse_client, doctor_client, psychiatrist_client):
        response = client.get(reverse("dispensary:downtime_sheet"), **EN)
        assert response.status_code == 200
        assert rx.patient.file_number in response.content.decode()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.COORDINATOR, Role.PSYCHOLOGIST,
                                  Role.SOCIAL_WORKER])
def test_downtime_sheet_refused_to_other_roles(role, rx):
    response = own_client(make_staff(role)).get(reverse("dispensary:downtime_sheet"), **EN)
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


def test_downtime_sheet_is_get_only(nurse_client, rx):
    response = nurse_client.post(reverse("dispensary:downtime_sheet"), **EN)
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action="export").exists()


# Complexity 18, kept: one scenario asserted step by step (each `and` counts).
def test_downtime_sheet_shows_holds_take_home_and_withheld_doses(nurse_client, nurse_user,
                                                                 stock):
    tomorrow = day(1)
    # Last dose four days ago: held today, and tomorrow too unless reviewed and given today.
    held = PrescriptionFactory(patient=PatientFactory(alias="Held", birth_year=1979),
                               start_date=day(-30))
    history(held, days_ago=[4])
    # Tomorrow is a take-home day: its dose goes with today's.
    take_home = PrescriptionFactory(patient=PatientFactory(alias="Takehome"),
                                    start_date=day(-30), take_home_weekdays=[tomorrow.weekday()])
    history(take_home, days_ago=[1])
    # Withheld this morning for signs of intoxication.
    withheld = PrescriptionFactory(patient=PatientFactory(alias="Withheld"),
                                   start_date=day(-30))
    history(withheld, days_ago=[1])
    services.dispensation_record(prescription=withheld, part="day", intoxication_signs=True,
                                 withhold=True, withheld_reason="intoxication",
                                 observations="Drowsy", actor=nurse_user)
    # Given today, before the sheet was printed.
    given = PrescriptionFactory(patient=PatientFactory(alias="Given"), start_date=day(-30))
    history(given, days_ago=[1])
    services.dispensation_record(prescription=given, part="day", intoxication_signs=False,
                                 actor=nurse_user)

    page = nurse_client.get(reverse("dispensary:downtime_sheet"), **EN).content.decode()
    today_part, tomorrow_part = sections(page)

    held_today = row_of(today_part, held)
    assert 'data-missed="3"' in held_today and "HELD: no dose before a doctor" in held_today
    assert "born 1979" in held_today and held.patient.file_number in held_today
    held_tomorrow = row_of(tomorrow_part, held)
    assert 'data-missed="4"' in held_tomorrow
    assert "HELD tomorrow if no dose is given today" in held_tomorrow

    take_home_today = row_of(today_part, take_home)
    assert "data-take-home" in take_home_today
    assert tomorrow.strftime("%d/%m") in take_home_today.split("data-take-home", 1)[1]
    assert 'data-part-state="due"' in take_home_today and "data-held" not in take_home_today

    withheld_today = row_of(today_part, withheld)
    assert 'data-part-state="withheld"' in withheld_today
    assert "withheld at" in withheld_today and "Signs of intoxication" in withheld_today
    assert "data-withheld-intoxication" in withheld_today
    assert "data-take-home" not in withheld_today

    given_today = row_of(today_part, given)
    assert 'data-part-state="given"' in given_today and "given 60 mg at" in given_today
    assert "downtime-blank" not in given_today  # nothing left to tick today
    # Given today: no missed day tomorrow, the dose is due.
    given_tomorrow = row_of(tomorrow_part, given)
    assert 'data-part-state="due"' in given_tomorrow and "data-missed" not in given_tomorrow
    assert "downtime-blank" in given_tomorrow

    # One audit row for the sheet, naming every patient on it.
    event = AuditEvent.objects.get(action="export", actor=nurse_user)
    assert event.summary.startswith(f"downtime sheet {day():%Y-%m-%d}")
    assert sorted(event.details["patients"]) == sorted(
        rx.patient_id for rx in (held, take_home, withheld, given))


def test_downtime_sheet_tomorrow_shows_the_dose_already_taken_home(nurse_client, nurse_user,
                                                                   stock):
    rx = PrescriptionFactory(start_date=day(-30), take_home_weekdays=[day(1).weekday()])
    history(rx, days_ago=[1])
    services.dispensation_record(prescription=rx, part="day", intoxication_signs=False,
                                 actor=nurse_user)
    page = nurse_client.get(reverse("dispensary:downtime_sheet"), **EN).content.decode()
    tomorrow_row = row_of(sections(page)[1], rx)
    assert 'data-part-state="taken_home"' in tomorrow_row
    assert f"taken home (handed {day():%d/%m})" in tomorrow_row
    assert "downtime-blank" not in tomorrow_row


def test_downtime_sheet_leaves_out_partner_pharmacy_and_ended_prescriptions(nurse_client,
                                                                            stock):
    from dispensary.models import Pharmacy
    at_mass = PrescriptionFactory(start_date=day(-3))
    elsewhere = PrescriptionFactory(start_date=day(-3),
                                    pharmacy=Pharmacy.objects.create(name="Pharmacie X"))
    ends_today = PrescriptionFactory(start_date=day(-3), end_date=day())
    page = nurse_client.get(reverse("dispensary:downtime_sheet"), **EN).content.decode()
    today_part, tomorrow_part = sections(page)
    assert f'data-sheet-row="{at_mass.pk}"' in today_part
    assert f'data-sheet-row="{at_mass.pk}"' in tomorrow_part
    assert f'data-sheet-row="{elsewhere.pk}"' not in page
    assert f'data-sheet-row="{ends_today.pk}"' in today_part
    assert f'data-sheet-row="{ends_today.pk}"' not in tomorrow_part


@pytest.mark.parametrize("count", [1, 3])
def test_downtime_sheet_constant_queries(nurse_client, django_assert_num_queries, count,
                                         stock):
    for index in range(count):
        rx = PrescriptionFactory(patient=PatientFactory(alias=f"P{index:03d}"),
                                 start_date=day(-20), evening_dose=index % 2 * 20,
                                 take_home_weekdays=[day(1).weekday()] if index % 3 else [])
        history(rx, days_ago=[1] if index % 2 else [4])
    with django_assert_num_queries(SHEET_QUERIES):
        response = nurse_client.get(reverse("dispensary:downtime_sheet"))
    assert response.content.decode().count("data-sheet-row=") == 2 * count


# --- doses given on paper, recorded after the fact ------------------------------------------


@pytest.fixture
def second_nurse(db):
    return make_staff(Role.NURSE, username="t_second_nurse", first_name="Ana",
                      last_name="Lopes")


# Complexity 19, kept: one scenario asserted step by step (each `and` counts).
def test_paper_dose_is_recorded_after_the_fact(nurse_client, nurse_user, second_nurse,
                                               patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-30))
    history(rx, days_ago=[2])
    before = balance()
    response = nurse_client.post(paper_url(patient), paper(rx, given_by=second_nurse.pk),
                                 **EN)
    assert response.status_code == 302
    assert response["Location"] == reverse("dispensary:patient", args=[patient.pk])
    entry = Dispensation.objects.get(patient=patient, dose_date=day(-1))
    assert (entry.date, entry.status, entry.quantity) == (day(-1), "given", 60)
    assert entry.recorded_after_the_fact and entry.recorded_by == nurse_user
    assert entry.dispensed_by == second_nurse
    assert timezone.localtime(entry.dispensed_at).replace(tzinfo=None) == \
        datetime.datetime.combine(day(-1), datetime.time(9, 30))
    assert entry.recorded_at > entry.dispensed_at
    # The register: out of stock today, in order after what is there, and marked.
    register_entry = RegisterEntry.objects.get(dispensation=entry)
    assert register_entry.kind == "dispensed" and register_entry.date == day()
    assert register_entry.recorded_after_the_fact
    assert register_entry.quantity == -60 and balance() == before - 60
    event = AuditEvent.objects.get(action="create", object_id=str(entry.pk),
                                   object_type="dispensary.dispensation")
    assert event.actor == nurse_user and event.patient == patient
    assert "recorded after the fact" in event.summary and "t_second_nurse" in event.summary
    # A contact of the paper's day (docs/domain.md), whatever day it was typed in.
    contacts = {(row["patient_id"], row["date"])
                for row in selectors.contact_day_querysets()[0]}
    assert (patient.pk, day(-1)) in contacts
    # The patient's record and the register's printout show the mark.
    record = nurse_client.get(reverse("dispensary:patient", args=[patient.pk]),
                              **EN).content.decode()
    assert "recorded after the fact" in record.split(f'data-entry="{entry.pk}"')[1].split(
        "</tr>")[0]
    month = reverse("dispensary:register_month", args=[stock.product.pk, day().year,
                                                       day().month])
    printout = nurse_client.get(month, {"detail": "1"}, **EN).content.decode()
    assert "data-after-the-fact" in printout
    assert f"given on paper {day(-1):%d/%m/%Y} 09:30" in printout
    per_day = nurse_client.get(month, **EN).content.decode()
    assert "of which 1 recorded after the fact" in per_day


def test_paper_dose_of_today_before_the_network_came_back(nurse_client, rx):
    now = timezone.localtime().replace(second=0, microsecond=0)
    response = nurse_client.post(paper_url(rx.patient), paper(rx, delta=0,
                                                              time=now.strftime("%H:%M")),
                                 **EN)
    assert response.status_code == 302
    entry = Dispensation.objects.get(prescription=rx, dose_date=day())
    assert entry.recorded_after_the_fact and entry.dispensed_at == now
    # The desk then sees today's dose as given: never a second one.
    refused = nurse_client.post(reverse("dispensary:dispense", args=[rx.pk]),
                                {"part": "day", "intoxication": "none", "action": "give"}, **EN)
    assert "Already dispensed today" in refused.content.decode()


def test_paper_dose_withheld_for_intoxication(nurse_client, patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-30))
    history(rx, days_ago=[2])
    response = nurse_client.post(paper_url(patient), paper(
        rx, action="withhold", intoxication="signs", observations="Slurred speech"), **EN)
    assert response.status_code == 302
    entry = Dispensation.objects.get(dose_date=day(-1))
    assert (entry.status, entry.withheld_reason) == ("withheld", "intoxication")
    assert entry.recorded_after_the_fact and entry.intoxication_signs
    assert not RegisterEntry.objects.filter(dispensation=entry).exists()


def test_paper_dose_with_its_take_home_doses(nurse_client, patient, stock):
    # Yesterday's dose was given on paper with today's to take home, as the sheet said.
    rx = PrescriptionFactory(patient=patient, start_date=day(-30),
                             take_home_weekdays=[day().weekday()])
    history(rx, days_ago=[2])
    response = nurse_client.post(paper_url(patient), paper(rx, hand_take_home="on"), **EN)
    assert response.status_code == 302
    entries = Dispensation.objects.filter(patient=patient, date=day(-1)).order_by("dose_date")
    assert [(e.dose_date, e.recorded_after_the_fact) for e in entries] == \
        [(day(-1), True), (day(), True)]
    assert RegisterEntry.objects.filter(recorded_after_the_fact=True).count() == 2
    state = selectors.dose_state_for(prescription=rx, today=day())
    assert state.desk_state == "taken_home"


@pytest.mark.parametrize("fields, delta, message", [
    ({}, 1, "is a day to come: only a dose already given can be recorded"),
    ({}, -1, "Already dispensed on"),
    ({"quantity": "80"}, -2, "More than prescribed"),
    ({}, -6, "No dose can be recorded for"),
    ({}, -8, "A paper record is entered within 7 days"),
    ({"action": "give", "intoxication": "signs"}, -2, "Signs of intoxication: the dose was "
                                                      "withheld, not given."),
    ({"intoxication": ""}, -2, "Record the intoxication check written on the paper."),
    ({"action": "withhold"}, -2, "Say why the dose was withheld."),
    ({"part": "evening"}, -2, "This prescription has no Evening part."),
    ({"time": "25:00"}, -2, "Enter a valid time."),
])
def test_paper_dose_bad_input_writes_nothing(nurse_client, patient, stock, fields, delta,
                                             message):
    # Running since five days ago, given three days ago and yesterday: two days ago is
    # missed and may be recorded; six days ago is before the prescription.
    rx = PrescriptionFactory(patient=patient, start_date=day(-5))
    history(rx, days_ago=[3, 1])
    before = ledger_and_register()
    response = nurse_client.post(paper_url(patient), paper(rx, delta=delta, **fields), **EN)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ledger_and_register() == before


def test_paper_dose_later_than_now_is_refused(nurse_client, rx, monkeypatch):
    # The clock kept at least ten minutes from midnight (moved by ten minutes at most, well
    # within the session's life), so that a minute still to come today exists whenever the
    # suite runs.
    real = timezone.localtime()
    now = min(max(real, real.replace(hour=0, minute=10)), real.replace(hour=23, minute=50))
    monkeypatch.setattr(timezone, "now", lambda: now)
    later = now + datetime.timedelta(minutes=2)
    before = ledger_and_register()
    response = nurse_client.post(paper_url(rx.patient), paper(
        rx, delta=0, time=later.strftime("%H:%M")), **EN)
    assert "is still to come" in response.content.decode()
    assert ledger_and_register() == before


def test_paper_dose_on_a_held_day_is_refused(nurse_client, patient, stock):
    # Nothing for four days before yesterday: yesterday was a held day.
    rx = PrescriptionFactory(patient=patient, start_date=day(-30))
    history(rx, days_ago=[6])
    before = ledger_and_register()
    response = nurse_client.post(paper_url(patient), paper(rx), **EN)
    content = response.content.decode()
    assert "Held on" in content and "4 consecutive days without a dose" in content
    assert ledger_and_register() == before


def test_paper_dose_given_by_someone_who_does_not_dispense_is_refused(nurse_client, patient,
                                                                      stock, doctor_user):
    rx = PrescriptionFactory(patient=patient, start_date=day(-30))
    history(rx, days_ago=[2])
    before = ledger_and_register()
    response = nurse_client.post(paper_url(patient), paper(rx, given_by=doctor_user.pk), **EN)
    assert "Select a valid choice" in response.content.decode()
    assert ledger_and_register() == before
    with override("en"), pytest.raises(ValidationError, match="does not dispense doses"):
        services.dispensation_record_after_the_fact(
            prescription=rx, day=day(-1), time=datetime.time(9), part="day",
            intoxication_signs=False, given_by=doctor_user, actor=doctor_user)
    assert ledger_and_register() == before


def test_paper_record_form_for_nurses_only(doctor_client, psychiatrist_client, client,
                                           coordinator_user, reception_user, rx):
    before = ledger_and_register()
    url = paper_url(rx.patient)
    for other in (doctor_client, psychiatrist_client):
        assert other.get(url, **EN).status_code == 403
        assert other.post(url, paper(rx, delta=-2), **EN).status_code == 403
    for user in (coordinator_user, reception_user):
        client.force_login(user)
        assert client.post(url, paper(rx, delta=-2), **EN).status_code == 403
    assert ledger_and_register() == before


def test_paper_record_form_is_an_audited_read(nurse_client, nurse_user, rx):
    response = nurse_client.get(paper_url(rx.patient), **EN)
    content = response.content.decode()
    assert response.status_code == 200
    assert f'value="{rx.pk}" selected' in content
    assert AuditEvent.objects.filter(action="view", actor=nurse_user, patient=rx.patient,
                                     summary="paper record form").exists()


def test_paper_record_of_an_unknown_patient_is_404(nurse_client, db):
    assert nurse_client.get(reverse("dispensary:paper_record", args=[999999])).status_code \
        == 404


def test_paper_dose_cannot_be_cancelled_by_who_recorded_it(nurse_user, patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-30))
    history(rx, days_ago=[3])
    entries = services.dispensation_record_after_the_fact(
        prescription=rx, day=day(-2), time=datetime.time(10), part="day",
        intoxication_signs=False, given_by=make_staff(Role.NURSE, username="t_paper_giver"),
        actor=nurse_user)
    with override("en"), pytest.raises(ValidationError, match="You recorded this entry"):
        services.dispensation_cancel(dispensation=entries[0], reason="typed twice",
                                     actor=nurse_user)
    assert not DispensationCancellation.objects.exists()


def test_downtime_sheet_links_to_the_paper_record_for_nurses_only(nurse_client, doctor_client,
                                                                  rx):
    link = reverse("dispensary:paper_record", args=[rx.patient.pk])
    assert link in nurse_client.get(reverse("dispensary:downtime_sheet")).content.decode()
    assert link not in doctor_client.get(reverse("dispensary:downtime_sheet")).content.decode()
