from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from patients.services import episodes_record_lapses


class Command(BaseCommand):
    help = ("Nightly: record on each episode without a written closure the end by the "
            "6-month rule (no contact for six months, as of its last contact), each with its "
            "audit row, and withdraw a recorded end that a contact entered since contradicts. "
            "Closures made by hand are never touched. The figures apply the rule from the "
            "records whether or not this has run.")

    def handle(self, *args, **options):
        recorded, withdrawn = episodes_record_lapses()
        self.stdout.write(ngettext("%(n)s episode ended: no contact for six months.",
                                   "%(n)s episodes ended: no contact for six months.",
                                   len(recorded)) % {"n": len(recorded)})
        for episode in recorded:
            self.stdout.write(f"  {episode.patient.file_number}  "
                              f"{episode.opened_on.isoformat()} -> "
                              f"{episode.lapse_recorded_on.isoformat()}")
        if withdrawn:
            self.stdout.write(ngettext(
                "%(n)s recorded end withdrawn: a contact entered since falls inside the gap.",
                "%(n)s recorded ends withdrawn: a contact entered since falls inside the gap.",
                len(withdrawn)) % {"n": len(withdrawn)})
            for episode in withdrawn:
                self.stdout.write(f"  {episode.patient.file_number}  "
                                  f"{episode.opened_on.isoformat()}")
