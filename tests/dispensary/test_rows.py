"""The dispensing list's rows and the pages of one patient show a dose's cells from the
same macros (dispensary/rows.py, templates/jinja2/dispensary/cells.html): the same HTML on
both, escaped."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dispensary import rows
from dispensary.models import Prescription
from patients.models import Patient
from tests.conftest import EN
from tests.dispensary.conftest import day, give, history
from tests.factories import PatientFactory, PrescriptionFactory


def _cell(html: str, marker: str) -> str:
    """The element that carries ``marker`` (its opening tag to its closing one)."""
    match = re.search(rf'<(span|div) [^>]*{marker}[^>]*>.*?</\1>', html)
    assert match, marker
    return match.group(0)


def test_the_list_and_the_patient_page_show_the_same_cells(nurse_client, stock):
    rx = PrescriptionFactory(daily_dose=60, start_date=day(-5))
    history(rx, days_ago=[2])  # one day missed
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    record = nurse_client.get(reverse("dispensary:patient", args=[rx.patient_id]),
                              **EN).content.decode()
    for marker in ('data-missed="1"', 'data-part-state="due"'):
        assert _cell(listing, marker) == _cell(record, marker)
    assert "1 day missed" in _cell(record, 'data-missed="1"')
    # Given: the same line on both, with who gave it.
    assert give(nurse_client, rx).status_code == 302
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    record = nurse_client.get(reverse("dispensary:patient", args=[rx.patient_id]),
                              **EN).content.decode()
    assert _cell(listing, 'data-part-state="given"') == _cell(record, 'data-part-state="given"')


def test_values_in_the_rows_are_escaped(nurse_client, stock):
    patient = PatientFactory(alias='<b>"Jo" & l\'autre</b>')
    PrescriptionFactory(patient=patient, instructions="<script>x</script>")
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert "<b>" not in listing and "<script>x" not in listing
    # As Django escapes (&quot; and &#x27;, not MarkupSafe's &#34; and &#39;).
    assert "&lt;b&gt;&quot;Jo&quot; &amp; l&#x27;autre&lt;/b&gt;" in listing
    assert "&lt;script&gt;x&lt;/script&gt;" in listing


def test_the_any_lookup_reads_the_rows_of_the_ids_given(stock):
    """``field__any=ids`` (mass/database/lookups.py): the same rows as ``field__in``, with
    the ids as one array parameter, on a field and on a foreign key."""
    first, second, third = (PrescriptionFactory(start_date=day(-1)) for _ in range(3))
    ids = [first.patient_id, third.patient_id]
    assert set(Patient.objects.filter(pk__any=ids)) == {first.patient, third.patient}
    with CaptureQueriesContext(connection) as queries:
        found = set(Prescription.objects.filter(patient__any=ids))
    assert found == set(Prescription.objects.filter(patient__in=ids)) == {first, third}
    assert "= ANY(" in queries[0]["sql"] and second.patient_id not in ids
    assert not Patient.objects.filter(pk__any=[])


def test_the_any_lookup_takes_values_as_in_does(stock):
    first, second = (PrescriptionFactory(start_date=day(-1)) for _ in range(2))
    # Instances stand for their key; None matches nothing, also when excluded.
    assert set(Prescription.objects.filter(patient__any=[first.patient])) == {first}
    assert set(Prescription.objects.exclude(pk__any=[first.pk, None])) == {second}
    assert set(Prescription.objects.exclude(pk__in=[first.pk, None])) == {second}
    with pytest.raises(TypeError):
        list(Prescription.objects.filter(patient__any=Patient.objects.all()))


def test_a_patients_page_leaves_nothing_in_the_cells_kept_for_the_list(nurse_client, stock):
    """The cells kept from page to page (dispensary.rows._shared) are the list's only: a
    patient's page comes back to its own address, which names the patient."""
    rx = PrescriptionFactory(daily_dose=60, start_date=day(-5))
    history(rx, days_ago=[1])
    rows._shared.clear()
    page = nurse_client.get(reverse("dispensary:patient", args=[rx.patient_id]), **EN)
    assert "data-give" in page.content.decode() and rows._shared == {}
    nurse_client.get(reverse("dispensary:today"), **EN)
    assert rows._shared and "/patients/" not in repr(list(rows._shared.items()))
