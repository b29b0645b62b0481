"""The medical secret between disciplines, exhaustively: each role x each discipline x each page
that can show a note's text (consultation page, timeline, patient file panels, the author's
list, the amendment page), and the pages that list patients or consultations without showing
any note (search, lists, yearly figures and their exports, the audit trail, group sessions).
Refusals are an omitted text or a 404, never a leak."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from consultations import selectors
from consultations.models import Consultation
from mass.accounts.roles import CLINICAL_ROLES, Role
from mass.contributions import PATIENT_PANELS
from tests.consultations.conftest import DISCIPLINES, READERS, ROLES
from tests.factories import (
    ConsultationFactory,
    PatientFactory,
    ReferralFactory,
    ScreeningTestFactory,
)

PAGES = ["detail", "timeline", "patient_file", "amend"]
#: Who may amend a colleague's note of each discipline (they read it and write in it),
#: written out independently of consultations.selectors.WRITTEN_BY.
AMENDERS = {
    "medical": {Role.DOCTOR, Role.PSYCHIATRIST},
    "nursing": {Role.NURSE},
    "psychological": {Role.PSYCHOLOGIST},
    "psychiatric": {Role.PSYCHIATRIST},
    "social": {Role.SOCIAL_WORKER},
    "other": {Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST, Role.PSYCHOLOGIST,
              Role.SOCIAL_WORKER},
}
MY_PANELS = {"consultations", "referrals", "screening"}


def render_my_panels(user, patient) -> str:
    """The patient file's panels of this app, as the patient file renders them."""
    request = RequestFactory().get("/")
    request.user = user
    return "".join(render_to_string(panel.template, context, request=request)
                   for panel, context in PATIENT_PANELS.shown(request, patient)
                   if panel.key in MY_PANELS)


def patient_file_page(client, patient) -> str:
    response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def read(client, user, page, consultation) -> tuple[int, str]:
    client.force_login(user)
    if page == "detail":
        response = client.get(reverse("consultations:detail", args=[consultation.pk]))
    elif page == "timeline":
        response = client.get(reverse("consultations:timeline", args=[consultation.patient_id]))
    elif page == "amend":
        response = client.get(reverse("consultations:amend", args=[consultation.pk]))
    else:
        html = render_my_panels(user, consultation.patient)
        full_page = patient_file_page(client, consultation.patient)
        return 200, html + full_page
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("discipline", DISCIPLINES)
@pytest.mark.parametrize("role", ROLES)
def test_note_text_follows_the_rule(client, staff_factory, signed_note, role, discipline, page):
    consultation = signed_note(discipline)
    reader = staff_factory(role)

    status, content = read(client, reader, page, consultation)

    allowed = role in READERS[discipline]
    note, amendment = f"SECRET-{discipline}-NOTE", f"SECRET-{discipline}-AMENDMENT"
    if allowed and page == "amend" and role not in AMENDERS[discipline]:
        assert status == 403  # reads the note, does not write in its discipline
    elif allowed:
        assert status == 200
        assert note in content and amendment in content
    else:
        # The other pages show the file without the note. The amendment page: a role that
        # writes no notes is refused it (403); a clinician is not told the note exists (404).
        if page != "amend":
            assert status == 200
        else:
            assert status == (404 if role in CLINICAL_ROLES else 403)
        assert note not in content and amendment not in content


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("discipline", DISCIPLINES)
@pytest.mark.parametrize("role", ROLES)
def test_personal_note_is_read_by_its_author_only(client, staff_factory, signed_note, role,
                                                  discipline, page):
    consultation = signed_note(discipline, personal=True)
    reader = staff_factory(role)

    _, content = read(client, reader, page, consultation)
    _, author_content = read(client, consultation.author, page, consultation)

    assert f"SECRET-{discipline}-NOTE" not in content
    assert f"SECRET-{discipline}-AMENDMENT" not in content
    assert f"SECRET-{discipline}-NOTE" in author_content
    assert f"SECRET-{discipline}-AMENDMENT" in author_content


@pytest.mark.parametrize("discipline", DISCIPLINES)
def test_author_reads_own_note_whatever_their_roles_now(client, staff_factory, discipline):
    author = staff_factory(Role.RECEPTION)  # e.g. moved to the desk since writing it
    consultation = ConsultationFactory(author=author, discipline=discipline,
                                       note="MY-OWN-TEXT")
    client.force_login(author)

    response = client.get(reverse("consultations:detail", args=[consultation.pk]))

    assert "MY-OWN-TEXT" in response.content.decode()
    assert "MY-OWN-TEXT" in render_my_panels(author, consultation.patient)


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.COORDINATOR])
def test_reception_and_coordinators_see_that_a_consultation_took_place(client, staff_factory,
                                                                       signed_note, role):
    consultation = signed_note("psychological")
    client.force_login(staff_factory(role))

    response = client.get(reverse("consultations:detail", args=[consultation.pk]),
                          HTTP_ACCEPT_LANGUAGE="en")
    timeline = client.get(reverse("consultations:timeline", args=[consultation.patient_id]),
                          HTTP_ACCEPT_LANGUAGE="en").content.decode()

    content = response.content.decode()
    assert response.status_code == 200
    assert "Psychological" in content and "SECRET" not in content
    assert "Note not shown" in content
    assert "Psychological" in timeline and "SECRET" not in timeline


def test_user_without_role_gets_403_everywhere(client, staff_factory, signed_note):
    consultation = signed_note("medical")
    client.force_login(staff_factory())
    for url in [reverse("consultations:detail", args=[consultation.pk]),
                reverse("consultations:timeline", args=[consultation.patient_id]),
                reverse("consultations:amend", args=[consultation.pk]),
                reverse("consultations:list")]:
        assert client.get(url).status_code == 403, url
    assert render_my_panels(staff_factory(username="norole2"), consultation.patient) == ""


def test_unknown_consultation_is_404(doctor_client):
    assert doctor_client.get(reverse("consultations:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("discipline", DISCIPLINES)
@pytest.mark.parametrize("role", ROLES)
def test_queryset_rule_and_python_rule_agree(staff_factory, role, discipline):
    author = staff_factory(Role.DOCTOR)
    reader = staff_factory(role)
    public = ConsultationFactory(author=author, discipline=discipline)
    personal = ConsultationFactory(author=author, discipline=discipline, is_personal_note=True)
    visible = set(Consultation.objects.filter(selectors.consultation_text_visible_q(reader))
                  .values_list("pk", flat=True))
    assert (public.pk in visible) == selectors.consultation_text_visible(reader, public) \
        == (role in READERS[discipline])
    assert personal.pk not in visible
    assert not selectors.consultation_text_visible(reader, personal)


def test_several_roles_read_the_union(staff_factory, signed_note):
    reader = staff_factory(Role.NURSE, Role.SOCIAL_WORKER)
    readable = {c.discipline for c in (signed_note(d) for d in DISCIPLINES)
                if selectors.consultation_text_visible(reader, c)}
    assert readable == {"medical", "nursing", "social", "other"}


# --- screening and referrals ------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_screening_results_under_medical_confidentiality(client, staff_factory, role):
    screening = ScreeningTestFactory(result="positive", follow_up="SCREENING-FOLLOW-UP")
    reader = staff_factory(role)
    client.force_login(reader)

    html = render_my_panels(reader, screening.patient)
    result_page = client.get(reverse("consultations:screening_result", args=[screening.pk]))

    allowed = role in {Role.DOCTOR, Role.PSYCHIATRIST, Role.NURSE}
    assert ("SCREENING-FOLLOW-UP" in html) is allowed
    if allowed:
        assert result_page.status_code == 200
    else:
        assert result_page.status_code == 403  # no screening permission
        assert "SCREENING-FOLLOW-UP" not in result_page.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_referral_reason_for_clinical_roles_only(client, staff_factory, role):
    referral = ReferralFactory(reason="REFERRAL-REASON")
    reader = staff_factory(role)
    client.force_login(reader)

    panel = render_my_panels(reader, referral.patient)
    partner_page = client.get(reverse("consultations:partner_detail", args=[referral.partner_id]))

    clinical = role not in (Role.RECEPTION, Role.COORDINATOR)
    assert ("REFERRAL-REASON" in panel) is clinical
    assert ("REFERRAL-REASON" in partner_page.content.decode()) is clinical
    assert referral.partner.name in partner_page.content.decode()


def test_amendment_page_of_unreadable_note_is_404(client, staff_factory, signed_note):
    consultation = signed_note("psychological")
    client.force_login(staff_factory(Role.NURSE))
    response = client.get(reverse("consultations:amend", args=[consultation.pk]))
    assert response.status_code == 404
    response = client.post(reverse("consultations:amend", args=[consultation.pk]),
                           {"reason": "x", "text": "y"})
    assert response.status_code == 404
    assert consultation.amendments.count() == 1


def test_patient_of_another_file_is_not_mixed_in(client, psychiatrist_user, signed_note):
    mine = signed_note("psychiatric", patient=PatientFactory())
    other = signed_note("psychiatric", patient=PatientFactory())
    client.force_login(psychiatrist_user)
    content = client.get(reverse("consultations:timeline", args=[mine.patient_id])).content
    assert content.decode().count("SECRET-psychiatric-NOTE") == 1
    assert other.patient.alias not in content.decode()


# --- pages that list, search or export: no note text, for anyone ------------------------------

#: Pages that name the patient or count their consultations but show no note, whoever reads
#: them (issue 4: "search results, exports"). ``w``: the world of the test below.
LIST_PAGES = {
    "patient_search": lambda w: reverse("patients:search") + f"?q={w.patient.alias}",
    "my_consultations": lambda w: reverse("consultations:list"),
    "figures_consultations_list": lambda w: reverse(
        "reporting:file_active_explain", args=[w.year, "consultations"]),
    "figures_contacts_list": lambda w: reverse(
        "reporting:file_active_explain", args=[w.year, "patient_contacts"]),
    "figures_json": lambda w: reverse("reporting:file_active", args=[w.year]) + "?format=json",
    "figures_csv": lambda w: reverse("reporting:file_active", args=[w.year]) + "?format=csv",
    "figures_xlsx": lambda w: reverse("reporting:file_active", args=[w.year]) + "?format=xlsx",
    "audit_list": lambda w: reverse("audit_list"),
    "audit_of_the_patient": lambda w: reverse("audit_list") + f"?patient={w.patient.pk}",
    "group_session": lambda w: reverse("consultations:group_detail", args=[w.session.pk]),
}
#: Who opens each list (the others get a 403): the figures and the audit trail are the
#: coordinator's, a clinician's own notes are a clinician's.
LIST_READERS = {
    "patient_search": set(Role), "group_session": set(Role),
    "my_consultations": CLINICAL_ROLES,
    **{page: {Role.COORDINATOR} for page in LIST_PAGES if page.startswith(("figures_",
                                                                          "audit_"))},
}


def text_of(response) -> str:
    """What a reader gets: the page, or every cell of a spreadsheet."""
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        import io

        from openpyxl import load_workbook
        workbook = load_workbook(io.BytesIO(response.content))
        return " ".join(str(cell) for sheet in workbook.worksheets
                        for row in sheet.iter_rows(values_only=True) for cell in row)
    return response.content.decode()


@pytest.fixture
def notes_of_every_discipline(client, signed_note):
    """One patient with a signed note (and its amendment) of every discipline and a personal
    note; the authors have opened them (so the audit trail holds their reads); the patient
    attended a group session."""
    from types import SimpleNamespace

    from tests.factories import GroupAttendanceFactory
    patient = PatientFactory(alias="Confidentialite")
    notes = [signed_note(d, patient=patient) for d in DISCIPLINES]
    notes.append(signed_note("other", patient=patient, personal=True))
    for note in notes:
        client.force_login(note.author)
        assert client.get(reverse("consultations:detail", args=[note.pk])).status_code == 200
        assert client.get(reverse("consultations:amend", args=[note.pk])).status_code == 200
    client.logout()
    attendance = GroupAttendanceFactory(patient=patient)
    return SimpleNamespace(patient=patient, notes=notes, session=attendance.session,
                           year=notes[0].date.year)


@pytest.mark.parametrize("page", LIST_PAGES)
def test_lists_searches_and_exports_show_no_note_text(client, staff_factory,
                                                      notes_of_every_discipline, page):
    world = notes_of_every_discipline
    texts = [text for note in world.notes
             for text in [note.note, *(a.text for a in note.amendments.all())]]
    for role in ROLES:  # every role on one world: the world is the slow part
        client.force_login(staff_factory(role))

        response = client.get(LIST_PAGES[page](world), HTTP_ACCEPT_LANGUAGE="en")

        assert response.status_code == (200 if role in LIST_READERS[page] else 403), role
        content = text_of(response)
        shown = [text for text in texts if text in content]
        assert "SECRET-" not in content and not shown, (role, shown)


@pytest.mark.parametrize("page,role", [
    ("patient_search", Role.RECEPTION), ("figures_consultations_list", Role.COORDINATOR),
    ("figures_contacts_list", Role.COORDINATOR), ("audit_of_the_patient", Role.COORDINATOR),
    ("group_session", Role.PSYCHOLOGIST),
])
def test_the_lists_above_do_show_the_patient(client, staff_factory, notes_of_every_discipline,
                                             page, role):
    """The test above is not empty: these pages list the patient or their reads."""
    world = notes_of_every_discipline
    client.force_login(staff_factory(role))

    response = client.get(LIST_PAGES[page](world), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    content = response.content.decode()
    if page == "audit_of_the_patient":
        assert all(f"consultation {note.pk}" in content for note in world.notes)
    else:
        assert world.patient.alias in content
