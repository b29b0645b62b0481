from django.core.management.base import BaseCommand

from mass.audit.chain import audit_seal


class Command(BaseCommand):
    help = ("Seal the audit rows written since the last run into the hash chain (in id order, "
            "one transaction, in batches; a second sealer waits for the first). Meant for "
            "cron every 5 minutes: rows are only tamper-evident once sealed.")

    def handle(self, *args, verbosity=1, **options):
        sealed = audit_seal()
        if verbosity > 0:  # -v 0 from cron: no mail every 5 minutes
            self.stdout.write(f"{sealed} audit row(s) sealed.")
