"""The day of each role, through the real UI in a real browser: clicks and typing as a
person would (the keyboard where the page is keyboard-first), a screenshot per step, and
assertions on what the page shows and what the database stored.

The pages run in English (``locale`` marker) so the assertions read the source strings;
``test_login`` covers the default French UI.
"""

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import console_errors, csp_errors, login, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]


def open_file(page, alias):
    """Find a person from the patients search as one types (htmx live results), then open
    the file."""
    page.goto("/patients/")
    box = page.get_by_label("Alias, name, file number or birth year")
    box.press_sequentially(alias, delay=30)
    results = page.locator("#results [data-result]")
    expect(results.first).to_contain_text(alias)
    # The live search keeps the address shareable (hx-push-url).
    expect(page).to_have_url(re.compile(r"[?&]q="))
    results.first.get_by_role("link", name=alias).click()
    expect(page.locator("h1")).to_contain_text(alias)


# --- 1. reception ---------------------------------------------------------------------------

def test_reception_registers_a_person_with_an_alias_and_logs_the_walk_in(page, steps,
                                                                          staff_factory):
    from patients.models import Patient, Visit
    clerk = staff_factory(Role.RECEPTION, username="e2e_reception")
    login(page, "e2e_reception")
    page.goto("/reception/")
    steps.shot("board")

    # Nobody of that name yet: the live search says so as one types, and offers to register.
    box = page.get_by_label("Who arrives? Alias, name, file number or birth year")
    expect(box).to_be_focused()
    box.press_sequentially("Kestrel", delay=30)
    results = page.locator("#arrival-results")
    expect(results).to_contain_text("No file matches “Kestrel”")
    steps.shot("no-file-matches")
    results.get_by_role("link", name="Register a new file").click()

    # Only the alias is given (prefilled from the search).
    expect(page.locator("input[name=alias]")).to_have_value("Kestrel")
    steps.shot("registration-form")
    # Registering may log the arrival in the same step (ticked by default); here the
    # arrival is logged from the desk below, so it is unticked.
    arrival = page.get_by_label("Log the arrival now")
    expect(arrival).to_be_checked()
    arrival.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text("Kestrel")
    patient = Patient.objects.get(alias="Kestrel")
    expect(page.get_by_text(f"File {patient.file_number} registered.")).to_be_visible()
    assert (patient.last_name, patient.first_name, patient.birth_year, patient.niss) == (
        "", "", None, "")
    steps.shot("file-registered")

    # Back at the desk: two keystrokes log the walk-in (↓ to the person, Enter = what they
    # usually come for; with no walk-in anywhere yet, Dispensing).
    page.get_by_role("link", name="Reception").first.click()
    box = page.get_by_label("Who arrives? Alias, name, file number or birth year")
    box.press_sequentially("Kestr", delay=30)
    row = page.locator("#arrival-results [data-arrival-row]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(patient.file_number)
    steps.shot("search-result")
    box.press("ArrowDown")
    usual = row.locator("button[name=purpose][data-usual]")
    expect(usual).to_contain_text("Dispensing")
    expect(usual).to_be_focused()
    page.keyboard.press("Enter")

    today = page.locator("#today")
    expect(today.locator("[data-notice]")).to_contain_text("Kestrel arrived: Dispensing.")
    expect(today.locator("[data-visit]")).to_have_count(1)
    expect(today.locator("[data-visit]")).to_contain_text("Kestrel")
    # Ready for the next person: the search is cleared and focused.
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    steps.shot("walk-in-logged")

    visit = Visit.objects.get(patient=patient)
    assert (visit.date, visit.purpose, visit.logged_by) == (
        timezone.localdate(), Visit.Purpose.DISPENSING, clerk)
    assert visit.site is not None
    assert not csp_errors(page), csp_errors(page)
    # Nor any other error: no failed htmx request, no uncaught exception, no missing file.
    assert not console_errors(page), console_errors(page)


# --- 2. doctor and nurse --------------------------------------------------------------------

def test_doctor_prescribes_methadone_nurse_dispenses_once_and_is_refused_a_second_dose(
        page, new_page, steps, staff_factory):
    from dispensary import services
    from dispensary.models import Dispensation, Prescription, Product
    from tests.factories import PatientFactory
    doctor = staff_factory(Role.DOCTOR, username="e2e_doctor")
    nurse = staff_factory(Role.NURSE, username="e2e_nurse")
    patient = PatientFactory(alias="Heron")
    syrup = Product.objects.get(name="Methadone syrup 1 mg/ml")
    services.register_receipt(product=syrup, quantity=Decimal("1000"), supplier="e2e",
                              batch="E2E-1", received_on=timezone.localdate(), actor=nurse)

    # The doctor prescribes from the patient file's substitution panel.
    login(page, "e2e_doctor")
    open_file(page, "Heron")
    steps.shot("doctor-patient-file")
    page.locator("[data-panel=dispensary]").get_by_role("link", name="New prescription").click()
    page.get_by_label("Product").select_option(label="Methadone syrup 1 mg/ml")
    # 30 mg: a first prescription within the methadone induction rule
    page.get_by_label("Daily dose").fill("30")
    steps.shot("prescription-form")
    page.get_by_role("button", name="Prescribe").click()
    expect(page.get_by_text("Prescription recorded")).to_be_visible()
    steps.shot("prescription-recorded")
    rx = Prescription.objects.get(patient=patient)
    assert (rx.product, rx.daily_dose, rx.start_date, rx.prescribed_by) == (
        syrup, Decimal("30"), timezone.localdate(), doctor)
    page.goto("/dispensary/prescriptions/")
    expect(page.locator("#active-prescriptions")).to_contain_text("Heron")
    steps.shot("prescriptions-list")

    # The nurse has today's list open in two tabs (say, the desk and the office).
    nurse_page = new_page("en")
    login(nurse_page, "e2e_nurse")
    nurse_page.goto("/dispensary/")
    other_tab = open_tab(nurse_page)
    other_tab.goto("/dispensary/")
    nurse_page.get_by_placeholder("Alias or file number").press_sequentially("Her", delay=30)
    row = nurse_page.locator("#dispensing-list tbody tr", has_text="Heron")
    give = row.locator(f"[data-give='{rx.pk}-day']")
    expect(give).to_contain_text("Give 30 mg")
    counts = nurse_page.locator("#dispensing-counts")
    expect(counts.locator("[data-count=due]")).to_have_text("1")
    expect(counts.locator("[data-count=done]")).to_have_text("0")
    steps.shot("nurse-list", nurse_page)
    give.click()
    expect(nurse_page.locator("#dispensing-list")).to_contain_text(
        "Heron: 30 mg Methadone syrup 1 mg/ml given.")
    expect(nurse_page.locator(f"[data-give='{rx.pk}-day']")).to_have_count(0)
    # The counts above the list follow, without a reload (swapped out of band).
    expect(counts.locator("[data-count=done]")).to_have_text("1")
    expect(counts.locator("[data-count=due]")).to_have_text("0")
    expect(nurse_page.locator("#dispensing-counts")).to_have_count(1)
    expect(nurse_page.locator("template")).to_have_count(0)
    steps.shot("dose-given", nurse_page)

    # The stale tab still shows the button: the second dose is refused, saying why.
    other_tab.locator(f"[data-give='{rx.pk}-day']").click()
    refusal = other_tab.locator("#dispensing-list [role=alert]")
    expect(refusal).to_contain_text("Already dispensed today at")
    expect(refusal).to_contain_text("A dose is never given twice the same day.")
    expect(other_tab.locator("#dispensing-counts [data-count=done]")).to_have_text("1")
    steps.shot("second-dose-refused", other_tab)

    given = Dispensation.objects.filter(patient=patient)
    assert given.count() == 1
    assert (given[0].status, given[0].quantity, given[0].dispensed_by, given[0].date) == (
        Dispensation.Status.GIVEN, Decimal("30"), nurse, timezone.localdate())
    pages = (page, nurse_page, other_tab)
    assert not csp_errors(*pages), csp_errors(*pages)
    # Nor any other error: no failed htmx request, no uncaught exception, no missing file.
    assert not console_errors(*pages), console_errors(*pages)


# --- 3. psychologist and reception ----------------------------------------------------------

def test_psychologist_writes_a_note_that_reception_cannot_read(page, new_page, steps,
                                                               staff_factory):
    from consultations.models import Consultation
    from tests.factories import PatientFactory
    psychologist = staff_factory(Role.PSYCHOLOGIST, username="e2e_psychologist")
    staff_factory(Role.RECEPTION, username="e2e_reception")
    patient = PatientFactory(alias="Marten")
    text = "Talked about the loss of his brother; sleeps badly since March."

    login(page, "e2e_psychologist")
    open_file(page, "Marten")
    page.locator("[data-panel=consultations]").get_by_role(
        "link", name="New consultation").click()
    page.locator("textarea[name=note]").fill(text)
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_label("Sign now").check()
    steps.shot("note-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Consultation recorded.")).to_be_visible()
    expect(page.get_by_text(text)).to_be_visible()
    steps.shot("note-recorded")
    note = Consultation.objects.get(patient=patient)
    assert (note.note, note.author, note.discipline, note.duration_minutes) == (
        text, psychologist, Consultation.Discipline.PSYCHOLOGICAL, 45)
    assert note.is_locked

    # Reception sees that a psychological consultation took place, never what was said.
    desk = new_page("en")
    login(desk, "e2e_reception")
    open_file(desk, "Marten")
    panel = desk.locator("[data-panel=consultations]")
    expect(panel.locator(f"[data-consultation='{note.pk}']")).to_contain_text("Psychological")
    expect(panel).to_contain_text("Note not shown")
    steps.shot("reception-patient-file", desk)
    assert "sleeps badly" not in desk.content() and "brother" not in desk.content()
    panel.get_by_role("link", name="Timeline").click()
    entry = desk.locator(f"[data-entry='consultation-{note.pk}']")
    expect(entry).to_contain_text("Note not shown")
    steps.shot("reception-timeline", desk)
    assert "sleeps badly" not in desk.content() and "brother" not in desk.content()
    # Following the consultation's own link does not reveal it either.
    entry.get_by_role("link").first.click()
    desk.wait_for_load_state()
    expect(desk.get_by_text("Note not shown")).to_be_visible()
    steps.shot("reception-consultation-link", desk)
    assert "sleeps badly" not in desk.content() and "brother" not in desk.content()
    assert not csp_errors(page, desk), csp_errors(page, desk)
    # Nor any other error: no failed htmx request, no uncaught exception, no missing file.
    assert not console_errors(page, desk), console_errors(page, desk)


# --- 4. social worker -----------------------------------------------------------------------

def test_social_worker_records_cpas_income(page, steps, staff_factory):
    from social.models import IncomeRecord
    from tests.factories import PatientFactory
    worker = staff_factory(Role.SOCIAL_WORKER, username="e2e_social")
    patient = PatientFactory(alias="Otter")

    login(page, "e2e_social")
    open_file(page, "Otter")
    steps.shot("patient-file")
    page.locator("[data-panel=social]").get_by_role("link",
                                                    name="Full social situation").click()
    expect(page.locator("[data-current=income]")).to_contain_text("not recorded")
    page.get_by_label("Income source").select_option(label="CPAS/OCMW income")
    steps.shot("situation-form")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_text("Social situation recorded (1 change).")).to_be_visible()
    expect(page.locator("[data-current=income]")).to_contain_text("CPAS/OCMW income")
    steps.shot("income-recorded")

    record = IncomeRecord.objects.get(patient=patient)
    assert (record.source, record.date, record.recorded_by) == (
        IncomeRecord.Source.CPAS, timezone.localdate(), worker)
    assert not csp_errors(page), csp_errors(page)
    # Nor any other error: no failed htmx request, no uncaught exception, no missing file.
    assert not console_errors(page), console_errors(page)


# --- 5. coordinator -------------------------------------------------------------------------

def test_coordinator_opens_the_yearly_figures_and_downloads_the_xlsx(page, steps, tmp_path,
                                                                     staff_factory):
    import openpyxl

    from patients.models import Visit
    from tests.factories import EpisodeFactory, VisitFactory
    staff_factory(Role.COORDINATOR, username="e2e_coordinator")
    today = timezone.localdate()
    episode = EpisodeFactory(opened_on=today.replace(month=1, day=1))
    VisitFactory(patient=episode.patient, date=today, purpose=Visit.Purpose.CONSULTATION)
    year = today.year

    login(page, "e2e_coordinator")
    page.goto(f"/reporting/file-active/{year}/")
    expect(page.locator("h1")).to_contain_text(f"Active caseload {year}")
    figures = page.locator("tr[data-figure]")
    expect(figures.first).to_be_visible()
    shown = figures.evaluate_all("rows => rows.map(r => r.dataset.figure)")
    steps.shot("yearly-figures")

    with page.expect_download() as download_info:
        page.locator("[data-export=xlsx]").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = openpyxl.load_workbook(saved, read_only=True)
    assert "Figures" in workbook.sheetnames
    rows = list(workbook["Figures"].iter_rows(values_only=True))
    assert rows[0] == ("figure", "label", "value")
    keys = {row[0]: row[2] for row in rows[1:]}
    assert set(shown) <= set(keys), set(shown) - set(keys)
    assert any(value for value in keys.values()), rows
    workbook.close()
    steps.shot("after-download")
    assert not csp_errors(page), csp_errors(page)
    # Nor any other error: no failed htmx request, no uncaught exception, no missing file.
    assert not console_errors(page), console_errors(page)
