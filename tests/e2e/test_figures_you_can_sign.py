"""Issue 11 in a real browser: a person back after a lapse at the desk, the resumption
offered and opened, the "who have we lost" worklist and an outreach attempt, a year declared,
a backdated record, and the reconciliation of the declared year with today's records."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import console_errors, csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]


def test_return_after_a_lapse_worklist_declared_year_and_reconciliation(
        page, new_page, steps, staff_factory):
    from consultations.models import Consultation
    from patients.models import Episode, OutreachAttempt, Visit
    from patients.selectors import months_after
    from reporting.models import DeclaredYear
    from tests.factories import EpisodeFactory, PatientFactory, VisitFactory

    today = timezone.localdate()
    last_year = today.year - 1
    staff_factory(Role.RECEPTION, username="e2e_desk")
    doctor = staff_factory(Role.DOCTOR, username="e2e_doc")
    staff_factory(Role.COORDINATOR, username="e2e_coord")
    # Back after fourteen months: the 6-month rule ended the episode, nobody closed it.
    returning = PatientFactory(alias="Plover")
    opened = today - datetime.timedelta(days=430)
    EpisodeFactory(patient=returning, opened_on=opened, kind="new")
    # In treatment, not seen for 40 days: on the worklist (30 days without substitution).
    quiet = PatientFactory(alias="Sandpiper")
    EpisodeFactory(patient=quiet, opened_on=today - datetime.timedelta(days=60), kind="new")
    VisitFactory(patient=quiet, date=today - datetime.timedelta(days=40))
    # Last year's history, for the declaration.
    counted = PatientFactory(alias="Dunlin")
    EpisodeFactory(patient=counted, opened_on=datetime.date(last_year, 3, 1), kind="new")
    VisitFactory(patient=counted, date=datetime.date(last_year, 3, 1))
    VisitFactory(patient=counted, date=datetime.date(last_year, 5, 2))

    # 1. The desk logs the arrival; the board says the episode has ended and offers the
    # resumption in one step.
    login(page, "e2e_desk")
    page.goto("/reception/")
    box = page.get_by_label("Who arrives? Alias, name, file number or birth year")
    box.press_sequentially("Plover", delay=30)
    row = page.locator("#arrival-results [data-arrival-row]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Episode ended")
    box.press("ArrowDown")
    page.keyboard.press("1")
    lapse = page.locator("[data-lapse]")
    expect(lapse).to_contain_text("Last contact 14 months ago")
    expect(lapse).to_contain_text("by the 6-month rule")
    steps.shot("desk-lapse-offered")
    assert Episode.objects.filter(patient=returning).count() == 1  # nothing opened by itself
    lapse.get_by_role("button", name="Open a resumption today").click()
    expect(page).to_have_url(re.compile(r"/reporting/tdi/\d+/"))
    steps.shot("tdi-questionnaire-after-resumption")
    old, new = Episode.objects.filter(patient=returning).order_by("opened_on")
    assert (old.closed_on, old.closure_reason) == (opened, "six_months")
    assert (new.kind, new.opened_on, new.closed_on) == ("resumption", today, None)
    page.goto(f"/patients/{returning.pk}/")
    expect(page.locator("[data-panel=tdi]")).to_contain_text("due")
    steps.shot("patient-file-tdi-due")

    # 2. The doctor's worklist: who have we lost; an outreach attempt in one click.
    doc_page = new_page("en")
    login(doc_page, "e2e_doc")
    doc_page.goto("/patients/lost/")
    lost = doc_page.locator(f"[data-lost-row='{quiet.pk}']")
    expect(lost).to_contain_text("Sandpiper")
    expect(lost).to_contain_text(
        months_after(today - datetime.timedelta(days=40), 6).strftime("%d/%m/%Y"))
    expect(doc_page.locator(f"[data-lost-row='{returning.pk}']")).to_have_count(0)
    steps.shot("worklist", doc_page)
    lost.get_by_role("button", name="Outreach attempt").click()
    expect(doc_page.locator(f"[data-lost-row='{quiet.pk}'] [data-last-attempt]")).to_contain_text(
        today.strftime("%d/%m/%Y"))
    steps.shot("outreach-attempt-recorded", doc_page)
    attempt = OutreachAttempt.objects.get(patient=quiet)
    assert attempt.date == today and attempt.made_by == doctor
    # An attempt is no contact: the person's last contact has not moved.
    assert Episode.objects.get(patient=quiet).last_contact_on == today - datetime.timedelta(
        days=40)

    # 3. The coordinator declares last year.
    coord_page = new_page("en")
    login(coord_page, "e2e_coord")
    coord_page.goto(f"/reporting/file-active/{last_year}/")
    expect(coord_page.locator("[data-not-declared]")).to_be_visible()
    coord_page.locator("[data-declare]").click()
    expect(coord_page.locator("h1")).to_contain_text(f"Declare the figures of {last_year}")
    steps.shot("declare-confirmation", coord_page)
    coord_page.get_by_label("I have read the figures and the checks above").check()
    coord_page.get_by_role("button", name="Declare").click()
    expect(coord_page.locator("[data-declared-version='1']")).to_be_visible()
    steps.shot("declared", coord_page)
    declaration = DeclaredYear.objects.get(year=last_year)
    assert declaration.figures["annual_active_patients"] == 1

    # 4. A backdated record: the doctor writes up a consultation of last year for Sandpiper.
    doc_page.goto(f"/consultations/new/?patient={quiet.pk}")
    doc_page.locator("input[name=date]").fill(f"{last_year}-11-20")
    doc_page.locator("select[name=discipline]").select_option("medical")
    doc_page.locator("textarea[name=note]").fill("Seen last November, written up today.")
    doc_page.locator("main form").get_by_role("button", name="Save", exact=True).click()
    expect(doc_page).not_to_have_url(re.compile(r"/consultations/new/"))
    assert Consultation.objects.filter(patient=quiet,
                                       date=datetime.date(last_year, 11, 20)).exists()
    steps.shot("backdated-consultation", doc_page)

    # 5. The declared year's page keeps the declared figures and reconciles them with today's.
    coord_page.reload()
    reconciliation = coord_page.locator("[data-reconciliation]")
    moved = reconciliation.locator("[data-moved=annual_active_patients]")
    expect(moved.locator("[data-declared]")).to_have_text("1")
    expect(moved.locator("[data-now]")).to_have_text("2")
    record = reconciliation.locator(f"[data-record='{quiet.pk}']")
    expect(record.first).to_contain_text("Sandpiper")
    steps.shot("reconciliation", coord_page)
    record.first.get_by_role("link").first.click()
    expect(coord_page.locator("h1")).to_contain_text("Sandpiper")
    # The declaration itself never changed.
    assert DeclaredYear.objects.get(year=last_year).figures == declaration.figures
    assert not Visit.objects.filter(patient=quiet, date__gt=today - datetime.timedelta(days=40))

    pages = (page, doc_page, coord_page)
    assert not csp_errors(*pages), csp_errors(*pages)
    assert not console_errors(*pages), [(p.url, console_errors(p)) for p in pages]
