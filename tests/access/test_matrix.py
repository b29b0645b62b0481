"""The access policy of every URL, for every role, on real objects.

``MATRIX`` is the policy a reviewer reads: for each URL name (found by walking the resolver),
the status each role gets. GET for pages; POST (with an empty body) for every view that takes
a form, because who may write is a rule of its own; POST-only views answer GET with 405.

- 200 the page (or the form redisplayed: an empty POST is always a rejection)
- 302 a redirect (the action was done, or the view sends the user where it belongs)
- 403 the role may not use this view
- 404 patient data (or a patient's record) the role may not know of: never a page that
      reveals it exists
- 405 method not allowed
- 400 the outreach JSON API refused the request itself (an empty body, no device): the role
      may use it (an API has no form to redisplay)

A URL that is not in the table fails ``test_every_url_is_in_the_access_matrix``: a new view
gets a decided permission before it is merged. The rows reach real objects (tests/access/
world.py); every request runs in a transaction that is rolled back, so the world stays the
same from one row to the next.

On top of the statuses, every page a role gets is searched for the confidential texts of the
world it may not read (``READERS``): a consultation note, an amendment, a referral reason, a
screening follow-up, a prescription's instructions, a dose's observations, a social note or
the social situation. A role may see that a record exists (a consultation took place) but
never its text.
"""

import pytest
from django.db import transaction
from django.test import Client

from mass.accounts.roles import CLINICAL_ROLES, Role
from tests.access.world import ROLES, base_name, world_url
from tests.security.test_headers import assert_keeps_to_csp, assert_strict_csp
from tests.urlwalk import iter_url_patterns

ALL = frozenset(Role)
R, N, D, PY, PS, S, C = (Role.RECEPTION, Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST,
                         Role.PSYCHOLOGIST, Role.SOCIAL_WORKER, Role.COORDINATOR)

# Columns: reception, nurse, doctor, psychiatrist, psychologist, social worker, coordinator,
# and a signed-in account with no role.
MATRIX = {
    # --- accounts, staff, sites, audit (mass) -----------------------------------------------
    # Public views; signed in, the login page sends to the start page.
    "healthz":                   {"GET":  (200, 200, 200, 200, 200, 200, 200, 200)},
    "login":                     {"GET":  (302, 302, 302, 302, 302, 302, 302, 302)},
    "logout":                    {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (302, 302, 302, 302, 302, 302, 302, 302)},
    # Everyone's own second factor and language.
    "two_factor":                {"GET":  (200, 200, 200, 200, 200, 200, 200, 200)},
    "two_factor_verify":         {"GET":  (302, 302, 302, 302, 302, 302, 302, 302),
                                  "POST": (302, 302, 302, 302, 302, 302, 302, 302)},
    "two_factor_setup":          {"GET":  (200, 200, 200, 200, 200, 200, 200, 200),
                                  "POST": (200, 200, 200, 200, 200, 200, 200, 200)},
    "two_factor_recovery_codes": {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (302, 302, 302, 302, 302, 302, 302, 302)},
    # Everyone's own password (an empty POST: the form back with its errors).
    "password_change":           {"GET":  (200, 200, 200, 200, 200, 200, 200, 200),
                                  "POST": (200, 200, 200, 200, 200, 200, 200, 200)},
    "language_set":              {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (302, 302, 302, 302, 302, 302, 302, 302)},
    # Reception's start page is the desk (a redirect); the others', their sections.
    "home":                      {"GET":  (302, 200, 200, 200, 200, 200, 200, 200)},
    # Accounts and the audit trail: coordinators only.
    "staff_list":                {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},
    "staff_create":              {"GET":  (403, 403, 403, 403, 403, 403, 200, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    "staff_security":            {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},
    "staff_lockout_reset":       {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (403, 403, 403, 403, 403, 403, 302, 403)},
    "staff_two_factor_reset":    {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (403, 403, 403, 403, 403, 403, 302, 403)},
    "staff_update":              {"GET":  (403, 403, 403, 403, 403, 403, 200, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    "staff_password":            {"GET":  (403, 403, 403, 403, 403, 403, 200, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    # A clinical role waiting for a second coordinator (the world's was asked by another).
    "role_grant_approve":        {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (403, 403, 403, 403, 403, 403, 302, 403)},
    "role_grant_refuse":         {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (403, 403, 403, 403, 403, 403, 302, 403)},
    "audit_list":                {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},
    # Printed documents (issue 14): "who read my file" is the coordinator's answer to a
    # patient, beside the audit trail.
    "patients:file_reads_print": {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},
    # Every role reads the sites (opening hours); coordinators keep them.
    "site_list":                 {"GET":  (200, 200, 200, 200, 200, 200, 200, 403)},
    "site_create":               {"GET":  (403, 403, 403, 403, 403, 403, 200, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    "site_update":               {"GET":  (403, 403, 403, 403, 403, 403, 200, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    # Opening hours and one-off closures: coordinators (an empty form is refused).
    "site_hours":                {"GET":  (403, 403, 403, 403, 403, 403, 200, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    "site_closures":             {"GET":  (403, 403, 403, 403, 403, 403, 200, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    "site_closure_delete":       {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (403, 403, 403, 403, 403, 403, 302, 403)},

    # --- reception desk and patient files (patients) ----------------------------------------
    # The desk (its search, anonymous harm-reduction material) is reception's; clinicians see
    # the board (who came today, a consultation in one click) and log a walk-in too (from
    # the patient file, or an arrival); the coordinator does not work at the desk.
    "reception:board":           {"GET":  (200, 200, 200, 200, 200, 200, 403, 403)},
    "reception:search":          {"GET":  (200, 403, 403, 403, 403, 403, 403, 403)},
    "reception:arrival":         {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (302, 302, 302, 302, 302, 302, 403, 403)},
    "reception:harm_reduction":  {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (200, 403, 403, 403, 403, 403, 403, 403)},
    "patients:search":           {"GET":  (200, 200, 200, 200, 200, 200, 200, 403)},
    # Reception registers people.
    "patients:create":           {"GET":  (200, 403, 403, 403, 403, 403, 403, 403),
                                  "POST": (200, 403, 403, 403, 403, 403, 403, 403)},
    # The file itself: every role (panels show what each may see); nobody else knows of it.
    "patients:detail":           {"GET":  (200, 200, 200, 200, 200, 200, 200, 404)},
    # The printed summary: everyone who opens the file, each seeing what the file shows them.
    "patients:summary":          {"GET":  (200, 200, 200, 200, 200, 200, 200, 404)},
    "patients:update":           {"GET":  (200, 200, 200, 200, 200, 200, 404, 404),
                                  "POST": (200, 200, 200, 200, 200, 200, 404, 404)},
    # Merging two files of one person: the coordinator.
    "patients:merge":            {"GET":  (404, 404, 404, 404, 404, 404, 200, 404),
                                  "POST": (404, 404, 404, 404, 404, 404, 200, 404)},
    "patients:visit_create":     {"GET":  (200, 200, 200, 200, 200, 200, 404, 404),
                                  "POST": (200, 200, 200, 200, 200, 200, 404, 404)},
    # Corrections (mass.corrections): whoever recorded the entry, or a coordinator; the
    # world's entries were recorded by nobody of the roles, so only the coordinator may.
    # Who may not read the record: 404. A screening test: its author or a doctor.
    "patients:visit_cancel":     {"GET":  (403, 403, 403, 403, 403, 403, 200, 404),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 404)},
    "reception:harm_reduction_today": {"GET": (200, 403, 403, 403, 403, 403, 200, 403)},
    "reception:harm_reduction_cancel": {"GET": (403, 404, 404, 404, 404, 404, 200, 404),
                                        "POST": (403, 404, 404, 404, 404, 404, 200, 404)},
    # A treatment request opens an episode (reception or clinicians); clinicians close it.
    "patients:episode_open":     {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (302, 302, 302, 302, 302, 302, 404, 404)},
    "patients:episode_close":    {"GET":  (404, 200, 200, 200, 200, 200, 404, 404),
                                  "POST": (404, 200, 200, 200, 200, 200, 404, 404)},
    # Who have we lost: clinicians and social workers see the list and record outreach
    # attempts; the coordinator sees it (nothing clinical on it) and sets its thresholds;
    # reception does not. An empty attempt is refused with a message (302 back to the list).
    "patients:lost":             {"GET":  (403, 200, 200, 200, 200, 200, 200, 403)},
    "patients:lost_settings":    {"GET":  (403, 403, 403, 403, 403, 403, 200, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    "patients:outreach_attempt": {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (404, 302, 302, 302, 302, 302, 404, 404)},
    # Identification photos: seen by everyone who identifies people in front of them (not
    # the coordinator); taken, and consent withdrawn, at the desk and the counter. An empty
    # photo form is shown again with its error; a withdrawal needs nothing more than asking.
    "patients:photo":            {"GET":  (200, 200, 200, 200, 200, 200, 404, 404)},
    "patients:photo_take":       {"GET":  (200, 200, 404, 404, 404, 404, 404, 404),
                                  "POST": (200, 200, 404, 404, 404, 404, 404, 404)},
    "patients:photo_withdraw":   {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (302, 302, 404, 404, 404, 404, 404, 404)},

    # --- alerts on a patient (alerts.rules) -------------------------------------------------
    # Whoever meets the person reads (and records) the kinds of their discipline; the
    # coordinator meets nobody at the counter. The world's alert is an allergy: ending it is
    # for the medical roles, the others do not know of it. An empty form is redisplayed.
    "alerts:list":               {"GET":  (200, 200, 200, 200, 200, 200, 403, 403)},
    "alerts:create":             {"GET":  (200, 200, 200, 200, 200, 200, 403, 403),
                                  "POST": (200, 200, 200, 200, 200, 200, 403, 403)},
    "alerts:end":                {"GET":  (404, 200, 200, 200, 404, 404, 403, 403),
                                  "POST": (404, 200, 200, 200, 404, 404, 403, 403)},

    # --- problems and measures (clinical.rules) ----------------------------------------------
    # The clinical summary: whoever reads some problems (each section under its own rule).
    "clinical:summary":          {"GET":  (403, 200, 200, 200, 200, 403, 403, 403)},
    # Doctors and psychiatrists diagnose; an empty form is redisplayed.
    "clinical:problem_create":   {"GET":  (403, 403, 200, 200, 403, 403, 403, 403),
                                  "POST": (403, 403, 200, 200, 403, 403, 403, 403)},
    # A medical problem (F11.2): the medical notes' readers; a psychiatric one (F32.1): the
    # psychiatric notes' readers; who may not read it does not learn it exists.
    "clinical:problem_detail":   {"GET":  (403, 200, 200, 200, 404, 403, 403, 403)},
    "clinical:problem_detail[psychiatric]":
                                 {"GET":  (403, 404, 404, 200, 200, 403, 403, 403)},
    "clinical:problem_correct":  {"GET":  (403, 403, 200, 200, 403, 403, 403, 403),
                                  "POST": (403, 403, 200, 200, 403, 403, 403, 403)},
    "clinical:problem_correct[psychiatric]":
                                 {"GET":  (403, 403, 404, 200, 403, 403, 403, 403),
                                  "POST": (403, 403, 404, 200, 403, 403, 403, 403)},
    # Measures: nurses, doctors, psychiatrists; an empty form is redisplayed (no measure).
    "clinical:measurements":     {"GET":  (403, 200, 200, 200, 403, 403, 403, 403)},
    "clinical:measurement_create": {"GET": (403, 200, 200, 200, 403, 403, 403, 403),
                                    "POST": (403, 200, 200, 200, 403, 403, 403, 403)},
    "clinical:measurement_withdraw": {"GET": (403, 200, 200, 200, 403, 403, 403, 403),
                                      "POST": (403, 200, 200, 200, 403, 403, 403, 403)},

    # --- consultations ----------------------------------------------------------------------
    "consultations:list":        {"GET":  (403, 200, 200, 200, 200, 200, 403, 403)},
    "consultations:create":      {"GET":  (403, 200, 200, 200, 200, 200, 403, 403),
                                  "POST": (403, 200, 200, 200, 200, 200, 403, 403)},
    # That a consultation took place: every role; its text: the discipline's readers (see
    # READERS below, checked on every page).
    "consultations:detail":      {"GET":  (200, 200, 200, 200, 200, 200, 200, 403)},
    # Only the author edits or signs a note (the world's notes are someone else's).
    "consultations:update":      {"GET":  (403, 403, 403, 403, 403, 403, 403, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 403, 403)},
    "consultations:sign":        {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (403, 403, 403, 403, 403, 403, 403, 403)},
    # A signed note is amended by a colleague who reads it and writes in its discipline;
    # who may not read it does not learn it exists (404); a personal note: its author only.
    "consultations:amend[medical]":
                                 {"GET":  (403, 403, 200, 200, 404, 404, 403, 403),
                                  "POST": (403, 403, 200, 200, 404, 404, 403, 403)},
    "consultations:amend[nursing]":
                                 {"GET":  (403, 200, 403, 403, 404, 404, 403, 403),
                                  "POST": (403, 200, 403, 403, 404, 404, 403, 403)},
    "consultations:amend[psychiatric]":
                                 {"GET":  (403, 404, 404, 200, 403, 404, 403, 403),
                                  "POST": (403, 404, 404, 200, 403, 404, 403, 403)},
    "consultations:amend[psychological]":
                                 {"GET":  (403, 404, 404, 403, 200, 404, 403, 403),
                                  "POST": (403, 404, 404, 403, 200, 404, 403, 403)},
    "consultations:amend[social]":
                                 {"GET":  (403, 404, 403, 403, 404, 200, 403, 403),
                                  "POST": (403, 404, 403, 403, 404, 200, 403, 403)},
    "consultations:amend[other]":
                                 {"GET":  (403, 200, 200, 200, 200, 200, 403, 403),
                                  "POST": (403, 200, 200, 200, 200, 200, 403, 403)},
    "consultations:amend[personal]":
                                 {"GET":  (403, 404, 404, 404, 404, 404, 403, 403),
                                  "POST": (403, 404, 404, 404, 404, 404, 403, 403)},
    "consultations:timeline":    {"GET":  (200, 200, 200, 200, 200, 200, 200, 403)},
    # Groups: clinicians run them; reception and coordinator see who came.
    "consultations:groups":      {"GET":  (403, 200, 200, 200, 200, 200, 403, 403)},
    "consultations:group_create": {"GET": (403, 200, 200, 200, 200, 200, 403, 403),
                                  "POST": (403, 200, 200, 200, 200, 200, 403, 403)},
    "consultations:group_detail": {"GET": (200, 200, 200, 200, 200, 200, 200, 403),
                                  "POST": (403, 200, 200, 200, 200, 200, 403, 403)},
    "consultations:attendance_cancel": {"GET": (403, 403, 403, 403, 403, 403, 200, 404),
                                        "POST": (403, 403, 403, 403, 403, 403, 200, 404)},
    # The partner directory: everyone reads it; social workers and the coordinator keep it.
    "consultations:partners":    {"GET":  (200, 200, 200, 200, 200, 200, 200, 403)},
    "consultations:partner_create": {"GET": (403, 403, 403, 403, 403, 200, 200, 403),
                                     "POST": (403, 403, 403, 403, 403, 200, 200, 403)},
    "consultations:partner_detail": {"GET": (200, 200, 200, 200, 200, 200, 200, 403)},
    "consultations:partner_update": {"GET": (403, 403, 403, 403, 403, 200, 200, 403),
                                     "POST": (403, 403, 403, 403, 403, 200, 200, 403)},
    "consultations:referral_create": {"GET": (403, 200, 200, 200, 200, 200, 403, 403),
                                      "POST": (403, 200, 200, 200, 200, 200, 403, 403)},
    # The letter gives the reason: those who read it (clinicians, the referrer); reception
    # and the coordinator know the referral exists, not why (404).
    "consultations:referral_letter": {"GET": (404, 200, 200, 200, 200, 200, 404, 403)},
    "consultations:referral_outcome": {"GET": (403, 200, 200, 200, 200, 200, 403, 403),
                                       "POST": (403, 200, 200, 200, 200, 200, 403, 403)},
    # HCV/HIV screening: medical confidentiality (nurses, doctors, psychiatrists).
    "consultations:screening_create": {"GET": (403, 200, 200, 200, 403, 403, 403, 403),
                                       "POST": (403, 200, 200, 200, 403, 403, 403, 403)},
    "consultations:screening_result": {"GET": (403, 200, 200, 200, 403, 403, 403, 403),
                                       "POST": (403, 200, 200, 200, 403, 403, 403, 403)},
    "consultations:screening_cancel": {"GET": (404, 403, 200, 403, 404, 404, 404, 404),
                                       "POST": (404, 403, 200, 403, 404, 404, 404, 404)},

    # --- dispensary -------------------------------------------------------------------------
    # Nurses dispense and keep the register; doctors and psychiatrists prescribe, review
    # holds and cancel entries; the coordinator reads the register and keeps the products.
    "dispensary:today":          {"GET":  (403, 200, 403, 403, 403, 403, 403, 403)},
    "dispensary:prescriptions":  {"GET":  (403, 403, 200, 200, 403, 403, 403, 403)},
    "dispensary:closed_days":    {"GET":  (403, 403, 200, 200, 403, 403, 403, 403)},
    # A doctor's plan for a patient's closed days (an empty POST: refused, back to the plan).
    "dispensary:closed_day_plan_record": {"GET": (405, 405, 405, 405, 405, 405, 405, 405),
                                          "POST": (403, 403, 302, 302, 403, 403, 403, 403)},
    "dispensary:dispense":       {"GET":  (403, 200, 403, 403, 403, 403, 403, 403),
                                  "POST": (403, 200, 403, 403, 403, 403, 403, 403)},
    # The prescription for a partner pharmacy: prescribers, who sign it.
    "dispensary:prescription_print": {"GET": (403, 403, 200, 200, 403, 403, 403, 403)},
    "dispensary:prescription_end": {"GET": (403, 403, 200, 200, 403, 403, 403, 403),
                                    "POST": (403, 403, 200, 200, 403, 403, 403, 403)},
    "dispensary:review":         {"GET":  (403, 403, 200, 200, 403, 403, 403, 403),
                                  "POST": (403, 403, 200, 200, 403, 403, 403, 403)},
    "dispensary:patient":        {"GET":  (403, 200, 200, 200, 403, 403, 403, 403)},
    "dispensary:prescription_create": {"GET": (403, 403, 200, 200, 403, 403, 403, 403),
                                       "POST": (403, 403, 200, 200, 403, 403, 403, 403)},
    "dispensary:cancel":         {"GET":  (403, 403, 200, 200, 403, 403, 403, 403),
                                  "POST": (403, 403, 200, 200, 403, 403, 403, 403)},
    # The downtime sheet: whoever sees the dispensing (read-only, printed); what was given
    # on it is recorded by nurses, as at the desk.
    "dispensary:downtime_sheet": {"GET":  (403, 200, 200, 200, 403, 403, 403, 403)},
    "dispensary:paper_record":   {"GET":  (403, 200, 403, 403, 403, 403, 403, 403),
                                  "POST": (403, 200, 403, 403, 403, 403, 403, 403)},
    "dispensary:register":       {"GET":  (403, 200, 403, 403, 403, 403, 200, 403)},
    "dispensary:register_month": {"GET":  (403, 200, 403, 403, 403, 403, 200, 403)},
    "dispensary:receipt":        {"GET":  (403, 200, 403, 403, 403, 403, 403, 403),
                                  "POST": (403, 200, 403, 403, 403, 403, 403, 403)},
    "dispensary:stock_count":    {"GET":  (403, 200, 403, 403, 403, 403, 403, 403),
                                  "POST": (403, 200, 403, 403, 403, 403, 403, 403)},
    "dispensary:correction":     {"GET":  (403, 200, 403, 403, 403, 403, 403, 403),
                                  "POST": (403, 200, 403, 403, 403, 403, 403, 403)},
    "dispensary:products":       {"GET":  (403, 200, 200, 200, 403, 403, 200, 403)},
    "dispensary:product_create": {"GET":  (403, 403, 403, 403, 403, 403, 200, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    "dispensary:product_update": {"GET":  (403, 403, 403, 403, 403, 403, 200, 403),
                                  "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    # Induction rules: read by those who prescribe or dispense, kept with the products.
    "dispensary:induction_rules": {"GET": (403, 200, 200, 200, 403, 403, 200, 403)},
    "dispensary:induction_rule_edit": {"GET": (403, 403, 200, 200, 403, 403, 403, 403),
                                       "POST": (403, 403, 200, 200, 403, 403, 403, 403)},
    "dispensary:pharmacy_create": {"GET": (403, 403, 403, 403, 403, 403, 200, 403),
                                   "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    "dispensary:pharmacy_update": {"GET": (403, 403, 403, 403, 403, 403, 200, 403),
                                   "POST": (403, 403, 403, 403, 403, 403, 200, 403)},

    # --- social file ------------------------------------------------------------------------
    # Caseloads: social workers, doctors (psychiatrists), and the coordinator follows the
    # team's workload (never the note text).
    "social:caseload":           {"GET":  (403, 403, 200, 200, 403, 200, 200, 403)},
    "social:team":               {"GET":  (403, 403, 200, 200, 403, 200, 200, 403)},
    # The situation: clinicians read it, social workers record it; reception and the
    # coordinator never see it.
    "social:situation":          {"GET":  (403, 200, 200, 200, 200, 200, 403, 403),
                                  "POST": (403, 403, 403, 403, 403, 200, 403, 403)},
    "social:situation_correct":  {"GET":  (403, 403, 403, 403, 403, 200, 403, 403),
                                  "POST": (403, 403, 403, 403, 403, 200, 403, 403)},
    "social:action_create":      {"GET":  (403, 403, 403, 403, 403, 200, 403, 403),
                                  "POST": (403, 403, 403, 403, 403, 200, 403, 403)},
    "social:action_detail":      {"GET":  (403, 403, 200, 200, 403, 200, 200, 403)},
    "social:action_progress":    {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (403, 403, 403, 403, 403, 200, 403, 403)},
    "social:action_edit":        {"GET":  (403, 403, 403, 403, 403, 200, 403, 403),
                                  "POST": (403, 403, 403, 403, 403, 200, 403, 403)},

    # --- yearly figures and TDI (reporting) -------------------------------------------------
    "reporting:index":           {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},
    "reporting:file_active":     {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},
    "reporting:file_active_explain": {"GET": (403, 403, 403, 403, 403, 403, 200, 403)},
    "reporting:outreach_arrivals": {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},
    # Coordinators declare a finished year; an empty POST lacks the confirmation.
    "reporting:file_active_declare": {"GET": (403, 403, 403, 403, 403, 403, 200, 403),
                                      "POST": (403, 403, 403, 403, 403, 403, 200, 403)},
    # The TDI questionnaire is filled at the episode's opening, at the desk or in care.
    "reporting:tdi":             {"GET":  (200, 200, 200, 200, 200, 200, 403, 403),
                                  "POST": (200, 200, 200, 200, 200, 200, 403, 403)},
    "reporting:tdi_year":        {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},
    "reporting:tdi_export":      {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},

    # --- vaccinations and lab results: medical (nurses, doctors, psychiatrists) -------------
    "vaccinations:course_create": {"GET": (403, 200, 200, 200, 403, 403, 403, 403),
                                   "POST": (403, 200, 200, 200, 403, 403, 403, 403)},
    "vaccinations:dose_create":  {"GET":  (403, 200, 200, 200, 403, 403, 403, 403),
                                  "POST": (403, 200, 200, 200, 403, 403, 403, 403)},
    # A dose or a result recorded by mistake: who recorded it, or a doctor.
    "vaccinations:dose_cancel":  {"GET":  (404, 403, 200, 403, 404, 404, 404, 404),
                                  "POST": (404, 403, 200, 403, 404, 404, 404, 404)},
    "vaccinations:due":          {"GET":  (403, 200, 200, 200, 403, 403, 403, 403)},
    "labs:patient_results":      {"GET":  (404, 200, 200, 200, 404, 404, 404, 404)},
    "labs:result_create":        {"GET":  (403, 200, 200, 200, 403, 403, 403, 403),
                                  "POST": (403, 200, 200, 200, 403, 403, 403, 403)},
    "labs:result_cancel":        {"GET":  (404, 403, 200, 403, 404, 404, 404, 404),
                                  "POST": (404, 403, 200, 403, 404, 404, 404, 404)},
    # Treatments of the cascades and a lab's files: the doctors.
    "labs:treatment_create":     {"GET":  (403, 403, 200, 200, 403, 403, 403, 403),
                                  "POST": (403, 403, 200, 200, 403, 403, 403, 403)},
    "labs:treatment_end":        {"GET":  (403, 403, 200, 200, 403, 403, 403, 403),
                                  "POST": (403, 403, 200, 200, 403, 403, 403, 403)},
    "labs:treatment_cancel":     {"GET":  (404, 403, 200, 403, 404, 404, 404, 404),
                                  "POST": (404, 403, 200, 403, 404, 404, 404, 404)},
    "labs:import":               {"GET":  (403, 403, 200, 200, 403, 403, 403, 403),
                                  "POST": (403, 403, 200, 200, 403, 403, 403, 403)},
    # The yearly care figures: the coordinator and the doctors; the lists of people behind
    # them (their HCV status) only to who reads lab results.
    "labs:care_figures_current": {"GET":  (403, 403, 302, 302, 403, 403, 302, 403)},
    "labs:care_figures":         {"GET":  (403, 403, 200, 200, 403, 403, 200, 403)},
    "labs:care_figure_list":     {"GET":  (403, 403, 200, 200, 403, 403, 403, 403)},
    # --- outreach rounds (outreach) ---------------------------------------------------------
    # The mobile team: clinicians (outreach.use_outreach); reception works at the desk, the
    # coordinator meets nobody. Without a body or a registered device the API answers 400.
    "outreach:api_devices":      {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (403, 400, 400, 400, 400, 400, 403, 403)},
    "outreach:api_round":        {"GET":  (403, 400, 400, 400, 400, 400, 403, 403)},
    "outreach:api_sync":         {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (403, 400, 400, 400, 400, 400, 403, 403)},
    # The page, for those who go out; its manifest and service worker carry nothing (any
    # signed-in account, like a static file).
    "outreach:page":             {"GET":  (403, 200, 200, 200, 200, 200, 403, 403)},
    "outreach:manifest":         {"GET":  (200, 200, 200, 200, 200, 200, 200, 200)},
    "outreach:service_worker":   {"GET":  (200, 200, 200, 200, 200, 200, 200, 200)},
    # Devices are staff accounts' business: coordinators list them and disable a lost one.
    "outreach:devices":          {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},
    "outreach:device_disable":   {"GET":  (405, 405, 405, 405, 405, 405, 405, 405),
                                  "POST": (403, 403, 403, 403, 403, 403, 302, 403)},
    # Offline registrations like an existing file: whoever merges files.
    "outreach:duplicates":       {"GET":  (403, 403, 403, 403, 403, 403, 200, 403)},
}

MEDICAL = frozenset({D, PY, N})
PSY = frozenset({PS, PY})
SOCIAL_NOTES = frozenset({S, D, PY})
#: Who may read each confidential text of the world (tests/access/world.py), from
#: docs/domain.md: a role reads only what its discipline may. The world's author is nobody
#: under test.
READERS = {
    "alias": ALL,
    **{f"{kind}_{discipline}": readers
       for discipline, readers in {"medical": MEDICAL, "nursing": MEDICAL,
                                   "psychiatric": PSY, "psychological": PSY,
                                   "social": SOCIAL_NOTES, "other": CLINICAL_ROLES}.items()
       for kind in ("note", "amendment")},
    "note_personal": frozenset(),
    "referral_reason": CLINICAL_ROLES,
    "screening_follow_up": MEDICAL,
    "prescription_instructions": MEDICAL,
    "dispensation_observations": MEDICAL,
    "social_address": CLINICAL_ROLES,
    "social_action_notes": SOCIAL_NOTES,
    "social_update_note": SOCIAL_NOTES,
    "alert_allergy": MEDICAL,
    "problem_medical": MEDICAL,
    "problem_psychiatric": PSY,
    "alert_behaviour": ALL - {C},
    "vaccination_batch": MEDICAL,
    "lab_laboratory": MEDICAL,
}


#: Texts no page shows to anyone (so the check that readers see them skips them).
NOT_SHOWN = {"dispensation_observations"}


def role_id(role) -> str:
    return role.value if role else "no_role"


def test_every_url_is_in_the_access_matrix():
    names = {name for name, _url in iter_url_patterns()}
    covered = {base_name(key) for key in MATRIX}
    missing = sorted(names - covered)
    assert not missing, "\n".join(f"add {name} to the access matrix (tests/access/"
                                  f"test_matrix.py)" for name in missing)
    gone = sorted(covered - names)
    assert not gone, f"URL names in the access matrix that no longer exist: {gone}"


def test_the_matrix_reads_right():
    for key, methods in MATRIX.items():
        assert set(methods) <= {"GET", "POST"}, key
        for statuses in methods.values():
            assert len(statuses) == len(ROLES), key
            assert set(statuses) <= {200, 302, 400, 403, 404, 405}, key


def test_every_confidential_text_has_its_readers(world):
    assert set(READERS) == set(world.markers)


def request(client, method: str, url: str):
    """One request whose writes (audit rows, a session, an accepted empty form) are undone."""
    with transaction.atomic():
        response = getattr(client, method.lower())(url)
        content = response.content if not response.streaming else b"".join(
            response.streaming_content)
        transaction.set_rollback(True)
    return response, content


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_access_matrix(world, role):
    """Every URL of the matrix for one role: the status of the table, and no page showing a
    confidential text the role may not read."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    user = world.users[role]
    column = ROLES.index(role)
    forbidden = {key: text for key, text in world.markers.items()
                 if role not in READERS[key]}
    wrong, leaks, csp, seen = [], [], [], set()
    for key, methods in MATRIX.items():
        url = world_url(world, key)
        for method, statuses in methods.items():
            client.force_login(user)
            response, content = request(client, method, url)
            expected = statuses[column]
            if response.status_code != expected:
                wrong.append(f"{method} {key} ({url}): {response.status_code}, "
                             f"expected {expected}")
            if (method == "GET" and response.status_code == 200
                    and response.get("Content-Type", "").startswith("text/html")):
                # Every page with real objects keeps to the strict policy (what it would block
                # would be broken): tests/security/test_headers.py checks the pages without
                # arguments, this checks all the others.
                try:
                    assert_strict_csp(response, url)
                    assert_keeps_to_csp(content.decode(), url)
                except AssertionError as error:
                    csp.append(f"{method} {key}: {error}")
            for marker, text in world.markers.items():
                if text.encode() in content:
                    seen.add(marker)
                    if marker in forbidden:
                        leaks.append(f"{method} {key} ({url}) shows {marker}")
    # The search for leaks finds what it looks for: each text shows to its readers.
    unseen = sorted(set(world.markers) - set(forbidden) - NOT_SHOWN - seen)
    assert not wrong + leaks + csp + unseen, f"{role_id(role)}:\n" + "\n".join(
        wrong + leaks + csp + [f"{marker} shown on no page to its reader" for marker in unseen])


def test_figures_lists_and_exports_show_no_confidential_text(world):
    """The coordinator's lists behind every figure and every export: patients by alias at
    most, never a note, a reason or a situation."""
    from django.urls import reverse

    from reporting.explain import EXPLANATIONS
    from tests.access.world import day

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users[C])
    year = day().year
    urls = [reverse("reporting:file_active_explain", args=[year, key]) for key in EXPLANATIONS]
    urls += [reverse("reporting:file_active", args=[year]) + f"?format={fmt}"
             for fmt in ("json", "csv", "xlsx")]
    urls += [reverse("reporting:tdi_export", args=[year]), reverse("audit_list")]
    forbidden = {key: text for key, text in world.markers.items() if C not in READERS[key]}
    for url in urls:
        response, content = request(client, "GET", url)
        assert response.status_code == 200, url
        shown = [key for key, text in forbidden.items() if text.encode() in content]
        assert not shown, (url, shown)
