"""Settings for the test suite: the real PostgreSQL, a fast password hasher."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("DEMO", "1")

from mass.config.settings import *  # noqa: E402,F403
from mass.config.settings import DATABASES, MASS_OWNER_DATABASE, env  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Several test runs may share one server (a developer's and a helper's): TEST_DATABASE_NAME
# keeps their databases apart.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_mass")}
# The suite creates, migrates and flushes its database as the owner; each test then runs with
# the application's rights (SET LOCAL ROLE, tests/conftest.py ``app_database_role``).
if MASS_OWNER_DATABASE:
    DATABASES["default"].update(USER=MASS_OWNER_DATABASE["USER"],
                                PASSWORD=MASS_OWNER_DATABASE["PASSWORD"])
DATABASES["default"]["CONN_MAX_AGE"] = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests serve static files from the source folders; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The suite logs users in with force_login; tests/security turns the second factor on with
# the ``settings`` fixture to prove it is enforced.
MASS_REQUIRE_2FA = False
# Identification photos go to a folder of this run, never the developer's var/photos; tests
# that look at the files set their own (tests/patients/test_photos.py, ``photo_root``).
PHOTO_ROOT = Path(tempfile.mkdtemp(prefix="mass-test-photos-"))
atexit.register(shutil.rmtree, PHOTO_ROOT, ignore_errors=True)
