from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from reporting import exports, services


class Command(BaseCommand):
    help = ("The yearly 'file active' figures of docs/domain.md, as on the page "
            "/reporting/file-active/<year>/ (JSON to stdout by default). Audited as an export.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--format", choices=list(exports.FORMATS), default="json")
        parser.add_argument(
            # Not --version: Django's commands print their own version with it.
            "--declaration", default="", dest="declaration",
            help="For a declared year: 'current' for today's records, or a declaration's "
                 "number; by default the latest declaration (today's records for a year "
                 "never declared). The output says which (declared_version).")
        parser.add_argument("--output", help="Write to this file instead of stdout (xlsx: the "
                                             "bytes of the spreadsheet go to stdout).")

    def handle(self, *args, year, format, output, declaration, **options):
        from reporting.models import DeclaredYear
        if not 1900 <= year <= 2999:
            raise CommandError("--year must be a year, e.g. 2016.")
        if declaration not in ("", "current") and not declaration.isdigit():
            raise CommandError("--declaration must be 'current' or a declaration's number.")
        version = int(declaration) if declaration.isdigit() else (declaration or None)
        binary_out = None
        if format == "xlsx" and not output:
            # A spreadsheet is bytes: they go to the binary layer of stdout
            # (``file_active --format xlsx > figures.xlsx``), never to a terminal.
            binary_out = getattr(self.stdout, "buffer", None)  # sys.stdout.buffer
            if binary_out is None:
                raise CommandError("--format xlsx: this output takes no bytes; use --output FILE.")
            if self.stdout.isatty():
                raise CommandError("--format xlsx writes a spreadsheet: redirect stdout to a "
                                   "file (> figures.xlsx) or use --output FILE.")
        from django.conf import settings
        with translation.override(settings.LANGUAGE_CODE):
            try:
                content, _type, _name = services.file_active_export(
                    year=year, fmt=format, actor=None, username=services.command_username(),
                    version=version)
            except DeclaredYear.DoesNotExist:
                raise CommandError(f"{year} has no declaration number {version}.") from None
        if output:
            with open(output, "wb") as handle:
                handle.write(content)
        elif binary_out is not None:
            self.stdout.flush()  # whatever the text layer holds goes first
            binary_out.write(content)
            binary_out.flush()
        else:
            self.stdout.write(content.decode(), ending="")
