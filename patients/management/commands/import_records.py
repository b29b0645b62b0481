from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mass.database.roles import owner_connection
from patients.importer import ImportFailed, import_records


class Command(BaseCommand):
    help = ("Load history exported from a previous system: patients.csv, episodes.csv, "
            "visits.csv, consultations.csv, income.csv (docs/interfaces.md). All or nothing: "
            "on any error nothing is written, and every error names file, line and column.")

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--dry-run", action="store_true",
                            help="Check everything, write nothing.")

    def handle(self, *args, directory, dry_run, **options):
        try:
            # A bulk load (staging tables, TRUNCATE, ANALYZE, the file-number sequence): the
            # owner's work, like a migration (MIGRATE_DATABASE_URL).
            with owner_connection():
                result = import_records(directory, dry_run=dry_run)
        except ImportFailed as failure:
            for error in failure.errors:
                self.stderr.write(str(error))
            # The files named in the error itself, for a script or a log that keeps only it.
            files = sorted({str(Path(directory) / error.file) for error in failure.errors})
            raise CommandError(ngettext("%(n)s error in %(files)s: nothing was imported.",
                                        "%(n)s errors in %(files)s: nothing was imported.",
                                        len(failure.errors))
                               % {"n": len(failure.errors), "files": ", ".join(files)}) from None
        counts = ", ".join(f"{file}: {n}" for file, n in result.counts.items()) or _("no file")
        if dry_run:
            self.stdout.write(_("Dry run: no error; nothing written (%(counts)s).")
                              % {"counts": counts})
        else:
            self.stdout.write(self.style.SUCCESS(_("Imported %(counts)s.") % {"counts": counts}))
