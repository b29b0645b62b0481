"""Who have we lost: people in treatment not seen for a number of days, the thresholds the
coordinators set, and outreach attempts (which are not contacts)."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dispensary.models import Pharmacy
from mass.accounts.roles import Role
from mass.models import AuditEvent, Site
from patients import selectors
from patients.models import Episode, OutreachAttempt, Visit, WorklistThresholds
from tests.conftest import make_staff
from tests.factories import (
    ConsultationFactory,
    DispensationFactory,
    EpisodeFactory,
    PatientFactory,
    PrescriptionFactory,
    SiteFactory,
    SocialActionFactory,
    TdiRecordFactory,
    VisitFactory,
    woeringen,
)

LOST = "/patients/lost/"
SETTINGS = "/patients/lost/settings/"


def ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def in_treatment(*, seen_days_ago: int, opened_days_ago: int = 60, site=None, **patient):
    """A person with an episode opened ``opened_days_ago`` days ago and a walk-in
    ``seen_days_ago`` days ago (their last contact)."""
    person = PatientFactory(**patient)
    EpisodeFactory(patient=person, opened_on=ago(opened_days_ago))
    VisitFactory(patient=person, date=ago(seen_days_ago), site=site, purpose="hygiene")
    return person


def on_substitution_here(*, seen_days_ago: int, prescription=None, **patient):
    """In treatment with methadone dispensed at the MASS (``prescription``: other fields of
    the prescription, such as a partner pharmacy)."""
    person = in_treatment(seen_days_ago=seen_days_ago, **patient)
    PrescriptionFactory(patient=person, start_date=ago(50), **(prescription or {}))
    return person


def listed(client, query: str = "") -> str:
    response = client.get(LOST + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture(autouse=True)
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def nurse(client, nurse_user):
    client.force_login(nurse_user)
    return client


# --- who is on the list ---------------------------------------------------------------------

def test_substitution_patient_listed_after_7_days_not_after_6(nurse):
    seven = on_substitution_here(seen_days_ago=7, alias="Seven")
    six = on_substitution_here(seen_days_ago=6, alias="Six")
    content = listed(nurse)
    assert f'data-lost-row="{seven.pk}"' in content
    assert f'data-lost-row="{six.pk}"' not in content


def test_substitution_at_a_partner_pharmacy_waits_the_others_threshold(nurse):
    person = on_substitution_here(seen_days_ago=10, prescription={
        "pharmacy": Pharmacy.objects.create(name="Pharmacie du coin")})
    assert f'data-lost-row="{person.pk}"' not in listed(nurse)


def test_other_patient_listed_after_30_days_not_after_29(nurse):
    thirty = in_treatment(seen_days_ago=30)
    twenty_nine = in_treatment(seen_days_ago=29)
    content = listed(nurse)
    assert f'data-lost-row="{thirty.pk}"' in content
    assert f'data-lost-row="{twenty_nine.pk}"' not in content


def test_person_whose_episode_the_6_month_rule_ended_is_not_listed(nurse):
    # Lost already: no contact for more than six months, nobody closed the episode.
    gone = in_treatment(seen_days_ago=200, opened_days_ago=300)
    assert Episode.objects.running().filter(patient=gone).count() == 0
    closed = in_treatment(seen_days_ago=40)
    closed.episodes.update(closed_on=ago(35), closure_reason="moved")
    content = listed(nurse)
    assert f'data-lost-row="{gone.pk}"' not in content
    assert f'data-lost-row="{closed.pk}"' not in content


def test_row_shows_contact_place_usual_doctor_social_worker_and_rule_end(nurse, nurse_user):
    shelter = SiteFactory(name="Abri de nuit")
    doctor = make_staff(Role.DOCTOR, first_name="Anne", last_name="Docteur")
    worker = make_staff(Role.SOCIAL_WORKER, first_name="Sam", last_name="Social")
    person = in_treatment(seen_days_ago=40, opened_days_ago=100, site=shelter)
    VisitFactory(patient=person, date=ago(50), site=woeringen(), purpose="hygiene")
    ConsultationFactory(patient=person, author=doctor, discipline="medical", date=ago(45))
    SocialActionFactory(patient=person, social_worker=worker, opened_on=ago(60))
    row = selectors.worklist(thresholds=WorklistThresholds(),
                             sight=selectors.worklist_sight(nurse_user))[0]
    assert (row.patient_id, row.last_contact, row.days_since) == (person.pk, ago(40), 40)
    assert row.place == "Abri de nuit"  # the latest contact naming a site
    # two walk-in days for it, one consultation
    assert row.usual == str(Visit.Purpose.HYGIENE.label)
    assert (row.doctor, row.social_worker) == ("Anne Docteur", "Sam Social")
    assert row.rule_ends_on == selectors.months_after(ago(40), 6)
    content = listed(nurse)
    assert "Abri de nuit" in content and "Anne Docteur" in content and "Sam Social" in content


def test_doctor_is_the_prescriber_of_the_running_prescription(doctor_user):
    prescriber = make_staff(Role.DOCTOR, first_name="Paul", last_name="Prescrit")
    other = make_staff(Role.DOCTOR, first_name="Olga", last_name="Autre")
    person = on_substitution_here(seen_days_ago=8, prescription={"prescribed_by": prescriber})
    ConsultationFactory(patient=person, author=other, discipline="medical", date=ago(9))
    row = selectors.worklist(thresholds=WorklistThresholds(),
                             sight=selectors.worklist_sight(doctor_user))[0]
    assert row.doctor == "Paul Prescrit"


def test_soonest_end_by_the_rule_first(nurse, nurse_user):
    later = in_treatment(seen_days_ago=31)
    sooner = in_treatment(seen_days_ago=90, opened_days_ago=120)
    rows = selectors.worklist(thresholds=WorklistThresholds(),
                              sight=selectors.worklist_sight(nurse_user))
    assert [row.patient_id for row in rows] == [sooner.pk, later.pk]


# --- filters --------------------------------------------------------------------------------

def test_days_filter_overrides_the_thresholds(nurse):
    person = in_treatment(seen_days_ago=3)
    assert f'data-lost-row="{person.pk}"' not in listed(nurse)
    assert f'data-lost-row="{person.pk}"' in listed(nurse, "?days=3")
    assert f'data-lost-row="{person.pk}"' not in listed(nurse, "?days=4")


def test_site_filter_is_the_last_known_place(nurse):
    shelter = SiteFactory(name="Abri")
    there = in_treatment(seen_days_ago=40, site=shelter)
    elsewhere = in_treatment(seen_days_ago=40, site=woeringen())
    content = listed(nurse, f"?site={shelter.pk}")
    assert f'data-lost-row="{there.pk}"' in content
    assert f'data-lost-row="{elsewhere.pk}"' not in content


def test_team_filter(client, psychiatrist_user):
    # a psychiatrist sees every team: the dispensary's and the psychological notes'
    client.force_login(psychiatrist_user)
    nurse = client
    substitution = on_substitution_here(seen_days_ago=40)
    psy = in_treatment(seen_days_ago=40)
    ConsultationFactory(patient=psy, discipline="psychological", date=ago(45))
    social = in_treatment(seen_days_ago=40)
    SocialActionFactory(patient=social, opened_on=ago(70))
    nobody = in_treatment(seen_days_ago=40)
    expected = {"substitution": substitution, "psy": psy, "social": social}
    for team, person in expected.items():
        content = listed(nurse, f"?team={team}")
        shown = {p.pk for p in (substitution, psy, social, nobody)
                 if f'data-lost-row="{p.pk}"' in content}
        assert shown == {person.pk}, team
    assert f'data-lost-row="{nobody.pk}"' in listed(nurse)


@pytest.mark.parametrize("query", ["?days=0", "?days=366", "?days=-3", "?days=abc",
                                   "?days=99999999999999999999", "?team=nope", "?site=999999",
                                   "?site=x%00"])
def test_bad_filter_is_said_and_the_list_still_shows(nurse, query):
    person = in_treatment(seen_days_ago=40)
    content = listed(nurse, query)
    assert "data-filter-errors" in content
    assert f'data-lost-row="{person.pk}"' in content  # with the thresholds


def test_days_out_of_range_message(nurse):
    assert "between 1 and 365" in listed(nurse, "?days=0")


@pytest.mark.parametrize("role", [Role.NURSE, Role.PSYCHOLOGIST, Role.COORDINATOR])
def test_same_number_of_queries_for_1_and_3_rows(client, role_users, role,
                                                 django_assert_num_queries):
    # whatever the user may see of the rows (the columns and markers differ by role)
    client.force_login(role_users[role])
    nurse = client
    doctor = make_staff(Role.DOCTOR)
    people = []

    def add_person():
        person = on_substitution_here(seen_days_ago=20, site=woeringen())
        ConsultationFactory(patient=person, author=doctor, discipline="medical", date=ago(21))
        SocialActionFactory(patient=person, opened_on=ago(30))
        OutreachAttempt.objects.create(patient=person, date=ago(1), means="phone",
                                       result="not_reached")
        people.append(person)

    add_person()
    listed(nurse)  # sessions and caches warm
    with CaptureQueriesContext(connection) as first:
        assert listed(nurse).count("data-lost-row=") == 1
    add_person()
    add_person()
    with django_assert_num_queries(len(first.captured_queries)):
        assert listed(nurse).count("data-lost-row=") == 3


# --- what each role sees of a row -----------------------------------------------------------
#
# The medical secret between disciplines holds on a list of names too: the dispensary
# (substitution, dispensing, the prescriber) only for nurses, doctors and psychiatrists;
# psychological and psychiatric markers only for those who read those notes; coordinators
# see no clinical information at all.

NOT_DISPENSARY = [Role.PSYCHOLOGIST, Role.SOCIAL_WORKER, Role.COORDINATOR]


def followed_everywhere():
    """A person on substitution at the MASS (listed after 7 days, seen 10 days ago) who
    comes mostly for dispensing, prescribed by Paul Prescrit, seen by Anne Docteur (medical)
    and lately by Pia Psy (psychiatric)."""
    prescriber = make_staff(Role.DOCTOR, first_name="Paul", last_name="Prescrit")
    doctor = make_staff(Role.DOCTOR, first_name="Anne", last_name="Docteur")
    psychiatrist = make_staff(Role.PSYCHIATRIST, first_name="Pia", last_name="Psy")
    person = in_treatment(seen_days_ago=10, alias="Suivi")
    prescription = PrescriptionFactory(patient=person, start_date=ago(50),
                                       prescribed_by=prescriber)
    for days in (11, 12, 13):
        DispensationFactory(prescription=prescription, date=ago(days))
    ConsultationFactory(patient=person, author=doctor, discipline="medical", date=ago(15))
    ConsultationFactory(patient=person, author=doctor, discipline="medical", date=ago(16))
    ConsultationFactory(patient=person, author=psychiatrist, discipline="psychiatric",
                        date=ago(12))
    return person


@pytest.mark.parametrize("role", NOT_DISPENSARY)
def test_no_dispensary_marker_for_roles_that_may_not_see_it(client, role_users, role):
    person = followed_everywhere()
    client.force_login(role_users[role])
    content = listed(client)
    assert f'data-lost-row="{person.pk}"' in content  # the 7-day threshold applies to all
    # no badge, no filter, no "(substitution ... dispensed at the MASS)" explanation
    assert "ubstitution" not in content
    assert "Dispensing" not in content
    assert "Paul Prescrit" not in content


@pytest.mark.parametrize("role", NOT_DISPENSARY)
def test_substitution_filter_refused_for_roles_that_may_not_see_the_dispensary(
        client, role_users, role):
    person = followed_everywhere()
    other = in_treatment(seen_days_ago=40)
    client.force_login(role_users[role])
    content = listed(client, "?team=substitution")
    assert "data-filter-errors" in content and "Choose a team of the list." in content
    # the filter is left out, as any bad value: the list shows everyone
    assert f'data-lost-row="{person.pk}"' in content
    assert f'data-lost-row="{other.pk}"' in content


@pytest.mark.parametrize("role", [Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST])
def test_roles_that_see_the_dispensary_still_see_its_markers(client, role_users, role):
    person = followed_everywhere()
    other = in_treatment(seen_days_ago=40)
    client.force_login(role_users[role])
    content = listed(client)
    assert 'title="Substitution treatment dispensed at the MASS"' in content
    assert "<td>Dispensing</td>" in content  # three dispensing days of six
    assert "Paul Prescrit" in content
    filtered = listed(client, "?team=substitution")
    assert "data-filter-errors" not in filtered
    assert f'data-lost-row="{person.pk}"' in filtered
    assert f'data-lost-row="{other.pk}"' not in filtered


def test_without_the_dispensary_the_row_reads_other_contacts_and_the_latest_doctor(
        client, psychologist_user, social_worker_user):
    followed_everywhere()
    client.force_login(psychologist_user)
    content = listed(client)
    # two medical consultations and a psychiatric one on three days: the dispensing days
    # are not counted for them; the doctor is the latest consultation's, not the prescriber
    assert "<td>Consultation</td>" in content
    assert "<td>Pia Psy</td>" in content
    client.force_login(social_worker_user)
    content = listed(client)
    assert "<td>Consultation</td>" in content
    assert "<td>Anne Docteur</td>" in content and "Pia Psy" not in content


@pytest.mark.parametrize("role", [role for role in Role if role != Role.RECEPTION])
def test_psy_markers_only_for_roles_that_read_psy_notes(client, role_users, role):
    person = followed_everywhere()
    client.force_login(role_users[role])
    content = listed(client)
    reads_psy = role in (Role.PSYCHOLOGIST, Role.PSYCHIATRIST)
    assert ('<option value="psy"' in content) == reads_psy, role
    if not reads_psy:
        assert "Pia Psy" not in content, role
        refused = listed(client, "?team=psy")
        assert "Choose a team of the list." in refused, role
        assert f'data-lost-row="{person.pk}"' in refused, role


def test_coordinator_sees_no_clinical_information(client, coordinator_user):
    worker = make_staff(Role.SOCIAL_WORKER, first_name="Sam", last_name="Social")
    person = followed_everywhere()
    SocialActionFactory(patient=person, social_worker=worker, opened_on=ago(60))
    OutreachAttempt.objects.create(patient=person, date=ago(2), means="phone",
                                   result="not_reached")
    client.force_login(coordinator_user)
    content = listed(client)
    row = content[content.index(f'data-lost-row="{person.pk}"'):]
    row = row[:row.index("</tr>")]
    # identity, last contact, the rule's end, last attempt, social worker
    assert "Suivi" in row and "Sam Social" in row
    assert "10 days ago" in row and "Not reached" in row
    # no "usually comes for", no doctor, no badge
    assert "Usually comes for" not in content and ">Doctor<" not in content
    assert "Consultation" not in row and "Anne Docteur" not in content
    assert "badge" not in row
    options = content[content.index('name="team"'):]
    options = options[:options.index("</select>")]
    assert 'value="social"' in options
    assert 'value="medical"' not in options and 'value="psy"' not in options
    assert "Choose a team of the list." in listed(client, "?team=medical")


# --- harm reduction and outreach only -------------------------------------------------------

@pytest.mark.parametrize("setting", ["harm_reduction_only", "outreach_only"])
def test_harm_reduction_or_outreach_only_episode_is_not_listed(nurse, setting):
    # not a treatment episode: the yearly figures leave it out, so does the worklist
    person = in_treatment(seen_days_ago=40)
    TdiRecordFactory(episode=person.episodes.get(), setting=setting)
    treated = in_treatment(seen_days_ago=40)
    TdiRecordFactory(episode=treated.episodes.get())
    content = listed(nurse)
    assert f'data-lost-row="{person.pk}"' not in content
    assert f'data-lost-row="{treated.pk}"' in content


def test_the_current_questionnaire_decides(nurse):
    # harm-reduction-only first, then corrected to treatment (the newest row counts)
    person = in_treatment(seen_days_ago=40)
    episode = person.episodes.get()
    original = TdiRecordFactory(episode=episode, setting="harm_reduction_only")
    assert f'data-lost-row="{person.pk}"' not in listed(nurse)
    TdiRecordFactory(episode=episode, setting="treatment", supersedes=original,
                     correction_reason="came for the substitution programme")
    assert f'data-lost-row="{person.pk}"' in listed(nurse)


def test_the_list_is_audited_as_a_list_read(nurse, nurse_user):
    person = in_treatment(seen_days_ago=40)
    listed(nurse, "?team=social&days=35")
    event = AuditEvent.objects.filter(actor=nurse_user, action="search").order_by("pk").last()
    assert "who have we lost" in event.summary and "team Social" in event.summary
    assert event.patient_id is None
    listed(nurse)
    event = AuditEvent.objects.filter(actor=nurse_user, action="search").order_by("pk").last()
    assert event.details["patients"] == [person.pk]


# --- outreach attempts ----------------------------------------------------------------------

def contact_figures(patient):
    """Everything an outreach attempt must not move: the episode's last contact and the
    rule's date, the contact days in the database and in the apps, the year's figures."""
    from reporting.selectors import file_active_figures

    episode = Episode.objects.with_end().get(patient=patient)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(date) FROM patients_contact_days(%s)",
                       [[patient.pk]])
        days = cursor.fetchone()
    return (episode.last_contact_on, episode.rule_ends_on, days,
            selectors.patient_last_contact(patient_id=patient.pk),
            selectors.patient_contact_timeline(patient=patient)["contact_days"],
            file_active_figures(timezone.localdate().year).figures)


def test_attempt_recorded_audited_and_not_a_contact(nurse, nurse_user):
    shelter = SiteFactory(name="Abri")
    person = in_treatment(seen_days_ago=40)
    before = contact_figures(person)
    response = nurse.post(reverse("patients:outreach_attempt", args=[person.pk]),
                          {"means": "visit", "result": "message_left", "where": shelter.pk,
                           "next": LOST + "?days=31"})
    assert response.status_code == 302 and response["Location"] == LOST + "?days=31"
    attempt = OutreachAttempt.objects.get(patient=person)
    assert (attempt.date, attempt.means, attempt.result, attempt.site, attempt.made_by) == (
        timezone.localdate(), "visit", "message_left", shelter, nurse_user)
    event = AuditEvent.objects.get(object_type="patients.outreachattempt",
                                   object_id=str(attempt.pk))
    assert (event.action, event.patient_id, event.actor) == ("create", person.pk, nurse_user)
    # Not a contact: the episode, the contact days and the figures do not move.
    assert contact_figures(person) == before
    content = listed(nurse)
    assert f'data-lost-row="{person.pk}"' in content  # still on the list
    assert "Message left" in content


def test_attempt_with_htmx_swaps_the_row(nurse):
    person = in_treatment(seen_days_ago=40)
    response = nurse.post(reverse("patients:outreach_attempt", args=[person.pk]),
                          {"means": "phone", "result": "not_reached", "next": LOST},
                          HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200 and content.lstrip().startswith("<tr")
    assert f'data-lost-row="{person.pk}"' in content and "Not reached" in content
    assert OutreachAttempt.objects.filter(patient=person).count() == 1


@pytest.mark.parametrize("data", [{}, {"means": "pigeon", "result": "reached"},
                                  {"means": "phone", "result": "found"},
                                  {"means": "phone", "result": "reached", "where": "999999"}])
def test_bad_attempt_writes_nothing(nurse, data):
    person = in_treatment(seen_days_ago=40)
    audit = AuditEvent.objects.order_by("pk").values_list("pk", flat=True).last() or 0
    response = nurse.post(reverse("patients:outreach_attempt", args=[person.pk]),
                          {**data, "next": "https://evil.example/"}, follow=True)
    assert "could not be recorded" in response.content.decode()
    assert response.redirect_chain[0][0] == LOST  # never a foreign site
    assert not OutreachAttempt.objects.exists()
    # Only the read of the list the redirect shows.
    assert list(AuditEvent.objects.filter(pk__gt=audit).values_list("action", flat=True)) == [
        "search"]


def test_attempt_is_post_only(nurse):
    person = in_treatment(seen_days_ago=40)
    assert nurse.get(reverse("patients:outreach_attempt", args=[person.pk])).status_code == 405


def test_attempt_rows_are_append_only(db):
    person = in_treatment(seen_days_ago=40)
    attempt = OutreachAttempt.objects.create(patient=person, date=ago(0), means="phone",
                                             result="reached")
    for statement in ("UPDATE patients_outreachattempt SET result = 'not_reached'",
                      "DELETE FROM patients_outreachattempt"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    attempt.refresh_from_db()
    assert attempt.result == "reached"


def test_attempts_show_on_the_patient_file_to_the_worklist_roles(client, role_users):
    person = in_treatment(seen_days_ago=40)
    OutreachAttempt.objects.create(patient=person, date=ago(2), means="partner",
                                   result="message_left")
    for role, user in role_users.items():
        client.force_login(user)
        content = client.get(reverse("patients:detail", args=[person.pk])).content.decode()
        assert ('data-panel="outreach"' in content) == (role != Role.RECEPTION), role
        assert ("Message via a partner" in content) == (role != Role.RECEPTION), role


# --- who may use it -------------------------------------------------------------------------

def test_roles(client, role_users):
    person = in_treatment(seen_days_ago=40)
    url = reverse("patients:outreach_attempt", args=[person.pk])
    for role, user in role_users.items():
        client.force_login(user)
        may_see = role != Role.RECEPTION
        may_record = role not in (Role.RECEPTION, Role.COORDINATOR)
        response = client.get(LOST)
        assert response.status_code == (200 if may_see else 403), role
        if may_see:
            content = response.content.decode()
            assert f'data-lost-row="{person.pk}"' in content
            assert ("Outreach attempt</button>" in content) == may_record, role
        assert client.post(url, {"means": "phone", "result": "reached"}).status_code == (
            302 if may_record else 404), role
        assert client.get(SETTINGS).status_code == (
            200 if role == Role.COORDINATOR else 403), role
    assert OutreachAttempt.objects.filter(patient=person).count() == 5  # the clinical roles


def test_navigation_link_for_the_roles_that_see_it(client, role_users):
    for role, user in role_users.items():
        client.force_login(user)
        content = client.get("/").content.decode()
        assert ('data-nav="lost"' in content) == (role != Role.RECEPTION), role


# --- thresholds -----------------------------------------------------------------------------

def test_coordinator_changes_the_thresholds_audited(client, coordinator_user, nurse_user):
    person = on_substitution_here(seen_days_ago=5)
    client.force_login(coordinator_user)
    response = client.post(SETTINGS, {"substitution_days": "5", "other_days": "20"})
    assert response.status_code == 302
    thresholds = WorklistThresholds.objects.get()
    assert (thresholds.substitution_days, thresholds.other_days, thresholds.updated_by) == (
        5, 20, coordinator_user)
    event = AuditEvent.objects.get(object_type="patients.worklistthresholds")
    assert event.details == {"before": {"substitution_days": 7, "other_days": 30},
                             "after": {"substitution_days": 5, "other_days": 20}}
    client.force_login(nurse_user)
    assert f'data-lost-row="{person.pk}"' in listed(client)


@pytest.mark.parametrize("data,message", [
    ({"substitution_days": "0", "other_days": "30"}, "between 1 and 365"),
    ({"substitution_days": "7", "other_days": "366"}, "between 1 and 365"),
    ({"substitution_days": "-1", "other_days": "30"}, "between 1 and 365"),
    ({"substitution_days": "7", "other_days": ""}, "This field is required"),
    ({"substitution_days": "seven", "other_days": "30"}, "between 1 and 365"),
    ({"substitution_days": "7", "other_days": "1e3"}, "between 1 and 365"),
])
def test_bad_threshold_refused_nothing_written(client, coordinator_user, data, message):
    client.force_login(coordinator_user)
    response = client.post(SETTINGS, data)
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert not WorklistThresholds.objects.exists()
    assert not AuditEvent.objects.filter(action="update").exists()


def test_threshold_out_of_range_refused_by_the_service_and_the_database(coordinator_user):
    from django.core.exceptions import ValidationError

    from patients import services
    with pytest.raises(ValidationError):
        services.worklist_thresholds_set(substitution_days=0, other_days=30,
                                         actor=coordinator_user)
    with pytest.raises(ValidationError):
        services.worklist_thresholds_set(substitution_days=7, other_days=366,
                                         actor=coordinator_user)
    assert not WorklistThresholds.objects.exists()
    with pytest.raises(DatabaseError), transaction.atomic():
        WorklistThresholds.objects.create(substitution_days=0)
    with pytest.raises(DatabaseError), transaction.atomic():
        WorklistThresholds.objects.create(id=2)
    assert Site.objects.exists()  # the world of the test is intact


def test_bad_attempt_with_htmx_says_so_in_the_row_and_writes_nothing(nurse):
    person = in_treatment(seen_days_ago=40)
    response = nurse.post(reverse("patients:outreach_attempt", args=[person.pk]),
                          {"means": "carrier pigeon", "result": "reached"},
                          HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200 and f'data-lost-row="{person.pk}"' in content
    assert "could not be recorded" in content
    assert not OutreachAttempt.objects.exists()


def test_attempt_on_the_file_of_a_deceased_person_is_refused(nurse):
    person = in_treatment(seen_days_ago=40, status="deceased")
    response = nurse.post(reverse("patients:outreach_attempt", args=[person.pk]),
                          {"means": "phone", "result": "reached"}, follow=True)
    assert "recorded as deceased" in response.content.decode()
    assert not OutreachAttempt.objects.exists()
    assert f'data-lost-row="{person.pk}"' not in listed(nurse)


def test_a_merge_moves_the_attempts_to_the_kept_file(coordinator_user, nurse_user):
    from patients import services
    kept = in_treatment(seen_days_ago=40)
    merged = PatientFactory()
    attempt = services.outreach_attempt_record(patient=merged, means="phone",
                                               result="not_reached", actor=nurse_user)
    services.patient_merge(kept=kept, merged=merged, reason="Same person",
                           actor=coordinator_user)
    attempt.refresh_from_db()
    assert attempt.patient == kept and attempt.result == "not_reached"
