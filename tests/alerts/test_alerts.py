"""Alerts on a patient: who records and reads each kind, the pages (record, end, list), the
append-only rule in the database, the banner on the patient's pages."""

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.db.utils import ProgrammingError
from django.urls import reverse

from alerts.models import Alert
from alerts.rules import RULES, readable_kinds, recordable_kinds
from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.conftest import EN, client_for, make_staff
from tests.factories import AlertFactory, PatientFactory, SocialActionFactory

R, N, D, PY, PS, S, C = (Role.RECEPTION, Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST,
                         Role.PSYCHOLOGIST, Role.SOCIAL_WORKER, Role.COORDINATOR)

MEDICAL = {N, D, PY}
#: The rule of docs/domain.md written out by hand: kind -> (readers, recorders).
EXPECTED = {
    "allergy": (MEDICAL, MEDICAL),
    "qt_ecg": (MEDICAL, {D, PY}),
    "pregnancy": (MEDICAL, MEDICAL),
    "interaction": (MEDICAL, MEDICAL),
    "behaviour": ({R, N, D, PY, PS, S}, {R, N, D, PY, PS, S}),
    "doctor_first": (MEDICAL, {D, PY}),
}


@pytest.fixture
def patient(db):
    return PatientFactory(alias="Kéké", file_number="A000123")


def alert_count(**filters) -> int:
    return Alert.objects.filter(**filters).count()


# --- the rule -------------------------------------------------------------------------------


def test_every_kind_has_its_rule():
    assert set(RULES) == set(Alert.Kind.values) == set(EXPECTED)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_kinds_each_role_reads_and_records(db, role):
    user = make_staff(role)
    assert set(readable_kinds(user)) == {k for k, (readers, _) in EXPECTED.items()
                                         if role in readers}
    assert set(recordable_kinds(user)) == {k for k, (_, recorders) in EXPECTED.items()
                                           if role in recorders}


def test_coordinator_reads_no_alert(db):
    assert readable_kinds(make_staff(C)) == []


# --- recording ------------------------------------------------------------------------------


@pytest.mark.parametrize("role, kind", [(D, "doctor_first"), (PY, "qt_ecg"), (N, "allergy"),
                                        (N, "pregnancy"), (N, "interaction"),
                                        (R, "behaviour"), (PS, "behaviour"), (S, "behaviour")])
def test_role_records_its_kinds(client, patient, role, kind):
    user = make_staff(role)
    response = client_for(client, user).post(
        reverse("alerts:create", args=[patient.pk]), {"kind": kind, "text": " Benzos  + alcohol "},
        **EN)
    assert response.status_code == 302
    alert = Alert.objects.get(patient=patient)
    assert (alert.kind, alert.text, alert.recorded_by, alert.ended_at) == (
        kind, "Benzos + alcohol", user, None)
    event = AuditEvent.objects.get(action="create", object_type="alerts.alert")
    assert (event.patient, event.actor) == (patient, user)
    # Neither the text nor the kind: coordinators read the trail and no alert.
    assert event.summary == "alert recorded" and kind not in event.summary


@pytest.mark.parametrize("role, kind", [(N, "doctor_first"), (N, "qt_ecg"), (R, "allergy"),
                                        (PS, "pregnancy"), (S, "interaction")])
def test_role_may_not_record_other_kinds(client, patient, role, kind):
    response = client_for(client, make_staff(role)).post(
        reverse("alerts:create", args=[patient.pk]), {"kind": kind, "text": "x"}, **EN)
    assert response.status_code == 200
    assert "Choose one of the kinds of alert you may record." in response.content.decode()
    assert alert_count() == 0


def test_form_offers_only_the_kinds_the_role_records(client, patient):
    response = client_for(client, make_staff(R)).get(
        reverse("alerts:create", args=[patient.pk]), **EN)
    html = response.content.decode()
    assert 'value="behaviour"' in html
    assert 'value="allergy"' not in html and 'value="doctor_first"' not in html


def test_alert_without_a_kind_is_refused(client, patient):
    response = client_for(client, make_staff(D)).post(
        reverse("alerts:create", args=[patient.pk]), {"kind": "", "text": "Penicillin"}, **EN)
    assert response.status_code == 200
    assert "Choose the kind of alert." in response.content.decode()
    assert alert_count() == 0
    assert not AuditEvent.objects.filter(object_type="alerts.alert").exists()


@pytest.mark.parametrize("text", ["", "   "])
def test_alert_without_text_is_refused(client, patient, text):
    response = client_for(client, make_staff(D)).post(
        reverse("alerts:create", args=[patient.pk]), {"kind": "allergy", "text": text}, **EN)
    assert "Say in a few words what to know." in response.content.decode()
    assert alert_count() == 0


def test_alert_on_a_merged_file_is_refused(client, patient):
    stub = PatientFactory(status="merged", merged_into=patient)
    response = client_for(client, make_staff(D)).post(
        reverse("alerts:create", args=[stub.pk]), {"kind": "allergy", "text": "x"}, **EN)
    assert "was merged into file A000123" in response.content.decode()
    assert alert_count() == 0


@pytest.mark.parametrize("role", [C, None], ids=["coordinator", "no_role"])
def test_no_alert_pages_for_roles_without_alerts(client, patient, role):
    user = make_staff(role) if role else make_staff()
    alert = AlertFactory(patient=patient, kind="behaviour")
    client_for(client, user)
    assert client.get(reverse("alerts:list", args=[patient.pk])).status_code == 403
    assert client.post(reverse("alerts:create", args=[patient.pk]),
                       {"kind": "behaviour", "text": "x"}).status_code == 403
    assert client.post(reverse("alerts:end", args=[alert.pk]),
                       {"reason": "x"}).status_code == 403
    assert alert_count() == 1 and Alert.objects.get().is_active


def test_unknown_patient_is_404(client, db):
    client_for(client, make_staff(D))
    assert client.get(reverse("alerts:create", args=[999999])).status_code == 404
    assert client.get(reverse("alerts:list", args=[999999])).status_code == 404


# --- the list -------------------------------------------------------------------------------


def test_list_shows_the_kinds_the_role_reads_with_ended_ones_struck(client, patient):
    doctor = make_staff(D)
    AlertFactory(patient=patient, kind="allergy", text="Penicillin", recorded_by=doctor)
    AlertFactory(patient=patient, kind="behaviour", text="Threatened a nurse")
    ended = AlertFactory(patient=patient, kind="pregnancy", text="Pregnant 12 weeks")
    Alert.objects.filter(pk=ended.pk).update(ended_at=ended.recorded_at, ended_by=doctor,
                                             end_reason="Delivered")

    html = client_for(client, make_staff(N)).get(
        reverse("alerts:list", args=[patient.pk]), **EN).content.decode()
    assert "Penicillin" in html and "Threatened a nurse" in html
    assert (f'data-alert-row="{ended.pk}" data-alert-kind="pregnancy" '
            'class="text-decoration-line-through') in html
    assert "Delivered" in html
    assert AuditEvent.objects.filter(action="view", patient=patient,
                                     summary="alerts of A000123").count() == 1

    html = client_for(client, make_staff(R)).get(
        reverse("alerts:list", args=[patient.pk]), **EN).content.decode()
    assert "Threatened a nurse" in html
    assert "Penicillin" not in html and "Pregnant" not in html


def test_list_is_get_only(client, patient):
    response = client_for(client, make_staff(N)).post(reverse("alerts:list", args=[patient.pk]))
    assert response.status_code == 405


def test_list_query_count_is_constant(client, patient, django_assert_num_queries):
    client_for(client, make_staff(D))
    url = reverse("alerts:list", args=[patient.pk])

    def add_alerts(count):
        for _index in range(count):
            AlertFactory(patient=patient, text=f"Allergy {alert_count()}",
                         recorded_by=make_staff(D))

    add_alerts(1)
    client.get(url)  # the session warm
    with django_assert_num_queries(20, exact=False) as one:
        client.get(url)
    add_alerts(2)
    with django_assert_num_queries(len(one)):
        response = client.get(url)
    assert response.content.decode().count("data-alert-row=") == 3


# --- ending ---------------------------------------------------------------------------------


def test_doctor_ends_an_alert_with_a_reason(client, patient):
    doctor = make_staff(D)
    alert = AlertFactory(patient=patient, kind="doctor_first", text="Seen drowsy")
    client_for(client, doctor)
    page = client.get(reverse("alerts:end", args=[alert.pk]), **EN)
    assert "Seen drowsy" in page.content.decode()
    response = client.post(reverse("alerts:end", args=[alert.pk]),
                           {"reason": "Seen today, dose confirmed"}, **EN)
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.ended_by, alert.end_reason, alert.is_active) == (
        doctor, "Seen today, dose confirmed", False)
    assert AuditEvent.objects.filter(action="update", object_type="alerts.alert",
                                     object_id=str(alert.pk)).count() == 1


def test_end_without_a_reason_is_refused(client, patient):
    alert = AlertFactory(patient=patient, kind="allergy")
    response = client_for(client, make_staff(N)).post(
        reverse("alerts:end", args=[alert.pk]), {"reason": "  "}, **EN)
    assert "Say why the alert ends." in response.content.decode()
    alert.refresh_from_db()
    assert alert.is_active


def test_an_alert_ends_once(client, patient):
    alert = AlertFactory(patient=patient, kind="allergy")
    nurse = client_for(client, make_staff(N))
    nurse.post(reverse("alerts:end", args=[alert.pk]), {"reason": "Ruled out"})
    response = nurse.post(reverse("alerts:end", args=[alert.pk]), {"reason": "Again"}, **EN)
    assert "This alert was already ended" in response.content.decode()
    alert.refresh_from_db()
    assert alert.end_reason == "Ruled out"


def test_nurse_does_not_end_doctor_before_any_dose(client, patient):
    alert = AlertFactory(patient=patient, kind="doctor_first")
    response = client_for(client, make_staff(N)).post(
        reverse("alerts:end", args=[alert.pk]), {"reason": "Looks fine"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.is_active


def test_alert_of_a_kind_the_role_does_not_read_is_404(client, patient):
    alert = AlertFactory(patient=patient, kind="allergy")
    client_for(client, make_staff(R))
    assert client.get(reverse("alerts:end", args=[alert.pk])).status_code == 404
    assert client.post(reverse("alerts:end", args=[alert.pk]),
                       {"reason": "x"}).status_code == 404
    alert.refresh_from_db()
    assert alert.is_active


# --- append-only in the database ------------------------------------------------------------


def refused(statement, params):
    with (pytest.raises((InternalError, IntegrityError, ProgrammingError)),
          transaction.atomic(), connection.cursor() as cursor):
            cursor.execute(statement, params)


def test_database_keeps_alerts(patient):
    alert = AlertFactory(patient=patient)
    refused("DELETE FROM alerts_alert WHERE id = %s", [alert.pk])
    refused("UPDATE alerts_alert SET text = 'Latex' WHERE id = %s", [alert.pk])
    refused("UPDATE alerts_alert SET kind = 'behaviour' WHERE id = %s", [alert.pk])
    # Ended without a reason: the constraint.
    refused("UPDATE alerts_alert SET ended_at = now() WHERE id = %s", [alert.pk])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE alerts_alert SET ended_at = recorded_at, end_reason = 'Ruled out' "
                       "WHERE id = %s", [alert.pk])
    # Once ended, the end stays as written.
    refused("UPDATE alerts_alert SET end_reason = 'Other' WHERE id = %s", [alert.pk])
    refused("UPDATE alerts_alert SET ended_at = NULL, end_reason = '' WHERE id = %s",
            [alert.pk])
    alert.refresh_from_db()
    assert alert.end_reason == "Ruled out" and alert.text == "Penicillin"


def test_a_merge_moves_alerts_to_the_kept_file(client, patient):
    from patients import services as patient_services
    other = PatientFactory(alias="Keke", file_number="A000124")
    alert = AlertFactory(patient=other, kind="behaviour")
    patient_services.patient_merge(kept=patient, merged=other, reason="Same person",
                                   actor=make_staff(C))
    alert.refresh_from_db()
    assert alert.patient == patient and alert.is_active


# --- the banner on the patient's pages ------------------------------------------------------


@pytest.fixture
def alerted(patient):
    AlertFactory(patient=patient, kind="allergy", text="ALLERGY-PENICILLIN")
    AlertFactory(patient=patient, kind="behaviour", text="BEHAVIOUR-KNIFE")
    ended = AlertFactory(patient=patient, kind="interaction", text="ENDED-BENZOS")
    Alert.objects.filter(pk=ended.pk).update(ended_at=ended.recorded_at, end_reason="Stopped")
    return patient


def _pages(patient):
    from tests.factories import ConsultationFactory, EpisodeFactory, PrescriptionFactory
    episode = EpisodeFactory(patient=patient)
    consultation = ConsultationFactory(patient=patient, discipline="other")
    rx = PrescriptionFactory(patient=patient)
    action = SocialActionFactory(patient=patient)
    return {
        "patient file": reverse("patients:detail", args=[patient.pk]),
        "patient edit": reverse("patients:update", args=[patient.pk]),
        "walk-in": reverse("patients:visit_create", args=[patient.pk]),
        "episode close": reverse("patients:episode_close", args=[episode.pk]),
        "timeline": reverse("consultations:timeline", args=[patient.pk]),
        "consultation": reverse("consultations:detail", args=[consultation.pk]),
        "dispensing record": reverse("dispensary:patient", args=[patient.pk]),
        "dispense form": reverse("dispensary:dispense", args=[rx.pk]),
        "social situation": reverse("social:situation", args=[patient.pk]),
        "social action": reverse("social:action_detail", args=[action.pk]),
        "TDI questionnaire": reverse("reporting:tdi", args=[episode.pk]),
    }


#: page -> roles that open it (and so must see the banner of what they read).
PAGE_ROLES = {
    "patient file": [R, N, D, PS, S, C], "patient edit": [R, N, S],
    "walk-in": [R, N], "episode close": [N, D], "timeline": [R, N, PS, C],
    "consultation": [R, N, D, C], "dispensing record": [N, D], "dispense form": [N],
    "social situation": [N, PS, S], "social action": [D, S, C], "TDI questionnaire": [R, N],
}


def test_banner_on_every_page_of_the_patient(client, alerted):
    pages = _pages(alerted)
    assert set(pages) == set(PAGE_ROLES)
    for name, url in pages.items():
        for role in PAGE_ROLES[name]:
            client_for(client, make_staff(role))
            response = client.get(url, **EN)
            assert response.status_code == 200, (name, role)
            html = response.content.decode()
            reads = set(readable_kinds(make_staff(role)))
            assert ("data-alert-banner" in html) == bool(reads), (name, role)
            assert ("ALLERGY-PENICILLIN" in html) == ("allergy" in reads), (name, role)
            assert ("BEHAVIOUR-KNIFE" in html) == ("behaviour" in reads), (name, role)
            assert "ENDED-BENZOS" not in html, (name, role)


def test_banner_costs_one_query_and_one_for_ecg_due(client, alerted, django_assert_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory
    request = RequestFactory().get("/")
    request.user = make_staff(N)
    request.user.has_perm("alerts.view_alert")  # roles and permissions: loaded by every page
    request.user._mass_roles = [N]
    template = Template("{% load alerts_tags %}{% alert_banner patient %}")
    # The recorded alerts, and the clinical app's "ECG due" (derived when read, one query).
    with django_assert_num_queries(2):
        html = template.render(Context({"request": request, "patient": alerted}))
    assert "ALLERGY-PENICILLIN" in html
    request.user = make_staff(C)
    request.user.has_perm("alerts.view_alert")
    request.user._mass_roles = [C]
    with django_assert_num_queries(0):
        assert "data-alert" not in template.render(Context({"request": request,
                                                            "patient": alerted}))
