"""Demo hepatitis B vaccinations (`manage.py seed_demo`): courses of people screened for HCV,
standard or accelerated, some complete, some with a dose due this week or overdue.
Deterministic; a database with vaccinations already is left alone."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from consultations.models import ScreeningTest
from mass.accounts.roles import Role
from mass.models import User
from vaccinations.models import (
    SCHEDULE_OFFSETS,
    Schedule,
    VaccinationCourse,
    VaccinationDose,
    Vaccine,
    dose_due_on,
)

SEED = 171


def seed(*, years: int, scale: float, stdout) -> None:
    if VaccinationCourse.objects.exists():
        stdout.write("vaccinations: courses exist already, nothing added")
        return
    rng = random.Random(SEED)
    today = timezone.localdate()
    nurses = list(User.objects.filter(groups__name=Role.NURSE.value, is_active=True)
                  .order_by("pk").values_list("pk", flat=True))
    screened = sorted(set(ScreeningTest.objects.standing().filter(test=ScreeningTest.Test.HCV)
                          .values_list("patient_id", flat=True)))
    if not nurses or not screened:
        stdout.write("vaccinations: no nurse or nobody screened, nothing added")
        return
    chosen = rng.sample(screened, k=min(len(screened), round(60 * scale)))
    doses = 0
    with transaction.atomic():
        for patient_id in chosen:
            schedule = rng.choice([Schedule.STANDARD, Schedule.ACCELERATED])
            course = VaccinationCourse.objects.create(
                patient_id=patient_id, vaccine=Vaccine.HEPATITIS_B, schedule=schedule,
                started_by_id=rng.choice(nurses))
            first = today - datetime.timedelta(days=rng.randint(0, 365 * years))
            rows = []
            for number in range(1, len(SCHEDULE_OFFSETS[schedule]) + 1):
                # A dose on its due day or a few days late; a third stop before the end.
                day = dose_due_on(schedule, number, first) + datetime.timedelta(
                    days=rng.randint(0, 5) if number > 1 else 0)
                if day > today or (number > 1 and rng.random() < 0.15):
                    break
                rows.append(VaccinationDose(course=course, number=number, date=day,
                                            product="Engerix-B", batch=f"DEMO{number}",
                                            given_by_id=rng.choice(nurses)))
            VaccinationDose.objects.bulk_create(rows)
            doses += len(rows)
    stdout.write(f"vaccinations: {len(chosen)} hepatitis B courses, {doses} doses")
