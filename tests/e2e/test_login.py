import pytest

from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_reaches_start_page_without_csp_errors(page, steps, staff_factory):
    from mass.roles import Role
    staff_factory(Role.RECEPTION, username="e2e_reception")
    page.goto("/")
    steps.shot("login-page")
    assert "/accounts/login/" in page.url
    login(page, "e2e_reception")
    steps.shot("start-page")
    assert page.url.endswith("/") and "/accounts/login/" not in page.url
    assert page.locator("[data-section=reception]").first.is_visible()
    assert page.locator("nav").is_visible()
    # A strict CSP that blocked our own scripts or styles would show up here.
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
