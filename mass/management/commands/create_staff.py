import getpass

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mass import services
from mass.accounts.roles import Role


class Command(BaseCommand):
    help = ("Create a staff account with roles, e.g. the first coordinator of a new "
            "installation (who then manages every other account from the Staff page).")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", action="append", required=True,
                            choices=[role.value for role in Role], dest="roles")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, roles, first_name, last_name, email, **options):
        from mass.models import User
        if User.objects.filter(username=username).exists():
            raise CommandError(f"An account named {username!r} exists already.")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        try:
            password_validation.validate_password(password, User(username=username))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        services.staff_create(username=username, first_name=first_name, last_name=last_name,
                              email=email, roles=roles, password=password, actor=None,
                              # Typed by the member at the server: theirs already.
                              must_change_password=False,
                              # Whoever runs it at the server gives the roles at once:
                              # the first coordinator has no second person to ask.
                              second_person=False)
        self.stdout.write(self.style.SUCCESS(f"Account {username} created with roles "
                                             f"{', '.join(roles)}."))
