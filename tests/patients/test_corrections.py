"""Corrections as new rows (issue 14): a walk-in or a harm-reduction entry recorded by
mistake is cancelled with a reason, by its author or a coordinator, once; it stays in the
history struck through and counts nowhere from then on."""

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from mass.accounts.roles import Role
from mass.models import AuditEvent
from patients.models import (
    Episode,
    HarmReductionContact,
    HarmReductionContactCancellation,
    VisitCancellation,
)
from patients.services import harm_reduction_log
from reporting.selectors import file_active_figures
from tests.conftest import EN, make_staff
from tests.factories import EpisodeFactory, PatientFactory, VisitFactory, woeringen


def cancel_url(visit) -> str:
    return f"/patients/walk-ins/{visit.pk}/cancel/"


def figures():
    return file_active_figures(timezone.localdate().year).figures


# --- walk-ins -------------------------------------------------------------------------------


def test_a_walk_in_cancelled_by_its_author_is_struck_through_and_counts_no_more(
        reception_client, reception_user):
    patient = PatientFactory(alias="Kéké", file_number="K-1")
    visit = VisitFactory(patient=patient, date=timezone.localdate(), site=woeringen(),
                         purpose="social", logged_by=reception_user)
    before = figures()

    response = reception_client.post(cancel_url(visit), {"reason": "Logged on the wrong Kéké"},
                                     **EN)

    assert response.status_code == 302 and response.url == f"/patients/{patient.pk}/"
    cancellation = VisitCancellation.objects.get(visit=visit)
    assert cancellation.cancelled_by == reception_user
    assert cancellation.reason == "Logged on the wrong Kéké"
    after = figures()
    assert after["patient_contacts"] == before["patient_contacts"] - 1
    assert after["annual_active_patients"] == before["annual_active_patients"] - 1
    event = AuditEvent.objects.get(action="cancel", object_type="patients.visitcancellation")
    assert event.patient_id == patient.pk and event.actor == reception_user
    # The file keeps it, struck through, with who, when and why in words.
    page = reception_client.get(f"/patients/{patient.pk}/", **EN).content.decode()
    row = page.split(f'data-visit="{visit.pk}"')[1].split("</tr>")[0]
    assert "data-cancelled" in row and "<del>Social</del>" in row
    assert "cancelled: Logged on the wrong Kéké — " in row and str(reception_user) in row
    # The desk lists it struck through, and counts it no more.
    board = reception_client.get("/reception/", **EN)
    assert board.context["board"]["total"] == 0
    assert board.context["board"]["by_purpose"][2][1] == 0  # social
    board_row = board.content.decode().split("<tr data-visit data-cancelled>")[1]
    assert "<del>Social</del>" in board_row.split("</tr>")[0]
    assert "cancelled: Logged on the wrong Kéké" in board_row.split("</tr>")[0]


def test_the_desk_offers_to_cancel_only_the_walk_ins_one_logged(reception_client,
                                                                 reception_user):
    today = timezone.localdate()
    mine = VisitFactory(date=today, logged_by=reception_user)
    theirs = VisitFactory(date=today, logged_by=make_staff(Role.RECEPTION, username="other"))
    board = reception_client.get("/reception/", **EN).content.decode()
    assert cancel_url(mine) in board and cancel_url(theirs) not in board


def test_cancelling_a_walk_in_twice_or_without_a_reason_is_refused(reception_client,
                                                                   reception_user):
    visit = VisitFactory(logged_by=reception_user)

    blank = reception_client.post(cancel_url(visit), {"reason": "   "}, **EN)
    assert blank.status_code == 200
    assert "Say why this entry is cancelled." in blank.content.decode()
    assert not VisitCancellation.objects.exists()

    reception_client.post(cancel_url(visit), {"reason": "Twice"}, **EN)
    again = reception_client.post(cancel_url(visit), {"reason": "Again"}, **EN)
    assert again.status_code == 200
    assert VisitCancellation.objects.get().reason == "Twice"
    # The page says it is cancelled already, and by whom, instead of a form.
    assert "This entry is already cancelled." in again.content.decode()
    assert "cancelled: Twice" in again.content.decode()
    assert AuditEvent.objects.filter(action="cancel").count() == 1


def test_someone_else_may_not_cancel_a_walk_in_a_coordinator_may(client, reception_user,
                                                                  nurse_user,
                                                                  coordinator_user):
    visit = VisitFactory(logged_by=reception_user)

    client.force_login(nurse_user)
    assert client.get(cancel_url(visit)).status_code == 403
    assert client.post(cancel_url(visit), {"reason": "Not mine"}).status_code == 403
    assert not VisitCancellation.objects.exists()

    client.force_login(make_staff(username="nobody"))
    assert client.post(cancel_url(visit), {"reason": "Who?"}).status_code == 404
    assert client.post("/patients/walk-ins/999999/cancel/", {"reason": "x"}).status_code == 404

    client.force_login(coordinator_user)
    assert client.post(cancel_url(visit), {"reason": "Wrong file"}).status_code == 302
    assert VisitCancellation.objects.get().cancelled_by == coordinator_user


def test_the_cancel_page_takes_get_and_post_only(reception_client, reception_user):
    visit = VisitFactory(logged_by=reception_user)
    page = reception_client.get(cancel_url(visit), **EN)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    assert reception_client.put(cancel_url(visit)).status_code == 405
    assert not VisitCancellation.objects.exists()


def test_the_database_keeps_one_cancellation_and_never_changes_it(reception_user):
    visit = VisitFactory(logged_by=reception_user)
    cancellation = VisitCancellation.objects.create(visit=visit, reason="Wrong file",
                                                    cancelled_by=reception_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitCancellation.objects.create(visit=visit, reason="Again",
                                         cancelled_by=reception_user)
    with pytest.raises(DatabaseError), transaction.atomic():
        VisitCancellation.objects.filter(pk=cancellation.pk).update(reason="Edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        VisitCancellation.objects.filter(pk=cancellation.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitCancellation.objects.create(visit=VisitFactory(), reason="",
                                         cancelled_by=reception_user)


def test_a_cancelled_walk_in_is_no_contact_for_the_six_month_rule(reception_client,
                                                                  reception_user):
    today = timezone.localdate()
    episode = EpisodeFactory(opened_on=today - datetime.timedelta(days=200))
    visit = VisitFactory(patient=episode.patient, date=today - datetime.timedelta(days=100),
                         logged_by=reception_user)
    assert Episode.objects.with_end().get(pk=episode.pk).ended_on is None

    reception_client.post(cancel_url(visit), {"reason": "Wrong file"})

    # Its last contact is its opening again: more than six months ago, so the rule ended it.
    episode = Episode.objects.with_end().get(pk=episode.pk)
    assert episode.last_contact_on == episode.opened_on
    assert episode.ended_on is not None


def test_a_walk_in_logged_again_after_a_cancelled_one_is_logged(reception_client,
                                                                 reception_user):
    patient = PatientFactory()
    reception_client.post("/reception/arrivals/", {"patient": patient.pk,
                                                   "purpose": "dispensing"})
    visit = patient.visits.get()
    reception_client.post(cancel_url(visit), {"reason": "Pressed too soon"})
    reception_client.post("/reception/arrivals/", {"patient": patient.pk,
                                                   "purpose": "dispensing"})
    assert patient.visits.count() == 2
    assert patient.visits.filter(cancellation__isnull=True).count() == 1


# --- harm-reduction entries -----------------------------------------------------------------


def hr_cancel_url(contact) -> str:
    return f"/reception/harm-reduction/{contact.pk}/cancel/"


def test_an_anonymous_harm_reduction_entry_cancelled_counts_no_more(reception_client,
                                                                    reception_user):
    rows = harm_reduction_log(site=woeringen(), date=timezone.localdate(),
                              quantities={"syringe": (5, 0), "condom": (2, 0)},
                              actor=reception_user)
    syringes = next(row for row in rows if row.material == "syringe")
    before = figures()
    today_page = reception_client.get("/reception/harm-reduction/today/", **EN).content.decode()
    assert today_page.count("data-cancel-hr") == 2

    response = reception_client.post(hr_cancel_url(syringes), {"reason": "Typed 5 for 0"},
                                     **EN)

    assert response.status_code == 302
    assert response.url == "/reception/harm-reduction/today/"
    assert HarmReductionContactCancellation.objects.get().contact_id == syringes.pk
    after = figures()
    assert after["harm_reduction_items_handed_out"] == \
        before["harm_reduction_items_handed_out"] - 5
    # The condoms of the same hand-out still make it a contact.
    assert after["harm_reduction_contacts"] == before["harm_reduction_contacts"]
    board = reception_client.get("/reception/", **EN).context["board"]
    assert [row["material"] for row in board["material"]] == ["condom"]
    today_page = reception_client.get("/reception/harm-reduction/today/", **EN).content.decode()
    row = today_page.split(f'data-hr-entry="{syringes.pk}"')[1].split("</tr>")[0]
    assert "data-cancelled" in row and "<del>Syringes</del>" in row
    assert "cancelled: Typed 5 for 0" in row
    event = AuditEvent.objects.get(action="cancel")
    assert event.object_type == "patients.harmreductioncontactcancellation"


def test_a_named_harm_reduction_entry_is_cancelled_by_a_coordinator_not_by_another_desk(
        client, reception_user, coordinator_user):
    patient = PatientFactory()
    [contact] = harm_reduction_log(site=woeringen(), date=timezone.localdate(),
                                   quantities={"pipe": (1, 0)}, actor=reception_user,
                                   patient=patient)
    client.force_login(make_staff(Role.RECEPTION, username="other_desk"))
    assert client.post(hr_cancel_url(contact), {"reason": "Not mine"}).status_code == 403
    client.force_login(make_staff(Role.NURSE, username="a_nurse"))
    assert client.post(hr_cancel_url(contact), {"reason": "Not mine"}).status_code == 404
    assert not HarmReductionContactCancellation.objects.exists()

    client.force_login(coordinator_user)
    assert client.post(hr_cancel_url(contact), {"reason": "Wrong person"}).status_code == 302
    again = client.post(hr_cancel_url(contact), {"reason": "Again"}, **EN)
    assert "This entry is already cancelled." in again.content.decode()
    assert HarmReductionContactCancellation.objects.get().cancelled_by == coordinator_user
    assert AuditEvent.objects.get(action="cancel").patient_id == patient.pk


def test_harm_reduction_cancellations_are_append_only(reception_user):
    [contact] = harm_reduction_log(site=None, date=timezone.localdate(),
                                   quantities={"foil": (3, 0)}, actor=reception_user)
    cancellation = HarmReductionContactCancellation.objects.create(
        contact=contact, reason="Mistake", cancelled_by=reception_user)
    with pytest.raises(DatabaseError), transaction.atomic():
        HarmReductionContactCancellation.objects.filter(pk=cancellation.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        HarmReductionContactCancellation.objects.create(contact=contact, reason="Again",
                                                        cancelled_by=reception_user)


@pytest.mark.parametrize("rows", [1, 3])
def test_the_day_harm_reduction_list_query_count_is_constant(reception_client,
                                                             reception_user,
                                                             django_assert_num_queries, rows):
    for n in range(rows):
        [contact] = harm_reduction_log(site=woeringen(), date=timezone.localdate(),
                                       quantities={"syringe": (n + 1, 0)},
                                       actor=reception_user, patient=PatientFactory())
        if n % 2:
            HarmReductionContactCancellation.objects.create(
                contact=contact, reason="Mistake", cancelled_by=reception_user)
    reception_client.get("/reception/harm-reduction/today/")
    with django_assert_num_queries(HR_TODAY_QUERIES):
        response = reception_client.get("/reception/harm-reduction/today/")
    assert response.content.decode().count("data-hr-entry=") == rows


#: The session and the user, their permissions and roles (one query), the entries (with
#: their person, site, staff and cancellation), the list's audit row, the session saved
#: (savepoint, update, release).
HR_TODAY_QUERIES = 8


def test_harm_reduction_entries_of_the_day_are_the_desk_s_and_the_coordinator_s(client, db):
    for role, status in ((Role.RECEPTION, 200), (Role.COORDINATOR, 200), (Role.NURSE, 403)):
        client.force_login(make_staff(role, username=f"hr_{role.value}"))
        assert client.get("/reception/harm-reduction/today/").status_code == status
    assert client.post("/reception/harm-reduction/today/").status_code == 405
    assert not HarmReductionContact.objects.exists()


def test_a_coordinator_finds_and_cancels_an_entry_of_an_earlier_day(client, reception_user,
                                                                   coordinator_user):
    day = timezone.localdate() - datetime.timedelta(days=40)
    [contact] = harm_reduction_log(site=woeringen(), date=day, quantities={"wipe": (7, 0)},
                                   actor=reception_user)
    client.force_login(coordinator_user)
    listed = client.get("/reception/harm-reduction/today/", {"day": day.isoformat()}, **EN)
    link = f"/reception/harm-reduction/{contact.pk}/cancel/?next=" \
           f"/reception/harm-reduction/today/%3Fday%3D{day.isoformat()}"
    assert link in listed.content.decode()

    response = client.post(link, {"reason": "Counted twice"})

    assert response.status_code == 302
    assert response.url == f"/reception/harm-reduction/today/?day={day.isoformat()}"
    assert HarmReductionContactCancellation.objects.get().contact == contact
    later = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    refused = client.get("/reception/harm-reduction/today/", {"day": later}, **EN)
    assert "The date cannot be later than today." in refused.content.decode()
