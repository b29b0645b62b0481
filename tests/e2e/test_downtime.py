"""Issue 12, part 9 in a real browser: the downtime sheet printed from the dispensing list,
then a dose given on paper yesterday recorded after the fact."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import console_errors, csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]


def test_print_the_downtime_sheet_then_record_a_paper_dose(page, steps, staff_factory):
    from dispensary import services
    from dispensary.models import Dispensation, RegisterEntry
    from tests.factories import (
        DispensationFactory,
        PatientFactory,
        PrescriptionFactory,
        methadone_syrup,
    )

    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    nurse = staff_factory(Role.NURSE, username="e2e_nurse")
    services.register_receipt(product=methadone_syrup(), quantity=Decimal(1000),
                              supplier="Central", batch="E2E", received_on=today, actor=nurse)
    patient = PatientFactory(alias="Godwit", birth_year=1981)
    rx = PrescriptionFactory(patient=patient, start_date=today - datetime.timedelta(days=30))
    # Two days ago at the desk; yesterday the network was down.
    DispensationFactory(prescription=rx, date=today - datetime.timedelta(days=2))

    # 1. The sheet, from the dispensing list, as printed.
    login(page, "e2e_nurse")
    page.goto("/dispensary/")
    page.get_by_role("link", name="Downtime sheet").click()
    expect(page).to_have_url(re.compile(r"/dispensary/downtime/$"))
    today_row = page.locator(f"[data-sheet-day=today] [data-sheet-row='{rx.pk}']")
    expect(today_row).to_contain_text("Godwit")
    expect(today_row).to_contain_text("born 1981")
    expect(today_row).to_contain_text("1 day missed")
    expect(page.locator(f"[data-sheet-day=tomorrow] [data-sheet-row='{rx.pk}']")) \
        .to_contain_text("2 days missed")
    steps.shot("downtime-sheet-screen")
    page.emulate_media(media="print")
    expect(page.locator("nav")).to_be_hidden()
    expect(today_row.get_by_role("link", name="Record a paper dose")).to_be_hidden()
    steps.shot("downtime-sheet-print")
    assert page.pdf(format="A4").startswith(b"%PDF")
    page.emulate_media(media="screen")

    # 2. Back online: yesterday's dose, given on paper, recorded from the sheet.
    today_row.get_by_role("link", name="Record a paper dose").click()
    page.get_by_label("Day on the paper").fill(yesterday.isoformat())
    page.get_by_label("Time on the paper").fill("09:45")
    page.get_by_label("Given", exact=True).check()
    page.get_by_label("No signs of intoxication").check()
    steps.shot("paper-record-form")
    page.get_by_role("button", name="Record").click()
    expect(page).to_have_url(re.compile(rf"/dispensary/patients/{patient.pk}/$"))
    expect(page.locator(".alert-success")).to_contain_text("Recorded after the fact")
    expect(page.locator("[data-after-the-fact]").first).to_contain_text(
        "recorded after the fact")
    steps.shot("patient-record-after-the-fact")
    entry = Dispensation.objects.get(patient=patient, dose_date=yesterday)
    assert entry.recorded_after_the_fact and entry.dispensed_by == nurse
    assert RegisterEntry.objects.get(dispensation=entry).recorded_after_the_fact

    # 3. The same day again from paper: refused, nothing written.
    page.goto(f"/dispensary/patients/{patient.pk}/paper/")
    page.get_by_label("Day on the paper").fill(yesterday.isoformat())
    page.get_by_label("Time on the paper").fill("10:15")
    page.get_by_label("Given", exact=True).check()
    page.get_by_label("No signs of intoxication").check()
    page.get_by_role("button", name="Record").click()
    expect(page.locator("[data-refused]")).to_contain_text("Already dispensed on")
    steps.shot("paper-record-refused")
    assert Dispensation.objects.filter(patient=patient, dose_date=yesterday).count() == 1
    assert not console_errors(page) and not csp_errors(page)
