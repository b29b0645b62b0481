"""Starts the embedded PostgreSQL before the suite, so that ``python -m pytest`` works on its
own (``make test`` has started it already). A plugin (``-p tests.database_plugin`` in
pyproject.toml) rather than tests/conftest.py: it must run before pytest-django reads the
settings, which compute the server's address from the running server's postmaster.pid."""

import pytest

from mass.database import embedded


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    if embedded.used():
        embedded.start()
    return (yield)
