import pytest

from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_reaches_start_page_without_csp_errors(page, steps, staff_factory):
    from mass.accounts.roles import Role
    staff_factory(Role.RECEPTION, username="e2e_reception")
    page.goto("/")
    steps.shot("login-page")
    assert "/accounts/login/" in page.url
    login(page, "e2e_reception")
    # Reception's start page is the desk itself.
    page.wait_for_url("**/reception/")
    steps.shot("start-page")
    assert page.locator("[data-arrival-search]").is_visible()
    assert page.locator("[data-nav=reception]").first.is_visible()
    assert page.locator("nav").is_visible()
    # A strict CSP that blocked our own scripts or styles would show up here.
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
