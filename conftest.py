"""Starts the embedded PostgreSQL before the suite, so that ``pytest`` and ``python -m pytest``
work on their own (``make test`` has started it already). The settings, read earlier by
pytest-django, only computed its address: the one it takes when it starts (its socket in
var/pgdata, PostgreSQL's default port), so starting it here, before any test connects, is in
time. A conftest at the root rather than a ``-p`` plugin: pytest imports ``-p`` plugins before
the project folder is on the import path, so a bare ``pytest`` could not load it."""

from mass.database import embedded


def pytest_configure(config):
    if embedded.used():
        embedded.start()
