import datetime

import pytest
from django.utils import timezone

from mass.accounts.roles import Role
from tests.factories import ConsultationAmendmentFactory, ConsultationFactory, PatientFactory

ROLES = list(Role)
DISCIPLINES = ["medical", "psychiatric", "psychological", "social", "nursing", "other"]

#: The rule of the issue, written out once more independently of the code under test.
READERS = {
    "medical": {Role.DOCTOR, Role.PSYCHIATRIST, Role.NURSE},
    "nursing": {Role.DOCTOR, Role.PSYCHIATRIST, Role.NURSE},
    "psychological": {Role.PSYCHOLOGIST, Role.PSYCHIATRIST},
    "psychiatric": {Role.PSYCHOLOGIST, Role.PSYCHIATRIST},
    # "doctors": psychiatrists hold doctor rights (docs/domain.md), as in the social app.
    "social": {Role.SOCIAL_WORKER, Role.DOCTOR, Role.PSYCHIATRIST},
    "other": {Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST, Role.PSYCHOLOGIST,
              Role.SOCIAL_WORKER},
}


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def signed_note(staff_factory):
    """make(discipline, personal=False): a signed note with an amendment, both with unique
    text markers, by an author who is not the reader under test."""
    def make(discipline, *, personal=False, patient=None):
        author = staff_factory(Role.DOCTOR, Role.PSYCHIATRIST, Role.PSYCHOLOGIST,
                               Role.SOCIAL_WORKER, Role.NURSE)
        consultation = ConsultationFactory(
            patient=patient or PatientFactory(), author=author, discipline=discipline,
            date=days_ago(10), note=f"SECRET-{discipline}-NOTE", is_personal_note=personal,
            signed_at=timezone.now(), signed_by=author,
        )
        ConsultationAmendmentFactory(consultation=consultation, author=author,
                                     text=f"SECRET-{discipline}-AMENDMENT")
        return consultation
    return make
