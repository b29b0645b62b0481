"""Identification photos with consent (issue 12, part 2): taken at the desk or the counter
(device camera or file), checked and re-encoded, served only to staff who may see them,
audited and never cached; consent recorded, withdrawal erases the photo. Without a photo,
birth year, sex, last visit and a distinguishing feature tell same-alias files apart."""

import datetime
from io import BytesIO

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from mass.accounts.roles import Role
from mass.models import AuditEvent
from patients.models import PatientPhoto, PhotoConsent
from patients.photos import MAX_BYTES, PHOTO_SIZE, THUMB_SIZE
from tests.conftest import EN
from tests.factories import (
    PatientFactory,
    PrescriptionFactory,
    VisitFactory,
    image_bytes,
    photo_of,
    photo_upload,
)


@pytest.fixture(autouse=True)
def photo_root(settings, tmp_path):
    """Every test of this module stores its photos in a folder of its own, to look at."""
    settings.PHOTO_ROOT = tmp_path / "photos"
    return settings.PHOTO_ROOT


def files_in(root) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def take(client, patient, *, upload=None, consent=True, source="upload", next_url=None):
    data = {"photo": upload or photo_upload(), "source": source}
    if consent:
        data["consent"] = "on"
    if next_url:
        data["next"] = next_url
    return client.post(reverse("patients:photo_take", args=[patient.pk]), data, **EN)


def image_of(source) -> tuple[str, tuple[int, int], dict]:
    """(format, size, EXIF) of an image file or bytes."""
    with Image.open(BytesIO(source) if isinstance(source, bytes) else source) as image:
        return image.format, image.size, dict(image.getexif())


def audit_rows(patient, **filters):
    return AuditEvent.objects.filter(patient=patient, **filters)


# --- taking the photo -------------------------------------------------------------------------


def test_upload_with_consent_stores_a_reencoded_photo_without_metadata(
        reception_client, reception_user, photo_root):
    patient = PatientFactory(alias="Kéké")
    upload = photo_upload(image_bytes(size=(1200, 900), gps=True))
    assert image_of(upload.read())[2]  # the phone's make and position are in it
    upload.seek(0)

    response = take(reception_client, patient, upload=upload)

    assert response.status_code == 302
    assert response["Location"] == patient.get_absolute_url()
    photo = PatientPhoto.objects.get(patient=patient)
    assert (photo.source, photo.taken_by) == ("upload", reception_user)
    assert list(PhotoConsent.objects.filter(patient=patient).values_list(
        "decision", "recorded_by")) == [("given", reception_user.pk)]
    assert files_in(photo_root) == sorted([f"{photo.token}.jpg", f"{photo.token}-thumb.jpg"])
    for name, size in ((f"{photo.token}.jpg", PHOTO_SIZE),
                       (f"{photo.token}-thumb.jpg", THUMB_SIZE)):
        assert image_of(photo_root / name) == ("JPEG", size, {})  # re-encoded: no GPS, device
        assert oct((photo_root / name).stat().st_mode & 0o777) == oct(0o600)
    event = audit_rows(patient, action=AuditEvent.Action.CREATE).get()
    assert event.object_type == "patients.patientphoto"
    assert "consent given" in event.summary


def test_camera_picture_posted_as_a_file_comes_back_to_the_counter(nurse_client, photo_root):
    """static/js/photo.js posts the canvas as a JPEG file named camera.jpg, source camera,
    with the list it was taken from as ``next``."""
    patient = PatientFactory()
    canvas = photo_upload(image_bytes(size=(360, 480)), name="camera.jpg")

    response = take(nurse_client, patient, upload=canvas, source="camera",
                    next_url=reverse("dispensary:today"))

    assert response["Location"] == reverse("dispensary:today")
    assert PatientPhoto.objects.get(patient=patient).source == "camera"
    assert len(files_in(photo_root)) == 2


def test_photo_page_shows_the_camera_and_the_consent_box(reception_client):
    patient = PatientFactory()
    content = reception_client.get(reverse("patients:photo_take", args=[patient.pk]),
                                   **EN).content.decode()
    assert "data-camera-start" in content and 'name="consent"' in content
    assert 'enctype="multipart/form-data"' in content
    assert "js/photo.js" in content
    assert audit_rows(patient, action=AuditEvent.Action.VIEW).count() == 1


def test_consent_on_record_is_not_asked_again_and_a_new_photo_replaces_the_old(
        reception_client, nurse_client, photo_root, django_capture_on_commit_callbacks):
    patient = PatientFactory()
    take(reception_client, patient)
    old = PatientPhoto.objects.get(patient=patient).token
    page = nurse_client.get(reverse("patients:photo_take", args=[patient.pk]), **EN)
    assert "Consent on record." in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = take(nurse_client, patient, consent=False,
                        upload=photo_upload(image_bytes(color=(10, 200, 30))))

    assert response.status_code == 302
    new = PatientPhoto.objects.get(patient=patient).token
    assert new != old
    assert files_in(photo_root) == sorted([f"{new}.jpg", f"{new}-thumb.jpg"])
    assert PhotoConsent.objects.filter(patient=patient).count() == 1
    assert audit_rows(patient, action=AuditEvent.Action.UPDATE,
                      object_type="patients.patientphoto").count() == 1


# --- bad input: refused with a clear message, nothing written ----------------------------------

TEXT = b"Not a photo at all, just some text.\n" * 10
HTML = b"<html><script>alert('x')</script></html>"


@pytest.mark.parametrize("upload, consent, message", [
    # not an image, whatever its name says
    (lambda: photo_upload(TEXT, name="notes.jpg", content_type="text/plain"), True,
     "This file is not an image"),
    # a forged content type: a page (or text) declared as a JPEG or PNG image
    (lambda: photo_upload(HTML, name="face.jpg", content_type="image/jpeg"), True,
     "This file is not a photo that can be read"),
    (lambda: photo_upload(TEXT, name="face.png", content_type="image/png"), True,
     "This file is not a photo that can be read"),
    # an SVG is an image that may carry a script: not a photo
    (lambda: photo_upload(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                          b'</script></svg>', name="face.svg", content_type="image/svg+xml"),
     True, "This file is not a photo that can be read"),
    # a photo cut short in transfer
    (lambda: photo_upload(image_bytes()[:600]), True, "This file is not a photo that can be read"),
    # more than 10 MB
    (lambda: photo_upload(image_bytes() + b"\0" * MAX_BYTES), True, "larger than 10 MB"),
    # a good photo, but the person was not asked
    (lambda: photo_upload(), False, "a photo is stored only with their consent"),
], ids=["not-an-image", "forged-jpeg", "forged-png", "svg", "truncated", "over-10-mb",
        "no-consent"])
def test_bad_photo_is_refused_and_nothing_is_written(reception_client, photo_root, upload,
                                                     consent, message):
    patient = PatientFactory()
    audit_before = AuditEvent.objects.exclude(action=AuditEvent.Action.VIEW).count()

    response = take(reception_client, patient, upload=upload(), consent=consent)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PatientPhoto.objects.filter(patient=patient).exists()
    assert not PhotoConsent.objects.filter(patient=patient).exists()
    assert files_in(photo_root) == []
    assert AuditEvent.objects.exclude(action=AuditEvent.Action.VIEW).count() == audit_before


def test_photo_without_a_file_is_refused(reception_client, photo_root):
    patient = PatientFactory()
    response = reception_client.post(reverse("patients:photo_take", args=[patient.pk]),
                                     {"consent": "on", "source": "camera"}, **EN)
    assert "This field is required." in response.content.decode()
    assert not PatientPhoto.objects.exists() and files_in(photo_root) == []


# --- withdrawal -------------------------------------------------------------------------------


def test_withdrawal_erases_the_photo_and_is_recorded(
        reception_client, nurse_client, nurse_user, photo_root,
        django_capture_on_commit_callbacks):
    patient = PatientFactory()
    take(reception_client, patient)
    assert len(files_in(photo_root)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = nurse_client.post(reverse("patients:photo_withdraw", args=[patient.pk]),
                                     {"next": reverse("dispensary:today")}, **EN)

    assert response["Location"] == reverse("dispensary:today")
    assert not PatientPhoto.objects.filter(patient=patient).exists()
    assert files_in(photo_root) == []  # really erased, not hidden
    assert list(PhotoConsent.objects.filter(patient=patient).order_by("id").values_list(
        "decision", flat=True)) == ["given", "withdrawn"]
    event = audit_rows(patient, object_type="patients.photoconsent").get()
    assert (event.actor, event.details) == (nurse_user, {"photo_erased": True})
    assert "photo erased" in event.summary
    assert nurse_client.get(reverse("patients:photo", args=[patient.pk])).status_code == 404

    # Asked again later, the person agrees again: a new consent row.
    take(reception_client, patient)
    assert PhotoConsent.objects.filter(patient=patient).count() == 3


def test_withdrawal_without_consent_is_refused(reception_client):
    patient = PatientFactory()
    response = reception_client.post(reverse("patients:photo_withdraw", args=[patient.pk]),
                                     follow=True, **EN)
    assert "There is no photo consent to withdraw" in response.content.decode()
    assert not PhotoConsent.objects.filter(patient=patient).exists()
    assert not audit_rows(patient).exclude(action=AuditEvent.Action.VIEW).exists()


def test_withdrawal_is_post_only(reception_client):
    patient = PatientFactory()
    response = reception_client.get(reverse("patients:photo_withdraw", args=[patient.pk]))
    assert response.status_code == 405


def test_consent_history_is_append_only(db):
    patient = PatientFactory()
    photo_of(patient)
    consent = PhotoConsent.objects.get(patient=patient)
    for change in (lambda: PhotoConsent.objects.filter(pk=consent.pk).update(
                       decision="withdrawn"),
                   lambda: PhotoConsent.objects.filter(pk=consent.pk).delete()):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert PhotoConsent.objects.get(pk=consent.pk).decision == "given"


# --- serving the photo ------------------------------------------------------------------------


def test_photo_is_served_without_cache_and_each_view_is_audited(nurse_client, nurse_user):
    patient = PatientFactory()
    photo = photo_of(patient)

    response = nurse_client.get(reverse("patients:photo", args=[patient.pk]),
                                {"size": "thumb"})

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert image_of(response.content)[:2] == ("JPEG", THUMB_SIZE)
    event = audit_rows(patient, action=AuditEvent.Action.VIEW).get()
    assert (event.actor, event.object_type, event.object_id) == (
        nurse_user, "patients.patientphoto", str(photo.pk))
    assert "(thumb)" in event.summary

    full = nurse_client.get(reverse("patients:photo", args=[patient.pk]))
    assert image_of(full.content)[:2] == ("JPEG", PHOTO_SIZE)
    assert audit_rows(patient, action=AuditEvent.Action.VIEW).count() == 2


@pytest.mark.parametrize("role, status", [
    (Role.RECEPTION, 200), (Role.NURSE, 200), (Role.DOCTOR, 200), (Role.SOCIAL_WORKER, 200),
    (Role.COORDINATOR, 404), (None, 404)])
def test_photo_only_to_staff_who_identify_people(client, staff_factory, role, status):
    patient = PatientFactory()
    photo_of(patient)
    client.force_login(staff_factory(*([role] if role else [])))
    response = client.get(reverse("patients:photo", args=[patient.pk]))
    assert response.status_code == status
    assert audit_rows(patient, action=AuditEvent.Action.VIEW).count() == (status == 200)


def test_no_photo_is_a_404(nurse_client):
    patient = PatientFactory()
    assert nurse_client.get(reverse("patients:photo", args=[patient.pk])).status_code == 404


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.PSYCHOLOGIST, Role.COORDINATOR])
def test_only_the_desk_and_the_counter_take_photos(client, staff_factory, role, photo_root):
    patient = PatientFactory()
    client.force_login(staff_factory(role))
    assert client.get(reverse("patients:photo_take", args=[patient.pk])).status_code == 404
    assert take(client, patient).status_code == 404
    assert client.post(reverse("patients:photo_withdraw",
                               args=[patient.pk])).status_code == 404
    assert not PatientPhoto.objects.exists() and files_in(photo_root) == []


def test_photo_files_are_not_under_the_static_files(settings):
    root = settings.PHOTO_ROOT.resolve()
    for static in (settings.STATIC_ROOT, *settings.STATICFILES_DIRS):
        assert not root.is_relative_to(static.resolve())


# --- telling same-alias files apart -----------------------------------------------------------


@pytest.fixture
def two_kekes(db):
    """Two files called Kéké: one with a photo, one without but with a birth year, sex, a
    walk-in last week and a distinguishing feature; both with methadone today."""
    with_photo = PatientFactory(alias="Kéké", file_number="K1")
    photo_of(with_photo)
    without = PatientFactory(alias="Kéké", file_number="K2", birth_year=1980, sex="M",
                             distinguishing_note="tattoo left hand")
    VisitFactory(patient=without, date=timezone.localdate() - datetime.timedelta(days=7))
    for patient in (with_photo, without):
        PrescriptionFactory(patient=patient)
        VisitFactory(patient=patient, date=timezone.localdate())
    return with_photo, without


def assert_tells_them_apart(content: str, with_photo, without):
    thumb = reverse("patients:photo", args=[with_photo.pk]) + "?size=thumb"
    assert f'src="{thumb}"' in content
    assert f'width="{THUMB_SIZE[0] // 2}" height="{THUMB_SIZE[1] // 2}" loading="lazy"' in content
    assert f'data-photo="{without.pk}"' not in content
    last_week = (timezone.localdate() - datetime.timedelta(days=7)).strftime("%d/%m/%Y")
    assert "born 1980 · Male · last visit " + last_week in content
    assert "tattoo left hand" in content


def test_dispensing_list_shows_the_photo_or_the_facts(nurse_client, two_kekes):
    content = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert_tells_them_apart(content, *two_kekes)


def test_dispense_form_shows_the_photo_or_the_facts(nurse_client, two_kekes):
    with_photo, without = two_kekes
    pages = [nurse_client.get(reverse("dispensary:dispense",
                                      args=[p.prescriptions.get().pk]), **EN).content.decode()
             for p in two_kekes]
    assert f'src="{reverse("patients:photo", args=[with_photo.pk])}"' in pages[0]
    assert 'width="120" height="160"' in pages[0]
    assert "data-photo" not in pages[1]
    assert "born 1980" in pages[1] and "tattoo left hand" in pages[1]
    assert "Take a photo (with consent)" in pages[1]


def test_downtime_sheet_prints_the_photo_or_the_distinguishing_feature(nurse_client, two_kekes):
    with_photo, without = two_kekes
    content = nurse_client.get(reverse("dispensary:downtime_sheet"), **EN).content.decode()
    thumb = reverse("patients:photo", args=[with_photo.pk]) + "?size=thumb"
    # Not lazy: a printed page does not wait for images scrolled into view.
    assert f'src="{thumb}" width="36" height="48" class="patient-thumb' in content
    assert f'data-photo="{without.pk}"' not in content
    assert "tattoo left hand" in content


def test_desk_board_and_searches_show_the_photo_or_the_facts(reception_client, two_kekes):
    for url, query in ((reverse("reception:board"), {}),
                       (reverse("reception:search"), {"q": "keke"}),
                       (reverse("patients:search"), {"q": "keke"})):
        content = reception_client.get(url, query, **EN).content.decode()
        assert_tells_them_apart(content, *two_kekes)


def test_coordinator_sees_the_facts_not_the_photo(coordinator_client, two_kekes):
    with_photo, _without = two_kekes
    content = coordinator_client.get(reverse("patients:search"), {"q": "keke"},
                                     **EN).content.decode()
    assert "data-photo" not in content
    assert "born 1980" in content


def test_distinguishing_note_is_edited_on_the_file_and_markup_refused(reception_client):
    patient = PatientFactory(alias="Kéké")
    url = reverse("patients:update", args=[patient.pk])
    form = {"alias": "Kéké", "sex": "U", "status": "active"}
    response = reception_client.post(url, {**form, "distinguishing_note": "<b>scar</b>"}, **EN)
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.distinguishing_note == ""
    reception_client.post(url, {**form, "distinguishing_note": "scar on the chin"}, **EN)
    patient.refresh_from_db()
    assert patient.distinguishing_note == "scar on the chin"
    too_long = reception_client.post(url, {**form, "distinguishing_note": "x" * 101}, **EN)
    assert "at most 100 characters" in too_long.content.decode()


# --- no query per row -------------------------------------------------------------------------


def queries_of(client, url, query=None) -> int:
    client.get(url, query or {})  # sessions and caches warm
    with CaptureQueriesContext(connection) as captured:
        client.get(url, query or {})
    return len(captured)


@pytest.mark.parametrize("url, query, role", [
    ("dispensary:today", {}, Role.NURSE),
    ("reception:board", {}, Role.RECEPTION),
    ("reception:search", {"q": "dupont"}, Role.RECEPTION),
    ("patients:search", {"q": "dupont"}, Role.RECEPTION),
])
def test_photos_and_facts_add_no_query_per_row(client, staff_factory, django_assert_num_queries,
                                               url, query, role):
    client.force_login(staff_factory(role))
    today = timezone.localdate()

    def add_person(n):
        patient = PatientFactory(alias=f"Dupont {n}", birth_year=1970 + n, sex="F",
                                 distinguishing_note=f"scar {n}")
        if n % 2:
            photo_of(patient)
        VisitFactory(patient=patient, date=today - datetime.timedelta(days=3))
        VisitFactory(patient=patient, date=today)
        PrescriptionFactory(patient=patient)

    add_person(0)
    one_row = queries_of(client, reverse(url), query)
    for n in (1, 2):
        add_person(n)
    with django_assert_num_queries(one_row):
        response = client.get(reverse(url), query)
    content = response.content.decode()
    assert content.count("data-photo=") == 1 and content.count("scar ") == 3


def test_merge_keeps_one_photo_and_moves_the_consent_history(coordinator_user):
    from patients import services
    kept, merged = PatientFactory(alias="Kéké"), PatientFactory(alias="Keke")
    kept_photo, merged_photo = photo_of(kept), photo_of(merged)
    record = services.patient_merge(kept=kept, merged=merged, reason="Same person",
                                    actor=coordinator_user)
    # One photo per person: the kept file's stays, the other stays on the merged stub.
    assert PatientPhoto.objects.get(pk=kept_photo.pk).patient == kept
    assert PatientPhoto.objects.get(pk=merged_photo.pk).patient == merged
    assert record.left == {"patients.patientphoto": 1}
    assert PhotoConsent.objects.filter(patient=kept).count() == 2
