"""The breakdown by site adds up to the contacts: each contact (a patient on a day) counts once,
dispensations at the centre (they have no site of their own)."""

import datetime
import io

from openpyxl import load_workbook

from mass.models import Site
from tests.factories import GroupAttendanceFactory, GroupSessionFactory, SiteFactory, VisitFactory

D = datetime.date
PAGE = "/reporting/file-active/2025/"


def add_outreach(history):
    """On top of the hand-built year: G seen only at a shelter (04-01); C at the shelter on
    06-17, the day of the withheld dose at the centre; B at a shelter group on 06-16, the day
    of the walk-in at the centre; H at a walk-in whose site was not recorded (08-01)."""
    shelter = SiteFactory(name="Abri de nuit", kind=Site.Kind.SHELTER)
    VisitFactory(patient=history.G, date=D(2025, 4, 1), site=shelter)
    VisitFactory(patient=history.C, date=D(2025, 6, 17), site=shelter)
    GroupAttendanceFactory(patient=history.B,
                           session=GroupSessionFactory(date=D(2025, 6, 16), site=shelter))
    VisitFactory(patient=history.H, date=D(2025, 8, 1), site=None)


def test_site_rows_add_up_to_the_patient_contacts(coordinator_client, history):
    add_outreach(history)

    response = coordinator_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")

    contacts = response.context["current"].figures["patient_contacts"]
    assert contacts == 9 + 2  # G 04-01 and H 08-01 are new contacts; C and B were there
    rows = [(row["label"], row["patients"], row["contacts"])
            for row in response.context["sites"]]
    assert rows == [("MASS Woeringen", 4, 7), ("Abri de nuit", 1, 1),
                    ("Several sites", 2, 2), ("Site not recorded", 1, 1)]
    assert sum(contacts for _label, _patients, contacts in rows) == contacts
    html = response.content.decode()
    assert f"data-sites-total>{contacts}<" in html and "Several sites" in html


def test_dispensing_only_days_count_at_the_centre(coordinator_client, history):
    # C's withheld dose on 06-17 is C's only record that day: it no longer vanishes.
    response = coordinator_client.get(PAGE)
    rows = response.context["sites"]
    assert [(row["site_name"], row["contacts"]) for row in rows] == [("MASS Woeringen", 9)]
    assert response.context["sites_contacts"] == \
        response.context["current"].figures["patient_contacts"] == 9


def test_spreadsheet_site_rows_add_up_too(coordinator_client, history):
    add_outreach(history)

    content = coordinator_client.get(PAGE + "?format=xlsx", HTTP_ACCEPT_LANGUAGE="en").content

    workbook = load_workbook(io.BytesIO(content))
    figures = {row[0]: row[2] for row in workbook.worksheets[0].iter_rows(values_only=True)}
    sites = [row for row in workbook.worksheets[1].iter_rows(values_only=True)
             if row[0] == "site"]
    assert [(row[2], row[4]) for row in sites] == [
        ("MASS Woeringen", 7), ("Abri de nuit", 1), ("Several sites", 2),
        ("Site not recorded", 1)]
    assert [row[1] for row in sites[2:]] == ["several", None]  # the group column
    assert sum(row[4] for row in sites) == figures["patient_contacts"] == 11
