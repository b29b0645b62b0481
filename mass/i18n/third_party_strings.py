"""Messages of Django and of the installed packages that their own catalogues translate into
French but not into Dutch (or the other way round), marked here so that they enter the
project's catalogues (locale/), which Django reads before theirs.

Why: Django falls back, for a message its Dutch catalogues lack, to the catalogue of
``LANGUAGE_CODE``: French here. A Dutch form showed "- Choisir une option -" (Django 6's new
``BLANK_CHOICE_LABEL``, which Django's Dutch catalogue does not have yet). With the message in
the project's Dutch catalogue, a Dutch reader reads Dutch.

``tests/mass/test_translations.py`` lists the messages the packages translate in one of the
two languages only and fails when one is missing here (a new Django version brings new ones).
Nothing here is called: makemessages reads the marks.
"""

from django.utils.translation import gettext_noop, ngettext_lazy, pgettext_lazy

THIRD_PARTY_MESSAGES = (
    # django (forms, models, views)
    gettext_noop("- Select an option -"),
    gettext_noop("No %s matches the given query."),
    gettext_noop("“%(value)s” is not a valid binary value."),
    # django_filters
    gettext_noop("No"),
    # axes (its lockout messages; the others name its admin pages)
    gettext_noop("Access lock out"),
    gettext_noop("Account locked: too many login attempts. Contact an admin to unlock your "
                 "account."),
    gettext_noop("Account locked: too many login attempts. Please try again later."),
    gettext_noop("Attempt Time"),
    gettext_noop("Failed Logins"),
    gettext_noop("Form Data"),
    gettext_noop("GET Data"),
    gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"),
    gettext_noop("Logout Time"),
    gettext_noop("Meta Data"),
    gettext_noop("POST Data"),
    gettext_noop("Path"),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    # django_otp
    gettext_noop("Error generating challenge: {0}"),
    gettext_noop("Forgotten your password or username?"),
    gettext_noop("Get OTP Challenge"),
    gettext_noop("Invalid token. Please make sure you have entered it correctly."),
    gettext_noop("Log in"),
    gettext_noop("OTP Challenge: {0}"),
    gettext_noop("OTP Device:"),
    gettext_noop("OTP Token:"),
    gettext_noop("Please correct the error below."),
    gettext_noop("Please correct the errors below."),
    gettext_noop("Please enter your OTP token."),
    gettext_noop("The selected OTP device is not interactive"),
    gettext_noop("Verification of the token is currently disabled"),
    gettext_noop("You are authenticated as %(username)s, but are not authorized to access "
                 "this page. Would you like to login to a different account?"),
)

THIRD_PARTY_PLURALS = (
    # django.contrib.auth: Django 6's message (its French catalogue has the older one)
    ngettext_lazy("This password is too short. It must contain at least %(min_length)d "
                  "character.",
                  "This password is too short. It must contain at least %(min_length)d "
                  "characters.", "min_length"),
    ngettext_lazy("This password is too short. It must contain at least %d character.",
                  "This password is too short. It must contain at least %d characters."),
    ngettext_lazy("Verification temporarily disabled because of %(failure_count)d failed "
                  "attempt, please try again soon.",
                  "Verification temporarily disabled because of %(failure_count)d failed "
                  "attempts, please try again soon.", "failure_count"),
    # django.contrib.humanize
    pgettext_lazy("ordinal is 1", "{}st"),
)
