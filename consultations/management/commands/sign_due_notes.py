from django.core.management.base import BaseCommand

from consultations.services import consultations_sign_due


class Command(BaseCommand):
    help = ("Sign the consultation notes left unsigned past the end of the day after the "
            "consultation (run nightly, e.g. from cron at 00:05). The application already treats "
            "them as signed; this makes the database lock them too.")

    def handle(self, *args, **options):
        count = consultations_sign_due()
        self.stdout.write(f"{count} note(s) signed automatically.")
