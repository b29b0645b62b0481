"""Demo problem lists and measures (`manage.py seed_demo`), after the dispensary's and the
alerts': the patients on methadone get their substance use disorder, some a hepatitis C, a
depression (psychiatric: psychiatrists and psychologists read it) or a COPD, and a year of
measures; QTc on most of them, none on a few at a high dose, so that "ECG due" shows.
Seeded once: if any problem exists, nothing is added."""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clinical import icd10
from clinical.models import Measurement, Problem, ProblemVersion
from dispensary.models import Prescription
from dispensary.rules import QT_ECG_DAILY_DOSE_MG, QT_RULE_SUBSTANCE
from mass.accounts.roles import Role
from mass.models import User

SEED = 17
# code, label in the demo's language (French), share of the patients, discipline.
PROBLEMS = [
    ("F11.2", "Dépendance aux opiacés", 1.0),
    ("F14.1", "Usage nocif de cocaïne", 0.3),
    ("F10.2", "Dépendance à l'alcool", 0.2),
    ("B18.2", "Hépatite C chronique", 0.25),
    ("F32.1", "Épisode dépressif moyen", 0.15),
    ("J44.9", "BPCO", 0.1),
]


def _staff(role) -> User | None:
    return (User.objects.filter(groups__name=role.value, is_active=True).order_by("pk").first()
            or User.objects.filter(is_active=True).order_by("pk").first())


def seed(*, years: int, scale: float, stdout) -> None:
    if Problem.objects.exists():
        stdout.write("clinical: problems exist already, nothing added")
        return
    today = timezone.localdate()
    running = (Prescription.objects.filter(product__substance=QT_RULE_SUBSTANCE,
                                           start_date__lte=today)
               .exclude(end_date__lt=today).order_by("patient_id", "-start_date")
               .distinct("patient_id").values_list("patient_id", "daily_dose"))
    doses = dict(running)
    if not doses:
        stdout.write("clinical: no patient on methadone (seed the dispensary first), "
                     "nothing added")
        return
    rng = random.Random(SEED)
    doctor, psychiatrist, nurse = (_staff(Role.DOCTOR), _staff(Role.PSYCHIATRIST),
                                   _staff(Role.NURSE))
    now = timezone.now()
    problems = measurements = 0
    with transaction.atomic():
        for patient_id, dose in sorted(doses.items()):
            for code, label, share in PROBLEMS:
                if rng.random() >= share:
                    continue
                psychiatric = icd10.is_psychiatric(code)
                author = psychiatrist if psychiatric else doctor
                recorded_at = now - datetime.timedelta(days=rng.randint(30, 365 * years))
                problem = Problem.objects.create(
                    patient_id=patient_id, recorded_at=recorded_at, recorded_by=author,
                    discipline="psychiatric" if psychiatric else "medical")
                ProblemVersion.objects.create(
                    problem=problem, code=code, code_label=icd10.label(code), label=label,
                    substance=icd10.substance_category(code), status="active",
                    certainty="confirmed", recorded_at=recorded_at, recorded_by=author,
                    onset=recorded_at.date() - datetime.timedelta(days=rng.randint(0, 3000)))
                problems += 1
            # A high dose without a QTc for one patient in five: "ECG due".
            with_qtc = dose <= QT_ECG_DAILY_DOSE_MG or rng.random() > 0.2
            weight = Decimal(rng.randint(50, 90))
            for months_ago in (12, 8, 4, 1):
                taken_at = now - datetime.timedelta(days=30 * months_ago + rng.randint(0, 10))
                systolic = rng.randint(105, 150)
                weight += Decimal(rng.randint(-2, 2))
                Measurement.objects.create(
                    patient_id=patient_id, taken_at=taken_at, recorded_at=taken_at,
                    recorded_by=nurse, weight_kg=weight, systolic_mmhg=systolic,
                    diastolic_mmhg=systolic - rng.randint(30, 50), pulse_bpm=rng.randint(58, 98),
                    qtc_ms=rng.randint(400, 490) if with_qtc and months_ago in (8, 1) else None)
                measurements += 1
    stdout.write(f"clinical: {problems} problems and {measurements} measurements on "
                 f"{len(doses)} patients on methadone")
