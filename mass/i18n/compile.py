"""Compile the translation catalogues (locale/*/LC_MESSAGES/*.po -> .mo) at set-up, with
polib (pure Python: a fresh machine with only Python runs `make run`; GNU gettext is not
needed). Fuzzy and obsolete entries are left out, as msgfmt does; a catalogue is compiled
again only when its .po is newer than its .mo.

Usage: python -m mass.i18n.compile locale
"""

import sys
from pathlib import Path

import polib


def compile_all(locale_dir: Path) -> int:
    compiled = 0
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalogue = polib.pofile(str(po_path))
        for entry in catalogue.fuzzy_entries():
            catalogue.remove(entry)
        catalogue.save_as_mofile(str(mo_path))
        compiled += 1
    return compiled


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "locale")
    if count := compile_all(target):
        print(f"Compiled {count} translation catalogue(s).")
