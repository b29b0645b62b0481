from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from patients.services import episodes_close_lapsed


class Command(BaseCommand):
    help = ("Nightly: write down the end of every episode that the 6-month rule has ended "
            "(no contact for six months), closed as of its last contact with the reason "
            "'no contact for six months', each with its audit row. Closures made by hand are "
            "never moved. The figures apply the rule whether or not this has run.")

    def handle(self, *args, **options):
        closed = episodes_close_lapsed()
        self.stdout.write(_("%(n)s episode(s) closed: no contact for six months.")
                          % {"n": len(closed)})
        for episode in closed:
            self.stdout.write(f"  {episode.patient.file_number}  "
                              f"{episode.opened_on.isoformat()} -> {episode.closed_on.isoformat()}")
