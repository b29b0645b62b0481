"""Who records and who reads each kind of alert: the discipline rule of docs/domain.md
(medical secret between disciplines), in one table.

- The medical kinds are read by those who dispense or treat medically: nurses, doctors and
  psychiatrists (the readers of medical and nursing notes, consultations.selectors). Doctors
  and psychiatrists record them; a nurse records what is seen or said at the counter (an
  allergy, a pregnancy, an interaction such as benzodiazepines or alcohol), not a QT risk
  (an ECG is read by a doctor) nor "doctor before any dose", which a doctor decides and ends
  after seeing the person.
- Behaviour / safety is for every staff member who meets the person, reception included;
  each of them may record one (what happened at the desk).
- The coordinator meets nobody at the counter: no alert at all.

Who may end an alert is who may record its kind.
"""

from dataclasses import dataclass

from alerts.models import Alert
from mass.accounts.roles import Role, user_roles

K = Alert.Kind

MEDICAL_READERS = frozenset({Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST})
DOCTORS = frozenset({Role.DOCTOR, Role.PSYCHIATRIST})
WHO_MEETS_THE_PERSON = frozenset({Role.RECEPTION, Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST,
                                  Role.PSYCHOLOGIST, Role.SOCIAL_WORKER})


@dataclass(frozen=True)
class KindRule:
    readers: frozenset
    recorders: frozenset


RULES: dict[str, KindRule] = {
    K.ALLERGY: KindRule(readers=MEDICAL_READERS, recorders=MEDICAL_READERS),
    K.QT_ECG: KindRule(readers=MEDICAL_READERS, recorders=DOCTORS),
    K.PREGNANCY: KindRule(readers=MEDICAL_READERS, recorders=MEDICAL_READERS),
    K.INTERACTION: KindRule(readers=MEDICAL_READERS, recorders=MEDICAL_READERS),
    K.BEHAVIOUR: KindRule(readers=WHO_MEETS_THE_PERSON, recorders=WHO_MEETS_THE_PERSON),
    K.DOCTOR_FIRST: KindRule(readers=MEDICAL_READERS, recorders=DOCTORS),
}


def readable_kinds(user) -> list[str]:
    """The kinds of alert this user reads, in the order of Alert.Kind."""
    roles = set(user_roles(user))
    return [kind.value for kind in K if roles & RULES[kind].readers]


def recordable_kinds(user) -> list[str]:
    """The kinds of alert this user records (and ends), in the order of Alert.Kind."""
    roles = set(user_roles(user))
    return [kind.value for kind in K if roles & RULES[kind].recorders]


def may_end(user, alert: Alert) -> bool:
    return alert.kind in recordable_kinds(user)
