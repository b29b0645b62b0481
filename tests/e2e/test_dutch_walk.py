"""One walk in Dutch (issue 14): staff whose account language is Dutch sign in and go
through the desk, the registration form, a patient file and the dispensing list. Each page is
in Dutch: the lang attribute, known Dutch sentences, and no French or English sentence of the
catalogues left on it (Django falls back to French, the default language, for a message
without a Dutch translation: "- Choisir une option -" on a Dutch form).

The pages are checked against the catalogues themselves, not against words written here: a
sentence of locale/fr shown on a Dutch page is a leftover, whichever it is. Until the lead
fills the translations of a branch's new messages, this test fails on them, as
tests/mass/test_translations.py does.
"""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from mass.accounts.roles import Role
from mass.i18n.check import BASE_DIR, po_entries
from tests.e2e.conftest import csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("nl-BE")]

# Short messages ("Sex", "due") occur inside other words and data; sentences do not.
SENTENCE = 14
PLACEHOLDER = re.compile(r"%\(|%s|%d|\{")


def _catalogue(language):
    path = BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.po"
    return {e.key: e.msgstr[0] for e in po_entries(path.read_text(encoding="utf-8"))
            if e.translated and e.msgid_plural is None}


def leftovers():
    """The French and the English sentences that must not show on a Dutch page: each message
    of the catalogues (without placeholders) whose French and English differ from its Dutch
    translation."""
    french, dutch = _catalogue("fr"), _catalogue("nl")
    french_sentences, english_sentences = set(), set()
    for key, fr in french.items():
        msgid = key.split("\x04")[-1]
        if PLACEHOLDER.search(msgid):
            continue
        nl = dutch.get(key)
        if len(fr) >= SENTENCE and fr != nl and fr != msgid:
            french_sentences.add(fr)
        if nl and len(msgid) >= SENTENCE and msgid != nl:
            english_sentences.add(msgid)
    # Django's own: the blank choice of a select, in French and English.
    french_sentences.add("Choisir une option")
    english_sentences.add("Select an option")
    return french_sentences, english_sentences


def dutch(message: str) -> str:
    """The Dutch of a message that the catalogue translates today."""
    with translation.override("nl"):
        text = translation.gettext(message)
    assert text != message, f"{message!r} has no Dutch translation"
    return text


def _data_names() -> str:
    """Names that are the centre's data, shown as written: the sites (seeded in French,
    "Croix-Rouge - Centre d'hébergement"), the products a coordinator typed."""
    from dispensary.models import Product
    from mass.models import Site
    return "\n".join([*Site.objects.values_list("name", flat=True),
                      *Product.objects.values_list("name", flat=True)])


def assert_dutch_page(page, known: list[str]):
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    text = page.locator("body").inner_text()
    html = page.content()
    for message in known:
        assert dutch(message) in text, f"{dutch(message)!r} not on {page.url}"
    french, english = leftovers()
    data = _data_names()
    left = sorted(s for s in french if (s in text or s in html) and s not in data)
    left += sorted(s for s in english if s in text and s not in data)
    assert left == [], f"French or English left on {page.url}: {left[:10]}"


def test_a_dutch_speaking_team_walks_through_the_desk_a_file_and_the_dispensing_list(
        page, new_page, steps, staff_factory):
    from tests.factories import PatientFactory, PrescriptionFactory
    staff_factory(Role.RECEPTION, username="e2e_onthaal", language="nl")
    staff_factory(Role.NURSE, username="e2e_verpleeg", language="nl")
    patient = PatientFactory(alias="Merel")
    PrescriptionFactory(patient=patient)

    # Reception signs in: the desk, then the registration form (its selects have a blank
    # choice: Django's "- Select an option -").
    login(page, "e2e_onthaal")
    page.goto(reverse("reception:board"))
    expect(page.get_by_label(dutch("Who arrives? Alias, name, file number or birth year"))
           ).to_be_visible()
    steps.shot("desk")
    assert_dutch_page(page, ["Reception", "Log out"])
    page.goto(reverse("patients:create"))
    steps.shot("registration-form")
    assert_dutch_page(page, ["Register a person", "Save"])

    # The nurse (another desk, another session): the patient file, then today's list.
    nurse = new_page("nl-BE")
    login(nurse, "e2e_verpleeg")
    nurse.goto(reverse("patients:detail", args=[patient.pk]))
    expect(nurse.locator("h1")).to_contain_text("Merel")
    steps.shot("patient-file", nurse)
    assert_dutch_page(nurse, ["Alerts"])
    nurse.goto(reverse("dispensary:today"))
    expect(nurse.locator("#dispensing-list")).to_contain_text("Merel")
    expect(nurse.get_by_placeholder(dutch("Alias or file number"))).to_be_visible()
    steps.shot("dispensing-list", nurse)
    assert_dutch_page(nurse, ["Today's dispensing"])
    assert csp_errors(page, nurse) == []
