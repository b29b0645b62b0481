"""The year not over yet is marked "in progress" on its page and in the list of years, and
each year's page links to the years before and after (issue 14)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from reporting.views import FIRST_YEAR
from tests.factories import VisitFactory

pytestmark = pytest.mark.django_db


def page(client, year):
    return client.get(reverse("reporting:file_active", args=[year])).content.decode()


def test_the_current_year_is_marked_in_progress_and_has_no_link_forward(coordinator_client):
    this_year = timezone.localdate().year
    content = page(coordinator_client, this_year)
    assert "data-in-progress" in content and "data-year-in-progress" in content
    assert "data-next-year" not in content
    assert reverse("reporting:file_active", args=[this_year - 1]) in content


def test_last_year_links_forward_to_the_year_in_progress(coordinator_client):
    this_year = timezone.localdate().year
    content = page(coordinator_client, this_year - 1)
    assert "data-in-progress" not in content and "data-year-in-progress" not in content
    forward = reverse("reporting:file_active", args=[this_year])
    assert f'href="{forward}" rel="next" data-next-year' in content
    assert coordinator_client.get(forward).status_code == 200


def test_the_first_year_has_no_link_back_to_a_missing_page(coordinator_client):
    content = page(coordinator_client, FIRST_YEAR)
    assert "data-previous-year" not in content
    assert "data-next-year" in content


def test_the_list_of_years_marks_the_year_in_progress(coordinator_client):
    this_year = timezone.localdate().year
    VisitFactory(date=timezone.localdate())
    VisitFactory(date=timezone.localdate().replace(year=this_year - 1, day=1))
    content = coordinator_client.get(reverse("reporting:index")).content.decode()
    rows = {year: content.split(f'data-year="{year}"')[1].split("</tr>")[0]
            for year in (this_year, this_year - 1)}
    assert "data-in-progress" in rows[this_year]
    assert "data-in-progress" not in rows[this_year - 1]
