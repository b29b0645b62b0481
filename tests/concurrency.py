"""Races on real connections. ``run_together`` releases functions at the same instant (the
invariant must hold whatever the order); ``while_held`` makes a race happen in one order: a
transaction of another connection holds its locks while a second one runs into them, and lets
go only once that one waits (PostgreSQL says so), so the outcome is one, not "either of two"."""

import threading
import time

from django.db import connection, transaction


def while_held(hold, act, *, timeout=30):
    """Run ``hold`` in a transaction on a connection of its own and keep it open; run ``act``
    on a third connection; once a backend of this database waits on a lock, commit the first.
    Return what ``act`` returned or raised (an exception is returned, not raised)."""
    held, release, results = threading.Event(), threading.Event(), {}

    def holder():
        try:
            with transaction.atomic():
                hold()
                held.set()
                release.wait(timeout)
        finally:
            connection.close()

    def actor():
        try:
            results["act"] = act()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            results["act"] = exc
        finally:
            connection.close()

    holding = threading.Thread(target=holder)
    holding.start()
    try:
        assert held.wait(timeout), "the holding transaction did not start"
        acting = threading.Thread(target=actor)
        acting.start()
        deadline = time.monotonic() + timeout
        while not a_backend_waits_on_a_lock():
            assert time.monotonic() < deadline, "the second transaction never waited"
            time.sleep(0.02)
    finally:
        release.set()
        holding.join(timeout)
    acting.join(timeout)
    assert not acting.is_alive(), "the second transaction did not finish"
    return results["act"]


def a_backend_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = "
                       "current_database() AND wait_event_type = 'Lock')")
        return cursor.fetchone()[0]


def run_together(*functions, timeout=30):
    """Run the functions in threads released at the same instant; return their results."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a request did not finish"
    return results
