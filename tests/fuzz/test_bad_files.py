"""Hostile text into the files the application writes, hostile files into the one it reads
(issue 13, part 7): no formula and no control character reaches a spreadsheet cell, and
``import_records`` answers any file with an import error naming it, never a traceback."""

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from mass.spreadsheet import FORMULA_START, safe_cell
from patients.importer import ImportFailed, import_records

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.builds(
    lambda start, rest: start + rest, st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\x00"]),
    st.text(max_size=20))


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(value=TEXT)
def test_safe_cell_is_never_a_formula_and_always_a_valid_cell(value):
    cell = safe_cell(value)
    workbook = Workbook()
    workbook.active.append([cell])  # openpyxl refuses control characters: none left
    buffer = io.BytesIO()
    workbook.save(buffer)
    read = load_workbook(buffer).active["A1"]
    assert read.data_type != "f"  # never a formula
    assert not str(read.value or "").startswith(FORMULA_START)


CSV_TEXT = st.lists(st.lists(st.text(max_size=8), min_size=1, max_size=7), max_size=4)


@pytest.mark.django_db
@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.database_owner  # import_records is the owner's work (docs/security.md)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "latin-1"])
@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=CSV_TEXT, name=st.sampled_from(["patients.csv", "episodes.csv", "visits.csv"]))
def test_import_of_any_file_is_an_import_error_or_an_import(tmp_path_factory, end, encoding,
                                                              rows, name):
    directory = tmp_path_factory.mktemp("import")
    header = {"patients.csv": "file_number,alias", "episodes.csv": "file_number,opened_on,kind",
              "visits.csv": "file_number,date"}[name]
    text = end.join([header, *(",".join(row) for row in rows)]) + end
    (directory / name).write_bytes(text.encode(encoding, errors="replace"))
    try:
        import_records(directory, dry_run=True)
    except ImportFailed as failure:
        assert failure.errors
        assert all(error.file == name for error in failure.errors)
