import pytest
from django.contrib.auth.models import Group

from mass.roles import Role
from tests.factories import UserFactory


def make_staff(*roles: Role, **kwargs):
    user = UserFactory(**kwargs)
    user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
    return user


@pytest.fixture
def staff_factory(db):
    """Make a staff member holding the given roles: ``staff_factory(Role.NURSE)``."""
    return make_staff


@pytest.fixture
def reception_user(db):
    return make_staff(Role.RECEPTION, username="t_reception")


@pytest.fixture
def nurse_user(db):
    return make_staff(Role.NURSE, username="t_nurse")


@pytest.fixture
def doctor_user(db):
    return make_staff(Role.DOCTOR, username="t_doctor")


@pytest.fixture
def psychiatrist_user(db):
    return make_staff(Role.PSYCHIATRIST, username="t_psychiatrist")


@pytest.fixture
def psychologist_user(db):
    return make_staff(Role.PSYCHOLOGIST, username="t_psychologist")


@pytest.fixture
def social_worker_user(db):
    return make_staff(Role.SOCIAL_WORKER, username="t_social_worker")


@pytest.fixture
def coordinator_user(db):
    return make_staff(Role.COORDINATOR, username="t_coordinator")


@pytest.fixture
def role_users(reception_user, nurse_user, doctor_user, psychiatrist_user, psychologist_user,
               social_worker_user, coordinator_user):
    """One user per role, keyed by role name."""
    return {
        Role.RECEPTION: reception_user, Role.NURSE: nurse_user, Role.DOCTOR: doctor_user,
        Role.PSYCHIATRIST: psychiatrist_user, Role.PSYCHOLOGIST: psychologist_user,
        Role.SOCIAL_WORKER: social_worker_user, Role.COORDINATOR: coordinator_user,
    }


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def reception_client(client, reception_user):
    return client_for(client, reception_user)


@pytest.fixture
def nurse_client(client, nurse_user):
    return client_for(client, nurse_user)


@pytest.fixture
def doctor_client(client, doctor_user):
    return client_for(client, doctor_user)


@pytest.fixture
def psychologist_client(client, psychologist_user):
    return client_for(client, psychologist_user)


@pytest.fixture
def social_worker_client(client, social_worker_user):
    return client_for(client, social_worker_user)


@pytest.fixture
def coordinator_client(client, coordinator_user):
    return client_for(client, coordinator_user)
