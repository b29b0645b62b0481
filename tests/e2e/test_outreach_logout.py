"""Logging out erases the outreach page's store (Clear-Site-Data): with records of the round
not sent yet, the logout button of any page asks first, and cancelling keeps them."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import csp_errors, login
from tests.e2e.test_outreach import (  # noqa: F401  (round_world is a fixture)
    choose,
    device_contents,
    record_note,
    round_world,
    start_round,
    unlock,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]


def asked(page, questions):
    """Wait for the question: the guard counts the queue before it asks."""
    for _tick in range(100):
        if questions:
            return
        page.wait_for_timeout(50)
    raise AssertionError("the logout asked nothing")


def test_logout_asks_before_erasing_records_not_sent(page, steps, round_world):
    nurse, shelter, keke = round_world
    login(page, "e2e_outreach_nurse")
    start_round(page, shelter)
    choose(page, "Kéké", "Kéké Lasso")
    record_note(page, "Seen at the shelter, asks for a doctor.")
    assert len(device_contents(page)["stores"]["queue"]) == 1

    # From another page of the application: the question, and "Cancel" keeps everything.
    page.goto("/")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Log out").click()
    asked(page, questions)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert "not sent yet (1)" in questions[0]
    assert len(device_contents(page)["stores"]["queue"]) == 1

    # On the outreach page itself, a record made after the page was loaded is counted too.
    page.goto("/outreach/")
    unlock(page)
    choose(page, "Kéké", "Kéké Lasso")
    record_note(page, "Gave a leaflet about the night shelter.")
    questions.clear()
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Log out").click()
    asked(page, questions)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert "not sent yet (2)" in questions[0]

    # "OK" logs out, and the store goes with the session.
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    databases = page.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)")
    assert "mass-outreach" not in databases
    assert csp_errors(page) == []


def test_logout_asks_nothing_without_a_round(page, round_world):
    login(page, "e2e_outreach_nurse")
    page.goto("/")
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    assert questions == []
    # The guard did not create an empty store either.
    page.goto("/accounts/login/")
    databases = page.evaluate("async () => (await indexedDB.databases()).map((d) => d.name)")
    assert "mass-outreach" not in databases
