"""Merging two files whose episodes overlap (issue 11, part 4): one stay, one episode. The
earliest opening, the latest end, every TDI questionnaire kept and listed; the joined
episode stays recorded (marked joined) and counts nowhere: not as a new request, not as a
resumption, not in treatment, not in the TDI file."""

import datetime

import pytest
from django.utils import timezone

from mass.models import AuditEvent
from patients.models import Episode, Patient, PatientMerge
from patients.services import episodes_record_lapses
from reporting.selectors import file_active_figures, tdi_file_rows, tdi_year_counts
from tests.conftest import EN
from tests.factories import (
    EpisodeFactory,
    PatientFactory,
    PrescriptionFactory,
    TdiRecordFactory,
    VisitFactory,
)

TODAY = timezone.localdate
YEAR = TODAY().year - 1


def day(month, dom=1, year=YEAR):
    return datetime.date(year, month, dom)


def short(date):
    return date.strftime("%d/%m/%Y")


def merge(client, kept, other, confirm=True):
    data = {"other": other.file_number, "reason": "Deux alias, une personne."}
    if confirm:
        data["confirm"] = "True"
    return client.post(f"/patients/{kept.pk}/merge/", data, **EN)


def monthly_visits(patient, first, last):
    for month in range(first, last + 1):
        VisitFactory(patient=patient, date=day(month, 10))


def figures():
    return file_active_figures(YEAR).figures


def explained(client, figure):
    response = client.get(f"/reporting/file-active/{YEAR}/explain/{figure}/")
    return response.context["page"].paginator.count


@pytest.fixture
def files(db):
    return (PatientFactory(alias="Momo", file_number="K1"),
            PatientFactory(alias="Mohamed", file_number="D1"))


@pytest.fixture
def overlapping(files):
    """K1 in treatment March to September (closed by hand), D1 May to November: one stay
    of one person, recorded twice, each with its questionnaire."""
    kept, other = files
    first = EpisodeFactory(patient=kept, opened_on=day(3), closed_on=day(9, 30),
                           closure_reason="moved")
    second = EpisodeFactory(patient=other, opened_on=day(5), closed_on=day(11, 30),
                            closure_reason="reoriented", closure_note="vers un généraliste")
    monthly_visits(kept, 3, 9)
    monthly_visits(other, 5, 11)
    questionnaires = [TdiRecordFactory(episode=first), TdiRecordFactory(episode=second)]
    return kept, other, first, second, questionnaires


def test_overlapping_episodes_become_one_stay(coordinator_client, coordinator_user,
                                             overlapping):
    kept, other, first, second, questionnaires = overlapping
    assert figures()["new_requests"] == 2  # two files, two "new" people

    response = merge(coordinator_client, kept, other)

    assert response.status_code == 302
    stay = Episode.objects.with_end().get(pk=first.pk)
    assert stay.patient == kept and stay.kind == Episode.Kind.NEW
    assert stay.opened_on == day(3)  # the earliest opening
    assert (stay.closed_on, stay.closure_reason, stay.closure_note) == (
        day(11, 30), "reoriented", "vers un généraliste")  # the latest end
    assert stay.ended_on == day(11, 30) and not stay.ended_by_rule
    # the 6-month rule's dates follow the contacts of both files (the triggers)
    assert stay.last_contact_on == day(11, 10) and stay.lapsed_on is None
    # nothing clinical deleted: the joined episode stays as it was, on the stub
    joined = Episode.objects.get(pk=second.pk)
    assert joined.patient == other and joined.joined_into == stay
    assert (joined.opened_on, joined.closed_on, joined.kind) == (day(5), day(11, 30), "new")
    record = PatientMerge.objects.get()
    assert record.left == {"patients.episode": 1} and "patients.episode" not in record.moved
    assert record.joined_episodes == [{
        "episode": first.pk, "joined": [second.pk], "opened_on": day(3).isoformat(),
        "ended_on": day(11, 30).isoformat(), "ended_by_rule": False, "kind": "new",
        "before": {"patient_id": kept.pk, "kind": "new", "closed_on": day(9, 30).isoformat(),
                   "closure_reason": "moved"},
        "questionnaires": [q.pk for q in questionnaires]}]
    event = AuditEvent.objects.get(action=AuditEvent.Action.MERGE)
    assert event.details["joined_episodes"] == record.joined_episodes
    assert AuditEvent.objects.filter(object_type="patients.episode", object_id=str(first.pk),
                                     action=AuditEvent.Action.UPDATE).exists()


def test_one_stay_counts_once_everywhere(coordinator_client, overlapping):
    kept, other, first, second, questionnaires = overlapping
    merge(coordinator_client, kept, other)
    year = file_active_figures(YEAR)
    counted = year.figures
    assert (counted["new_requests"], counted["resumption_requests"]) == (1, 0)
    assert counted["patients_in_treatment"] == 1 and year.kind_mismatches == 0
    assert explained(coordinator_client, "new_requests") == 1
    assert explained(coordinator_client, "resumption_requests") == 0
    assert explained(coordinator_client, "patients_in_treatment") == 1
    assert explained(coordinator_client, "income_in_treatment") == 1
    assert len(tdi_file_rows(YEAR)) == 1
    assert tdi_year_counts(YEAR)["episodes"] == 1


def test_both_questionnaires_listed_on_the_kept_file(reception_client, coordinator_client,
                                                     overlapping):
    kept, other, first, second, questionnaires = overlapping
    merge(coordinator_client, kept, other)
    content = reception_client.get(f"/patients/{kept.pk}/", **EN).content.decode()
    assert f'data-tdi-episode="{first.pk}"' in content
    assert f'data-tdi-episode="{second.pk}"' in content
    assert (f"file D1: joined by a merge into the episode opened {short(day(3))}"
            in content)
    assert "Overlapping episodes joined into one stay" in content
    assert "2 TDI questionnaires kept" in content
    assert "data-tdi-due" not in content


def test_preview_says_which_episodes_will_be_joined_and_writes_nothing(coordinator_client,
                                                                      overlapping):
    kept, other, first, second, _ = overlapping
    content = merge(coordinator_client, kept, other, confirm=False).content.decode()
    assert ("These episodes overlap: one stay. They will be joined into one: opened "
            f"{short(day(3))}, ended {short(day(11, 30))}.") in content
    assert "patients.episode" not in content  # none moves: the joined one stays
    assert not PatientMerge.objects.exists()
    assert not Episode.objects.filter(joined_into__isnull=False).exists()
    assert Episode.objects.get(pk=first.pk).closed_on == day(9, 30)


def test_the_earlier_episode_of_the_merged_file_goes_on(coordinator_client, files):
    """The merged file's episode opened first: it moves to the kept file and takes the end
    of the stay (still running); the kept file's own episode is joined into it and stays
    where it is, as it was."""
    kept, other = files
    start = TODAY() - datetime.timedelta(days=100)
    earlier = EpisodeFactory(patient=other, opened_on=start,
                             closed_on=start + datetime.timedelta(days=10),
                             closure_reason="other")
    later = EpisodeFactory(patient=kept, opened_on=start + datetime.timedelta(days=5))
    VisitFactory(patient=kept, date=TODAY() - datetime.timedelta(days=3))

    merge(coordinator_client, kept, other)

    stay = Episode.objects.with_end().get(pk=earlier.pk)
    assert stay.patient == kept and stay.closed_on is None and stay.closure_reason == ""
    assert stay.ended_on is None and stay.last_contact_on == TODAY() - datetime.timedelta(3)
    assert Episode.objects.get(pk=later.pk).joined_into == stay
    assert [e.pk for e in Episode.objects.running().filter(patient=kept)] == [earlier.pk]
    assert PatientMerge.objects.get().joined_episodes[0]["ended_on"] is None
    # the stay runs: no second episode can open
    response = coordinator_client.get(f"/patients/{kept.pk}/", **EN)
    assert "data-lapse" not in response.content.decode()


def test_kind_of_the_stay_follows_the_person_s_history(coordinator_client, overlapping):
    kept, other, first, second, _ = overlapping
    EpisodeFactory(patient=other, opened_on=day(2, 1, YEAR - 1),
                   closed_on=day(3, 1, YEAR - 1), closure_reason="moved")
    merge(coordinator_client, kept, other)
    assert Episode.objects.get(pk=first.pk).kind == Episode.Kind.RESUMPTION
    counted = figures()
    assert (counted["new_requests"], counted["resumption_requests"]) == (0, 1)


def test_together_the_contacts_make_one_stay_of_two_lapsed_looking_episodes(
        coordinator_client, files):
    """Alone, K1's episode ended by the 6-month rule in January (no contact on K1 after
    that) and D1's opened in October: no overlap. With D1's contacts every month, the person
    never stayed away: one stay from January, ended by the rule after December's contact."""
    kept, other = files
    first = EpisodeFactory(patient=kept, opened_on=day(1, 5))
    VisitFactory(patient=kept, date=day(1, 5))
    second = EpisodeFactory(patient=other, opened_on=day(10, 1))
    monthly_visits(other, 2, 12)

    merge(coordinator_client, kept, other)

    stay = Episode.objects.with_end().get(pk=first.pk)
    assert Episode.objects.get(pk=second.pk).joined_into == stay
    assert (stay.closed_on, stay.closure_reason) == (day(12, 10), "six_months")
    assert stay.ended_on == day(12, 10) and stay.last_contact_on == day(12, 10)
    counted = figures()
    assert (counted["new_requests"], counted["resumption_requests"]) == (1, 0)


def test_episodes_that_do_not_overlap_are_moved_as_before(coordinator_client, files):
    kept, other = files
    before = EpisodeFactory(patient=kept, opened_on=day(1), closed_on=day(2),
                            closure_reason="moved")
    after = EpisodeFactory(patient=other, opened_on=TODAY() - datetime.timedelta(days=5))
    content = merge(coordinator_client, kept, other, confirm=False).content.decode()
    assert "data-episodes-joined" not in content and "1 episode" in content

    merge(coordinator_client, kept, other)

    assert set(Episode.objects.filter(patient=kept)) == {before, after}
    assert not Episode.objects.filter(joined_into__isnull=False).exists()
    record = PatientMerge.objects.get()
    assert record.moved["patients.episode"] == 1 and record.joined_episodes == []


def test_an_episode_ended_by_the_rule_is_closed_so_that_one_stays_open(coordinator_client,
                                                                       files):
    """Two open episodes that do not overlap (K1's ended by the 6-month rule years ago):
    the rule's end is written down, then D1's running one moves."""
    kept, other = files
    old = EpisodeFactory(patient=kept, opened_on=day(1, 10, YEAR - 3))
    running = EpisodeFactory(patient=other, opened_on=TODAY() - datetime.timedelta(days=5))

    assert merge(coordinator_client, kept, other).status_code == 302

    old.refresh_from_db()
    assert (old.closed_on, old.closure_reason) == (day(1, 10, YEAR - 3), "six_months")
    assert Episode.objects.get(pk=running.pk).patient == kept


def test_two_open_episodes_the_same_day_are_one_stay(coordinator_client, files):
    kept, other = files
    mine = EpisodeFactory(patient=kept, opened_on=TODAY())
    theirs = EpisodeFactory(patient=other, opened_on=TODAY())
    VisitFactory(patient=other, date=TODAY())
    assert merge(coordinator_client, kept, other).status_code == 302
    assert Episode.objects.get(pk=theirs.pk).joined_into_id == mine.pk
    assert Episode.objects.get(pk=mine.pk).closed_on is None


def test_a_refused_merge_joins_nothing(coordinator_client, overlapping):
    """All or nothing: a conflict of another app refuses the merge before any episode is
    touched."""
    kept, other, first, second, _ = overlapping
    PrescriptionFactory(patient=kept, start_date=TODAY() - datetime.timedelta(days=10))
    PrescriptionFactory(patient=other, start_date=TODAY() - datetime.timedelta(days=5))
    response = merge(coordinator_client, kept, other)
    assert "Both files have a running prescription" in response.content.decode()
    assert not Episode.objects.filter(joined_into__isnull=False).exists()
    assert Episode.objects.get(pk=first.pk).closed_on == day(9, 30)
    assert Patient.objects.get(pk=other.pk).status == Patient.Status.ACTIVE


def test_the_nightly_job_leaves_joined_episodes_alone(coordinator_client, files):
    kept, other = files
    mine = EpisodeFactory(patient=kept, opened_on=day(1, 10, YEAR - 2))
    theirs = EpisodeFactory(patient=other, opened_on=day(1, 20, YEAR - 2))
    VisitFactory(patient=kept, date=day(1, 25, YEAR - 2))
    merge(coordinator_client, kept, other)
    recorded, _ = episodes_record_lapses()
    assert theirs.pk not in {e.pk for e in recorded}
    joined = Episode.objects.get(pk=theirs.pk)
    assert joined.closed_on is None and joined.joined_into_id == mine.pk
    assert Episode.objects.get(pk=mine.pk).closed_on == day(1, 25, YEAR - 2)


@pytest.mark.parametrize("opened,closed,reason,contacts", [
    (day(1, 5), None, "", [day(2, 1), day(3, 1)]),  # ended by the rule, nothing written
    (day(1, 5), None, "", [day(2, 1), day(9, 1), day(10, 1)]),  # a gap inside
    (day(1, 5), day(4, 1), "moved", [day(2, 1)]),  # closed by hand before the rule
    (day(1, 5), day(11, 1), "moved", [day(2, 1)]),  # closed by hand after the rule's day
    (day(1, 5), day(3, 1), "six_months", [day(2, 1), day(3, 1)]),  # the rule written down
    (TODAY() - datetime.timedelta(days=30), None, "", [TODAY()]),  # runs
    (day(8, 31), None, "", [day(2, 28, YEAR + 1)]),  # 31 August: the end of February
])
def test_the_merge_applies_the_rule_as_the_database_does(files, opened, closed, reason,
                                                         contacts):
    """The merge judges overlaps before the records move, in Python
    (selectors.episode_end_among): it must end each episode where the database's rule
    (migration 0008, Episode.objects.with_end) ends it."""
    from django.db import connection

    from patients.selectors import episode_end_among
    kept, _ = files
    episode = EpisodeFactory(patient=kept, opened_on=opened, closed_on=closed,
                             closure_reason=reason)
    for date in contacts:
        VisitFactory(patient=kept, date=date)
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT date FROM patients_contact_days(%s) ORDER BY date",
                       [[kept.pk]])
        days = [row[0] for row in cursor.fetchall()]
    database = Episode.objects.with_end().get(pk=episode.pk)
    assert episode_end_among(episode, days, TODAY()) == (database.ended_on,
                                                         database.ended_by_rule)
