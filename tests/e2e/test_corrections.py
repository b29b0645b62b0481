"""Issue 14, corrections as new rows, in a real browser: a walk-in, a harm-reduction entry
and a group attendance recorded by mistake are cancelled with a reason by who recorded them,
struck through where they are shown, and the year's figures (read on the coordinator's page)
go down by what they counted; a screening test's result, chosen (no default), is amended
with its history kept, then the test is cancelled."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import console_errors, csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]


def figure(page, key: str) -> int:
    """A figure of the year as the coordinator's page shows it."""
    page.reload()
    text = page.locator(f"tr[data-figure={key}] td").last.inner_text()
    return int(re.search(r"\d+", text.replace("\u202f", "").replace(" ", "")).group())


def cancel_with_reason(page, reason: str):
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Cancel the entry").click()


def test_a_correction_of_each_kind_with_the_figures_before_and_after(page, new_page, steps,
                                                                     staff_factory):
    from consultations.models import ScreeningTest
    from consultations.services import group_attendance_add, group_session_create
    from patients.services import harm_reduction_log, visit_log
    from tests.factories import PatientFactory, woeringen

    today = timezone.localdate()
    desk = staff_factory(Role.RECEPTION, username="e2e_desk")
    nurse = staff_factory(Role.NURSE, username="e2e_nurse")
    staff_factory(Role.DOCTOR, username="e2e_doc")
    staff_factory(Role.COORDINATOR, username="e2e_coord")
    wrong = PatientFactory(alias="Kéké", birth_year=1978)
    PatientFactory(alias="Kéké", birth_year=1991)
    visit_log(patient=wrong, purpose="dispensing", site=woeringen(), actor=desk)
    harm_reduction_log(site=woeringen(), date=today, quantities={"syringe": (10, 0),
                                                                 "condom": (4, 0)}, actor=desk)
    session = group_session_create(date=today, kind="community_health", theme="Hepatitis C",
                                   actor=nurse)
    group_attendance_add(session=session, patient=wrong, actor=nurse)

    coord = new_page("en")
    login(coord, "e2e_coord")
    coord.goto(f"/reporting/file-active/{today.year}/")
    before = {key: figure(coord, key) for key in (
        "annual_active_patients", "patient_contacts", "group_attendances",
        "harm_reduction_items_handed_out")}
    assert before == {"annual_active_patients": 1, "patient_contacts": 1,
                      "group_attendances": 1, "harm_reduction_items_handed_out": 14}
    steps.shot("figures-before", coord)

    # 1. The desk cancels the walk-in logged on the wrong Kéké, from the board.
    login(page, "e2e_desk")
    page.goto("/reception/")
    row = page.locator("[data-visit]").filter(has_text="Kéké")
    row.get_by_role("link", name="Cancel…").click()
    expect(page.locator("h1")).to_have_text("Cancel a walk-in")
    steps.shot("walk-in-cancel-form")
    page.get_by_role("button", name="Cancel the entry").click()  # no reason: refused
    expect(page.locator("main")).to_contain_text("Say why this entry is cancelled.")
    cancel_with_reason(page, "Logged on the wrong Kéké (1991, not 1978)")
    expect(page).to_have_url(re.compile(r"/reception/$"))
    struck = page.locator("[data-visit][data-cancelled]")
    expect(struck.locator("del", has_text="Dispensing")).to_have_count(1)
    expect(struck).to_contain_text("cancelled: Logged on the wrong Kéké (1991, not 1978)")
    steps.shot("board-walk-in-struck")
    # Still a contact that day through the group, until that is cancelled too.
    assert figure(coord, "patient_contacts") == before["patient_contacts"]

    # 2. The desk cancels the syringes typed by mistake, from today's entries.
    page.locator("[data-hr-today]").click()
    page.locator("[data-hr-entry]").filter(has_text="Syringes").get_by_role(
        "link", name="Cancel…").click()
    cancel_with_reason(page, "Typed 10 for 1")
    entry = page.locator("[data-hr-entry][data-cancelled]")
    expect(entry.locator("del").first).to_be_visible()
    expect(entry).to_contain_text("cancelled: Typed 10 for 1")
    steps.shot("harm-reduction-struck")
    assert figure(coord, "harm_reduction_items_handed_out") == \
        before["harm_reduction_items_handed_out"] - 10

    # 3. The nurse cancels the attendance she recorded: no contact left, no active patient.
    nurse_page = new_page("en")
    login(nurse_page, "e2e_nurse")
    nurse_page.goto(f"/consultations/groups/{session.pk}/")
    nurse_page.locator(f"[data-attendance='{wrong.pk}']").get_by_role(
        "link", name="Cancel…").click()
    cancel_with_reason(nurse_page, "Added the wrong Kéké")
    expect(nurse_page.locator("[data-participants]")).to_have_text("0 participants")
    attendance = nurse_page.locator(f"[data-attendance='{wrong.pk}'][data-cancelled]")
    expect(attendance).to_contain_text("cancelled: Added the wrong Kéké")
    steps.shot("group-attendance-struck", nurse_page)
    after = {key: figure(coord, key) for key in before}
    assert after == {"annual_active_patients": before["annual_active_patients"] - 1,
                     "patient_contacts": before["patient_contacts"] - 1,
                     "group_attendances": before["group_attendances"] - 1,
                     "harm_reduction_items_handed_out":
                         before["harm_reduction_items_handed_out"] - 10}
    steps.shot("figures-after", coord)

    # 4. The doctor records a screening test: the result is chosen, never a default; then
    # amends it and, the test having been on the wrong file, cancels it.
    doc = new_page("en")
    login(doc, "e2e_doc")
    doc.goto(f"/consultations/screening/new/?patient={wrong.pk}")
    expect(doc.locator("select[name=result]")).to_have_value("")
    doc.locator("select[name=test]").select_option("hcv")
    doc.locator("main form").get_by_role("button", name="Save").click()
    expect(doc.locator("main")).to_contain_text("Choose the result.")
    assert not ScreeningTest.objects.exists()
    doc.locator("select[name=result]").select_option("negative")
    doc.locator("main form").get_by_role("button", name="Save").click()
    screening = ScreeningTest.objects.get()
    panel = doc.locator(f"[data-screening='{screening.pk}']")
    expect(panel).to_contain_text("Negative")
    panel.get_by_role("link", name="history, amend, cancel").click()
    doc.locator("select[name=result]").select_option("positive")
    doc.get_by_label("Reason for the correction").fill("Lab called: samples swapped")
    doc.get_by_role("button", name="Amend").click()
    panel = doc.locator(f"[data-screening='{screening.pk}']")
    expect(panel).to_contain_text("Positive")
    expect(panel).to_contain_text("amended")
    panel.get_by_role("link", name="history, amend, cancel").click()
    expect(doc.locator("[data-current-result]")).to_contain_text("Positive")
    expect(doc.locator("[data-result-history] del")).to_have_text("Negative")
    expect(doc.locator("[data-result-history]")).to_contain_text("Lab called: samples swapped")
    steps.shot("screening-history", doc)
    doc.locator("[data-cancel-screening]").click()
    cancel_with_reason(doc, "Recorded on the wrong Kéké")
    panel = doc.locator(f"[data-screening='{screening.pk}'][data-cancelled]")
    expect(panel.locator("del").first).to_be_visible()
    expect(panel).to_contain_text("cancelled: Recorded on the wrong Kéké")
    steps.shot("screening-struck", doc)

    pages = (page, coord, nurse_page, doc)
    assert not csp_errors(*pages), csp_errors(*pages)
    assert not console_errors(*pages), [(p.url, console_errors(p)) for p in pages]
