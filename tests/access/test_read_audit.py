"""Every page that shows a patient's data writes a read row naming that patient.

Walks the access matrix (tests/access/test_matrix.py): for every URL and role that gets a page
(200), if the page shows a patient of the world (their alias, file number or any confidential
text of theirs), the request must have written an audit row naming that patient: a read of
their file (``patient``), or one list event naming every patient listed (``details
["patients"]``). A new page that shows patients without auditing fails here.
"""

import pytest
from django.db import transaction
from django.test import Client

from mass.models import AuditEvent
from tests.access.test_matrix import MATRIX, role_id
from tests.access.world import ROLES, day, world_url

#: Lists that show patients only when asked: the searches, and the dispensing list searched.
#: Walked on top of the matrix's URLs (same statuses).
SEARCHES = {
    "patients:search": lambda w: f"?q={w.patient.file_number}",
    "reception:search": lambda w: f"?q={w.patient.file_number}",
    "dispensary:today": lambda w: f"?q={w.patient.alias}",
    "consultations:create": lambda w: f"?q={w.patient.file_number}",
}


def shown_patients(world, content: bytes) -> set[int]:
    """The patients of the world whose data the page shows."""
    signs = {world.patient.pk: [*world.markers.values(), world.patient.file_number],
             world.other_patient.pk: [world.other_patient.file_number,
                                      world.other_patient.alias]}
    return {pk for pk, texts in signs.items()
            if any(text.encode() in content for text in texts)}


def named_patients(events) -> set[int]:
    named = set()
    for event in events:
        if event.patient_id:
            named.add(event.patient_id)
        named.update(event.details.get("patients", []) if isinstance(event.details, dict) else [])
    return named


def audited_request(client, method: str, url: str):
    """The response, its content and the audit rows it wrote (then undone)."""
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with transaction.atomic():
        response = getattr(client, method.lower())(url)
        content = response.content if not response.streaming else b"".join(
            response.streaming_content)
        events = list(AuditEvent.objects.filter(pk__gt=last))
        transaction.set_rollback(True)
    return response, content, events


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_every_page_showing_a_patient_writes_a_read_row(world, role):
    """Every page the role gets (GET, and a form shown again after an empty POST) that shows
    a patient of the world has written a row naming them. The world's patient also came
    today, so that the reception board lists them."""
    from tests.factories import VisitFactory
    VisitFactory(patient=world.patient, date=day(), site=world.site)  # on today's board
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    column = ROLES.index(role)
    unaudited = []
    walk = [(key, method, statuses, world_url(world, key))
            for key, methods in MATRIX.items() for method, statuses in methods.items()]
    walk += [(key, "GET", MATRIX[key]["GET"], world_url(world, key).split("?")[0] + query(world))
             for key, query in SEARCHES.items()]
    for key, method, statuses, url in walk:
        if statuses[column] != 200:
            continue
        client.force_login(world.users[role])
        _response, content, events = audited_request(client, method, url)
        missing = shown_patients(world, content) - named_patients(events)
        if missing:
            unaudited.append(f"{method} {key} ({url}) shows patients {sorted(missing)} "
                             f"without a read row")
    assert not unaudited, f"{role_id(role)}:\n" + "\n".join(unaudited)
