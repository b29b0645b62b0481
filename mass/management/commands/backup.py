import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from mass.database import backups


class Command(BaseCommand):
    help = ("Back up the configured database with pg_dump (custom format, compressed) to FILE "
            "or to BACKUP_DIR/mass-<database>-<date>-<time>.dump. The file is readable by its "
            "owner only: it holds health data.")

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: under BACKUP_DIR)")

    def handle(self, *args, output=None, **options):
        dbname = backups.database_name()
        major = backups.server_major_version()
        pg_dump = backups.find_tool("pg_dump", minimum_major=major)
        pg_restore = backups.find_tool("pg_restore", minimum_major=major)
        if output:
            target = Path(output).resolve()
        else:
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            target = Path(settings.BACKUP_DIR) / f"mass-{dbname}-{stamp}.dump"
        target.parent.mkdir(parents=True, exist_ok=True)
        env = backups.client_env()
        # Written beside the target and renamed when complete: a failed or interrupted
        # backup never leaves a file that looks like a good one.
        fd, partial_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                            dir=target.parent)
        os.close(fd)
        partial = Path(partial_name)
        partial.chmod(0o600)
        try:
            backups.run([pg_dump, "--format=custom", "--compress=6", "--no-password",
                         f"--file={partial}", dbname], env=env)
            tables = backups.archive_table_count(pg_restore, partial, env)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        size = target.stat().st_size
        self.stdout.write(f"Backup of database {dbname} (PostgreSQL {major}, {tables} tables) "
                          f"written to {target} ({size:,} bytes) with {pg_dump}.")
