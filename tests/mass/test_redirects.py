"""safe_next: the one check of a ``next`` address (mass.redirects), used by every view that
goes back where a form was posted from."""

import pytest
from django.test import RequestFactory

from mass.redirects import safe_next


@pytest.mark.parametrize(("data", "expected"), [
    ({"next": "/patients/12/?tab=social"}, "/patients/12/?tab=social"),
    ({"next": "https://evil.example/steal"}, "/home/"),
    ({"next": "//evil.example/steal"}, "/home/"),
    ({"next": "patients:detail"}, "/home/"),  # a bare word: redirect() would reverse it
    ({"next": "/\\evil.example"}, "/home/"),
    ({}, "/home/"),
])
def test_safe_next_keeps_only_a_path_of_this_site(data, expected):
    assert safe_next(RequestFactory().post("/x/", data), "/home/") == expected


def test_safe_next_reads_the_query_string_when_the_form_has_none():
    request = RequestFactory().post("/x/?next=/dispensary/", {})
    assert safe_next(request, "/home/") == "/dispensary/"
    request = RequestFactory().post("/x/?next=/dispensary/", {"next": "/patients/"})
    assert safe_next(request, "/home/") == "/patients/"
