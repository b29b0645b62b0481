from django.core.management.base import BaseCommand

from mass.audit_chain import audit_seal


class Command(BaseCommand):
    help = ("Seal the audit rows written since the last run into the hash chain (in id order, "
            "one transaction, in batches; a second sealer waits for the first). Meant for "
            "cron every 5 minutes: rows are only tamper-evident once sealed.")

    def handle(self, *args, **options):
        sealed = audit_seal()
        self.stdout.write(f"{sealed} audit row(s) sealed.")
