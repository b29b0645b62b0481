"""Import a lab's CSV file from the server's disk (a lab's export dropped there), with the
rules and the all-or-nothing of the doctors' upload form (labs.services.lab_results_import),
in the name of the staff member who asks for it (audited as theirs)."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from labs import services
from mass.models import User


class Command(BaseCommand):
    help = "Import a lab's CSV file of results: every line or none."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--user", required=True,
                            help="the username of the doctor the import is recorded for")

    def handle(self, *args, path: Path, user: str, **options):
        try:
            actor = User.objects.get(username=user, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active staff member {user!r}.") from None
        if not actor.has_perm("labs.add_labimport"):
            raise CommandError(f"{user} may not import lab files.")
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(str(error)) from None
        try:
            imported = services.lab_results_import(file_name=path.name, content=content,
                                                   actor=actor)
        except ValidationError as error:
            raise CommandError("Nothing imported:\n" + "\n".join(error.messages)) from None
        self.stdout.write(f"{imported.rows} results imported from {imported.file_name}.")
