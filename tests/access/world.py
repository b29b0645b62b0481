"""A small world with one real object behind every URL argument, and unique text markers in
every confidential field, so that the access matrix and the bad-input campaign reach the
views with objects that exist, and can look for leaks of text a role may not read.

The objects are written by an ``author`` who holds no role under test, so that nobody under
test reads a note because they wrote it.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mass.accounts.roles import Role
from tests.conftest import make_staff

#: The roles under test, in the order of the columns of the access matrix; ``None`` is a
#: signed-in account that holds no role yet.
ROLES = (Role.RECEPTION, Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST, Role.PSYCHOLOGIST,
         Role.SOCIAL_WORKER, Role.COORDINATOR, None)

DISCIPLINES = ("medical", "nursing", "psychiatric", "psychological", "social", "other")


def day(delta: int = 0) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=delta)


class World:
    """The objects of the world, by name (see ``build_world``); ``markers`` maps the name of
    each confidential text to the text."""

    def __init__(self, **objects):
        self.__dict__.update(objects)

    def __repr__(self):
        return f"<World of patient {self.patient.pk}>"


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    """One world for all the tests of a module, in a transaction rolled back at its end; each
    test runs in a savepoint inside it (pytest-django's ``db``), so what a test writes is
    undone before the next one."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        world = build_world()
    try:
        yield world
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(db, module_world):
    return module_world


def build_world() -> World:
    from consultations.models import Consultation
    from dispensary import services as dispensary_services
    from dispensary.models import Pharmacy
    from social import services as social_services
    from social.models import AddressRecord, IncomeRecord
    from tests.factories import (
        ConsultationAmendmentFactory,
        ConsultationFactory,
        DispensationFactory,
        EpisodeFactory,
        GroupAttendanceFactory,
        GroupSessionFactory,
        PartnerFactory,
        PatientFactory,
        PrescriptionFactory,
        ReferralFactory,
        ScreeningTestFactory,
        TdiRecordFactory,
        VisitFactory,
        methadone_syrup,
        photo_of,
        woeringen,
    )

    author = make_staff(Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST, Role.PSYCHOLOGIST,
                        Role.SOCIAL_WORKER, username="w_author")
    users = {role: make_staff(role, username=f"w_{role.value}", language="en")
             if role else make_staff(username="w_norole", language="en") for role in ROLES}
    markers = {}
    # A clinical role asked for by another coordinator: the world's coordinator may decide it.
    from mass.models import RoleGrant
    role_grant = RoleGrant.objects.create(
        user=make_staff(username="w_grantee"), role=Role.DOCTOR,
        requested_by=make_staff(Role.COORDINATOR, username="w_grant_asker"))

    def marker(key: str) -> str:
        markers[key] = f"MARK{len(markers):02d}X{key.upper().replace('_', '')}"
        return markers[key]

    site = woeringen()
    patient = PatientFactory(alias=marker("alias"), file_number="W000001")
    other_patient = PatientFactory(alias="Voisin", file_number="W000002")
    episode = EpisodeFactory(patient=patient, opened_on=day(-40))
    tdi = TdiRecordFactory(episode=episode)
    visit = VisitFactory(patient=patient, date=day(-1), site=site)

    consultations = {}
    for discipline in DISCIPLINES:
        consultations[discipline] = ConsultationFactory(
            patient=patient, author=author, discipline=discipline, date=day(-10), site=site,
            note=marker(f"note_{discipline}"), signed_at=timezone.now(), signed_by=author)
        ConsultationAmendmentFactory(consultation=consultations[discipline], author=author,
                                     text=marker(f"amendment_{discipline}"))
    personal_note = ConsultationFactory(
        patient=patient, author=author, discipline="medical", date=day(-9), site=site,
        note=marker("note_personal"), is_personal_note=True, signed_at=timezone.now(),
        signed_by=author)
    assert Consultation.objects.filter(patient=patient).count() == len(DISCIPLINES) + 1

    group_session = GroupSessionFactory(date=day(-3), site=site)
    attendance = GroupAttendanceFactory(session=group_session, patient=patient)
    # Material handed to the world's patient today (the desk's list of today's entries).
    from patients.models import HarmReductionContact
    hr_contact = HarmReductionContact.objects.create(date=day(), site=site, patient=patient,
                                                     material="syringe", handed_out=5)
    partner = PartnerFactory(name="Partenaire du monde")
    referral = ReferralFactory(patient=patient, partner=partner, date=day(-5),
                               referred_by=author, reason=marker("referral_reason"))
    screening = ScreeningTestFactory(patient=patient, date=day(-6), performed_by=author,
                                     follow_up=marker("screening_follow_up"))

    product = methadone_syrup()
    pharmacy = Pharmacy.objects.create(name="Pharmacie du monde")
    receipt = dispensary_services.register_receipt(
        product=product, quantity=Decimal(10000), supplier="Central", batch="W-1",
        received_on=day(), actor=author)
    prescription = PrescriptionFactory(patient=patient, start_date=day(-20),
                                       instructions=marker("prescription_instructions"),
                                       prescribed_by=author)
    dispensation = DispensationFactory(prescription=prescription, date=day(-1),
                                       dispensed_by=author,
                                       observations=marker("dispensation_observations"))

    income = IncomeRecord.objects.create(patient=patient, date=day(-100), source="cpas",
                                         recorded_by=author)
    AddressRecord.objects.create(patient=patient, date=day(-100), recorded_by=author,
                                 address=marker("social_address"))
    social_action = social_services.social_action_open(
        patient=patient, type="housing", social_worker=author, opened_on=day(-7),
        notes=marker("social_action_notes"), actor=author)
    social_services.social_action_progress(action=social_action, status="in_progress",
                                           note=marker("social_update_note"), actor=author)
    social_action.refresh_from_db()

    # Alerts: a medical one and one every carer reads (alerts.rules).
    from alerts.models import Alert
    alert = Alert.objects.create(patient=patient, kind="allergy", recorded_by=author,
                                 text=marker("alert_allergy"))
    Alert.objects.create(patient=patient, kind="behaviour", recorded_by=author,
                         text=marker("alert_behaviour"))

    # The problem list: a medical problem and a psychiatric one (clinical.rules), and measures.
    from clinical import services as clinical_services
    problem = clinical_services.problem_record(
        patient=patient, code="F11.2", label=marker("problem_medical"), actor=author).problem
    psychiatric_problem = clinical_services.problem_record(
        patient=patient, code="F32.1", label=marker("problem_psychiatric"), actor=author).problem
    measurement = clinical_services.measurement_record(
        patient=patient, values={"weight_kg": Decimal(70)}, actor=author)

    # A draft of the author's (to edit and sign), and the neighbour's prescription held after
    # five days without a dose (to review).
    draft = ConsultationFactory(patient=patient, author=author, discipline="medical",
                                date=day(), site=site, note="Draft note")
    held = PrescriptionFactory(patient=other_patient, start_date=day(-20), prescribed_by=author)
    # The patient's identification photo, taken with consent (the photo views need one).
    photo = photo_of(patient, actor=author)
    # A closure of the centre a month ahead (to withdraw): beyond the dispensing list's
    # notice, so the doses of the world stay as they are.
    from mass.models import SiteClosure
    closure = SiteClosure.objects.create(site=site, first_day=day(30), last_day=day(31),
                                         reason="Fermeture du monde", created_by=author)
    DispensationFactory(prescription=held, date=day(-6), dispensed_by=author)
    # The neighbour's earlier prescription, dispensed at the partner pharmacy (ended before
    # the held one began, so the doses of the world stay as they are): to print for it.
    pharmacy_prescription = PrescriptionFactory(
        patient=other_patient, start_date=day(-60), end_date=day(-40), pharmacy=pharmacy,
        prescribed_by=author)

    # A hepatitis B course with its first dose, an HCV result and a DAA treatment not ended
    # (vaccinations and labs: medical).
    from tests.factories import (
        LabResultFactory,
        TreatmentFactory,
        VaccinationCourseFactory,
        VaccinationDoseFactory,
    )
    course = VaccinationCourseFactory(patient=patient, started_by=author)
    dose = VaccinationDoseFactory(course=course, date=day(-2), given_by=author,
                                  batch=marker("vaccination_batch"))
    lab_result = LabResultFactory(patient=patient, sample_date=day(-4), recorded_by=author,
                                  laboratory=marker("lab_laboratory"))
    treatment = TreatmentFactory(patient=patient, started_on=day(-3), recorded_by=author)

    # A phone of the mobile team, for the coordinators' page that disables a lost one.
    from outreach.models import OutreachDevice
    outreach_device = OutreachDevice.objects.create(user=author, name="Team phone")

    return World(role_grant=role_grant, course=course, dose=dose, lab_result=lab_result,
                 treatment=treatment, author=author, outreach_device=outreach_device,
                 draft=draft, closure=closure, held=held,
                 users=users, patient=patient, other_patient=other_patient,
                 episode=episode, visit=visit, consultations=consultations,
                 personal_note=personal_note, group_session=group_session, partner=partner,
                 attendance=attendance, hr_contact=hr_contact,
                 referral=referral, screening=screening, product=product, pharmacy=pharmacy,
                 prescription=prescription, dispensation=dispensation, receipt=receipt,
                 pharmacy_prescription=pharmacy_prescription,
                 income=income, social_action=social_action, site=site, tdi=tdi, photo=photo,
                 alert=alert, problem=problem, psychiatric_problem=psychiatric_problem,
                 measurement=measurement,
                 markers=markers)


#: URL name -> the arguments of the URL in the world. Names without arguments are absent.
URL_ARGS = {
    "staff_two_factor_reset": lambda w: [w.author.pk],
    "staff_update": lambda w: [w.author.pk],
    "role_grant_approve": lambda w: [w.role_grant.pk],
    "role_grant_refuse": lambda w: [w.role_grant.pk],
    "staff_password": lambda w: [w.author.pk],
    "site_update": lambda w: [w.site.pk],
    "outreach:device_disable": lambda w: [w.outreach_device.pk],
    "site_hours": lambda w: [w.site.pk],
    "site_closures": lambda w: [w.site.pk],
    "site_closure_delete": lambda w: [w.closure.pk],
    "patients:detail": lambda w: [w.patient.pk],
    "patients:summary": lambda w: [w.patient.pk],
    "patients:file_reads_print": lambda w: [w.patient.pk],
    "patients:update": lambda w: [w.patient.pk],
    "patients:merge": lambda w: [w.patient.pk],
    "patients:visit_create": lambda w: [w.patient.pk],
    "patients:visit_cancel": lambda w: [w.visit.pk],
    "reception:harm_reduction_cancel": lambda w: [w.hr_contact.pk],
    "consultations:attendance_cancel": lambda w: [w.attendance.pk],
    "consultations:screening_cancel": lambda w: [w.screening.pk],
    "patients:episode_open": lambda w: [w.patient.pk],
    "patients:episode_close": lambda w: [w.episode.pk],
    "patients:outreach_attempt": lambda w: [w.patient.pk],
    "patients:photo": lambda w: [w.patient.pk],
    "patients:photo_take": lambda w: [w.patient.pk],
    "patients:photo_withdraw": lambda w: [w.patient.pk],
    "consultations:detail": lambda w: [w.consultations["medical"].pk],
    "consultations:update": lambda w: [w.consultations["medical"].pk],
    "consultations:sign": lambda w: [w.consultations["medical"].pk],
    "consultations:amend": lambda w: [w.consultations["medical"].pk],
    "consultations:timeline": lambda w: [w.patient.pk],
    "consultations:group_detail": lambda w: [w.group_session.pk],
    "consultations:partner_detail": lambda w: [w.partner.pk],
    "consultations:partner_update": lambda w: [w.partner.pk],
    "consultations:referral_outcome": lambda w: [w.referral.pk],
    "consultations:referral_letter": lambda w: [w.referral.pk],
    "consultations:screening_result": lambda w: [w.screening.pk],
    "dispensary:dispense": lambda w: [w.prescription.pk],
    "dispensary:closed_day_plan_record": lambda w: [w.prescription.pk],
    "dispensary:prescription_end": lambda w: [w.prescription.pk],
    "dispensary:prescription_print": lambda w: [w.pharmacy_prescription.pk],
    "dispensary:review": lambda w: [w.prescription.pk],
    "dispensary:patient": lambda w: [w.patient.pk],
    "dispensary:prescription_create": lambda w: [w.patient.pk],
    "dispensary:cancel": lambda w: [w.dispensation.pk],
    "dispensary:paper_record": lambda w: [w.patient.pk],
    "dispensary:register_month": lambda w: [w.product.pk, day().year, day().month],
    "dispensary:correction": lambda w: [w.receipt.pk],
    "dispensary:product_update": lambda w: [w.product.pk],
    "dispensary:pharmacy_update": lambda w: [w.pharmacy.pk],
    "dispensary:induction_rule_edit": lambda w: [w.product.pk],
    "social:situation": lambda w: [w.patient.pk],
    "social:situation_correct": lambda w: [w.patient.pk, "income", w.income.pk],
    "social:action_create": lambda w: [w.patient.pk],
    "social:action_detail": lambda w: [w.social_action.pk],
    "social:action_progress": lambda w: [w.social_action.pk],
    "social:action_edit": lambda w: [w.social_action.pk],
    "alerts:list": lambda w: [w.patient.pk],
    "alerts:create": lambda w: [w.patient.pk],
    "alerts:end": lambda w: [w.alert.pk],
    "clinical:summary": lambda w: [w.patient.pk],
    "clinical:problem_create": lambda w: [w.patient.pk],
    "clinical:problem_detail": lambda w: [w.problem.pk],
    "clinical:problem_detail[psychiatric]": lambda w: [w.psychiatric_problem.pk],
    "clinical:problem_correct": lambda w: [w.problem.pk],
    "clinical:problem_correct[psychiatric]": lambda w: [w.psychiatric_problem.pk],
    "clinical:measurements": lambda w: [w.patient.pk],
    "clinical:measurement_create": lambda w: [w.patient.pk],
    "clinical:measurement_withdraw": lambda w: [w.measurement.pk],
    "reporting:file_active": lambda w: [day().year],
    "reporting:file_active_explain": lambda w: [day().year, "annual_active_patients"],
    "reporting:outreach_arrivals": lambda w: [day().year],
    "reporting:file_active_declare": lambda w: [day().year - 1],
    "reporting:tdi": lambda w: [w.episode.pk],
    "reporting:tdi_year": lambda w: [day().year],
    "reporting:tdi_export": lambda w: [day().year],
    "vaccinations:dose_create": lambda w: [w.course.pk],
    "vaccinations:dose_cancel": lambda w: [w.dose.pk],
    "labs:patient_results": lambda w: [w.patient.pk],
    "labs:result_cancel": lambda w: [w.lab_result.pk],
    "labs:treatment_end": lambda w: [w.treatment.pk],
    "labs:treatment_cancel": lambda w: [w.treatment.pk],
    "labs:care_figures": lambda w: [day().year],
    "labs:care_figure_list": lambda w: [day().year, "hcv_positive"],
}

# The amendment rule depends on the discipline of the note: one URL per discipline.
for _discipline in DISCIPLINES:
    URL_ARGS[f"consultations:amend[{_discipline}]"] = (
        lambda w, d=_discipline: [w.consultations[d].pk])
URL_ARGS["consultations:amend[personal]"] = lambda w: [w.personal_note.pk]


def base_name(key: str) -> str:
    """``consultations:amend[social]`` -> ``consultations:amend``."""
    return key.split("[", 1)[0]


#: Query strings some views need to reach their form (the patient of a quick entry).
URL_QUERY = {
    "consultations:create": lambda w: f"?patient={w.patient.pk}",
    "consultations:referral_create": lambda w: f"?patient={w.patient.pk}",
    "consultations:screening_create": lambda w: f"?patient={w.patient.pk}",
    "vaccinations:course_create": lambda w: f"?patient={w.patient.pk}",
    "labs:result_create": lambda w: f"?patient={w.patient.pk}",
    "labs:treatment_create": lambda w: f"?patient={w.patient.pk}",
}


def world_url(world: World, key: str) -> str:
    """The URL of ``key`` (a URL name, maybe with a ``[variant]``) on the world's objects."""
    args = URL_ARGS.get(key) or URL_ARGS.get(base_name(key))
    url = reverse(base_name(key), args=args(world) if args else None)
    query = URL_QUERY.get(base_name(key))
    return url + (query(world) if query else "")
