import pytest
from django.contrib.auth.models import Group

from mass.accounts.roles import Role
from tests.factories import UserFactory

#: Request headers for a test that reads the English text of a page. A request's language
#: comes from the browser's (or the signed-in user's) choice, the centre's French otherwise:
#: one constant says English for every test that needs it.
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def english():
    """A test that reads a message raised outside a request (a service called directly)
    reads it in English."""
    from django.utils import translation

    with translation.override("en"):
        yield


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


def service_refusal(call, *, unchanged=(), **kwargs):
    """Call a service with input it must refuse (the ``tests/<app>/test_services.py``): it
    raises ValidationError and writes nothing, no audit row and no row of the ``unchanged``
    models. Returns the ValidationError."""
    from django.core.exceptions import ValidationError

    from mass.models import AuditEvent
    counted = [AuditEvent, *unchanged]
    before = [model.objects.count() for model in counted]
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    assert [model.objects.count() for model in counted] == before
    return caught.value


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


@pytest.fixture(autouse=True)
def _app_database_role(request):
    """Every test that runs in a transaction runs with the application's database rights,
    not the owner's that created and migrated the test database (docs/security.md, "Two
    database roles"): a feature that needs more than rows (TRUNCATE, DDL, a trigger off)
    fails here as it would in production. ``@pytest.mark.database_owner`` marks the tests of
    the owner's own work (imports, tampering with the trail as a superuser would)."""
    from django.conf import settings
    from django.db import connection

    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    transactional = marker is not None and (marker.kwargs.get("transaction")
                                            or (marker.args and marker.args[0]))
    if (not settings.MASS_APP_DATABASE_ROLE
            or (marker is None and "db" not in names) or transactional
            or "transactional_db" in names or "live_server" in names
            or request.node.get_closest_marker("database_owner")):
        return
    request.getfixturevalue("db")
    role = settings.MASS_APP_DATABASE_ROLE
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
        # SET LOCAL outside a transaction is only a warning: make sure it took.
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == role, "the test does not run with the application's rights"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say plainly whether the browser tests ran, and where their screenshots are."""
    from tests.e2e.conftest import CHROMIUM, SCREENSHOT_DIR
    if not any("e2e" in getattr(r, "nodeid", "") for key in ("passed", "failed", "skipped")
               for r in terminalreporter.stats.get(key, [])):
        return
    if CHROMIUM:
        terminalreporter.write_line(f"Browser tests ran in {CHROMIUM}; screenshots in "
                                    f"{SCREENSHOT_DIR}")
    else:
        terminalreporter.write_line("Browser tests SKIPPED: no Chromium found "
                                    "(apt-get install chromium).")


PROJECT_APPS = ["mass", "patients", "consultations", "dispensary", "social", "reporting",
                "alerts", "outreach", "clinical", "vaccinations", "labs"]


def ensure_reference_data():
    """Give the roles their permissions back (mass.accounts.roles) and re-run the data
    migrations of the project (sites, products, starting-dose rules) when a transactional test
    emptied the tables. All of it is idempotent."""
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    from mass.models import Site
    from mass.signals import apply_roles_after_migrate

    # The flush that ends a transactional test may itself have given the roles back (it sends
    # post_migrate): the sites tell whether the data migrations' rows are there.
    if (Site.objects.exists()
            and Group.objects.filter(name="coordinator", permissions__isnull=False).exists()):
        return
    apply_roles_after_migrate(sender=apps.get_app_config("mass"), using=connection.alias)
    loader = MigrationLoader(connection)
    plan = [key for key in loader.graph.leaf_nodes()]
    ordered = []
    for leaf in plan:
        for key in loader.graph.forwards_plan(leaf):
            if key not in ordered and key[0] in PROJECT_APPS:
                ordered.append(key)
    for key in ordered:
        for operation in loader.graph.nodes[key].operations:
            if isinstance(operation, RunPython):
                operation.code(apps, None)


@pytest.fixture(scope="session", autouse=True)
def _reference_data(django_db_setup, django_db_blocker):
    # A reused test database may have been emptied by the last transactional test of the
    # previous run.
    with django_db_blocker.unblock():
        ensure_reference_data()


@pytest.fixture
def _reference_data_for_transactional_test(transactional_db):
    ensure_reference_data()


def pytest_collection_modifyitems(config, items):
    """Transactional tests (browser tests, concurrency tests) empty every table when they
    end; the next one gets the reference data of the migrations back first."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction"):
            item.fixturenames.append("_reference_data_for_transactional_test")
