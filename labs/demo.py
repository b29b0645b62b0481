"""Demo lab results and treatments (`manage.py seed_demo`): the HCV cascade of the demo's
positive HCV screening tests (RNA, genotype, a DAA treatment, SVR12), hepatitis B serology
of some of them, and urine drug screens of people on substitution. Deterministic; a database
that has lab results already is left alone (a second run adds nothing)."""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from consultations.models import ScreeningTest
from labs.models import Genotype, LabResult, LabTest, Reading, Substance, Treatment
from mass.accounts.roles import Role
from mass.models import User

SEED = 17
LABORATORY = "LHUB-ULB (fictif)"
#: Shares along the cascade (of the people at the step before).
RNA_POSITIVE, TREATED, CURED = 0.7, 0.6, 0.9


def seed(*, years: int, scale: float, stdout) -> None:
    if LabResult.objects.exists():
        stdout.write("labs: lab results exist already, nothing added")
        return
    rng = random.Random(SEED)
    today = timezone.localdate()
    doctors = list(User.objects.filter(groups__name=Role.DOCTOR.value, is_active=True)
                   .order_by("pk").values_list("pk", flat=True))
    if not doctors:
        stdout.write("labs: no doctor account, nothing added")
        return
    positives = (ScreeningTest.objects.standing()
                 .filter(test=ScreeningTest.Test.HCV, result=ScreeningTest.Result.POSITIVE)
                 .order_by("pk").values_list("patient_id", "result_date"))
    results, treatments = [], []

    def result(patient_id, test, day, **fields):
        if day <= today:
            results.append(LabResult(patient_id=patient_id, test=test, sample_date=day,
                                     laboratory=LABORATORY, recorded_by_id=rng.choice(doctors),
                                     **fields))

    for patient_id, known in positives:
        rna_day = known + datetime.timedelta(days=rng.randint(7, 30))
        if rng.random() >= RNA_POSITIVE:
            result(patient_id, LabTest.HCV_RNA, rna_day, reading=Reading.NEGATIVE)
            continue
        result(patient_id, LabTest.HCV_RNA, rna_day, reading=Reading.POSITIVE,
               value=Decimal(rng.randint(10, 5000) * 1000), unit="IU/mL",
               reference_high=Decimal(15))
        result(patient_id, LabTest.HCV_GENOTYPE, rna_day,
               genotype=rng.choice([Genotype.G1A, Genotype.G3, Genotype.G3, Genotype.G4]))
        result(patient_id, LabTest.HBSAG, rna_day, reading=Reading.NEGATIVE)
        result(patient_id, LabTest.ANTI_HBS, rna_day, reading=Reading.NEGATIVE,
               value=Decimal(rng.randint(0, 9)), unit="mIU/mL", reference_low=Decimal(10))
        start = rna_day + datetime.timedelta(days=rng.randint(20, 60))
        if rng.random() >= TREATED or start > today:
            continue
        end = start + datetime.timedelta(weeks=rng.choice([8, 12]))
        treatments.append(Treatment(
            patient_id=patient_id, condition=Treatment.Condition.HCV,
            regimen=rng.choice([Treatment.Regimen.SOFOSBUVIR_VELPATASVIR,
                                Treatment.Regimen.GLECAPREVIR_PIBRENTASVIR]),
            started_on=start, ended_on=end if end <= today else None,
            recorded_by_id=rng.choice(doctors)))
        result(patient_id, LabTest.HCV_RNA, end + datetime.timedelta(weeks=12, days=3),
               reading=Reading.NEGATIVE if rng.random() < CURED else Reading.POSITIVE)
    screens = _drug_screens(rng=rng, today=today, scale=scale)
    for patient_id, day, substances in screens:
        result(patient_id, LabTest.URINE_DRUG_SCREEN, day, substances=substances,
               reading=Reading.POSITIVE if substances else Reading.NEGATIVE)
    with transaction.atomic():
        LabResult.objects.bulk_create(results, batch_size=2000)
        Treatment.objects.bulk_create(treatments)
    stdout.write(f"labs: {len(results)} lab results, {len(treatments)} HCV treatments")


def _drug_screens(*, rng, today, scale) -> list[tuple[int, datetime.date, list[str]]]:
    """A monthly screen, over the last three months, of some people on substitution."""
    from dispensary.models import Prescription
    patients = sorted(set(Prescription.objects.filter(end_date__isnull=True)
                          .values_list("patient_id", flat=True)))
    chosen = rng.sample(patients, k=min(len(patients), round(20 * scale)))
    screens = []
    for patient_id in chosen:
        for month in range(3):
            day = today - datetime.timedelta(days=30 * month + rng.randint(1, 20))
            found = [Substance.METHADONE] + [
                substance for substance, share in ((Substance.COCAINE, 0.4),
                                                   (Substance.BENZODIAZEPINES, 0.3),
                                                   (Substance.CANNABIS, 0.3))
                if rng.random() < share]
            screens.append((patient_id, day, found))
    return screens
