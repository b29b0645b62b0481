from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from reporting import exports, services


class Command(BaseCommand):
    help = ("The yearly 'file active' figures of docs/domain.md, as on the page "
            "/reporting/file-active/<year>/ (JSON to stdout by default). Audited as an export.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--format", choices=list(exports.FORMATS), default="json")
        parser.add_argument("--output", help="Write to this file instead of stdout.")

    def handle(self, *args, year, format, output, **options):
        if not 1900 <= year <= 2999:
            raise CommandError("--year must be a year, e.g. 2016.")
        if format == "xlsx" and not output:
            raise CommandError("--format xlsx needs --output FILE (a spreadsheet is binary).")
        from django.conf import settings
        with translation.override(settings.LANGUAGE_CODE):
            content, _type, _name = services.file_active_export(
                year=year, fmt=format, actor=None, username=services.command_username())
        if output:
            with open(output, "wb") as handle:
                handle.write(content)
        else:
            self.stdout.write(content.decode(), ending="")
