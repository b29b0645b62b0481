"""What the benchmarks with a database of their own share (bench/dispensary.py,
bench/reporting.py, bench/pages.py): ``bench_<name>`` on the configured PostgreSQL server,
created and migrated, then dropped at the end, or kept (``--keep``) and measured again
without loading (``--reuse``). Not a benchmark (``python -m bench`` leaves out names that
begin with an underscore)."""

import os


def add_options(parser) -> None:
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--reuse", action="store_true",
                        help="measure on the database kept by a previous --keep run")


def setup(name: str) -> None:
    """Django with the test settings, its test database named ``name``."""
    os.environ.setdefault("DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mass.config.settings_test")
    os.environ["TEST_DATABASE_NAME"] = name
    import django
    django.setup()
    from django.conf import settings
    settings.ALLOWED_HOSTS = ["*"]


def open_database(name: str, *, reuse: bool) -> str:
    """Connect to ``name``: created and migrated, or the kept one. Returns the name of the
    database to go back to (:func:`close_database`)."""
    from django.db import connection
    if not reuse:
        return connection.creation.create_test_db(verbosity=0, autoclobber=True)
    old_name = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    return old_name


def close_database(name: str, old_name: str, *, keep: bool) -> None:
    """Drop ``name``, or keep it (``keep``: --keep or --reuse) and say so."""
    from django.db import connection
    connection.close()
    if keep:
        print(f"kept the database {name} (--reuse measures again on it; DROP DATABASE {name} "
              f"drops it)")
    else:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def one_connection() -> None:
    """Keep one connection across the test client's requests, as a production server does
    (CONN_MAX_AGE), so that a request's queries can be counted and a transaction opened
    around many requests lasts."""
    from django.core import signals
    from django.db import close_old_connections, reset_queries
    signals.request_started.disconnect(close_old_connections)
    signals.request_started.disconnect(reset_queries)
    signals.request_finished.disconnect(close_old_connections)
