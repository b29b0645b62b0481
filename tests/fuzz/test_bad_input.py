"""Bad-input campaign: random and hostile values posted to every form of the application.

Each form of ``FORMS`` is read from the page that shows it (tests/fuzz/htmlforms.py) and
posted by a role that may use it, on the objects of the access matrix's world, with values
drawn by hypothesis: plausible ones (choices of the page, dates, numbers, text with markup)
mixed with hostile ones (huge strings, NUL bytes, unicode, HTML and script, SQL-ish text,
negative and huge numbers, impossible dates, lists where one value is expected, missing
fields, extra fields, foreign redirect targets). For every example:

- never a server error (the test client re-raises it);
- a rejection (the form again, a 4xx, or a redirect with an error message) writes nothing:
  no row inserted, updated or deleted in any table (``pg_stat_xact_user_tables`` of the
  test's transaction) except the session, and no audit row other than reads;
- markup typed by the user never comes back unescaped, neither on the answer nor on the page
  the answer redirects to, nor on the pages that show what the form stored;
- a redirect stays on this site;
- no field a form does not offer (``is_superuser``, ``author``...) gives anyone more rights.

A quarter of the examples are htmx requests (the desk's one-click forms answer a fragment):
they must not fail or echo markup either, but a fragment does not say whether it was a
rejection, so their writes are not judged.

Every example runs in a transaction that is rolled back: the world is the same for each.
Hypothesis is derandomized (the same examples on every run) and bounded (``EXAMPLES``).
"""

import datetime
import string
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib import messages as django_messages
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mass.accounts.roles import Role
from mass.models import AuditEvent, User
from tests.access.test_matrix import MATRIX
from tests.access.world import base_name, day, world_url
from tests.fuzz.htmlforms import Field, form_posting_to

EXAMPLES = 20

R, N, D, PS, S, C = (Role.RECEPTION, Role.NURSE, Role.DOCTOR, Role.PSYCHOLOGIST,
                     Role.SOCIAL_WORKER, Role.COORDINATOR)
AUTHOR, ANONYMOUS = "author", "anonymous"


@dataclass(frozen=True)
class FuzzForm:
    """``key`` is the URL posted to (a key of the access matrix); ``user`` a role allowed to
    post there (or the world's ``author``, or ``anonymous``); ``page`` the page that shows the
    form (default: ``key`` itself), as a URL key or a function of the world; ``fields`` the
    fields of a form no page shows in this state; ``shows`` the pages that show what the
    form stores; ``may_write`` tables a rejection may still write (not patient data), and
    ``may_audit`` the audit actions it may record (a failed login is recorded)."""

    key: str
    user: object
    page: object = None
    fields: dict | None = None
    shows: tuple = ()
    may_write: frozenset = field(default_factory=frozenset)
    may_audit: frozenset = field(default_factory=frozenset)
    #: field -> values that pass checks random values rarely pass (check digits, a file
    #: number that exists), or a function of the world giving them
    good: dict = field(default_factory=dict)

    def __str__(self):
        return self.key


def search_page(world):
    return reverse("reception:search") + f"?q={world.patient.file_number}"


PATIENT_PAGES = ("patients:detail", "consultations:timeline")
AXES = frozenset({"axes_accessattempt", "axes_accessfailurelog", "axes_accesslog"})

#: A NISS with right check digits, and an identity whose birth year and date agree.
IDENTITY = {"niss": ["", "85073000358", "85.07.30-003.58"], "birth_date": ["", "1985-07-30"],
            "birth_year": ["", "1985"], "file_number": [""]}

FORMS = [
    # accounts
    FuzzForm("login", ANONYMOUS, may_write=AXES,
             may_audit=frozenset({AuditEvent.Action.LOGIN_FAILED})),
    # (reception's start page is the desk: the menu's forms are read there)
    FuzzForm("logout", R, page="reception:board"),
    FuzzForm("language_set", R, page="reception:board"),
    FuzzForm("two_factor_verify", N, fields={"code": "text", "next": "hidden"}),
    # Showing the set-up page makes the pending authenticator it shows.
    FuzzForm("two_factor_setup", N, may_write=frozenset({"otp_totp_totpdevice"})),
    FuzzForm("two_factor_recovery_codes", N, fields={}),
    # A wrong current password is audited as a failed authentication.
    FuzzForm("password_change", R, may_audit=frozenset({AuditEvent.Action.LOGIN_FAILED})),
    FuzzForm("staff_create", C, shows=("staff_list",)),
    FuzzForm("staff_update", C, shows=("staff_list",)),
    FuzzForm("staff_password", C),
    FuzzForm("staff_lockout_reset", C, fields={"username": "text"}),
    FuzzForm("staff_two_factor_reset", C, fields={}),
    # A button: the world's request was asked by another coordinator (tests/access/world.py).
    FuzzForm("role_grant_approve", C, fields={}, shows=("staff_list",)),
    FuzzForm("role_grant_refuse", C, fields={}, shows=("staff_list",)),
    FuzzForm("site_create", C, shows=("site_list",)),
    FuzzForm("site_update", C, shows=("site_list",)),
    FuzzForm("site_hours", C, shows=("site_list",)),
    FuzzForm("site_closures", C, shows=("site_closures", "site_list")),
    FuzzForm("site_closure_delete", C, page="site_closures", shows=("site_closures",)),
    # A button on the coordinators' list of outreach devices.
    FuzzForm("outreach:device_disable", C, page="outreach:devices", shows=("outreach:devices",)),
    # reception and patient files
    FuzzForm("reception:arrival", R, page=search_page, shows=("reception:board",)),
    FuzzForm("reception:harm_reduction", R, page="reception:board"),
    FuzzForm("patients:create", R, good=IDENTITY),
    FuzzForm("patients:update", R, shows=PATIENT_PAGES, good=IDENTITY),
    FuzzForm("patients:merge", C, good={
        "other": lambda w: [w.other_patient.file_number], "confirm": ["True"]}),
    FuzzForm("patients:visit_create", R, shows=PATIENT_PAGES),
    # Corrections: the world's entries were recorded by nobody of the roles, so the
    # coordinator cancels them (a screening test: a doctor).
    FuzzForm("patients:visit_cancel", C, shows=("patients:detail",)),
    FuzzForm("reception:harm_reduction_cancel", C, shows=("reception:harm_reduction_today",)),
    # The world's episode is open since 40 days: a new one starts after it.
    FuzzForm("patients:episode_open", R, page="patients:detail", shows=PATIENT_PAGES,
             good={"opened_on": [day(-1).isoformat(), day().isoformat()]}),
    # The neighbour has no episode yet: a first treatment request.
    FuzzForm("patients:episode_open[other]", R, page="patients:detail[other]",
             shows=("patients:detail[other]",)),
    FuzzForm("patients:episode_close", D, shows=PATIENT_PAGES),
    # Who have we lost: an outreach attempt (from the patient file's panel; the world's
    # patient came today, so is on no worklist), the coordinators' thresholds.
    FuzzForm("patients:outreach_attempt", N, page="patients:detail",
             shows=("patients:detail", "patients:lost")),
    FuzzForm("patients:lost_settings", C, shows=("patients:lost_settings",)),
    # Identification photos (the file input itself: tests/patients/test_photos.py).
    FuzzForm("patients:photo_take", R, shows=PATIENT_PAGES),
    FuzzForm("patients:photo_withdraw", N, page="patients:photo_take", shows=PATIENT_PAGES),
    # consultations
    FuzzForm("consultations:create", D, shows=("consultations:list",)),
    FuzzForm("consultations:update[draft]", AUTHOR, shows=("consultations:detail[draft]",)),
    FuzzForm("consultations:sign[draft]", AUTHOR, page="consultations:detail[draft]"),
    FuzzForm("consultations:amend[medical]", D, shows=("consultations:detail[medical]",)),
    FuzzForm("consultations:group_create", PS, shows=("consultations:groups",)),
    FuzzForm("consultations:group_detail", PS, shows=("consultations:group_detail",),
             good={"patient": lambda w: [w.other_patient.file_number]}),
    FuzzForm("consultations:partner_create", S, shows=("consultations:partners",)),
    FuzzForm("consultations:partner_update", S, shows=("consultations:partner_detail",)),
    FuzzForm("consultations:referral_create", D, shows=PATIENT_PAGES),
    FuzzForm("consultations:referral_outcome", D, shows=PATIENT_PAGES),
    FuzzForm("consultations:screening_create", N, shows=PATIENT_PAGES),
    FuzzForm("consultations:screening_result", N, shows=PATIENT_PAGES),
    FuzzForm("consultations:attendance_cancel", C, shows=("consultations:group_detail",)),
    FuzzForm("consultations:screening_cancel", D, shows=PATIENT_PAGES),
    # dispensary
    FuzzForm("dispensary:dispense", N, shows=("dispensary:patient",)),
    # The plan page shows the form only for a patient flagged on the day of the run.
    FuzzForm("dispensary:closed_day_plan_record", D, page="dispensary:closed_days",
             fields={"first_day": "hidden", "last_day": "hidden", "decision": "radio",
                     "note": "text"}, shows=("dispensary:closed_days", "dispensary:patient")),
    FuzzForm("dispensary:prescription_end", D, shows=("dispensary:patient",)),
    FuzzForm("dispensary:review", D, shows=("dispensary:patient",),
             good={"decision": ["resume"]}),
    # The neighbour missed five days: dispensing is held until a doctor reviews.
    FuzzForm("dispensary:review[held]", D, shows=("dispensary:patient[other]",),
             good={"decision": ["resume", "lower"], "full_dose_confirmed": ["on"],
                   "new_daily_dose": ["30", "45.5"], "new_evening_dose": ["", "10"]}),
    FuzzForm("dispensary:prescription_create", D, shows=("dispensary:patient",)),
    FuzzForm("dispensary:cancel", D, shows=("dispensary:patient",)),
    FuzzForm("dispensary:paper_record", N, shows=("dispensary:patient",),
             good={"day": [day(-1).isoformat(), day(-2).isoformat()], "time": ["09:30"]}),
    FuzzForm("dispensary:receipt", N, shows=("dispensary:register",)),
    FuzzForm("dispensary:stock_count", N, shows=("dispensary:register",)),
    FuzzForm("dispensary:correction", N, shows=("dispensary:register",)),
    FuzzForm("dispensary:product_create", C, shows=("dispensary:products",)),
    FuzzForm("dispensary:product_update", C, shows=("dispensary:products",)),
    FuzzForm("dispensary:pharmacy_create", C, shows=("dispensary:products",)),
    FuzzForm("dispensary:pharmacy_update", C, shows=("dispensary:products",)),
    FuzzForm("dispensary:induction_rule_edit", D, shows=("dispensary:induction_rules",)),
    # social file
    FuzzForm("social:situation", S, shows=("social:situation", "patients:detail")),
    FuzzForm("social:situation_correct", S, shows=("social:situation",)),
    FuzzForm("social:action_create", S, shows=("social:caseload",)),
    FuzzForm("social:action_progress", S, page="social:action_detail",
             shows=("social:action_detail",)),
    FuzzForm("social:action_edit", S, shows=("social:action_detail",)),
    # alerts on a patient (the world's alert is an allergy)
    FuzzForm("alerts:create", D, shows=("alerts:list", "patients:detail")),
    FuzzForm("alerts:end", D, shows=("alerts:list",)),
    # vaccinations and lab results
    FuzzForm("vaccinations:course_create", N, shows=PATIENT_PAGES),
    FuzzForm("vaccinations:dose_create", N, shows=PATIENT_PAGES),
    FuzzForm("vaccinations:dose_cancel", D, shows=PATIENT_PAGES),
    FuzzForm("labs:result_create", N, shows=PATIENT_PAGES),
    FuzzForm("labs:result_cancel", D, shows=PATIENT_PAGES),
    FuzzForm("labs:treatment_create", D, shows=PATIENT_PAGES),
    FuzzForm("labs:treatment_end", D, shows=PATIENT_PAGES),
    FuzzForm("labs:treatment_cancel", D, shows=PATIENT_PAGES),
    FuzzForm("labs:import", D),
    # clinical
    FuzzForm("clinical:problem_create", D, shows=("clinical:summary", "patients:detail")),
    FuzzForm("clinical:problem_correct", D,
             shows=("clinical:problem_detail", "clinical:summary")),
    FuzzForm("clinical:measurement_create", N,
             shows=("clinical:measurements", "clinical:summary", "patients:detail")),
    FuzzForm("clinical:measurement_withdraw", N, shows=("clinical:measurements",)),
    # reporting
    FuzzForm("reporting:tdi", R, shows=("reporting:tdi",)),
    FuzzForm("reporting:file_active_declare", C, shows=("reporting:file_active",),
             good={"confirm": ["on"]}),
]

#: Views that take POST but have no form of their own to fuzz, and why.
NOT_FUZZED = {
    # The outreach page's JSON API has no HTML form: hostile JSON bodies and records are
    # tests/outreach/test_fuzz_sync.py, each bad input of issue 16 tests/outreach/.
    "outreach:api_devices": "JSON API (tests/outreach/test_fuzz_sync.py)",
    "outreach:api_sync": "JSON API (tests/outreach/test_fuzz_sync.py)",
}

# --- values ----------------------------------------------------------------------------------

def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, the first ones drawn ``weight`` times as often."""
    indexes = [index for index, (weight, _s) in enumerate(choices) for _n in range(weight)]
    return st.sampled_from(indexes).flatmap(lambda index: choices[index][1])


MARKUP = "<fuzz-tag onmouseover=alert(1)>"
SCRIPT = "<script>alert('fuzz')</script>"
#: What must never come back as it was typed.
UNESCAPED = (b"<fuzz-tag", b"<script>alert(")

HOSTILE = [
    "", " ", "\x00", "abc\x00def", "\x00" * 10, "\t\r\n", "\u200b", "\ufeff",
    MARKUP, SCRIPT, f"\"'>{SCRIPT}", f"</textarea>{MARKUP}", "&lt;fuzz&gt;", "{{ 7|add:7 }}",
    "{% now 'Y' %}", "${7*7}", "%s%n%x", "' OR '1'='1", "1; DROP TABLE patients_patient; --",
    "\\", "'", '"', "../../../../etc/passwd", "null", "None", "undefined", "true", "[]", "{}",
    "-1", "0", "-0", "1e309", "-1e309", "NaN", "Infinity", "0x10", "1_000", "١٢٣",
    "99999999999999999999999999999", "-99999999999999999999999999999", "2147483648",
    "9223372036854775808", "0.0000000000000000000001", "12.345678901234567890",
    "2023-02-30", "2023-13-01", "0000-00-00", "0001-01-01", "9999-12-31", "10000-01-01",
    "31/12/2024", "2024-1-1", "-2024-01-01", "1900-01-01", "1899-12-31", "25:61", "24:00",
    "https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)",
    "مرحبا\u202eevil", "𝕱𝖚𝖟𝖟 🧪 ñ ß Ωmega", "Zoë Çelik-Ødegård", "ß" * 5000, "x" * 100_000,
]


#: The values that broke something once: drawn more often than the rest.
WORST = ["\x00", "abc\x00def", MARKUP, "x" * 100_000, "99999999999999999999999999999",
         "2023-02-30", "https://evil.example/", "abc"]


def hostile() -> st.SearchStrategy:
    return weighted(
        (3, st.sampled_from(WORST)),
        (3, st.sampled_from(HOSTILE)),
        (1, st.text(max_size=300)),
        (1, st.integers(min_value=-(2**80), max_value=2**80).map(str)),
        (1, st.floats(allow_nan=True, allow_infinity=True).map(str)),
        # Two values where the form expects one.
        (1, st.lists(st.sampled_from(HOSTILE[:40]), min_size=2, max_size=3)),
    )


def _number(text: str | None, default: float) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return default


# Complexity 27, kept: one plausible value per kind of form field, a table of cases.
def plausible(f: Field) -> st.SearchStrategy:
    """A value a person could have typed or picked in this field, within the limits the
    browser would apply (required, min, max, step, maxlength)."""
    default = f.default[0] if f.default else ""
    required = "required" in f.attrs
    kept = st.just(default)
    if f.kind in ("select", "radio", "submit") and f.options:
        chosen = [option for option in f.options if option] or f.options
        if f.multiple:
            return st.lists(st.sampled_from(chosen), unique=True, min_size=int(required),
                            max_size=len(chosen))
        return weighted((5, st.sampled_from(chosen)), (1, st.sampled_from(f.options)))
    if f.kind == "checkbox":
        if f.multiple:
            return st.lists(st.sampled_from(f.options), unique=True, max_size=len(f.options))
        return st.sampled_from([None, *f.options])
    if f.kind == "date":
        low = datetime.date.fromisoformat(f.attrs["min"]) if f.attrs.get("min") else \
            datetime.date(1990, 1, 1)
        high = datetime.date.fromisoformat(f.attrs["max"]) if f.attrs.get("max") else day()
        recent = max(low, min(high, day(-700)))
        return weighted((4, st.dates(recent, high).map(datetime.date.isoformat)),
                        (1, kept if default or not required else st.dates(low, high).map(
                            datetime.date.isoformat)),
                        (1, st.dates(low, max(high, day(60))).map(datetime.date.isoformat)))
    if f.kind == "time":
        return weighted((4, st.times().map(lambda t: t.strftime("%H:%M"))), (1, kept))
    if f.kind == "number":
        low = _number(f.attrs.get("min"), 0)
        high = _number(f.attrs.get("max"), low + 500)
        step = f.attrs.get("step", "1")
        if step == "any" or "." in step:
            places = len(step.split(".")[1]) if "." in step else 2
            number = st.decimals(low, high, places=places).map(str)
        else:
            number = st.integers(int(low), int(min(high, low + 500))).map(str)
        return weighted((5, number), (1, kept if default or not required else number))
    if f.kind == "email":
        return weighted((3, st.sampled_from(["a@b.be", "x.y@mass.brussels"])), (1, kept))
    if f.kind == "hidden":
        return kept
    if f.kind == "password":
        return weighted((4, st.just("Correct-horse-battery-42")), (1, st.text(max_size=30)))
    length = min(40, int(_number(f.attrs.get("maxlength"), 40)))
    words = st.text(alphabet=string.ascii_letters + "éèàçëÉ -'", min_size=1, max_size=length)
    return weighted((5, words), (1, kept if default or not required else words),
                    (1, st.sampled_from([MARKUP, SCRIPT, f"Note & {MARKUP} {SCRIPT}"])))


#: Names of parameters some views read besides their form, and of fields no form offers (a
#: request must not set them).
PARAMETERS = ["next", "patient", "from", "based_on", "part", "action", "format", "page", "q",
              "site", "as_of", "detail", "confirm", "other", "pk", "id", "author", "actor",
              "signed_at", "signed_by", "is_staff", "is_superuser", "groups", "status",
              "recorded_by", "prescribed_by", "created_by", "imported", "balance_after",
              "month", "week", "day", "discipline", "source", "kind", "type", "since", "until"]

#: "as shown": the form as the page fills it, with one field changed to a plausible value
#: (required fields left empty get one too): mostly accepted, the paths that write. "one bad
#: field": the same with one field hostile or missing. "plausible": every field plausible.
#: "anything": every field plausible, hostile or missing.
MODES = ["as shown", "as shown", "one bad field", "one bad field", "plausible", "anything"]


def shown(f: Field):
    """What a browser submits for the field when nobody touches it."""
    if f.kind == "checkbox":
        return list(f.default) if f.multiple else (f.default[0] if f.default else None)
    if f.kind == "radio":
        return f.default[0] if f.default else None
    if f.kind == "submit":
        return f.options[0] if f.options else None  # the first button
    if f.kind == "select":
        if f.multiple:
            return list(f.default)
        return f.default[0] if f.default else (f.options[0] if f.options else "")
    return f.default[0] if f.default else ""


def plausible_or_good(f: Field, good: dict) -> st.SearchStrategy:
    if f.name in good:
        return weighted((3, st.sampled_from(good[f.name])), (1, plausible(f)))
    return plausible(f)


# Complexity 16, kept: one bad value per kind of form field, a table of cases.
def draw_body(data, fields: dict[str, Field], good: dict) -> dict:
    mode = data.draw(st.sampled_from(MODES), label="mode")
    names = sorted(fields)
    body = {}
    if mode in ("as shown", "one bad field"):
        target = data.draw(st.sampled_from(names), label="changed field") if names else None
        for name in names:
            f = fields[name]
            value = shown(f)
            if name == target and mode == "one bad field":
                value = data.draw(st.one_of(st.none(), hostile(), hostile(), hostile()),
                                  label=f"{name} (bad or missing)")
            elif name == target or (value in ("", None, []) and "required" in f.attrs):
                value = data.draw(plausible_or_good(f, good), label=name)
            if value is not None:
                body[name] = value
    else:
        for name in names:
            kind = "plausible" if mode == "plausible" else data.draw(
                st.sampled_from(["plausible", "plausible", "hostile", "missing"]),
                label=f"{name} kind")
            if kind == "missing":
                continue
            value = data.draw(plausible_or_good(fields[name], good) if kind == "plausible"
                              else hostile(), label=name)
            if value is not None:
                body[name] = value
    if mode in ("one bad field", "anything"):
        names = st.one_of(st.sampled_from(PARAMETERS), st.text(
            alphabet=string.ascii_letters + "_-[].", min_size=1, max_size=20))
        extra = data.draw(st.dictionaries(names.filter(lambda n: n not in fields), hostile(),
                                          max_size=3), label="extra fields")
        body.update(extra)
    return body


# --- what a request wrote --------------------------------------------------------------------

NOT_DATA = frozenset({"django_session"})


def writes() -> tuple[dict, dict]:
    """Rows inserted, updated, deleted so far in this transaction, per table; and the number
    of audit rows per action."""
    from django.db.models import Count

    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del "
                       "FROM pg_stat_xact_user_tables")
        tables = {name: counts for name, *counts in cursor.fetchall()}
    audit = dict(AuditEvent.objects.order_by().values_list("action").annotate(Count("id")))
    return tables, audit


#: A rejected form may still record that someone read a page.
READS = frozenset({AuditEvent.Action.VIEW, AuditEvent.Action.SEARCH})


def changed(before, after, form: "FuzzForm") -> list[str]:
    ignored = NOT_DATA | form.may_write | {"mass_auditevent"}
    found = [f"{name} (inserted, updated, deleted) {before[0].get(name)} -> {counts}"
             for name, counts in after[0].items()
             if counts != before[0].get(name, [0, 0, 0]) and name not in ignored]
    found += [f"{count - before[1].get(action, 0)} audit row(s) {action}"
              for action, count in after[1].items()
              if count != before[1].get(action, 0) and action not in READS | form.may_audit]
    return found


def rejected(response) -> bool:
    """The form came back, the request was refused, or a redirect carries an error."""
    if response.status_code != 302:
        return True
    storage = getattr(response.wsgi_request, "_messages", None)
    queued = getattr(storage, "_queued_messages", [])
    return any(message.level >= django_messages.ERROR for message in queued)


def has_markup(body: dict) -> bool:
    typed = repr(body).encode()
    return any(raw in typed for raw in UNESCAPED)


def assert_escaped(content: bytes, where: str) -> None:
    for raw in UNESCAPED:
        assert raw not in content, f"unescaped {raw!r} on {where}"


# --- the campaign ----------------------------------------------------------------------------


#: ``key[variant]`` of the campaign -> the URL's arguments on the campaign's own objects.
VARIANTS = {
    "draft": lambda w: [w.draft.pk],
    "held": lambda w: [w.held.pk],
    "other": lambda w: [w.other_patient.pk],
}


def url_of(world, key) -> str:
    if callable(key):
        return key(world)
    variant = key[len(base_name(key)) + 1:-1]
    if variant in VARIANTS:
        return reverse(base_name(key), args=VARIANTS[variant](world))
    return world_url(world, key)


def client_for(world, user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user != ANONYMOUS:
        client.force_login(world.author if user == AUTHOR else world.users[user])
    return client


_FIELDS: dict[str, dict[str, Field]] = {}


def form_fields(world, form: FuzzForm, client) -> dict[str, Field]:
    """The fields of the form, read once from its page."""
    if form.fields is not None:
        return {name: Field(name, kind) for name, kind in form.fields.items()}
    if form.key not in _FIELDS:
        page = url_of(world, form.page or form.key)
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        found = form_posting_to(response.content.decode(), page_url=page,
                                target_url=url_of(world, form.key))
        _FIELDS[form.key] = {name: f for name, f in found.fields.items()
                             if name != "csrfmiddlewaretoken"}
    return _FIELDS[form.key]


def test_every_form_is_fuzzed():
    """Every URL that takes a POST in the access matrix is a form of the campaign."""
    posted = {base_name(key) for key, methods in MATRIX.items() if "POST" in methods}
    fuzzed = {base_name(form.key) for form in FORMS} | set(NOT_FUZZED)
    missing = sorted(posted - fuzzed)
    assert not missing, "\n".join(f"add {name} to the bad-input campaign (tests/fuzz/"
                                  "test_bad_input.py FORMS)" for name in missing)


@pytest.mark.parametrize("form", FORMS, ids=str)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_bad_input(world, form, data):
    client = client_for(world, form.user)
    fields = form_fields(world, form, client)
    good = {name: values(world) if callable(values) else values
            for name, values in form.good.items()}
    body = draw_body(data, fields, good)
    # htmx answers a fragment (200) whether it wrote or not: its writes are not judged.
    htmx = data.draw(st.sampled_from([False, False, False, True]), label="htmx")
    post_and_check(world, form, client, body, htmx=htmx)


# Complexity 17, kept: each way a form may answer bad input, checked in turn.
def post_and_check(world, form: FuzzForm, client, body: dict, *, htmx: bool = False) -> None:
    """Post ``body`` to the form and check the rules of the campaign; the database is left
    as it was."""
    url = url_of(world, form.key)
    with transaction.atomic():
        before = writes()
        response = client.post(url, body, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
        after = writes()
        assert response.status_code < 500, response.status_code
        content = b"" if response.streaming else response.content
        assert_escaped(content, f"the answer of {url}")
        if rejected(response) and not htmx:
            written = changed(before, after, form)
            assert not written, f"rejected ({response.status_code}) but wrote: {written}"
        # No field a form does not offer gives anyone more rights.
        assert not User.objects.filter(Q(is_superuser=True) | Q(is_staff=True)).exists()
        if response.status_code in (301, 302):
            location = response["Location"]
            assert url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}), \
                f"redirect off the site: {location}"
            if not rejected(response) and form.user != ANONYMOUS and has_markup(body) and \
                    urlsplit(url).path != "/accounts/logout/":
                pages = [urljoin(url, location)] + [url_of(world, key) for key in form.shows]
                for page in pages:
                    shown = client.get(page)
                    assert shown.status_code < 500, (page, shown.status_code)
                    assert_escaped(shown.content, page)
        transaction.set_rollback(True)


#: Each of these in each field of each form, the other fields as the page fills them.
SWEEP = ["abc\x00def", "x" * 100_000, "99999999999999999999999999999"]


def filled(f: Field, good: dict):
    """The field as the page fills it, or (required and empty) a first plausible value."""
    value = shown(f)
    if value not in ("", None, []) or "required" not in f.attrs:
        return value
    if good.get(f.name):
        return good[f.name][0]
    if f.options:
        return next((option for option in f.options if option), f.options[0])
    return {"date": day().isoformat(), "time": "10:00", "number": f.attrs.get("min", "1"),
            "email": "a@b.be"}.get(f.kind, "Texte")


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_worst_values_in_every_field(world, form):
    """Deterministic: the values that broke something once, in every field (and as a
    ``next``), where random draws may miss one."""
    client = client_for(world, form.user)
    fields = form_fields(world, form, client)
    good = {name: values(world) if callable(values) else values
            for name, values in form.good.items()}
    body = {name: filled(f, good) for name, f in fields.items()}
    body = {name: value for name, value in body.items() if value is not None}
    for name in [*sorted(fields), "next"]:
        for value in SWEEP:
            client = client_for(world, form.user)  # a logout or a failed code ends a session
            post_and_check(world, form, client, {**body, name: value})


# --- bodies in another charset ---------------------------------------------------------------

#: Charsets a form body may claim. A urlencoded form must be UTF-8 (Django's rule): any other
#: is refused with a 400 before any view runs (mass.middleware.UndecodableFormMiddleware).
FOREIGN_CHARSETS = ["latin-1", "iso-8859-15", "cp1252", "utf-16", "utf-16-le", "utf-32",
                    "koi8-r", "ascii", "UTF8"]


def post_encoded(client, url: str, body: dict, *, charset: str, multipart: bool):
    from urllib.parse import urlencode

    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
    if multipart:
        # The parts are UTF-8 whatever the header claims: the parser must still not fail.
        return client.generic("POST", url, encode_multipart(BOUNDARY, body),
                              content_type=f"{MULTIPART_CONTENT}; charset={charset}")
    text = urlencode(body, doseq=True, encoding=charset, errors="replace")
    return client.generic("POST", url, text.encode(charset, errors="replace"),
                          content_type=f"application/x-www-form-urlencoded; charset={charset}")


@pytest.mark.parametrize("form", FORMS, ids=str)
@settings(max_examples=5, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_body_in_another_charset(world, form, data):
    """Never a server error, and a urlencoded body in another charset is a 400 that writes
    nothing, signed in or not."""
    client = client_for(world, form.user)
    fields = form_fields(world, form, client)
    good = {name: values(world) if callable(values) else values
            for name, values in form.good.items()}
    body = draw_body(data, fields, good)
    charset = data.draw(st.sampled_from(FOREIGN_CHARSETS), label="charset")
    multipart = data.draw(st.booleans(), label="multipart")
    url = url_of(world, form.key)
    with transaction.atomic():
        before = writes()
        response = post_encoded(client, url, body, charset=charset, multipart=multipart)
        after = writes()
        assert response.status_code < 500, response.status_code
        # (An empty body is sent without a content type: nothing to refuse.)
        if not multipart and response.wsgi_request.META.get("CONTENT_TYPE"):
            assert response.status_code == 400, response.status_code
            written = changed(before, after, form)
            assert not written, f"refused but wrote: {written}"
        transaction.set_rollback(True)
