import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mass.audit.chain import audit_digest


class Command(BaseCommand):
    help = ("Print the audit chain's digest as one JSON line: the last sealed row (of the end "
            "of --date, default now), its hash and the number of rows chained up to it. Run "
            "daily after seal_audit and keep the line outside the database (mail it, print "
            "it): verify_audit --expect ID:HASH later shows the trail was not rewritten.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD: the chain as of the end of that day")
        parser.add_argument("--output", "-o", help="append the line to FILE as well")

    def handle(self, *args, date=None, output=None, **options):
        until = None
        if date:
            try:
                day = datetime.date.fromisoformat(date)
            except ValueError:
                raise CommandError(f"--date {date!r}: give a date as YYYY-MM-DD.") from None
            until = timezone.make_aware(datetime.datetime.combine(
                day + datetime.timedelta(days=1), datetime.time.min)) - datetime.timedelta(
                microseconds=1)
        digest = {"date": date or timezone.localdate().isoformat(), **audit_digest(until=until)}
        line = json.dumps(digest, sort_keys=True)
        self.stdout.write(line)
        if output:
            with open(output, "a", encoding="utf-8") as file:
                file.write(line + "\n")
