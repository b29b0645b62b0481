"""Every word a user reads is translated in French and Dutch (issue 14).

``test_every_message_has_a_french_and_a_dutch_translation`` fails on any message of the code
(Python marks and templates) that locale/fr or locale/nl lacks, leaves empty or marks fuzzy:
a Dutch reader would read it in French (Django's fallback is LANGUAGE_CODE) or English. It
fails on a branch that adds strings until the catalogues are regenerated and filled
(`manage.py makemessages -l fr -l nl`, then the translations); `python -m mass.i18n.check`
lists what is missing.
"""

import re
from pathlib import Path

import django
import pytest
from django.apps import apps

from mass.i18n import check as i18n_check
from mass.i18n.check import code_messages, missing_translations, po_entries

# No test here reads the database; the suite's session fixture (reference data) needs it
# set up when this file runs alone.
pytestmark = pytest.mark.django_db

LOCALE = i18n_check.BASE_DIR / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfr]|\{(\w*)\}")


def test_every_message_has_a_french_and_a_dutch_translation():
    missing = missing_translations()
    assert missing == {"fr": [], "nl": []}, (
        "messages without a translation (python -m mass.i18n.check lists them): "
        + "; ".join(f"{language}: {len(lines)}, e.g. {lines[:5]}"
                    for language, lines in missing.items() if lines))


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_translations_name_only_the_placeholders_of_their_message(language):
    """A translation naming a placeholder its message does not pass is an error page at
    the first use (KeyError); one that drops a count is a wrong sentence."""
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    wrong = []
    for entry in po_entries(text):
        if not entry.translated:
            continue
        given = set(PLACEHOLDER.findall(entry.msgid + (entry.msgid_plural or "")))
        for translation in entry.msgstr:
            if not set(PLACEHOLDER.findall(translation)) <= given:
                wrong.append(entry.msgid)
    assert wrong == []


def _package_catalogues():
    """The catalogues of Django and of the installed packages (not the project's)."""
    folders = [Path(django.__file__).parent / "conf" / "locale"]
    for app in apps.get_app_configs():
        folder = Path(app.path) / "locale"
        if folder.is_dir() and not str(folder).startswith(str(i18n_check.BASE_DIR / "mass")):
            folders.append(folder)
    return folders


def test_package_messages_translated_in_one_language_only_are_in_the_project_catalogue():
    """Django falls back to French for a message its Dutch catalogue lacks ("- Choisir une
    option -" on a Dutch form): such messages are marked in mass/i18n/third_party_strings.py, so
    the project's catalogues (read first) give them in Dutch. A new Django version bringing
    new ones fails here."""
    marked = set(code_messages())
    unmarked = []
    for folder in _package_catalogues():
        catalogues = {}
        for language in ("fr", "nl"):
            po = folder / language / "LC_MESSAGES" / "django.po"
            catalogues[language] = ({e.key for e in po_entries(po.read_text(encoding="utf-8"))
                                     if e.translated} if po.exists() else set())
        if not any(catalogues.values()):
            continue
        for key in catalogues["fr"] ^ catalogues["nl"]:
            if key not in marked:
                unmarked.append(f"{folder}: {key!r}")
    assert unmarked == []


def test_po_entries_reads_untranslated_fuzzy_plural_and_context():
    text = '''msgid ""
msgstr ""
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "Done"
msgstr "Fait"

#, fuzzy
msgid "Almost"
msgstr "Presque"

msgid "Empty"
msgstr ""

msgctxt "count of doses"
msgid "%(n)s dose"
msgid_plural "%(n)s doses"
msgstr[0] "%(n)s dose"
msgstr[1] ""

msgid "Two "
"lines"
msgstr "Deux "
"lignes"
'''
    entries = {entry.key: entry for entry in po_entries(text)}
    assert set(entries) == {"Done", "Almost", "Empty", "count of doses\x04%(n)s dose",
                            "Two lines"}
    assert entries["Done"].translated and entries["Two lines"].msgstr == ["Deux lignes"]
    assert not entries["Almost"].translated  # fuzzy
    assert not entries["Empty"].translated
    plural = entries["count of doses\x04%(n)s dose"]
    assert plural.msgid_plural == "%(n)s doses" and not plural.translated


def test_code_messages_finds_python_marks_and_template_tags(tmp_path, monkeypatch):
    (tmp_path / "mass").mkdir()
    (tmp_path / "mass" / "module.py").write_text(
        'from django.utils.translation import gettext as _, gettext_noop, pgettext\n'
        'A = _("Hello")\n'
        'B = gettext_noop("walk-in %(purpose)s")\n'
        'C = pgettext("a dose", "Part")\n'
        'D = _("joined "\n      "lines")\n'
        'def _(x): return x\n', encoding="utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        '{% load i18n %}<h1>{% translate "Desk" %}</h1>'
        '{% blocktranslate count n=rows|length %}{{ n }} row{% plural %}{{ n }} rows'
        '{% endblocktranslate %}', encoding="utf-8")
    monkeypatch.setattr(i18n_check, "SOURCE_DIRS", ("mass", "templates"))
    assert set(code_messages(tmp_path)) == {"Hello", "walk-in %(purpose)s",
                                            "a dose\x04Part", "joined lines", "Desk",
                                            "%(n)s row"}
