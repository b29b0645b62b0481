"""Demo TDI questionnaires for the demo episodes (`manage.py seed_demo`).

Most episodes get a questionnaire typical of the MASS's public (opioids and crack, injecting
or smoking, unstable housing); one in ten is left without one, so that the TDI page shows
what a missing questionnaire looks like, and a few are outreach or harm-reduction only.
Whether an episode is filled depends only on its id, and filled episodes are skipped, so a
second run adds nothing.
"""

import random

from django.db import transaction
from django.db.models import Exists, OuterRef

from patients.models import Episode
from reporting import tdi_codes as codes
from reporting.models import TdiRecord

SEED = 7
PRIMARY_MIX = [(codes.Drug.HEROIN, 45), (codes.Drug.CRACK, 20), (codes.Drug.COCAINE_POWDER, 8),
               (codes.Drug.METHADONE_MISUSED, 5), (codes.Drug.BENZODIAZEPINES, 7),
               (codes.Drug.ALCOHOL, 5), (codes.Drug.CANNABIS, 5),
               (codes.Drug.NOT_KNOWN, 5)]
SECONDARY = [codes.Drug.CRACK, codes.Drug.COCAINE_POWDER, codes.Drug.BENZODIAZEPINES,
             codes.Drug.ALCOHOL, codes.Drug.CANNABIS, codes.Drug.HEROIN]


def _pick(rng, mix):
    values, weights = zip(*mix, strict=True)
    return rng.choices(values, weights)[0]


def questionnaire(rng, episode) -> TdiRecord:
    primary = _pick(rng, PRIMARY_MIX)
    injects = primary in (codes.Drug.HEROIN, codes.Drug.METHADONE_MISUSED) and rng.random() < 0.5
    route = (codes.Route.INJECT if injects else
             codes.Route.SMOKE if primary in (codes.Drug.HEROIN, codes.Drug.CRACK,
                                              codes.Drug.CANNABIS)
             else codes.Route.EAT_DRINK if primary in (codes.Drug.BENZODIAZEPINES,
                                                        codes.Drug.ALCOHOL,
                                                        codes.Drug.METHADONE_MISUSED)
             else codes.Route.SNIFF if primary == codes.Drug.COCAINE_POWDER
             else codes.NOT_KNOWN)
    secondary = rng.sample([d for d in SECONDARY if d != primary], rng.randint(0, 3))
    yes, no = codes.YesNo.YES, codes.YesNo.NO
    shared = injects and rng.random() < 0.2
    setting = rng.choices([codes.Setting.TREATMENT, codes.Setting.OUTREACH_ONLY,
                           codes.Setting.HARM_REDUCTION_ONLY], [90, 6, 4])[0]
    birth_year = episode.patient.birth_year
    oldest = (episode.opened_on.year - birth_year) if birth_year else 40
    return TdiRecord(
        episode=episode, setting=setting,
        ever_treated=(codes.EverTreated.PREVIOUSLY if episode.kind == Episode.Kind.RESUMPTION
                      else rng.choice([codes.EverTreated.NEVER, codes.EverTreated.PREVIOUSLY])),
        ost_ever=rng.choice([codes.OstEver.NEVER, codes.OstEver.YES, codes.NOT_KNOWN]),
        referral_source=_pick(rng, [(codes.ReferralSource.SELF, 45),
                                    (codes.ReferralSource.FAMILY_FRIENDS, 10),
                                    (codes.ReferralSource.OTHER_DRUG_CENTRE, 12),
                                    (codes.ReferralSource.GENERAL_PRACTITIONER, 8),
                                    (codes.ReferralSource.HOSPITAL_MEDICAL, 10),
                                    (codes.ReferralSource.SOCIAL_SERVICES, 8),
                                    (codes.ReferralSource.CRIMINAL_JUSTICE, 5),
                                    (codes.NOT_KNOWN, 2)]),
        living_with=_pick(rng, [(codes.LivingWith.ALONE, 60), (codes.LivingWith.PARTNER, 12),
                                (codes.LivingWith.FRIENDS_OTHERS, 15),
                                (codes.LivingWith.PARENTS, 8), (codes.NOT_KNOWN, 5)]),
        accommodation=_pick(rng, [(codes.Accommodation.STABLE, 35),
                                  (codes.Accommodation.UNSTABLE, 55),
                                  (codes.Accommodation.DETENTION, 5), (codes.NOT_KNOWN, 5)]),
        labour_status=_pick(rng, [(codes.LabourStatus.UNEMPLOYED, 55),
                                  (codes.LabourStatus.INACTIVE, 25),
                                  (codes.LabourStatus.EMPLOYED, 10), (codes.NOT_KNOWN, 10)]),
        education=_pick(rng, [(codes.Education.PRIMARY, 25), (codes.Education.LOWER_SECONDARY, 35),
                              (codes.Education.UPPER_SECONDARY, 25),
                              (codes.Education.HIGHER, 5), (codes.NOT_KNOWN, 10)]),
        primary_drug=primary, route=route,
        frequency=_pick(rng, [(codes.Frequency.DAILY, 60), (codes.Frequency.FOUR_TO_SIX, 15),
                              (codes.Frequency.TWO_TO_THREE, 10),
                              (codes.Frequency.WEEKLY_OR_LESS, 5),
                              (codes.Frequency.NOT_USED, 5), (codes.NOT_KNOWN, 5)]),
        age_first_use=(rng.randint(12, min(30, max(oldest, 12)))
                       if rng.random() < 0.85 and oldest >= 12 else None),
        **{f"secondary_drug_{i + 1}": drug for i, drug in enumerate(secondary)},
        injected_ever=yes if injects else rng.choice([no, no, codes.NOT_KNOWN]),
        injected_12m=yes if injects else no if rng.random() < 0.8 else codes.NOT_KNOWN,
        injected_30d=(yes if injects and rng.random() < 0.7 else no if not injects
                      else no),
        needle_shared_ever=yes if shared else no if injects else codes.NOT_KNOWN,
        needle_shared_12m=no if not shared else rng.choice([yes, no]),
        needle_shared_30d=no,
    )


def seed(*, years: int, scale: float, stdout) -> None:
    """Questionnaires for the demo episodes that have none (nine in ten of them)."""
    episodes = list(
        Episode.objects.filter(~Exists(TdiRecord.objects.filter(episode=OuterRef("pk"))))
        .select_related("patient").order_by("id"))
    records = []
    for episode in episodes:
        rng = random.Random(SEED * 1_000_003 + episode.pk)
        if rng.random() < 0.1:
            continue  # left missing on purpose, for ever (same draw on every run)
        records.append(questionnaire(rng, episode))
    with transaction.atomic():
        TdiRecord.objects.bulk_create(records, batch_size=2000)
    stdout.write(f"reporting: {len(records)} TDI questionnaires")
