"""Demo social files for the existing demo patients (`manage.py seed_demo`).

Income follows the mix of the MASS's 2016 report (seed 000): pension 1 %, salary 11 %,
sickness benefit 23 %, unemployment 15 %, CPAS 22 %, no own income 25 %, other 3 %.
Patients that already have a social file are left alone, so running it twice adds nothing.
"""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from mass.accounts.roles import Role
from mass.models import User
from patients.models import Patient
from social.models import (
    AddressRecord,
    CpasRecord,
    HousingRecord,
    IdentityRecord,
    IncomeRecord,
    InsuranceRecord,
    SocialAction,
)

SEED = 6

INCOME_MIX = [("pension", 1), ("salary", 11), ("sickness_benefit", 23), ("unemployment", 15),
              ("cpas", 22), ("none", 25), ("other", 3)]
INSURANCE_MIX = [("in_order", 35), ("not_in_order", 15), ("preferential", 25),
                 ("urgent_medical_aid", 10), ("none", 10), ("unknown", 5)]
FUND_MIX = [("christian", 30), ("socialist", 30), ("independent", 15), ("liberal", 5),
            ("neutral", 5), ("auxiliary", 15)]
HOUSING_MIX = [("street", 15), ("emergency_shelter", 12), ("hotel", 5), ("squat", 5),
               ("precarious", 20), ("own_or_rented", 33), ("institution", 4), ("prison", 2),
               ("unknown", 4)]
IDENTITY_MIX = [("valid", 55), ("expired", 20), ("lost", 15), ("none", 10)]
# The centre is in the City of Brussels: its CPAS and the neighbouring ones dominate.
COMMUNE_MIX = [("bruxelles", 40), ("schaerbeek", 10), ("saint_josse_ten_noode", 7),
               ("molenbeek_saint_jean", 9), ("anderlecht", 8), ("saint_gilles", 7),
               ("ixelles", 6), ("forest", 3), ("etterbeek", 2), ("jette", 2), ("evere", 1),
               ("koekelberg", 1), ("other", 4)]
ACTION_TYPES = [("rights_recovery", 25), ("housing", 20), ("insurance", 15),
                ("identity_papers", 12), ("food_aid", 12), ("budget_management", 8),
                ("other", 8)]
PARTNER_KIND_FOR_TYPE = {"rights_recovery": "cpas", "budget_management": "cpas",
                         "housing": "shelter", "food_aid": "shelter", "insurance": "cpas"}
NOTES = [
    "Rendez-vous pris avec l'assistante sociale du CPAS.",
    "Documents demandés : composition de ménage, attestation de la mutuelle.",
    "Le patient ne s'est pas présenté au rendez-vous ; à relancer.",
    "Dossier déposé, en attente de décision.",
    "Accompagnement physique prévu la semaine prochaine.",
    "Demande d'adresse de référence introduite.",
    "Colis alimentaire remis ; orientation vers une épicerie sociale.",
]
OUTCOMES = {
    "done": ["Droit ouvert.", "Carte d'identité obtenue.", "Place en maison d'accueil obtenue.",
             "Mutuelle en ordre.", "Revenu d'intégration accordé."],
    "abandoned": ["Perdu de vue.", "Le patient ne souhaite plus poursuivre la démarche.",
                  "Orienté vers un autre service."],
}


def _quota(patients: list, mix: list[tuple[str, int]], rng: random.Random) -> dict[int, str]:
    """Assign each patient a value so that the whole group follows ``mix`` exactly (up to
    rounding), in a shuffled order."""
    order = patients[:]
    rng.shuffle(order)
    total = sum(weight for _, weight in mix)
    assigned, start = {}, 0
    for index, (value, weight) in enumerate(mix):
        end = len(order) if index == len(mix) - 1 else start + round(len(order) * weight / total)
        for patient in order[start:end]:
            assigned[patient] = value
        start = end
    return assigned


def _pick(mix: list[tuple[str, int]], rng: random.Random) -> str:
    return rng.choices([v for v, _ in mix], weights=[w for _, w in mix])[0]


def seed(*, years: int, scale: float, stdout) -> None:
    rng = random.Random(SEED)
    today = timezone.localdate()
    window_start = today - datetime.timedelta(days=365 * years)
    worker_ids = list(User.objects.filter(groups__name=Role.SOCIAL_WORKER, is_active=True)
                      .order_by("pk").values_list("pk", flat=True))
    patient_ids = list(Patient.objects.exclude(status=Patient.Status.MERGED)
                       .order_by("pk").values_list("pk", flat=True))
    # A patient with an income record already has a social file (an earlier run, an
    # import): left alone, which is what makes a second run add nothing.
    with_file = set(IncomeRecord.objects.values_list("patient_id", flat=True).distinct())
    new_file = [pk for pk in patient_ids if pk not in with_file]
    with transaction.atomic():
        situation_rows = _seed_situation(new_file, rng=rng, today=today,
                                         window_start=window_start, worker_ids=worker_ids)
        action_count = _seed_actions(new_file, rng=rng, today=today,
                                     window_start=window_start, worker_ids=worker_ids)
    stdout.write(f"social: {situation_rows} situation records, {action_count} social actions "
                 f"for {len(patient_ids)} patients")


def _seed_situation(patient_ids, *, rng, today, window_start, worker_ids) -> int:
    if not patient_ids:
        return 0

    def author():
        return rng.choice(worker_ids) if worker_ids else None

    def before_window():
        return window_start - datetime.timedelta(days=rng.randint(30, 720))

    def in_window():
        return window_start + datetime.timedelta(
            days=rng.randint(1, max(1, (today - window_start).days - 1)))

    final_income = _quota(patient_ids, INCOME_MIX, rng)
    earlier_income = _quota(patient_ids, INCOME_MIX, rng)
    rows: dict[type, list] = {model: [] for model in (IncomeRecord, InsuranceRecord, CpasRecord,
                                                      HousingRecord, IdentityRecord,
                                                      AddressRecord)}
    for pk in patient_ids:
        first = before_window()
        # Income: a third changed source during the period; the mix holds at either end.
        if rng.random() < 0.33 and earlier_income[pk] != final_income[pk]:
            rows[IncomeRecord].append(IncomeRecord(patient_id=pk, date=first,
                                                   source=earlier_income[pk],
                                                   recorded_by_id=author()))
            rows[IncomeRecord].append(IncomeRecord(patient_id=pk, date=in_window(),
                                                   source=final_income[pk],
                                                   recorded_by_id=author()))
        else:
            rows[IncomeRecord].append(IncomeRecord(patient_id=pk, date=first,
                                                   source=final_income[pk],
                                                   recorded_by_id=author()))
        for date in sorted({first, *([in_window()] if rng.random() < 0.3 else [])}):
            status = _pick(INSURANCE_MIX, rng)
            fund = (_pick(FUND_MIX, rng)
                    if status in ("in_order", "not_in_order", "preferential") else "")
            rows[InsuranceRecord].append(InsuranceRecord(patient_id=pk, date=date, status=status,
                                                         fund=fund, recorded_by_id=author()))
        if final_income[pk] == "cpas" or rng.random() < 0.5:
            commune = _pick(COMMUNE_MIX, rng)
            rows[CpasRecord].append(CpasRecord(
                patient_id=pk, date=first, commune=commune,
                other_name="CPAS de Liège" if commune == "other" else "",
                recorded_by_id=author()))
        housing_dates = sorted({first, *(in_window() for _ in range(rng.choice([0, 0, 1, 2])))})
        for date in housing_dates:
            rows[HousingRecord].append(HousingRecord(patient_id=pk, date=date,
                                                     situation=_pick(HOUSING_MIX, rng),
                                                     recorded_by_id=author()))
        rows[IdentityRecord].append(IdentityRecord(patient_id=pk, date=first,
                                                   documents=_pick(IDENTITY_MIX, rng),
                                                   recorded_by_id=author()))
        if rng.random() < 0.4:
            rows[AddressRecord].append(AddressRecord(
                patient_id=pk, date=first, recorded_by_id=author(),
                address=f"Adresse de référence {rng.randint(1, 400)}, 1000 Bruxelles"))
    count = 0
    for model, objs in rows.items():
        count += len(model.objects.bulk_create(objs, batch_size=2000))
    # A few entries were mistyped and corrected, so the demo shows what a correction is.
    housing = [r for r in rows[HousingRecord] if r.date < window_start]
    corrections = []
    for record in rng.sample(housing, k=min(len(housing), max(1, len(housing) // 100))):
        right = _pick([(v, w) for v, w in HOUSING_MIX if v != record.situation], rng)
        corrections.append(HousingRecord(
            patient_id=record.patient_id, date=record.date, situation=right, corrects=record,
            correction_reason="Erreur d'encodage", recorded_by_id=author()))
    count += len(HousingRecord.objects.bulk_create(corrections))
    return count


def _seed_actions(patient_ids, *, rng, today, window_start, worker_ids) -> int:
    if not patient_ids or not worker_ids:
        return 0
    from consultations.models import Partner
    partners: dict[str, list[int]] = {}
    for pk, kind in Partner.objects.filter(is_active=True).values_list("pk", "kind"):
        partners.setdefault(kind, []).append(pk)
    span = max(1, (today - window_start).days)
    actions = []
    for pk in patient_ids:
        if rng.random() >= 0.45:
            continue
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            action_type = _pick(ACTION_TYPES, rng)
            opened_on = window_start + datetime.timedelta(days=rng.randint(0, span))
            due_on = (opened_on + datetime.timedelta(days=rng.randint(7, 90))
                      if rng.random() < 0.85 else None)
            age = (today - opened_on).days
            if age > 120:
                status = "done" if rng.random() < 0.7 else "abandoned"
            elif age > 30:
                status = rng.choice(["open", "in_progress", "in_progress", "done"])
            else:
                status = rng.choice(["open", "open", "in_progress"])
            closed_on, outcome = None, ""
            if status in ("done", "abandoned"):
                closed_on = min(today, opened_on + datetime.timedelta(
                    days=rng.randint(1, max(1, min(age, 150)))))
                outcome = rng.choice(OUTCOMES[status])
            kind_partners = partners.get(PARTNER_KIND_FOR_TYPE.get(action_type, ""), [])
            worker = rng.choice(worker_ids)
            actions.append(SocialAction(
                patient_id=pk, type=action_type, social_worker_id=worker, created_by_id=worker,
                partner_id=rng.choice(kind_partners) if kind_partners else None,
                opened_on=opened_on, due_on=due_on, status=status, closed_on=closed_on,
                outcome=outcome, notes=rng.choice(NOTES)))
    return len(SocialAction.objects.bulk_create(actions, batch_size=2000))
