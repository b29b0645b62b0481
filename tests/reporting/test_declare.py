"""Declared years: the snapshot, its refusals, the exports' version and the reconciliation of
a declared year with records written after it (tests/reporting/conftest.py's history)."""

import datetime
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone, translation

from mass.accounts.roles import Role
from mass.models import AuditEvent
from patients.models import Episode
from reporting import declaring, selectors, services
from reporting.models import DeclaredYear
from tests.conftest import EN
from tests.factories import EpisodeFactory, PatientFactory, VisitFactory, woeringen

D = datetime.date
PAGE = "/reporting/file-active/2025/"
DECLARE = PAGE + "declare/"




def declare(client, **data):
    return client.post(DECLARE, {"confirm": "on", **data}, **EN)


def test_declaring_stores_the_figures_lists_hash_and_checks(coordinator_client, history,
                                                             coordinator_user):
    response = declare(coordinator_client)

    assert response.status_code == 302
    declaration = DeclaredYear.objects.get(year=2025)
    assert declaration.version == 1 and declaration.declared_by == coordinator_user
    figures = selectors.file_active_figures(2025).figures
    assert declaring.declared_figures(declaration) == figures
    assert list(declaring.declared_figures(declaration)) == list(figures)
    # The lists behind the figures: one key per active patient, one day per contact.
    lists = declaration.lists
    assert len(lists["patient_contacts"]) == figures["annual_active_patients"]
    assert sum(map(len, lists["patient_contacts"].values())) == figures["patient_contacts"]
    assert len(lists["new_requests"]) == figures["new_requests"]
    assert len(lists["patients_in_treatment"]) == figures["patients_in_treatment"]
    assert lists["patients"][str(history.A.pk)] == "F-A"
    # Anyone can recompute the hash from what is stored.
    assert declaration.sha256 == declaring.snapshot_hash(declaration.figures, declaration.lists)
    assert {check["key"] for check in declaration.checks} == set(declaring.CHECK_KINDS)
    event = AuditEvent.objects.get(object_type="reporting.declaredyear")
    assert event.summary == "file active 2025 declared (version 1)"
    assert event.details["sha256"] == declaration.sha256


def test_a_declaration_cannot_be_changed_or_deleted(history, coordinator_user):
    declaration = services.year_declare(year=2025, reason="", actor=coordinator_user)
    with pytest.raises(DatabaseError), transaction.atomic():
        DeclaredYear.objects.filter(pk=declaration.pk).update(reason="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        DeclaredYear.objects.filter(pk=declaration.pk).delete()
    assert DeclaredYear.objects.get(pk=declaration.pk).reason == ""


def test_declaring_again_needs_a_reason_and_keeps_the_earlier_version(coordinator_client,
                                                                      history):
    declare(coordinator_client)

    response = declare(coordinator_client, reason="  ")

    assert response.status_code == 200
    assert "give the reason for declaring it again" in response.content.decode()
    assert DeclaredYear.objects.filter(year=2025).count() == 1

    VisitFactory(patient=history.H, date=D(2025, 8, 1), site=woeringen())
    response = declare(coordinator_client, reason="A walk-in of August entered late.")
    assert response.status_code == 302
    first, second = DeclaredYear.objects.filter(year=2025).order_by("version")
    assert second.version == 2 and second.reason == "A walk-in of August entered late."
    assert second.figures["patient_contacts"] == first.figures["patient_contacts"] + 1
    page = coordinator_client.get(PAGE).content.decode()
    assert 'data-declared-version="2"' in page
    assert 'data-version="1"' in page and 'data-version="2"' in page
    # The earlier version stays readable.
    earlier = coordinator_client.get(PAGE + "?version=1").content.decode()
    assert 'data-declared-version="1"' in earlier


def test_the_service_refuses_a_new_version_without_reason(history, coordinator_user):
    services.year_declare(year=2025, reason="", actor=coordinator_user)
    with translation.override("en"), pytest.raises(ValidationError, match="reason"):
        services.year_declare(year=2025, reason=" ", actor=coordinator_user)
    assert DeclaredYear.objects.count() == 1


@pytest.mark.parametrize("offset", [0, 1])
def test_the_current_or_a_future_year_cannot_be_declared(coordinator_client, coordinator_user,
                                                         offset):
    year = timezone.localdate().year + offset
    url = f"/reporting/file-active/{year}/declare/"

    page = coordinator_client.get(url, **EN)
    response = coordinator_client.post(url, {"confirm": "on"}, **EN)

    for answer in (page, response):
        assert answer.status_code == 200
        assert f"Only a finished year can be declared: {year} is not over." in \
            answer.content.decode()
    with pytest.raises(ValidationError):
        services.year_declare(year=year, reason="", actor=coordinator_user)
    assert not DeclaredYear.objects.exists()
    assert not AuditEvent.objects.filter(object_type="reporting.declaredyear").exists()


def test_declaring_needs_the_confirmation(coordinator_client, history):
    response = coordinator_client.post(DECLARE, {}, **EN)
    assert response.status_code == 200
    assert "Tick the box to confirm the declaration." in response.content.decode()
    assert not DeclaredYear.objects.exists()


def test_a_year_without_any_record_can_be_declared(coordinator_client, db):
    response = coordinator_client.post("/reporting/file-active/2019/declare/",
                                       {"confirm": "on"})
    assert response.status_code == 302
    declaration = DeclaredYear.objects.get(year=2019)
    assert declaration.figures["annual_active_patients"] == 0
    assert declaration.lists["patient_contacts"] == {}


@pytest.mark.parametrize("role", [r for r in Role if r != Role.COORDINATOR])
def test_only_coordinators_declare(client, staff_factory, history, role):
    client.force_login(staff_factory(role))
    assert client.get(DECLARE).status_code == 403
    assert client.post(DECLARE, {"confirm": "on"}).status_code == 403
    assert not DeclaredYear.objects.exists()


def test_declare_takes_get_and_post_only(coordinator_client, history):
    assert coordinator_client.put(DECLARE).status_code == 405
    assert coordinator_client.delete(DECLARE).status_code == 405
    assert not DeclaredYear.objects.exists()


def test_the_confirmation_lists_the_checks(coordinator_client, history):
    page = coordinator_client.get(DECLARE).content.decode()
    for key in declaring.CHECK_KINDS:
        assert f'data-check="{key}"' in page


# --- exports --------------------------------------------------------------------------------


def test_exports_give_the_declaration_by_default_and_today_on_request(coordinator_client,
                                                                      history):
    declare(coordinator_client)
    declaration = DeclaredYear.objects.get()
    VisitFactory(patient=history.H, date=D(2025, 8, 1), site=woeringen())

    declared = coordinator_client.get(PAGE + "?format=json").json()
    current = coordinator_client.get(PAGE + "?format=json&version=current").json()
    first = coordinator_client.get(PAGE + "?format=json&version=1").json()

    assert declared["declared_version"] == 1 and first == declared
    assert declared["sha256"] == declaration.sha256
    assert declared["declared_at"] == declaration.declared_at.isoformat()
    assert declared["patient_contacts"] == declaration.figures["patient_contacts"]
    assert current["declared_version"] is None and current["sha256"] is None
    assert current["patient_contacts"] == declared["patient_contacts"] + 1
    csv_text = coordinator_client.get(PAGE + "?format=csv").content.decode()
    assert "declared_version,1" in csv_text
    assert coordinator_client.get(PAGE + "?format=json&version=2").status_code == 404
    assert coordinator_client.get(PAGE + "?format=json&version=x").status_code == 400


def test_the_command_says_which_version_it_holds(history, coordinator_user):
    declaration = services.year_declare(year=2025, reason="", actor=coordinator_user)
    VisitFactory(patient=history.H, date=D(2025, 8, 1), site=woeringen())
    out, now = StringIO(), StringIO()

    call_command("file_active", "--year", "2025", stdout=out)
    call_command("file_active", "--year", "2025", "--declaration", "current", stdout=now)

    declared, current = json.loads(out.getvalue()), json.loads(now.getvalue())
    assert declared["declared_version"] == 1 and declared["sha256"] == declaration.sha256
    assert current["declared_version"] is None
    assert current["patient_contacts"] == declared["patient_contacts"] + 1


# --- reconciliation -------------------------------------------------------------------------


def test_the_declared_page_shows_the_declaration_without_reconciliation(coordinator_client,
                                                                        history):
    declare(coordinator_client)
    page = coordinator_client.get(PAGE).content.decode()
    assert 'data-declared-version="1"' in page
    assert DeclaredYear.objects.get().sha256 in page
    assert "data-reconciliation" not in page


# Complexity 23, kept: one scenario asserted step by step (each `and` counts).
def test_reconciliation_lists_a_backdated_record_a_merge_and_closures(coordinator_client,
                                                                      history,
                                                                      coordinator_user):
    # Someone in treatment since before the year, seen in January: closed later by hand
    # as of before the year.
    late = PatientFactory(alias="Late closure", file_number="F-L")
    episode = EpisodeFactory(patient=late, opened_on=D(2024, 11, 1))
    VisitFactory(patient=late, date=D(2025, 1, 10), site=woeringen())
    # Two files of one person, both seen in 2025.
    kept, twin = PatientFactory(alias="Kept", file_number="F-K"), PatientFactory(alias="Twin")
    VisitFactory(patient=kept, date=D(2025, 4, 1), site=woeringen())
    VisitFactory(patient=twin, date=D(2025, 4, 2), site=woeringen())
    declare(coordinator_client)
    declared = DeclaredYear.objects.get().figures

    # A walk-in of August entered after the declaration, for a new person.
    backdated = PatientFactory(alias="Backdated", file_number="F-X")
    VisitFactory(patient=backdated, date=D(2025, 8, 1), site=woeringen())
    from patients.services import episode_close, patient_merge
    # A hand closure, as of before the year (earlier than the rule's date: it stands).
    episode_close(episode=Episode.objects.get(pk=episode.pk), closed_on=D(2024, 12, 1),
                  reason="moved", actor=coordinator_user)
    # The nightly job writes down the ends by the 6-month rule (C's episode of May 2024).
    call_command("close_lapsed_episodes", stdout=StringIO())
    # The twin's walk-in moves to the kept file: one active patient less.
    patient_merge(kept=kept, merged=twin, reason="same person", actor=coordinator_user)
    # An anonymous hand-out of September entered late.
    from patients.services import harm_reduction_log
    harm_reduction_log(site=woeringen(), date=D(2025, 9, 1), actor=coordinator_user,
                       quantities={"syringe": (3, 0)})

    response = coordinator_client.get(PAGE)
    page = response.content.decode()
    now = selectors.file_active_figures(2025).figures

    assert 'data-reconciliation' in page
    reconciliation = response.context["reconciliation"]
    moved = {row["key"]: row for row in reconciliation.figures}
    # One person more (the backdated walk-in), one less (the merged twin): the same count,
    # yet both moves are listed below; one contact more.
    assert "annual_active_patients" not in moved
    assert moved["patient_contacts"]["declared"] == declared["patient_contacts"]
    assert moved["patient_contacts"]["now"] == now["patient_contacts"] == \
        declared["patient_contacts"] + 1
    assert moved["patients_in_treatment"]["now"] == declared["patients_in_treatment"] - 1
    kinds = {(record["code"], record["patient_id"]) for record in reconciliation.records}
    assert ("visit", backdated.pk) in kinds
    assert ("merge", kept.pk) in kinds
    assert ("hand_closure", late.pk) in kinds
    assert ("automatic_closure", history.C.pk) in kinds
    assert ("harm_reduction", None) in kinds
    assert moved["harm_reduction_items_handed_out"]["now"] == \
        declared["harm_reduction_items_handed_out"] + 3
    # Each with its link to the patient file, and the moves explained by patient.
    for patient in (backdated, kept, late):
        assert f'href="/patients/{patient.pk}/"' in page
    reasons = {(row["figure_key"], row["patient_id"]): [r["code"] for r in row["evidence"]]
               for row in reconciliation.movements}
    assert "visit" in reasons[("annual_active_patients", backdated.pk)]
    assert "merge" in reasons[("annual_active_patients", twin.pk)]
    assert "hand_closure" in reasons[("patients_in_treatment", late.pk)]
    assert AuditEvent.objects.filter(
        summary="file active 2025: reconciliation with version 1").exists()
    # The main table still gives the declared figures.
    assert response.context["seed_rows"][0]["value"] == declared["annual_active_patients"]


def test_declared_page_queries_do_not_grow_with_moved_records(coordinator_client, history,
                                                              django_assert_num_queries):
    declare(coordinator_client)
    centre = woeringen()
    VisitFactory(patient=PatientFactory(), date=D(2025, 8, 1), site=centre)
    coordinator_client.get(PAGE)  # warm caches
    with django_assert_num_queries(40, exact=False) as first:
        coordinator_client.get(PAGE)
    for _ in range(2):
        VisitFactory(patient=PatientFactory(), date=D(2025, 8, 2), site=centre)
    with django_assert_num_queries(len(first)):
        response = coordinator_client.get(PAGE)
    assert len(response.context["reconciliation"].records) == 3


def test_the_spreadsheet_of_a_declared_year_gives_the_declared_breakdowns(coordinator_client,
                                                                         history):
    import io

    from openpyxl import load_workbook

    from tests.factories import ConsultationFactory
    declare(coordinator_client)
    declared = DeclaredYear.objects.get()
    ConsultationFactory(patient=history.H, date=D(2025, 1, 20), discipline="medical")

    def sheets(url):
        workbook = load_workbook(io.BytesIO(coordinator_client.get(url).content))
        figures, breakdowns = workbook.worksheets
        values = {row[0]: row[2] for row in figures.iter_rows(min_row=2, values_only=True)}
        january = next(row for row in breakdowns.iter_rows(min_row=2, values_only=True)
                       if row[0] == "month" and str(row[1]) == "1")
        return values, january[5]

    figures, january = sheets(PAGE + "?format=xlsx")
    today, january_now = sheets(PAGE + "?format=xlsx&version=current")

    assert figures["declared_version"] == 1 and figures["sha256"] == declared.sha256
    assert figures["consultations"] == declared.figures["consultations"]
    assert today["consultations"] == figures["consultations"] + 1
    assert january_now == january + 1


def test_the_command_refuses_a_declaration_that_does_not_exist(history):
    from django.core.management.base import CommandError
    with pytest.raises(CommandError, match="no declaration number 3"):
        call_command("file_active", "--year", "2025", "--declaration", "3", stdout=StringIO())
    with pytest.raises(CommandError, match="--declaration"):
        call_command("file_active", "--year", "2025", "--declaration", "latest",
                     stdout=StringIO())


def test_the_years_list_says_which_version_is_declared(coordinator_client, history):
    declare(coordinator_client)
    page = coordinator_client.get("/reporting/").content.decode()
    assert 'data-declared="1"' in page
    assert page.count('data-declared=""') == len(selectors.years_with_data()) - 1


def test_reconciliation_lists_a_questionnaire_corrected_after_the_declaration(
        coordinator_client, history):
    """H's request of July 2025 counted as a new request when declared; its questionnaire,
    filled afterwards, says harm reduction only: no treatment episode, one request less."""
    from tests.factories import TdiRecordFactory
    declare(coordinator_client)
    declared = DeclaredYear.objects.get().figures
    TdiRecordFactory(episode=Episode.objects.get(patient=history.H),
                     setting="harm_reduction_only")

    response = coordinator_client.get(PAGE)

    reconciliation = response.context["reconciliation"]
    moved = {row["key"]: row for row in reconciliation.figures}
    assert moved["new_requests"]["now"] == declared["new_requests"] - 1
    assert ("tdi", history.H.pk) in {(r["code"], r["patient_id"])
                                     for r in reconciliation.records}
    event = AuditEvent.objects.get(summary="file active 2025: reconciliation with version 1")
    assert history.H.pk in event.details["patients"]
