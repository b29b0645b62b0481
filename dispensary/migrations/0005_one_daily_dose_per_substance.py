"""One daily dose per substance and day, whatever the prescriptions (after 0004).

A prescription replaced the day it is in force now ends that day (doses may have been given
under it); the newer of two prescriptions of a substance running the same day is the one in
force. ``dispensary_dispensation_check`` is replaced with its full text, kept in
``dispensary/migrations/sql/dispensation_check_0005.sql`` (read once, here; 0004's text is the reverse):

- the patient's row is locked first, so that concurrent inserts by any route are served one
  after the other and each sum sees the doses committed before it;
- a dose (given or withheld) must be of the prescription in force on its day: a prescription
  replaced today gives nothing more;
- as before, the doses of the substance given for a day, under every prescription, never
  exceed the daily dose of the prescription in force: after a same-day change only the
  top-up is allowed.
"""

import importlib
from pathlib import Path

from django.db import migrations

DISPENSATION_CHECK = (Path(__file__).resolve().parent / "sql"
                      / "dispensation_check_0005.sql").read_text()


def previous_dispensation_check() -> str:
    return importlib.import_module(
        "dispensary.migrations.0004_hold_and_prescription_rules").DISPENSATION_CHECK


class Migration(migrations.Migration):
    dependencies = [
        ("dispensary", "0004_hold_and_prescription_rules"),
    ]

    operations = [
        # The trigger of 0002 calls the function by name: replacing it is enough.
        migrations.RunSQL(DISPENSATION_CHECK, previous_dispensation_check()),
    ]
