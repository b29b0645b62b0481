import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from mass.database import backups
from mass.database.roles import connection_settings, grant_app_privileges, owner_connection


class Command(BaseCommand):
    help = ("Restore a file made by `manage.py backup`, all or nothing (one transaction). "
            "By default into the configured database, which must be empty (a freshly created "
            "one) unless --replace is given; with --into NAME into a new database NAME on the "
            "same server (a restore drill, or a copy to inspect before switching over).")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--into", metavar="NAME",
                            help="create database NAME on the same server and restore there")
        parser.add_argument("--replace", action="store_true",
                            help="drop the objects of the configured database first")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help="do not ask for confirmation of --replace")

    def handle(self, *args, **options):
        # Creating a database and its tables is the owner's work (MIGRATE_DATABASE_URL).
        with owner_connection():
            self.restore(**options)

    def restore(self, *, file, into=None, replace=False, interactive=True, **options):
        archive = Path(file).resolve()
        self.check_arguments(archive, into=into, replace=replace)
        major = backups.server_major_version()
        pg_restore = backups.find_tool("pg_restore", minimum_major=major)
        env = backups.client_env()
        tables = backups.archive_table_count(pg_restore, archive, env)  # refuses a bad file
        target = into or backups.database_name()
        if into:
            self.create_database(into)
        else:
            self.check_target(target, replace=replace, interactive=interactive)
            # Our own connection would keep locks on what --clean drops.
            connections.close_all()
        try:
            self.load(pg_restore, archive, env, target=target, replace=replace)
        except CommandError:
            if into:
                with backups.connect("postgres") as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{into}"')
            raise
        if role := settings.MASS_APP_DATABASE_ROLE:
            # The archive carries no privileges (--no-privileges): the application's are
            # given again, as after a migrate (on the new database too, for a switch-over).
            connection = connections["default"]
            with connection_settings(connection, NAME=target):
                grant_app_privileges(connection, role)
        self.stdout.write(f"Restored {archive} ({tables} tables) into database {target}.")

    @staticmethod
    def check_arguments(archive: Path, *, into, replace) -> None:
        if not archive.is_file():
            raise CommandError(f"{archive}: no such file.")
        if into and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", into):
            raise CommandError("--into: letters, digits and _ only.")
        if into and replace:
            raise CommandError("--into makes a new database: --replace does not apply.")

    @staticmethod
    def create_database(name: str) -> None:
        """A new database on the same server for --into; never one that exists."""
        with backups.connect("postgres") as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [name]).fetchone():
                raise CommandError(f"Database {name} exists already: choose a new name.")
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')

    @staticmethod
    def check_target(target: str, *, replace, interactive) -> None:
        """The configured database is restored into only when empty, or with --replace (and
        its name typed back, unless --no-input)."""
        if backups.user_table_count(target) and not replace:
            raise CommandError(
                f"Database {target} is not empty. Restore into a new database with --into "
                f"NAME, or give --replace to drop its objects first.")
        if replace and interactive:
            answer = input(f"This deletes everything in database {target} and puts the backup "
                           f"in its place. Type the database name to go on: ")
            if answer.strip() != target:
                raise CommandError("Restore cancelled.")

    @staticmethod
    def load(pg_restore: str, archive: Path, env: dict, *, target: str, replace: bool) -> None:
        """pg_restore in one transaction, the extensions made first."""
        command = [pg_restore, "--single-transaction", "--exit-on-error", "--no-owner",
                   "--no-privileges", "--no-password", f"--dbname={target}"]
        if replace:
            command += ["--clean", "--if-exists"]
        with backups.connect(target) as conn:
            # The extensions are made here, not from the archive: dropping or commenting
            # one takes its owner, often the administrator who created it.
            for extension in backups.EXTENSIONS:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        with backups.archive_list_without_extensions(pg_restore, archive, env) as listing:
            backups.run(command + [f"--use-list={listing}", str(archive)],
                        env=backups.client_env(database=target))
