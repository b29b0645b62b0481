"""Factories for the whole suite. Each app's section is marked; keep them in this one file."""

import factory
from factory.django import DjangoModelFactory

from mass.models import Site, User
from patients.models import Episode, Patient, Visit

# --- mass -----------------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name", locale="fr_BE")
    last_name = factory.Faker("last_name", locale="fr_BE")
    password = factory.django.Password("test-password-123")


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Site {n}")
    kind = Site.Kind.SHELTER


def woeringen() -> Site:
    return Site.objects.get(kind=Site.Kind.CENTRE, name="MASS Woeringen")


# --- patients -------------------------------------------------------------------------------


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient

    file_number = factory.Sequence(lambda n: f"T{n:06d}")
    alias = factory.Sequence(lambda n: f"Alias{n}")


class EpisodeFactory(DjangoModelFactory):
    class Meta:
        model = Episode

    patient = factory.SubFactory(PatientFactory)
    opened_on = factory.Faker("date_between", start_date="-1y", end_date="today")
    kind = Episode.Kind.NEW


class VisitFactory(DjangoModelFactory):
    class Meta:
        model = Visit

    patient = factory.SubFactory(PatientFactory)
    date = factory.Faker("date_between", start_date="-1y", end_date="today")
    purpose = Visit.Purpose.OTHER


# --- consultations --------------------------------------------------------------------------


def _today():
    from django.utils import timezone
    return timezone.localdate()


class ConsultationFactory(DjangoModelFactory):
    class Meta:
        model = "consultations.Consultation"

    patient = factory.SubFactory(PatientFactory)
    author = factory.SubFactory(UserFactory)
    discipline = "medical"
    date = factory.LazyFunction(_today)
    note = factory.Sequence(lambda n: f"Clinical note number {n}")


class ConsultationAmendmentFactory(DjangoModelFactory):
    class Meta:
        model = "consultations.ConsultationAmendment"

    consultation = factory.SubFactory(ConsultationFactory)
    author = factory.SelfAttribute("consultation.author")
    text = factory.Sequence(lambda n: f"Amendment text {n}")
    reason = "Correction"


class GroupSessionFactory(DjangoModelFactory):
    class Meta:
        model = "consultations.GroupSession"

    date = factory.Faker("date_between", start_date="-1y", end_date="today")
    kind = "community_health"
    theme = factory.Sequence(lambda n: f"Theme {n}")


class GroupAttendanceFactory(DjangoModelFactory):
    class Meta:
        model = "consultations.GroupAttendance"

    session = factory.SubFactory(GroupSessionFactory)
    patient = factory.SubFactory(PatientFactory)


class PartnerFactory(DjangoModelFactory):
    class Meta:
        model = "consultations.Partner"
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Partner {n}")
    kind = "other"


class ReferralFactory(DjangoModelFactory):
    class Meta:
        model = "consultations.Referral"

    patient = factory.SubFactory(PatientFactory)
    partner = factory.SubFactory(PartnerFactory)
    date = factory.Faker("date_between", start_date="-1y", end_date="today")
    reason = factory.Sequence(lambda n: f"Referral reason {n}")


class ScreeningTestFactory(DjangoModelFactory):
    class Meta:
        model = "consultations.ScreeningTest"

    patient = factory.SubFactory(PatientFactory)
    date = factory.Faker("date_between", start_date="-1y", end_date="today")
    test = "hcv"


# --- social ---------------------------------------------------------------------------------


class IncomeRecordFactory(DjangoModelFactory):
    class Meta:
        model = "social.IncomeRecord"

    patient = factory.SubFactory(PatientFactory)
    date = factory.Faker("date_between", start_date="-2y", end_date="-1d")
    source = "cpas"


class HousingRecordFactory(DjangoModelFactory):
    class Meta:
        model = "social.HousingRecord"

    patient = factory.SubFactory(PatientFactory)
    date = factory.Faker("date_between", start_date="-2y", end_date="-1d")
    situation = "street"


class SocialActionFactory(DjangoModelFactory):
    class Meta:
        model = "social.SocialAction"

    type = "housing"
    patient = factory.SubFactory(PatientFactory)
    social_worker = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("social_worker")
    opened_on = factory.LazyFunction(_today)
    notes = factory.Sequence(lambda n: f"Social note number {n}")


# --- dispensary -----------------------------------------------------------------------------


def methadone_syrup():
    from dispensary.models import Product
    return Product.objects.get(name="Methadone syrup 1 mg/ml")


def _now():
    from django.utils import timezone
    return timezone.now()


class PrescriptionFactory(DjangoModelFactory):
    """Methadone 60 mg a day from today, dispensed at the MASS."""

    class Meta:
        model = "dispensary.Prescription"

    patient = factory.SubFactory(PatientFactory)
    product = factory.LazyFunction(methadone_syrup)
    daily_dose = 60
    start_date = factory.LazyFunction(_today)
    course_started_on = factory.SelfAttribute("start_date")


class DispensationFactory(DjangoModelFactory):
    """A dose given (history for tests); the database checks that it fits its prescription.
    It bypasses the register: use dispensary.services to test stock."""

    class Meta:
        model = "dispensary.Dispensation"

    prescription = factory.SubFactory(PrescriptionFactory)
    patient = factory.SelfAttribute("prescription.patient")
    product = factory.SelfAttribute("prescription.product")
    date = factory.LazyFunction(_today)
    dose_date = factory.SelfAttribute("date")
    part = "day"
    status = "given"
    quantity = factory.SelfAttribute("prescription.daily_dose")
    intoxication_signs = False
    dispensed_at = factory.LazyFunction(_now)


# --- reporting ------------------------------------------------------------------------------


class TdiRecordFactory(DjangoModelFactory):
    """A TDI questionnaire: heroin, injected, daily, referred by a GP."""

    class Meta:
        model = "reporting.TdiRecord"

    episode = factory.SubFactory(EpisodeFactory)
    setting = "treatment"
    ever_treated = 2
    ost_ever = 2
    referral_source = 4
    living_with = 1
    accommodation = 2
    labour_status = 3
    education = 2
    primary_drug = 11
    route = 1
    frequency = 1
    age_first_use = 19
    secondary_drug_1 = 22
    injected_ever = 1
    injected_12m = 1
    injected_30d = 2
    needle_shared_ever = 2
    needle_shared_12m = 2
    needle_shared_30d = 2


# --- identification photos ------------------------------------------------------------------


def image_bytes(*, color=(180, 90, 60), size=(640, 480), format="JPEG", gps=False) -> bytes:
    """A plain picture (no face: a coloured rectangle), optionally with an EXIF GPS position
    as a phone would write it."""
    from io import BytesIO

    from PIL import Image
    image = Image.new("RGB", size, color)
    out = BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif.get_ifd(0x8825).update({1: "N", 2: (50.0, 51.0, 0.0), 3: "E", 4: (4.0, 21.0, 0.0)})
        image.save(out, format=format, exif=exif)
    else:
        image.save(out, format=format)
    return out.getvalue()


def photo_upload(data: bytes | None = None, *, name="photo.jpg", content_type="image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    return SimpleUploadedFile(name, image_bytes() if data is None else data,
                              content_type=content_type)


def photo_of(patient, *, actor=None, color=(180, 90, 60)):
    """The patient's identification photo, taken with their consent."""
    from patients import services
    return services.patient_photo_store(patient=patient, actor=actor, source="upload",
                                        consent_given=True,
                                        upload=photo_upload(image_bytes(color=color)))


# --- alerts ---------------------------------------------------------------------------------


class AlertFactory(DjangoModelFactory):
    """An active allergy alert."""

    class Meta:
        model = "alerts.Alert"

    patient = factory.SubFactory(PatientFactory)
    kind = "allergy"
    text = "Penicillin"
    recorded_at = factory.LazyFunction(_now)


# --- vaccinations ---------------------------------------------------------------------------


class VaccinationCourseFactory(DjangoModelFactory):
    class Meta:
        model = "vaccinations.VaccinationCourse"

    patient = factory.SubFactory(PatientFactory)
    vaccine = "hbv"
    schedule = "standard"
    started_by = factory.SubFactory(UserFactory)


class VaccinationDoseFactory(DjangoModelFactory):
    class Meta:
        model = "vaccinations.VaccinationDose"

    course = factory.SubFactory(VaccinationCourseFactory)
    number = 1
    date = factory.Faker("date_between", start_date="-1y", end_date="today")
    given_by = factory.SubFactory(UserFactory)


# --- labs -----------------------------------------------------------------------------------


class LabResultFactory(DjangoModelFactory):
    class Meta:
        model = "labs.LabResult"

    patient = factory.SubFactory(PatientFactory)
    test = "hcv_antibody"
    reading = "positive"
    sample_date = factory.Faker("date_between", start_date="-1y", end_date="today")
    laboratory = "LHUB-ULB"
    recorded_by = factory.SubFactory(UserFactory)


class TreatmentFactory(DjangoModelFactory):
    class Meta:
        model = "labs.Treatment"

    patient = factory.SubFactory(PatientFactory)
    condition = "hcv"
    regimen = "sof_vel"
    started_on = factory.Faker("date_between", start_date="-1y", end_date="today")
    recorded_by = factory.SubFactory(UserFactory)
