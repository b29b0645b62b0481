"""``next`` parameters: a redirect never leaves the site, and a value that is not a path is
not a server error (Django's ``redirect()`` tries a bare word as a view name). The campaign
found both; these are its findings written out."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from mass.accounts.roles import Role
from tests.factories import ConsultationFactory

NEXT = ["abc", "https://evil.example/", "//evil.example/", "/\\evil.example/",
        "javascript:alert(1)"]

#: URL key -> (who posts, the form's other fields); None for a GET.
VIEWS = {
    "consultations:sign": (Role.DOCTOR, {}),
    "social:situation": (Role.SOCIAL_WORKER, {"date": "2024-01-01", "source": "salary"}),
    "dispensary:dispense": (Role.NURSE, {"part": "day", "intoxication": "none",
                                         "action": "give", "hand_take_home": "on"}),
    "dispensary:cancel": (Role.DOCTOR, {"reason": "Recorded on the wrong day"}),
    "dispensary:prescription_end": (Role.DOCTOR, {"end_date": "", "reason": "Transferred"}),
    "two_factor_verify": (Role.NURSE, None),
    "two_factor_setup": (Role.NURSE, None),
    "language_set": (Role.NURSE, {"language": "nl"}),
}
#: What each answers: a form sent redirects; the ending form without a last day is shown
#: again, its ``next`` kept in the form; the set-up of a second factor is a page; its
#: verification, with no second factor waiting, sends the user on.
ANSWER = {key: 302 for key in VIEWS} | {"dispensary:prescription_end": 200,
                                        "two_factor_setup": 200}


def url_for(world, key, user):
    args = {
        "consultations:sign": lambda: [ConsultationFactory(patient=world.patient, author=user).pk],
        "social:situation": lambda: [world.patient.pk],
        "dispensary:dispense": lambda: [world.prescription.pk],
        "dispensary:cancel": lambda: [world.dispensation.pk],
        "dispensary:prescription_end": lambda: [world.prescription.pk],
    }.get(key)
    return reverse(key, args=args() if args else None)


@pytest.mark.parametrize("next_url", NEXT)
@pytest.mark.parametrize("key", list(VIEWS))
def test_next_stays_on_the_site(world, key, next_url):
    role, fields = VIEWS[key]
    user = world.users[role]
    client = Client(raise_request_exception=True)
    client.force_login(user)
    url = url_for(world, key, user)
    if fields is None:
        response = client.get(url, {"next": next_url})
    else:
        response = client.post(url, {**fields, "next": next_url})
    assert response.status_code == ANSWER[key], response.status_code
    if response.status_code == 302:
        location = response["Location"]
        assert url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}), location
        assert "evil.example" not in location
