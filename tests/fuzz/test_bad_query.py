"""Bad query strings: every page of the access matrix, opened by a role that may see it, with
random and hostile query parameters (the fields of its search and filter forms, and names
views read such as ``page``, ``q``, ``format``, ``as_of``, ``from``, ``next``, ``site``).

- never a server error;
- a GET changes nothing (only the session, reads and exports in the audit trail, and the
  pending authenticator the set-up page shows);
- what was typed never comes back unescaped;
- no page shows a confidential text its reader may not read, whatever the filters.
"""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.access.test_matrix import MATRIX, READERS
from tests.access.world import ROLES, day, world_url
from tests.fuzz.htmlforms import get_fields
from tests.fuzz.test_bad_input import (
    PARAMETERS,
    SWEEP,
    assert_escaped,
    hostile,
    plausible,
    weighted,
    writes,
)

EXAMPLES = 6

#: Tables a GET may write: the authenticator the set-up page shows (pending until confirmed).
GET_MAY_WRITE = {"two_factor_setup": {"otp_totp_totpdevice"}}
#: A GET may record a read, a search, and an export (the figures downloaded).
GET_MAY_AUDIT = {AuditEvent.Action.VIEW, AuditEvent.Action.SEARCH, AuditEvent.Action.EXPORT}


#: GET URLs that answer a file, not a page with forms (the identification photo: a JPEG).
NOT_PAGES = {"patients:photo"}


def pages():
    """(URL key, the first role that gets the page) for every page of the matrix."""
    for key, methods in MATRIX.items():
        statuses = methods.get("GET", ())
        if 200 in statuses and key not in NOT_PAGES:
            yield key, ROLES[statuses.index(200)]


def explanations():
    """The list behind each yearly figure, with its own filters (month, week, day...)."""
    from reporting.explain import EXPLANATIONS
    return [(f"reporting:file_active_explain[{figure}]", Role.COORDINATOR)
            for figure in EXPLANATIONS if figure != "annual_active_patients"]


PAGES = list(pages()) + explanations()


def page_url(world, key: str) -> str:
    if key.startswith("reporting:file_active_explain["):
        return reverse("reporting:file_active_explain",
                       args=[day().year, key[len("reporting:file_active_explain["):-1]])
    return world_url(world, key)


_FIELDS = {}


# Complexity 21, kept: each kind of bad query string, checked in turn on every page.
@pytest.mark.parametrize("key,role", PAGES, ids=[key for key, _role in PAGES])
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_bad_query(world, key, role, data):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users[role])
    url = page_url(world, key)
    if key not in _FIELDS:
        _FIELDS[key] = get_fields(client.get(url).content.decode(), page_url=url)
    fields = _FIELDS[key]
    query = {}
    for name, f in sorted(fields.items()):
        value = data.draw(weighted((2, plausible(f)), (2, hostile()), (1, st.none())),
                          label=name)
        if value is not None:
            query[name] = value
    extra = data.draw(st.dictionaries(st.sampled_from(PARAMETERS), hostile(), max_size=3),
                      label="parameters")
    query.update(extra)
    base, _sep, fixed = url.partition("?")
    if fixed:  # a quick-entry page keeps its patient
        query.update(dict(item.split("=", 1) for item in fixed.split("&")))
    forbidden = {marker: text for marker, text in world.markers.items()
                 if role not in READERS[marker]}
    with transaction.atomic():
        before = writes()
        htmx = {"HTTP_HX_REQUEST": "true"} if data.draw(st.booleans(), label="htmx") else {}
        response = client.get(base, query, **htmx)
        after = writes()
        assert response.status_code < 500, response.status_code
        content = b"".join(response.streaming_content) if response.streaming \
            else response.content
        assert_escaped(content, url)
        shown = [marker for marker, text in forbidden.items() if text.encode() in content]
        assert not shown, f"{key} shows {shown} to {role.value}"
        ignored = {"django_session", "mass_auditevent", *GET_MAY_WRITE.get(key, ())}
        written = [name for name, counts in after[0].items()
                   if counts != before[0].get(name, [0, 0, 0]) and name not in ignored]
        written += [action for action, count in after[1].items()
                    if count != before[1].get(action, 0) and action not in GET_MAY_AUDIT]
        assert not written, f"GET {key} wrote {written}"
        transaction.set_rollback(True)


@pytest.mark.parametrize("key,role", PAGES, ids=[key for key, _role in PAGES])
def test_worst_values_in_every_query_field(world, key, role):
    """Deterministic: the values that broke something once, in every field of the page's
    search and filter forms and as ``page`` and ``q``, where random draws may miss one."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users[role])
    url = page_url(world, key)
    fields = get_fields(client.get(url).content.decode(), page_url=url)
    base, _sep, fixed = url.partition("?")
    kept = dict(item.split("=", 1) for item in fixed.split("&")) if fixed else {}
    for name in sorted({*fields, "page", "q"}):
        for value in SWEEP:
            with transaction.atomic():
                response = client.get(base, {**kept, name: value})
                assert response.status_code < 500, \
                    f"server error on GET {base} with {name}={value[:20]!r}"
                if not response.streaming:
                    assert_escaped(response.content, f"{url} with {name}")
                transaction.set_rollback(True)
