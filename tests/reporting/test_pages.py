import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.factories import ConsultationFactory, EpisodeFactory, VisitFactory
from tests.reporting.conftest import EXPECTED_2025

PAGE = "/reporting/file-active/2025/"


def test_url_names_of_the_contract():
    assert reverse("reporting:index") == "/reporting/"
    assert reverse("reporting:file_active", args=[2016]) == "/reporting/file-active/2016/"
    assert reverse("reporting:tdi", args=[7]) == "/reporting/tdi/7/"


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST,
                                  Role.PSYCHOLOGIST, Role.SOCIAL_WORKER])
@pytest.mark.parametrize("url", ["/reporting/", PAGE, PAGE + "?format=json",
                                 PAGE + "?format=csv", PAGE + "?format=xlsx",
                                 PAGE + "explain/annual_active_patients/",
                                 "/reporting/tdi/year/2025/", "/reporting/tdi/year/2025/export/"])
def test_only_coordinators_see_figures_and_exports(client, staff_factory, role, url):
    client.force_login(staff_factory(role))
    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_navigation_shows_yearly_figures_to_coordinators(client, coordinator_user,
                                                         reception_user):
    client.force_login(coordinator_user)
    assert 'data-nav="reporting"' in client.get("/").content.decode()
    client.force_login(reception_user)
    assert 'data-nav="reporting"' not in client.get("/").content.decode()


def test_index_lists_years_from_first_record(coordinator_client, db):
    import datetime

    from django.utils import timezone
    VisitFactory(date=datetime.date(2023, 5, 1))
    content = coordinator_client.get("/reporting/").content.decode()
    years = re.findall(r'data-year="(\d+)"', content)
    assert years == [str(y) for y in range(timezone.localdate().year, 2022, -1)]


def test_page_lays_out_seed_table_with_year_before(coordinator_client, history):
    response = coordinator_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    content = response.content.decode()
    assert response.status_code == 200
    figures = re.findall(r'data-figure="(\w+)"', content)
    assert figures[:9] == ["annual_active_patients", "monthly_active_patients_avg",
                           "weekly_active_patients_avg", "daily_distinct_patients_avg",
                           "daily_consultations_avg", "new_requests", "resumption_requests",
                           "patient_contacts", "consultations"]
    assert "Annual active caseload" in content and "2024" in content
    # The seed's rounding: averages shown as whole numbers, the exact value in the title.
    row = content.split('data-figure="daily_distinct_patients_avg"')[1].split("</tr>")[0]
    assert 'title="1.125"' in row
    # Charts: server-drawn SVG, two series, no script or inline style.
    assert content.count("<svg") == 2
    assert 'class="bar-current"' in content and 'class="bar-before"' in content
    assert "style=" not in content and "<script>" not in content
    # Breakdowns.
    assert 'data-breakdown="discipline"' in content and "Psychological" in content
    assert 'data-breakdown="sex"' in content and 'data-breakdown="age"' in content
    assert "MASS Woeringen" in content
    assert "25.0 %" in content


def test_page_in_french_and_dutch(client, coordinator_user, history):
    client.force_login(coordinator_user)
    for language in ("fr", "nl"):
        coordinator_user.language = language
        coordinator_user.save(update_fields=["language"])
        response = client.get(PAGE)
        assert response.status_code == 200
        assert f'lang="{language}"' in response.content.decode()


def test_page_refuses_future_years_and_unknown_format(coordinator_client, db):
    assert coordinator_client.get("/reporting/file-active/2999/").status_code == 404
    response = coordinator_client.get(PAGE + "?format=pdf")
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_page_post_not_allowed(coordinator_client, db):
    assert coordinator_client.post(PAGE).status_code == 405


def test_page_query_count_constant(coordinator_client, history, django_assert_num_queries):
    import datetime
    coordinator_client.get(PAGE)  # warm caches (session, permissions, content types)
    # Session, user, permissions and roles (one), saving the session (3); the figures and
    # breakdowns of both years and the sites in one query (the contacts aggregated once, its
    # settings one more; the consistency checks that read the contacts too), the income
    # distribution of each year (2); whether the year before was declared; the year's
    # declarations (2: the one shown, the list) and the TDI counts of its checks.
    with django_assert_num_queries(14):
        coordinator_client.get(PAGE)
    for day in range(1, 28):
        ConsultationFactory(date=datetime.date(2025, 2, day), discipline="other")
        EpisodeFactory(opened_on=datetime.date(2025, 3, day))
    with django_assert_num_queries(14):
        coordinator_client.get(PAGE)


def test_page_reads_the_contacts_of_both_years_once(coordinator_client, history):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reporting import selectors
    coordinator_client.get(PAGE)  # warm caches (session, permissions, content types)
    with CaptureQueriesContext(connection) as captured:
        response = coordinator_client.get(PAGE)
    # One query reads the records of contacts (walk-ins among them) for the figures of both
    # years, the sites and the consistency checks that need contacts (patients in treatment
    # without contact, contacts after a death); with its settings and the income of each
    # year, four queries for the figures.
    reading_contacts = [q["sql"] for q in captured.captured_queries
                        if '"patients_visit"' in q["sql"] or "patients_visit " in q["sql"]]
    assert len(reading_contacts) == 1 and "contacts_after_death" in reading_contacts[0]
    assert len(captured) == 14
    # And it gives what the figures of each year, their breakdowns and the sites give alone.
    current, before = response.context["current"], response.context["before"]
    alone = selectors.file_active_figures(2025, breakdowns=True)
    assert current.figures == alone.figures == EXPECTED_2025
    assert current.breakdowns == {**alone.breakdowns, "sites": selectors.site_breakdown(2025)}
    year_before = selectors.file_active_figures(2024, breakdowns=True)
    assert before.figures == year_before.figures
    assert before.breakdowns == {"monthly": year_before.breakdowns["monthly"]}
    assert before.figures["patient_contacts"] > 0  # the year before has contacts of its own


def test_csv_export_has_every_figure(coordinator_client, history):
    response = coordinator_client.get(PAGE + "?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="file-active-2025.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["figure", "value"]
    values = dict(rows[1:])
    assert values["annual_active_patients"] == "4"
    # Rounded as on the page (an average to a whole number); the JSON keeps 1.75.
    assert values["weekly_active_patients_avg"] == str(
        round(EXPECTED_2025["weekly_active_patients_avg"]))
    assert "." not in values["monthly_active_patients_avg"]
    assert values["income_in_treatment.unknown"] == "25.0"
    expected_keys = [key for key, value in EXPECTED_2025.items() if not isinstance(value, dict)]
    expected_keys += [f"income_in_treatment.{k}" for k in EXPECTED_2025["income_in_treatment"]]
    expected_keys += [f"income_in_treatment_counts.{k}"
                      for k in EXPECTED_2025["income_in_treatment_counts"]]
    expected_keys += ["declared_version", "declared_at", "sha256"]
    assert sorted(values) == sorted(expected_keys)


def test_xlsx_export_has_figures_and_breakdowns(coordinator_client, history):
    response = coordinator_client.get(PAGE + "?format=xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    figures_sheet, breakdowns_sheet = workbook.worksheets
    figures = {row[0]: row[2] for row in figures_sheet.iter_rows(min_row=2, values_only=True)}
    assert figures["patient_contacts"] == 9
    assert figures["daily_consultations_avg"] == pytest.approx(0.625)
    assert figures["income_in_treatment.cpas"] == 25.0
    assert len(figures) == len(EXPECTED_2025) - 2 + 8 + 8 + 3  # + the version's 3 keys
    rows = list(breakdowns_sheet.iter_rows(min_row=2, values_only=True))
    by = {(row[0], str(row[1])): row for row in rows}
    assert by[("month", "1")][3] == 2 and by[("month", "1")][5] == 2  # patients, consultations
    assert by[("discipline", "medical")][5] == 2
    assert by[("sex", "M")][3] == 2  # A and C
    assert by[("age_group", "unknown")][3] == 1  # D
    assert by[("age_group", "45-54")][3] == 1  # A, 45 in 2025
    assert sum(row[3] for row in rows if row[0] == "sex") == 4


def test_xlsx_export_lists_sexes_and_age_groups_in_a_fixed_order(coordinator_client, history):
    from patients.models import Patient
    from reporting.sql import AGE_GROUPS
    response = coordinator_client.get(PAGE + "?format=xlsx")
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[1]
                .iter_rows(min_row=2, values_only=True))
    sexes = [row[1] for row in rows if row[0] == "sex"]
    ages = [row[1] for row in rows if row[0] == "age_group"]
    assert len(sexes) > 1 and len(ages) > 1
    assert sexes == [sex for sex in Patient.Sex.values if sex in sexes]
    order = [label for label, _low, _high in AGE_GROUPS] + ["unknown"]
    assert ages == [group for group in order if group in ages]


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_every_export_is_audited(coordinator_client, coordinator_user, history, fmt):
    coordinator_client.get(PAGE + f"?format={fmt}")
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.actor == coordinator_user
    assert event.details["year"] == 2025 and event.details["format"] == fmt
    assert "2025" in event.summary


def test_page_itself_exports_nothing(coordinator_client, history):
    coordinator_client.get(PAGE)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_command_writes_the_same_files_as_the_page(coordinator_client, history, tmp_path):
    from django.core.management import call_command
    web_csv = coordinator_client.get(PAGE + "?format=csv").content
    call_command("file_active", "--year", "2025", "--format", "csv", "--output",
                 str(tmp_path / "fa.csv"))
    assert (tmp_path / "fa.csv").read_bytes() == web_csv
    call_command("file_active", "--year", "2025", "--format", "xlsx", "--output",
                 str(tmp_path / "fa.xlsx"))
    web = load_workbook(io.BytesIO(coordinator_client.get(PAGE + "?format=xlsx").content))
    cli = load_workbook(tmp_path / "fa.xlsx")
    # Same figures and breakdowns; the labels follow each reader's language.
    def values(sheet, columns):
        return [tuple(row[i] for i in columns) for row in sheet.iter_rows(values_only=True)]
    assert values(web.worksheets[0], (0, 2)) == values(cli.worksheets[0], (0, 2))
    assert values(web.worksheets[1], (0, 1, 3, 4, 5)) == values(cli.worksheets[1],
                                                              (0, 1, 3, 4, 5))
    assert len(list(cli.worksheets[1].iter_rows())) > 12
    events = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).order_by("id")
    assert [e.details["format"] for e in events] == ["csv", "csv", "xlsx", "xlsx"]
    assert events[1].actor is None and events[1].username.startswith("cli")


def binary_stdout() -> io.TextIOWrapper:
    """What sys.stdout is when redirected to a file: text over a binary ``buffer``."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8")


def spreadsheet_contents(data: bytes) -> list[tuple[str, list[tuple]]]:
    """Every sheet's title and cell values: what a reader sees. Two writes of one spreadsheet
    differ in their bytes (the zip stores each part's time), never in this."""
    workbook = load_workbook(io.BytesIO(data))
    return [(sheet.title, list(sheet.iter_rows(values_only=True)))
            for sheet in workbook.worksheets]


def test_command_writes_the_spreadsheet_to_stdout_without_output(history, tmp_path):
    from django.core.management import call_command
    call_command("file_active", "--year", "2025", "--format", "xlsx", "--output",
                 str(tmp_path / "fa.xlsx"))
    stdout = binary_stdout()

    call_command("file_active", "--year", "2025", "--format", "xlsx", stdout=stdout)

    written = stdout.buffer.getvalue()
    assert spreadsheet_contents(written) == spreadsheet_contents(
        (tmp_path / "fa.xlsx").read_bytes())
    figures = {row[0]: row[2] for row in load_workbook(io.BytesIO(written)).worksheets[0]
               .iter_rows(min_row=2, values_only=True)}
    assert figures["patient_contacts"] == EXPECTED_2025["patient_contacts"]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 2


class TerminalStdout(io.TextIOWrapper):
    def isatty(self):
        return True


@pytest.mark.parametrize("stdout", [
    lambda: io.StringIO(),  # no binary layer to write the bytes to
    lambda: TerminalStdout(io.BytesIO(), encoding="utf-8"),  # a spreadsheet on a terminal
])
def test_command_refuses_a_spreadsheet_where_bytes_cannot_go(history, stdout):
    from django.core.management import CommandError, call_command
    out = stdout()
    with pytest.raises(CommandError, match="--output FILE"):
        call_command("file_active", "--year", "2025", "--format", "xlsx", stdout=out)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_export_audit_row_holds_the_file_hash_and_the_figures(coordinator_client, history, fmt):
    import hashlib

    content = coordinator_client.get(PAGE + f"?format={fmt}").content

    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.details["sha256"] == hashlib.sha256(content).hexdigest()
    assert event.details["bytes"] == len(content)
    # The figures as exported: the JSON file's content, read back from the database.
    event.refresh_from_db()
    figures = coordinator_client.get(PAGE + "?format=json").json()
    assert event.details["figures"] == figures
    assert figures["patient_contacts"] == EXPECTED_2025["patient_contacts"]


def test_command_export_audit_row_holds_the_file_hash(history, tmp_path):
    import hashlib

    from django.core.management import call_command
    call_command("file_active", "--year", "2025", "--format", "csv", "--output",
                 str(tmp_path / "fa.csv"))
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.details["sha256"] == hashlib.sha256(
        (tmp_path / "fa.csv").read_bytes()).hexdigest()
    assert event.details["figures"]["consultations"] == EXPECTED_2025["consultations"]


def test_year_before_is_read_from_its_declaration(coordinator_client, history,
                                                  coordinator_user):
    from reporting import services
    services.year_declare(year=2024, reason="", actor=coordinator_user)
    declared = coordinator_client.get("/reporting/file-active/2024/").context["current"]
    # A record of 2024 written after the declaration: the 2025 page keeps the declared column.
    VisitFactory(patient=history.F, date=datetime.date(2024, 7, 1))
    response = coordinator_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    before = response.context["before"]
    assert before.figures["patient_contacts"] == declared.figures["patient_contacts"] == 3
    assert before.breakdowns["monthly"] == declared.breakdowns["monthly"]
    assert "The 2024 column shows the figures as declared for 2024." in \
        response.content.decode()
    assert response.context["current"].figures == EXPECTED_2025
