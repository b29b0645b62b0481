"""``migrate`` as the tables' owner (MIGRATE_DATABASE_URL; docs/security.md): the
application's own role may not change the schema."""

from django.core.management.commands import migrate

from mass.database.roles import owner_connection


class Command(migrate.Command):
    def handle(self, *args, **options):
        with owner_connection(options["database"]):
            return super().handle(*args, **options)
