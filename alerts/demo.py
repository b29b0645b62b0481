"""Demo alerts (`manage.py seed_demo`), after the dispensary's: a few of each kind on
patients of today's dispensing list, so that the banner, the counter row and "doctor before
any dose" show at once; one ended alert shows how the history is kept. Seeded once: if any
alert exists, nothing is added."""

import datetime

from django.db import transaction
from django.utils import timezone

from alerts.models import Alert
from dispensary.selectors import dispensing_list
from mass.accounts.roles import Role
from mass.models import User

K = Alert.Kind
# kind, text, recorded by (role), hours ago; in the language of the demo (French).
ALERTS = [
    (K.ALLERGY, "Pénicilline (urticaire géante en 2019)", Role.DOCTOR, 24 * 200),
    (K.QT_ECG, "QTc 485 ms : ECG avant toute augmentation de méthadone", Role.DOCTOR, 24 * 30),
    (K.INTERACTION, "Benzodiazépines + alcool : vérifier la sédation avant la dose",
     Role.NURSE, 24 * 12),
    (K.BEHAVIOUR, "A menacé un membre du personnel : toujours deux à l'accueil",
     Role.RECEPTION, 24 * 40),
    (K.DOCTOR_FIRST, "Très somnolent hier soir : le médecin le voit avant toute dose",
     Role.DOCTOR, 2),
    (K.ALLERGY, "Latex", Role.NURSE, 24 * 90),
]
#: An alert that ended: struck through on the patient's list of alerts.
ENDED = (K.PREGNANCY, "Enceinte (terme prévu en mars)", Role.DOCTOR, 24 * 300,
         "Accouchement, suivi par la maternité")


def _staff(role) -> User | None:
    return (User.objects.filter(groups__name=role.value, is_active=True).order_by("pk").first()
            or User.objects.filter(is_active=True).order_by("pk").first())


def seed(*, years: int, scale: float, stdout) -> None:
    if Alert.objects.exists():
        stdout.write("alerts: alerts exist already, nothing added")
        return
    patients = []
    for state in dispensing_list():
        if state.patient.pk not in {p.pk for p in patients}:
            patients.append(state.patient)
    if len(patients) < len(ALERTS) + 1:
        stdout.write("alerts: too few patients on today's dispensing list, nothing added")
        return
    now = timezone.now()
    with transaction.atomic():
        # Spread over the list (not the first aliases only) so that they are seen scrolling.
        step = max(1, len(patients) // (len(ALERTS) + 1))
        for index, (kind, text, role, hours) in enumerate(ALERTS):
            Alert.objects.create(patient=patients[index * step], kind=kind, text=text,
                                 recorded_by=_staff(role),
                                 recorded_at=now - datetime.timedelta(hours=hours))
        kind, text, role, hours, reason = ENDED
        recorded = now - datetime.timedelta(hours=hours)
        Alert.objects.create(patient=patients[len(ALERTS) * step], kind=kind, text=text,
                             recorded_by=_staff(role), recorded_at=recorded,
                             ended_at=recorded + datetime.timedelta(days=200),
                             ended_by=_staff(role), end_reason=reason)
    stdout.write(f"alerts: {len(ALERTS) + 1} alerts on patients of today's dispensing list")
