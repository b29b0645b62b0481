import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from mass.accounts.demo import DEMO_PASSWORD, accounts_text, seed_closure, seed_staff

# Each app that has demo records provides ``<app>.demo.seed(*, years, scale, stdout)``;
# they run in this order because later apps attach records to earlier ones.
DEMO_APPS = ["patients", "consultations", "dispensary", "alerts", "clinical", "social",
             "reporting", "vaccinations", "labs"]


class Command(BaseCommand):
    help = ("Demo staff accounts (one per role) and realistic pseudonymous records for the "
            "last N years at K times the MASS volumes of 2016. Idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("--years", type=int, default=2)
        parser.add_argument("--scale", type=float, default=1.0)

    def handle(self, *args, years, scale, **options):
        if not (settings.DEMO or settings.DEBUG):
            # The demo accounts share a published password: never on a real database.
            raise CommandError("seed_demo creates accounts with a published password: it runs "
                               "only with DEMO=1 (the local demo) or DEBUG=1.")
        if years < 1 or scale <= 0:
            self.stderr.write("--years must be at least 1 and --scale above 0.")
            raise SystemExit(2)
        with transaction.atomic():
            accounts = seed_staff()
        closure = seed_closure()
        if closure:
            self.stdout.write(f"sites: {closure}.")
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError:
                continue
            module.seed(years=years, scale=scale, stdout=self.stdout)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo accounts (password for all: "
                                             f"{DEMO_PASSWORD}):"))
        for line in accounts_text(accounts):
            self.stdout.write(line)
