from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from reporting import services


class Command(BaseCommand):
    help = ("The TDI file of a year for Sciensano: one row per treatment episode opened in the "
            "year, pseudonymised (see docs/features.md). Audited as an export.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int)
        parser.add_argument("--describe", action="store_true",
                            help="Print the file format (columns and codes) and stop.")
        parser.add_argument("--output", help="Write to this file instead of stdout.")

    def handle(self, *args, year, output, describe, **options):
        if describe:
            from reporting.exports import tdi_format_description
            self.stdout.write(tdi_format_description(), ending="")
            return
        if year is None or not 1900 <= year <= 2999:
            raise CommandError("--year must be a year, e.g. 2016.")
        try:
            content, _name, count = services.tdi_file_export(
                year=year, actor=None, username=services.command_username())
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        if output:
            with open(output, "wb") as handle:
                handle.write(content)
            self.stderr.write(f"{count} episodes written to {output}")
        else:
            self.stdout.write(content.decode(), ending="")
