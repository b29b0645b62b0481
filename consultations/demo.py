"""Demo consultations, groups, partners, referrals and screening (`manage.py seed_demo`).

Volumes follow the MASS's 2016 report (seed 000): 20,373 consultations over 278 activity days,
about 73 a day, times ``scale``. Consultations and group attendances are placed on the
(patient, day) pairs of the demo walk-ins, so they add no contact of their own and the
yearly contact figures stay those of the walk-ins. A calendar year that already has
consultations is left alone, which is what makes a second run add nothing.
"""

import datetime
import random
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from consultations.models import (
    Consultation,
    ConsultationAmendment,
    GroupAttendance,
    GroupSession,
    Partner,
    Referral,
    ScreeningTest,
)
from mass.accounts.roles import Role
from mass.models import Site, User
from patients.models import Patient, Visit

SEED = 4
CONSULTATIONS_2016 = 20373
ACTIVITY_DAYS_2016 = 278

DISCIPLINE_MIX = [("medical", 30), ("nursing", 20), ("psychiatric", 12), ("psychological", 14),
                  ("social", 21), ("other", 3)]
FORM_MIX = [("individual", 92), ("couple", 5), ("family", 3)]
AUTHOR_ROLE = {"medical": Role.DOCTOR, "nursing": Role.NURSE, "psychiatric": Role.PSYCHIATRIST,
               "psychological": Role.PSYCHOLOGIST, "social": Role.SOCIAL_WORKER}

NOTES = {
    "medical": [
        "Suivi du traitement de substitution. Pas de plainte particulière. "
        "Poursuite à la même dose.",
        "Abcès au point d'injection avant-bras gauche, soins locaux, revoir dans 48 h.",
        "Toux productive depuis une semaine, auscultation : râles base droite. Radio demandée.",
        "Demande d'augmentation de dose, craving important le soir. Discussion, dose inchangée.",
        "Bilan sanguin prescrit (hépatites, fonction hépatique). "
        "Vaccination hépatite B proposée.",
        "Douleurs dentaires, orientation vers le dentiste partenaire.",
    ],
    "nursing": [
        "Pansement refait, plaie propre. Conseils d'hygiène et matériel stérile remis.",
        "Prise des paramètres : TA 13/8, pouls 84. Patient calme.",
        "Entretien RDR : pratiques d'injection, rappel du non-partage du matériel.",
        "Dépistage proposé, le patient souhaite y réfléchir.",
    ],
    "psychiatric": [
        "Humeur basse, sommeil perturbé. Pas d'idées suicidaires actives. "
        "Ajustement du traitement.",
        "Anxiété en lien avec la perte du logement. Soutien, revoir la semaine prochaine.",
        "Symptômes psychotiques stabilisés sous traitement. Bonne observance rapportée.",
        "Évaluation de la consommation d'alcool associée, information sur le sevrage.",
    ],
    "psychological": [
        "Entretien de soutien. Évoque la rupture avec sa famille et son isolement.",
        "Travail sur les objectifs de réduction de consommation ; motivation fluctuante.",
        "Le patient parle de son parcours migratoire et des difficultés administratives.",
        "Séance centrée sur la gestion du stress ; exercices de respiration proposés.",
    ],
    "social": [
        "Point sur les démarches CPAS : documents manquants listés avec le patient.",
        "Recherche d'hébergement d'urgence, contact pris avec le Samusocial.",
        "Mutuelle non en ordre : accompagnement prévu pour la régularisation.",
        "Aide à la gestion budgétaire, échéancier discuté.",
    ],
    "other": [
        "Entretien d'accueil, présentation des services du centre.",
        "Accompagnement vers un rendez-vous extérieur.",
    ],
}
AMENDMENT_REASONS = ["Erreur de dose dans la note", "Information complémentaire reçue",
                     "Mauvais patient mentionné dans le texte", "Résultat d'examen reçu"]

# The network of the issue: the 19 CPAS/OCMW of Brussels, the founding hospitals, the
# addiction and outreach partners. Contact details only where publicly known and stable;
# the general practitioners and pharmacies are fictitious.
CPAS_COMMUNES = [
    "d'Anderlecht", "d'Auderghem", "de Berchem-Sainte-Agathe", "de Bruxelles", "d'Etterbeek",
    "d'Evere", "de Forest", "de Ganshoren", "d'Ixelles", "de Jette", "de Koekelberg",
    "de Molenbeek-Saint-Jean", "de Saint-Gilles", "de Saint-Josse-ten-Noode", "de Schaerbeek",
    "d'Uccle", "de Watermael-Boitsfort", "de Woluwe-Saint-Lambert", "de Woluwe-Saint-Pierre",
]
PARTNERS = [
    *[(f"CPAS {commune}", Partner.Kind.CPAS, "") for commune in CPAS_COMMUNES],
    ("CHU Brugmann", Partner.Kind.HOSPITAL, "Place Arthur Van Gehuchten 4, 1020 Bruxelles"),
    ("CHU Saint-Pierre", Partner.Kind.HOSPITAL, "Rue Haute 322, 1000 Bruxelles"),
    ("Projet Lama", Partner.Kind.TREATMENT, ""),
    ("Transit", Partner.Kind.HARM_REDUCTION, ""),
    ("SAMPAS", Partner.Kind.TREATMENT, ""),
    ("Enaden", Partner.Kind.TREATMENT, ""),
    ("New Samusocial", Partner.Kind.SHELTER, ""),
    ("Croix-Rouge de Belgique", Partner.Kind.SHELTER, ""),
    ("Bruss'Help", Partner.Kind.SHELTER, ""),
    ("Dr A. Martin (médecin généraliste, fictif)", Partner.Kind.GENERAL_PRACTITIONER, ""),
    ("Maison médicale du Centre (fictive)", Partner.Kind.GENERAL_PRACTITIONER, ""),
    ("Pharmacie de la Bourse (fictive)", Partner.Kind.PHARMACY, ""),
    ("Pharmacie du Midi (fictive)", Partner.Kind.PHARMACY, ""),
]
REFERRAL_REASONS = {
    Partner.Kind.CPAS: ["Revenu d'intégration", "Aide médicale urgente",
                        "Adresse de référence"],
    Partner.Kind.HOSPITAL: ["Consultation hépatologie", "Bilan somatique", "Sevrage hospitalier",
                            "Urgences : abcès étendu"],
    Partner.Kind.TREATMENT: ["Poursuite du traitement de substitution", "Post-cure"],
    Partner.Kind.HARM_REDUCTION: ["Hébergement de crise", "Accueil de jour"],
    Partner.Kind.SHELTER: ["Hébergement d'urgence", "Maraude, suivi à domicile"],
    Partner.Kind.GENERAL_PRACTITIONER: ["Suivi somatique de première ligne"],
    Partner.Kind.PHARMACY: ["Délivrance de la substitution en pharmacie"],
}
GROUP_WEEKLY = [  # weekday, kind, start, themes
    (1, GroupSession.Kind.COMMUNITY_HEALTH, datetime.time(14, 0),
     ["Alimentation et petit budget", "Droits des patients", "Hépatite C : parlons-en",
      "Le sommeil"]),
    (3, GroupSession.Kind.HARM_REDUCTION, datetime.time(15, 0),
     ["Overdose et naloxone", "Injection à moindre risque", "Fumer plutôt qu'injecter",
      "Mélanges de produits"]),
    (4, GroupSession.Kind.RELAXATION, datetime.time(11, 0),
     ["Respiration", "Relaxation guidée", "Détente corporelle"]),
]


def seed(*, years: int, scale: float, stdout) -> None:
    rng = random.Random(SEED)
    today = timezone.localdate()
    start = today - datetime.timedelta(days=365 * years)
    with transaction.atomic():
        partner_count = _seed_partners()
    pairs_by_year = _contact_pairs(start, today)
    if not pairs_by_year:
        stdout.write("consultations: no walk-ins to attach consultations to; "
                     f"{partner_count} partners added")
        return
    staff = _staff_by_role()
    sites = dict(Site.objects.values_list("kind", "pk"))
    partners = list(Partner.objects.values_list("pk", "kind"))
    totals = defaultdict(int)
    for year, pairs in sorted(pairs_by_year.items()):
        if Consultation.objects.filter(date__year=year).exists():
            continue  # seeded before (or real data): never add to a year twice
        with transaction.atomic():
            counts = _seed_year(year, pairs, rng=rng, scale=scale, today=today, staff=staff,
                                sites=sites, partners=partners)
        for key, value in counts.items():
            totals[key] += value
    stdout.write(
        f"consultations: {totals['consultations']} consultations, "
        f"{totals['amendments']} amendments, {totals['sessions']} group sessions "
        f"({totals['attendances']} attendances), {partner_count} partners added, "
        f"{totals['referrals']} referrals, {totals['screenings']} screening tests")


def _seed_partners() -> int:
    existing = set(Partner.objects.values_list("name", flat=True))
    new = [Partner(name=name, kind=kind, address=address)
           for name, kind, address in PARTNERS if name not in existing]
    Partner.objects.bulk_create(new)
    return len(new)


def _contact_pairs(start, end) -> dict[int, list[tuple]]:
    """The walk-in (patient, day) pairs by calendar year, with the visit's site and purpose,
    files merged away excluded."""
    pairs: dict[tuple, tuple] = {}
    rows = (Visit.objects.filter(date__gte=start, date__lte=end)
            .exclude(patient__status=Patient.Status.MERGED)
            .order_by("date", "patient_id", "id")
            .values_list("patient_id", "date", "site_id", "purpose"))
    for patient_id, day, site_id, purpose in rows:
        pairs.setdefault((patient_id, day), (site_id, purpose))
    by_year: dict[int, list[tuple]] = defaultdict(list)
    for (patient_id, day), (site_id, purpose) in pairs.items():
        by_year[day.year].append((patient_id, day, site_id, purpose))
    return by_year


def _staff_by_role() -> dict[Role, list[int]]:
    staff: dict[Role, list[int]] = {}
    for role in Role:
        staff[role] = list(User.objects.filter(groups__name=role.value, is_active=True)
                           .order_by("pk").values_list("pk", flat=True))
    return staff


def _pick(rng, mix):
    return rng.choices([value for value, _ in mix], weights=[w for _, w in mix])[0]


def _aware(day, time):
    return timezone.make_aware(datetime.datetime.combine(day, time))


def _seed_year(year, pairs, *, rng, scale, today, staff, sites, partners) -> dict[str, int]:
    activity_days = len({day for _, day, _, _ in pairs})
    target = round(CONSULTATIONS_2016 * scale * activity_days / ACTIVITY_DAYS_2016)
    # Walk-ins for a consultation or social help are the likeliest to see a clinician.
    weights = [3 if purpose in ("consultation", "social") else 1 for *_, purpose in pairs]
    chosen = rng.choices(pairs, weights=weights, k=target)
    centre = sites.get(Site.Kind.CENTRE)
    clinicians = [pk for role in AUTHOR_ROLE.values() for pk in staff.get(role, [])]
    consultations = []
    for patient_id, day, site_id, _ in chosen:
        discipline = _pick(rng, DISCIPLINE_MIX)
        authors = staff.get(AUTHOR_ROLE.get(discipline), []) or clinicians
        author_id = rng.choice(authors) if authors else None
        start = datetime.time(rng.randint(10, 18), rng.choice((0, 15, 30, 45)))
        signed = day < today - datetime.timedelta(days=1)
        auto = signed and rng.random() < 0.2
        consultations.append(Consultation(
            patient_id=patient_id, author_id=author_id,
            author_name="" if author_id else "Équipe MASS",
            discipline=discipline, form=_pick(rng, FORM_MIX), site_id=site_id or centre,
            date=day, time=start, duration_minutes=rng.choice((15, 20, 30, 30, 45, 60)),
            note=rng.choice(NOTES[discipline]),
            is_personal_note=discipline in ("psychological", "psychiatric") and rng.random() < 0.03,
            signed_at=_aware(day + datetime.timedelta(days=1), datetime.time(23, 59))
            if auto else (_aware(day, datetime.time(19, 0)) if signed else None),
            signed_by_id=None if auto or not signed else author_id,
            imported=author_id is None,
        ))
    Consultation.objects.bulk_create(consultations, batch_size=2000)
    amendments = [
        ConsultationAmendment(consultation=c, author_id=c.author_id,
                              reason=rng.choice(AMENDMENT_REASONS),
                              text="Précision : " + rng.choice(NOTES[c.discipline]).lower())
        for c in consultations
        if c.signed_at and c.author_id and not c.is_personal_note and rng.random() < 0.005
    ]
    ConsultationAmendment.objects.bulk_create(amendments, batch_size=2000)
    sessions, attendances = _seed_groups(pairs, rng=rng, scale=scale, staff=staff, centre=centre)
    referrals = _seed_referrals(pairs, rng=rng, scale=scale, today=today, staff=staff,
                                partners=partners)
    screenings = _seed_screening(pairs, rng=rng, scale=scale, today=today, staff=staff)
    return {"consultations": len(consultations), "amendments": len(amendments),
            "sessions": sessions, "attendances": attendances, "referrals": referrals,
            "screenings": screenings}


def _seed_groups(pairs, *, rng, scale, staff, centre) -> tuple[int, int]:
    """A session of each weekly group on the days it meets, attended by people who came
    that day (so an attendance adds no contact)."""
    by_day: dict[datetime.date, list[int]] = defaultdict(list)
    for patient_id, day, _, _ in pairs:
        by_day[day].append(patient_id)
    facilitators = {
        GroupSession.Kind.COMMUNITY_HEALTH: staff.get(Role.NURSE, []) + staff.get(Role.DOCTOR, []),
        GroupSession.Kind.HARM_REDUCTION: staff.get(Role.NURSE, []),
        GroupSession.Kind.RELAXATION: staff.get(Role.PSYCHOLOGIST, []),
    }
    plans = []
    for day in sorted(by_day):
        for weekday, kind, start, themes in GROUP_WEEKLY:
            if day.weekday() == weekday:
                plans.append((day, kind, start, rng.choice(themes)))
    sessions = GroupSession.objects.bulk_create(
        [GroupSession(date=day, kind=kind, time=start, theme=theme, site_id=centre)
         for day, kind, start, theme in plans], batch_size=2000)
    through = GroupSession.facilitators.through
    links, attendances = [], []
    for session in sessions:
        people = facilitators.get(session.kind) or []
        links.extend(through(groupsession_id=session.pk, user_id=pk)
                     for pk in rng.sample(people, k=min(2, len(people))))
        present = by_day[session.date]
        size = min(len(present), max(1, round(rng.randint(3, 8) * min(scale, 3))))
        attendances.extend(GroupAttendance(session_id=session.pk, patient_id=pk)
                           for pk in rng.sample(sorted(set(present)), k=min(size,
                                                                             len(set(present)))))
    through.objects.bulk_create(links, batch_size=2000)
    GroupAttendance.objects.bulk_create(attendances, batch_size=2000)
    return len(sessions), len(attendances)


def _seed_referrals(pairs, *, rng, scale, today, staff, partners) -> int:
    """About 1.5 referrals a day of activity; older ones have an outcome."""
    if not partners:
        return 0
    by_kind: dict[str, list[int]] = defaultdict(list)
    for pk, kind in partners:
        by_kind[kind].append(pk)
    referrers = (staff.get(Role.SOCIAL_WORKER, []) + staff.get(Role.DOCTOR, [])
                 + staff.get(Role.NURSE, []))
    days = len({day for _, day, _, _ in pairs})
    rows = []
    for patient_id, day, _, _ in rng.sample(pairs, k=min(len(pairs), round(1.5 * days * scale))):
        kind = rng.choice(list(by_kind))
        outcome, outcome_date = Referral.Outcome.PENDING, None
        if (today - day).days > 21:
            outcome = _pick(rng, [(Referral.Outcome.SEEN, 60), (Referral.Outcome.NOT_SEEN, 25),
                                  (Referral.Outcome.PENDING, 15)])
            if outcome != Referral.Outcome.PENDING:
                outcome_date = day + datetime.timedelta(days=rng.randint(2, 20))
        rows.append(Referral(patient_id=patient_id, partner_id=rng.choice(by_kind[kind]),
                             date=day,
                             reason=rng.choice(REFERRAL_REASONS.get(kind, ["Orientation"])),
                             outcome=outcome, outcome_date=outcome_date,
                             referred_by_id=rng.choice(referrers) if referrers else None))
    Referral.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _seed_screening(pairs, *, rng, scale, today, staff) -> int:
    """About one HCV or HIV test a day; results come back within two weeks."""
    testers = staff.get(Role.NURSE, []) + staff.get(Role.DOCTOR, [])
    days = len({day for _, day, _, _ in pairs})
    rows = []
    for patient_id, day, _, _ in rng.sample(pairs, k=min(len(pairs), round(1.0 * days * scale))):
        test = _pick(rng, [(ScreeningTest.Test.HCV, 60), (ScreeningTest.Test.HIV, 40)])
        result, result_date, follow_up = ScreeningTest.Result.PENDING, None, ""
        if (today - day).days > 14:
            positive = 0.35 if test == ScreeningTest.Test.HCV else 0.03
            roll = rng.random()
            result = (ScreeningTest.Result.POSITIVE if roll < positive
                      else ScreeningTest.Result.INDETERMINATE if roll < positive + 0.02
                      else ScreeningTest.Result.NEGATIVE)
            result_date = day + datetime.timedelta(days=rng.randint(3, 14))
            if result == ScreeningTest.Result.POSITIVE:
                follow_up = ("Orienté en hépatologie (CHU Saint-Pierre)"
                             if test == ScreeningTest.Test.HCV
                             else "Orienté au centre de référence sida")
        rows.append(ScreeningTest(patient_id=patient_id, date=day, test=test, result=result,
                                  result_date=result_date, follow_up=follow_up,
                                  performed_by_id=rng.choice(testers) if testers else None))
    ScreeningTest.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
