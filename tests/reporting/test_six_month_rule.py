"""The 6-month rule (docs/domain.md) in every figure, export, list and the TDI file, on a
history as an earlier system hands it over: episodes left open by people who stopped coming
years ago, and a person back after a lapse without a new request."""

import csv
import datetime
import io
import json

import pytest

from reporting import selectors
from tests.factories import (
    EpisodeFactory,
    IncomeRecordFactory,
    PatientFactory,
    VisitFactory,
)

D = datetime.date


@pytest.fixture
def stale_history(db):
    people = {}
    # Opened 2013, last seen 2013, never closed: in treatment in 2013 only.
    people["gone"] = PatientFactory(alias="Gone 2013", file_number="R-1")
    EpisodeFactory(patient=people["gone"], opened_on=D(2013, 2, 1), kind="new")
    VisitFactory(patient=people["gone"], date=D(2013, 4, 10))
    IncomeRecordFactory(patient=people["gone"], date=D(2013, 2, 1), source="cpas")
    # Opened March 2015 with that single contact; back in 2016 with no new request.
    people["back"] = PatientFactory(alias="Back 2016", file_number="R-2")
    EpisodeFactory(patient=people["back"], opened_on=D(2015, 3, 15), kind="new")
    VisitFactory(patient=people["back"], date=D(2015, 3, 15))
    VisitFactory(patient=people["back"], date=D(2016, 5, 1))
    VisitFactory(patient=people["back"], date=D(2016, 6, 1))
    IncomeRecordFactory(patient=people["back"], date=D(2015, 3, 15), source="pension")
    # Closed by hand a month after the last contact: earlier than the rule's day, it stands.
    people["moved"] = PatientFactory(alias="Moved 2016", file_number="R-3")
    EpisodeFactory(patient=people["moved"], opened_on=D(2016, 1, 10), kind="new",
                   closed_on=D(2016, 3, 1), closure_reason="moved")
    VisitFactory(patient=people["moved"], date=D(2016, 2, 1))
    IncomeRecordFactory(patient=people["moved"], date=D(2016, 1, 10), source="salary")
    # In treatment all along: a contact every two months.
    people["steady"] = PatientFactory(alias="Steady", file_number="R-4")
    EpisodeFactory(patient=people["steady"], opened_on=D(2016, 1, 5), kind="new")
    for month in range(1, 13, 2):
        VisitFactory(patient=people["steady"], date=D(2016, month, 20))
    return people


def test_figures_apply_the_rule(stale_history):
    figures = {year: selectors.file_active_figures(year).figures
               for year in (2013, 2014, 2015, 2016)}
    assert figures[2013]["patients_in_treatment"] == 1  # gone, until its last contact
    assert figures[2014]["patients_in_treatment"] == 0  # not counted for ever
    assert figures[2015]["patients_in_treatment"] == 1  # back, opened and ended in 2015
    assert figures[2016]["patients_in_treatment"] == 2  # moved and steady; not back
    # Back in 2016 without a recorded request: active, but no resumption is invented.
    assert figures[2016]["annual_active_patients"] == 3
    assert figures[2016]["new_requests"] == 2 and figures[2016]["resumption_requests"] == 0
    assert figures[2016]["income_in_treatment"]["salary"] == 50.0
    assert figures[2016]["income_in_treatment"]["pension"] == 0.0


def test_explanation_list_and_exports_apply_the_rule(coordinator_client, stale_history):
    page = coordinator_client.get("/reporting/file-active/2016/explain/patients_in_treatment/",
                                  HTTP_ACCEPT_LANGUAGE="en")
    rows = {row[0]["value"]: row for row in page.context["rows"]}
    assert set(rows) == {"Moved 2016 (R-3)", "Steady (R-4)"}
    moved = {cell["value"] for cell in rows["Moved 2016 (R-3)"]}
    assert D(2016, 3, 1) in moved  # the hand closure, earlier than the rule's day
    income = coordinator_client.get(
        "/reporting/file-active/2016/explain/income_in_treatment/?source=pension")
    assert not income.context["rows"]
    exported = json.loads(coordinator_client.get("/reporting/file-active/2014/?format=json")
                          .content)
    assert exported["patients_in_treatment"] == 0
    lines = csv.reader(io.StringIO(coordinator_client.get(
        "/reporting/file-active/2016/?format=csv").content.decode()))
    assert dict(list(lines)[1:])["patients_in_treatment"] == "2"


def test_tdi_file_holds_requests_only(stale_history):
    rows = selectors.tdi_file_rows(2016)
    assert len(rows) == 2  # moved and steady; back's return is no treatment request
    assert [row["treatment_year"] for row in selectors.tdi_file_rows(2015)] == [2015]
