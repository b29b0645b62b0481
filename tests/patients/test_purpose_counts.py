"""The walk-ins counted by day and purpose (PurposeCount), kept by the database after every
write of walk-ins and of their cancellations (patients/triggers.py): always equal to a count
of the walk-ins themselves, whatever wrote them (the desk, a merge, the importer, a direct
statement). What the centre usually comes for reads them (patients.selectors.usual_purposes).
"""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from patients.importer import import_records
from patients.models import PurposeCount, Visit, VisitCancellation
from patients.selectors import usual_purposes
from patients.sql import PURPOSE_COUNTS_REBUILD
from tests.conftest import EN
from tests.factories import PatientFactory, VisitFactory

TODAY = timezone.localdate


def counted() -> dict:
    """What PurposeCount holds, its zeros left out (a day whose walk-ins were all cancelled)."""
    return {(row.date, row.purpose): row.walk_ins
            for row in PurposeCount.objects.exclude(walk_ins=0)}


def recounted() -> dict:
    """The same counts from the walk-ins themselves."""
    cancelled = VisitCancellation.objects.filter(visit=OuterRef("pk"))
    rows = (Visit.objects.filter(~Exists(cancelled)).values("date", "purpose")
            .annotate(n=Count("id")).order_by())
    return {(row["date"], row["purpose"]): row["n"] for row in rows}


def test_the_desk_s_walk_ins_and_cancellations_are_counted(reception_client):
    momo, zaza = PatientFactory(alias="Momo"), PatientFactory(alias="Zaza")
    for patient, purpose in ((momo, "social"), (zaza, "social"), (zaza, "hygiene")):
        response = reception_client.post("/reception/arrivals/",
                                         {"patient": patient.pk, "purpose": purpose}, **EN)
        assert response.status_code == 302
    assert counted() == recounted() == {(TODAY(), "social"): 2, (TODAY(), "hygiene"): 1}

    visit = Visit.objects.get(patient=zaza, purpose="social")
    response = reception_client.post(f"/patients/walk-ins/{visit.pk}/cancel/",
                                     {"reason": "Logged on the wrong file"}, **EN)

    assert response.status_code == 302
    assert counted() == recounted() == {(TODAY(), "social"): 1, (TODAY(), "hygiene"): 1}


def test_a_merge_moves_the_walk_ins_and_keeps_the_counts(coordinator_client):
    kept, other = PatientFactory(alias="Momo"), PatientFactory(alias="Mohamed")
    VisitFactory.create_batch(2, patient=other, date=TODAY(), purpose="dispensing")
    VisitFactory(patient=kept, date=TODAY(), purpose="dispensing")
    before = counted()

    response = coordinator_client.post(f"/patients/{kept.pk}/merge/", {
        "other": other.file_number, "reason": "Même personne.", "confirm": "True"}, **EN)

    assert response.status_code == 302 and Visit.objects.filter(patient=kept).count() == 3
    assert counted() == before == recounted() == {(TODAY(), "dispensing"): 3}


@pytest.mark.database_owner
def test_a_corrected_day_or_purpose_and_a_deleted_walk_in_move_the_counts(reception_user):
    """The application never changes a walk-in's day or purpose nor deletes one; the counts
    follow whatever statement does (an administrator's correction in SQL)."""
    yesterday = TODAY() - datetime.timedelta(days=1)
    first, second = VisitFactory.create_batch(2, date=yesterday, purpose="social")
    cancelled = VisitFactory(date=yesterday, purpose="social")
    VisitCancellation.objects.create(visit=cancelled, reason="wrong file",
                                     cancelled_by=reception_user)
    assert counted() == {(yesterday, "social"): 2}

    with connection.cursor() as cursor:
        cursor.execute("UPDATE patients_visit SET date = %s, purpose = 'hygiene' WHERE id = %s",
                       [TODAY(), first.pk])
        # The cancelled one moved: it still counts nowhere.
        cursor.execute("UPDATE patients_visit SET purpose = 'hygiene' WHERE id = %s",
                       [cancelled.pk])
    assert counted() == recounted() == {(yesterday, "social"): 1, (TODAY(), "hygiene"): 1}

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM patients_visit WHERE id = %s", [second.pk])
    assert counted() == recounted() == {(TODAY(), "hygiene"): 1}


@pytest.mark.database_owner
def test_imported_walk_ins_are_counted(db, tmp_path, english):
    (tmp_path / "patients.csv").write_text(
        "file_number,alias,last_name,first_name,birth_date,sex,language\n"
        "A1,Momo,,,,,\nA2,Zaza,,,,,\n", encoding="utf-8")
    (tmp_path / "visits.csv").write_text(
        "file_number,date,time,site\nA1,2016-01-02,10:30,\nA2,2016-01-02,,\n"
        "A2,2016-01-03,,\n", encoding="utf-8")

    import_records(tmp_path)

    assert counted() == recounted() == {(datetime.date(2016, 1, 2), "other"): 2,
                                        (datetime.date(2016, 1, 3), "other"): 1}


def test_the_application_only_reads_the_counts(reception_user):
    """The rules write the counts with their owner's rights; the application's role (that
    of every test not marked database_owner) may read them, not write them."""
    VisitFactory(date=TODAY(), purpose="social")
    assert counted() == {(TODAY(), "social"): 1}
    for write in (lambda: PurposeCount.objects.create(date=TODAY(), purpose="other",
                                                      walk_ins=5),
                  lambda: PurposeCount.objects.update(walk_ins=999),
                  lambda: PurposeCount.objects.all().delete()):
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            write()
    assert counted() == {(TODAY(), "social"): 1}


@pytest.mark.database_owner
def test_the_centre_s_usual_purpose_is_read_from_the_counts(db):
    """What the centre usually comes for follows the counts, not the walk-ins themselves
    (a count written here by the owner, with no walk-in behind it)."""
    VisitFactory(date=TODAY() - datetime.timedelta(days=1), purpose="social")
    assert usual_purposes().centre == "social"
    PurposeCount.objects.create(date=TODAY() - datetime.timedelta(days=2), purpose="other",
                                walk_ins=2)
    assert usual_purposes().centre == "other"


def test_the_centre_s_usual_purpose_counts_the_90_days(reception_user):
    # 89 days ago is inside the 90 days, 90 days ago is not.
    for day, purpose in ((1, "social"), (89, "social"), (3, "hygiene"), (90, "hygiene"),
                         (91, "hygiene"), (92, "hygiene")):
        VisitFactory(date=TODAY() - datetime.timedelta(days=day), purpose=purpose)
    # Beyond the 90 days, three hygiene walk-ins do not count: social wins, 2 against 1.
    assert usual_purposes().centre == "social"

    for visit in Visit.objects.filter(purpose="social"):
        VisitCancellation.objects.create(visit=visit, reason="wrong file",
                                         cancelled_by=reception_user)
    # Cancelled, the social walk-ins count no more, not even as zeros.
    assert usual_purposes().centre == "hygiene"
    assert PurposeCount.objects.filter(purpose="social").values_list(
        "walk_ins", flat=True).distinct().get() == 0


@pytest.mark.database_owner
def test_the_owner_counts_them_again_after_bulk_work(reception_user):
    """After work that went around the rules (here a count written by hand), the statement
    of docs/operations.md gives back the counts of the walk-ins."""
    VisitFactory.create_batch(2, date=TODAY(), purpose="social")
    cancelled = VisitFactory(date=TODAY(), purpose="hygiene")
    VisitCancellation.objects.create(visit=cancelled, reason="wrong file",
                                     cancelled_by=reception_user)
    PurposeCount.objects.create(date=TODAY() - datetime.timedelta(days=1), purpose="other",
                                walk_ins=7)
    with connection.cursor() as cursor:
        cursor.execute(PURPOSE_COUNTS_REBUILD)
    assert counted() == recounted() == {(TODAY(), "social"): 2}
