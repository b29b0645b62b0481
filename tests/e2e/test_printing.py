"""Issue 14, part 2 in a real browser: each printed document, reached from the page where its
record lives, printed to an A4 PDF by Chromium and read back (pypdf): the centre's letterhead,
the patient's language, the author, the page number in the margin, and the month's register
that adds up line by line."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import console_errors, csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]

#: A4 in PostScript points (210 x 297 mm), as Chromium rounds it.
A4_POINTS = (595.3, 841.9)


def pdf_text(page) -> str:
    """The page printed as Chromium prints it (print media, A4), as text."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(page.pdf(format="A4")))
    for sheet in reader.pages:
        width, height = (float(n) for n in sheet.mediabox[2:])
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2, (width, height)
    return "\n".join(sheet.extract_text() for sheet in reader.pages)


def assert_letter(text: str, *, centre: str, pages_named=True):
    assert centre in text and "Woeringen 16-18" in text, text[:400]
    # The page number of the margin box (static/css/print.css): "1 / n".
    if pages_named:
        assert re.search(r"\b1 / \d+\b", text), text[-400:]
    # Nothing of the screen around the document: the menu, the Print button.
    assert "Log out" not in text and "Print\n" not in text


@pytest.fixture
def clinic(_reference_data_for_transactional_test):
    from consultations.models import Partner
    from dispensary import services
    from dispensary.models import Pharmacy
    from tests.conftest import make_staff
    from tests.dispensary.conftest import centre_calendar
    from tests.factories import (
        DispensationFactory,
        PatientFactory,
        PrescriptionFactory,
        ReferralFactory,
        methadone_syrup,
    )

    centre_calendar(open_weekdays=range(7), public_holidays=False)
    today = timezone.localdate()
    doctor = make_staff(Role.DOCTOR, username="e2e_doctor", first_name="Dora",
                        last_name="Docteur", language="en")
    nurse = make_staff(Role.NURSE, username="e2e_nurse", first_name="Nina",
                       last_name="Verpleeg", language="en")
    make_staff(Role.COORDINATOR, username="e2e_coordinator", language="en")
    # A Dutch-speaking patient collecting methadone at a partner pharmacy.
    pharmacy = Pharmacy.objects.create(name="Apotheek Dansaert",
                                       address="Dansaertstraat 10, 1000 Brussel")
    jan = PatientFactory(alias="Jantje", first_name="Jan", last_name="Peeters",
                         birth_year=1975, niss="75020212345", language="nl")
    rx = PrescriptionFactory(patient=jan, start_date=today, pharmacy=pharmacy,
                             daily_dose=Decimal(40), take_home_weekdays=[6],
                             prescribed_by=doctor)
    # A French-speaking patient referred to a partner.
    keke = PatientFactory(alias="Kéké", first_name="Jean", last_name="Dupont",
                          birth_year=1978, language="fr")
    partner = Partner.objects.create(name="Projet Lama", kind="other",
                                     address="Rue de la Senne 2, 1000 Bruxelles")
    referral = ReferralFactory(patient=keke, partner=partner, referred_by=doctor,
                               date=today, reason="Lit de sevrage demandé")
    # The month's register: a receipt, two doses of 60 mg, the first cancelled, a third.
    product = methadone_syrup()
    services.register_receipt(product=product, quantity=Decimal(1000), supplier="Central",
                              batch="E2E-14", received_on=today, actor=nurse)
    given = []
    for n in range(3):
        person = PatientFactory(alias=f"Registre{n}")
        at_mass = PrescriptionFactory(patient=person, start_date=today - datetime.timedelta(10))
        DispensationFactory(prescription=at_mass, date=today - datetime.timedelta(1))
        given.append(at_mass)
    first = services.dispensation_record(prescription=given[0], part="day",
                                         intoxication_signs=False, actor=nurse,
                                         hand_take_home=False)[0]
    services.dispensation_record(prescription=given[1], part="day", intoxication_signs=False,
                                 actor=nurse, hand_take_home=False)
    services.dispensation_cancel(dispensation=first, reason="Wrong file", actor=doctor)
    services.dispensation_record(prescription=given[2], part="day", intoxication_signs=False,
                                 actor=nurse, hand_take_home=False)
    return {"doctor": doctor, "jan": jan, "rx": rx, "keke": keke, "referral": referral,
            "product": product, "today": today}


def test_every_document_prints_on_a4_in_the_patient_language(page, new_page, steps, clinic):
    from mass.models import AuditEvent

    jan, keke = clinic["jan"], clinic["keke"]
    login(page, "e2e_doctor")

    # 1. The prescription for the pharmacy, from the patient's dispensing record: in Dutch.
    page.goto(f"/dispensary/patients/{jan.pk}/")
    page.locator(f"[data-print-prescription='{clinic['rx'].pk}']").click()
    expect(page.locator("article[data-document=prescription]")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    steps.shot("prescription")
    text = pdf_text(page)
    assert_letter(text, centre="MSOC Brussel")
    for shown in ["Apotheek Dansaert", "Peeters", "75020212345", "Voorschrift", "dagdosis",
                  "40 mg", "Dora Docteur"]:
        assert shown in text, (shown, text)

    # 2. The patient summary, from the file: in Dutch, with the treatment the doctor reads.
    page.goto(f"/patients/{jan.pk}/")
    page.locator("[data-print-summary]").click()
    expect(page.locator("article[data-document=summary]")).to_be_visible()
    steps.shot("summary")
    text = pdf_text(page)
    assert_letter(text, centre="MSOC Brussel")
    for shown in ["Jantje", "Substitutiebehandeling", "Apotheek Dansaert", "Dora Docteur"]:
        assert shown in text, (shown, text)

    # 3. The referral letter, from the referrals panel of the file: in French.
    page.goto(f"/patients/{keke.pk}/")
    page.locator(f"[data-print-referral='{clinic['referral'].pk}']").click()
    expect(page.locator("article[data-document=referral]")).to_have_attribute("lang", "fr")
    steps.shot("referral-letter")
    text = pdf_text(page)
    assert_letter(text, centre="MASS de Bruxelles")
    for shown in ["Projet Lama", "Lit de sevrage demandé", "Dupont", "Dora Docteur",
                  "Médecin"]:
        assert shown in text, (shown, text)

    # 4. "Who read my file", from the audit trail, by the coordinator: in Dutch, the doctor
    # named with her role, the kinds of record, never what they say.
    other = new_page("en")
    login(other, "e2e_coordinator")
    other.goto(f"/audit/?patient={jan.pk}")
    other.locator("[data-print-file-reads]").click()
    expect(other.locator("article[data-document=file_reads]")).to_have_attribute("lang", "nl")
    steps.shot("who-read", page=other)
    text = pdf_text(other)
    assert_letter(text, centre="MSOC Brussel")
    assert "Dora Docteur" in text and "Arts" in text and "40 mg" not in text, text

    # 5. The month's register, by the coordinator: every line adds up, the cancellation
    # puts its dose back on its own line.
    today = clinic["today"]
    other.goto(f"/dispensary/register/{clinic['product'].pk}/{today.year}/{today.month}/")
    steps.shot("register", page=other)
    text = pdf_text(other)
    assert_letter(text, centre="MASS de Bruxelles")
    lines = other.locator("[data-register-line]")
    expect(lines).to_have_count(4)
    balance = Decimal(other.locator("[data-opening]").get_attribute("data-opening"))
    balances = []
    for n in range(4):
        line = lines.nth(n)
        balance += (Decimal(line.locator("[data-in]").get_attribute("data-in"))
                    - Decimal(line.locator("[data-out]").get_attribute("data-out")))
        assert balance == Decimal(line.locator("[data-balance]").get_attribute("data-balance"))
        balances.append(balance)
    # The receipt, two doses, the cancellation (back up), the third dose.
    assert balances == [1000, 880, 940, 880]
    # A table cell may wrap on paper; Chromium writes "fi" as one ligature glyph.
    flat = " ".join(text.replace("\ufb01", "fi").replace("\ufb02", "fl").split())
    assert "Dispensation cancelled" in flat, flat
    assert re.search(r"\b880\b.*\b940\b.*\b880\b", flat), flat

    # Every print was a read of the file, written in the trail.
    printed = list(AuditEvent.objects.filter(summary__contains="printed")
                   .values_list("actor__username", "patient_id"))
    assert sorted(printed) == sorted([("e2e_doctor", jan.pk), ("e2e_doctor", jan.pk),
                                      ("e2e_doctor", keke.pk), ("e2e_coordinator", jan.pk)])
    assert not console_errors(page, other) and not csp_errors(page, other)
