"""Staff roles. A role is a Django group of the same name; a person may hold several.

What each role may do is the one table :data:`ROLE_PERMISSIONS` below. It is applied after
every ``migrate`` (:func:`apply_role_permissions`, connected in ``MassConfig.ready``): each
group gets exactly the permissions of its row, so a right removed here is removed from the
group at the next deployment. Which records of a discipline a role may read beyond these
permissions is decided in the selectors (``has_role``), not here.
"""

from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RECEPTION = "reception", _("Reception")
    NURSE = "nurse", _("Nurse")
    DOCTOR = "doctor", _("Doctor")
    PSYCHIATRIST = "psychiatrist", _("Psychiatrist")
    PSYCHOLOGIST = "psychologist", _("Psychologist")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    COORDINATOR = "coordinator", _("Coordinator")


#: Roles that read clinical records of some discipline.
CLINICAL_ROLES = frozenset({Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST, Role.PSYCHOLOGIST,
                            Role.SOCIAL_WORKER})


def user_roles(user) -> list[Role]:
    """The roles of a user, in the order of :class:`Role`: read with their permissions at a
    request's first permission check (mass.accounts.backends), else from one query of their
    own; cached on the user."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_mass_roles", None)
    if cached is None:
        cached = remember_roles(user, user.groups.values_list("name", flat=True))
    return cached


def remember_roles(user, group_names) -> list[Role]:
    """Keep on ``user`` the roles its groups ``group_names`` give, for :func:`user_roles`."""
    names = set(group_names)
    user._mass_roles = [role for role in Role if role.value in names]
    return user._mass_roles


def has_role(user, *roles: Role) -> bool:
    return any(role in user_roles(user) for role in roles)


# --- The table ------------------------------------------------------------------------------
# Role -> app label -> permission codenames. The groups below name the reasons once; each
# role's row lists them app by app.

_PATIENT_FILE = ["view_patient", "change_patient", "view_visit", "add_visit", "view_episode",
                 "add_episode"]
# Who meets the person records and reads alerts; which kinds each role records and reads is
# alerts.rules. The coordinator works on figures and does not meet people.
_ALERTS = ["view_alert", "add_alert", "change_alert"]
# Everyone who identifies people in front of them sees the identification photos; the photo
# is taken, and consent withdrawn, at the desk (reception) and the counter (nurses).
_SEE_PHOTO = ["view_patientphoto"]
_TAKE_PHOTO = [*_SEE_PHOTO, "add_patientphoto", "delete_patientphoto"]
# Clinicians follow up people who missed their appointments (the outreach worklist).
_CLINICAL_PATIENTS = [*_PATIENT_FILE, "change_episode", "view_outreachattempt",
                      "add_outreachattempt"]
# The mobile team (issue 16): clinicians who go to shelters, hotels and the street record on
# a phone what they do there, offline. Reception works at the desk and the coordinator meets
# nobody: neither goes on rounds, and the round carries alerts and notes only clinicians
# write. On a round the team also registers alias-only files and hands out material, which
# at the centre the desk does (outreach.services checks this permission for both).
_OUTREACH = {"outreach": ["use_outreach"]}
# Reception and clinicians fill the TDI questionnaire when they open an episode.
_TDI = ["add_tdirecord", "view_tdirecord"]

_CONSULTATIONS = [
    "view_consultation", "add_consultation", "change_consultation",
    "view_consultationamendment", "add_consultationamendment",
    "view_groupsession", "add_groupsession", "change_groupsession",
    "view_groupattendance", "add_groupattendance",
    "view_partner",
    "view_referral", "add_referral", "change_referral",
]
# That a consultation took place (never its text), groups and referrals by date and partner,
# and the partner directory to point people to it.
_CONSULTATIONS_SEEN = ["view_consultation", "view_groupsession", "view_groupattendance",
                       "view_partner", "view_referral"]
_SCREENING = ["view_screeningtest", "add_screeningtest", "change_screeningtest"]
_PARTNER_EDIT = ["add_partner", "change_partner"]

_DISPENSARY_READ = ["view_product", "view_pharmacy"]
_PRESCRIBER = [
    *_DISPENSARY_READ,
    "view_prescription", "add_prescription", "change_prescription", "view_dispensation",
    "view_dispensationcancellation", "view_holdreview", "add_holdreview",
    # Cancelling a ledger entry frees that day's dose for a new one: it may lead to a second
    # dose, so it takes a prescriber's authority (and another person than the one who
    # recorded the entry, see services.dispensation_cancel).
    "add_dispensationcancellation",
    # A starting-dose ceiling is a medical decision: the prescribers keep the rules.
    "view_inductionrule", "add_inductionrule", "change_inductionrule",
    # A doctor plans the closed days of patients without a take-home right.
    "view_closeddayplan", "add_closeddayplan",
]

# Social workers keep the social file. Doctors (psychiatrists have doctor rights) read it,
# social notes included (the social-notes rule is in social.selectors). Nurses and
# psychologists see the situation (insurance and housing matter to care), not the actions.
_SITUATION_MODELS = ["incomerecord", "insurancerecord", "cpasrecord", "housingrecord",
                     "identityrecord", "addressrecord"]
_SEE_SITUATION = [f"view_{model}" for model in _SITUATION_MODELS]
_SEE_SOCIAL_FILE = [*_SEE_SITUATION, "view_socialaction", "view_socialactionupdate"]

# Vaccinations and lab results are medical (the readers of screening). Nurses vaccinate and
# take samples; doctors also record the treatments of the cascades, import a lab's files and
# see the yearly care figures.
_VACCINATIONS = ["view_vaccinationcourse", "add_vaccinationcourse", "view_vaccinationdose",
                 "add_vaccinationdose", "view_vaccinationdosecancellation",
                 "add_vaccinationdosecancellation"]
_LAB_SAMPLES = ["view_labresult", "add_labresult", "view_labresultcancellation",
                "add_labresultcancellation", "view_treatment", "view_treatmentcancellation"]
_LABS_DOCTOR = [*_LAB_SAMPLES, "add_treatment", "change_treatment",
                "add_treatmentcancellation", "view_labimport", "add_labimport",
                "view_care_figures"]
# The problem list and the measures (clinical.rules): doctors diagnose and correct; nurses,
# doctors and psychiatrists measure and read the measures; psychologists read the problems of
# their discipline (psychiatric diagnoses, as the psychiatric notes).
_READ_PROBLEMS = ["view_problem", "view_problemversion"]
_DIAGNOSE = [*_READ_PROBLEMS, "add_problem", "add_problemversion"]
_MEASURE = ["view_measurement", "add_measurement", "view_measurementwithdrawal",
            "add_measurementwithdrawal"]

_PRESCRIBING_DOCTOR = {
    "mass": ["view_site"],
    "patients": [*_CLINICAL_PATIENTS, *_SEE_PHOTO],
    "consultations": [*_CONSULTATIONS, *_SCREENING],
    "dispensary": _PRESCRIBER,
    "social": _SEE_SOCIAL_FILE,
    "reporting": _TDI,
    "alerts": _ALERTS,
    "vaccinations": _VACCINATIONS,
    "labs": _LABS_DOCTOR,
    **_OUTREACH,
    "clinical": [*_DIAGNOSE, *_MEASURE],
}

ROLE_PERMISSIONS: dict[Role, dict[str, list[str]]] = {
    # The desk: registers people, their visits and anonymous harm-reduction material.
    Role.RECEPTION: {
        "mass": ["view_site"],
        "patients": [*_PATIENT_FILE, "add_patient", "add_harmreductioncontact",
                     "view_harmreductioncontact", *_TAKE_PHOTO],
        "consultations": _CONSULTATIONS_SEEN,
        "reporting": _TDI,
        "alerts": _ALERTS,
    },
    # The nurse dispenses, keeps the register (receipts, counts), reads prescriptions, the
    # starting-dose rules and the closed-day plans (the dispensing list hands the doses they
    # allow).
    Role.NURSE: {
        "mass": ["view_site"],
        "patients": [*_CLINICAL_PATIENTS, *_TAKE_PHOTO],
        "consultations": [*_CONSULTATIONS, *_SCREENING],
        "dispensary": [*_DISPENSARY_READ, "view_prescription", "view_dispensation",
                       "add_dispensation", "view_dispensationcancellation", "view_holdreview",
                       "view_registerentry", "add_registerentry", "view_inductionrule",
                       "view_closeddayplan"],
        "social": _SEE_SITUATION,
        "reporting": _TDI,
        "alerts": _ALERTS,
        "vaccinations": _VACCINATIONS,
        "labs": _LAB_SAMPLES,
        **_OUTREACH,
        "clinical": [*_READ_PROBLEMS, *_MEASURE],
    },
    Role.DOCTOR: _PRESCRIBING_DOCTOR,
    Role.PSYCHIATRIST: _PRESCRIBING_DOCTOR,
    Role.PSYCHOLOGIST: {
        "mass": ["view_site"],
        "patients": [*_CLINICAL_PATIENTS, *_SEE_PHOTO],
        "consultations": _CONSULTATIONS,
        "social": _SEE_SITUATION,
        "reporting": _TDI,
        "alerts": _ALERTS,
        **_OUTREACH,
        "clinical": _READ_PROBLEMS,
    },
    Role.SOCIAL_WORKER: {
        "mass": ["view_site"],
        "patients": [*_CLINICAL_PATIENTS, *_SEE_PHOTO],
        "consultations": [*_CONSULTATIONS, *_PARTNER_EDIT],
        "social": [*_SEE_SOCIAL_FILE, *[f"add_{model}" for model in _SITUATION_MODELS],
                   "add_socialaction", "change_socialaction", "add_socialactionupdate"],
        "reporting": _TDI,
        "alerts": _ALERTS,
        **_OUTREACH,
    },
    # Staff, sites, the audit trail, merges of files, the reference data (partner directory,
    # products, pharmacies), the register for controls and the yearly figures; never a note's
    # text, a prescription, a dose or a person's social situation. The team's social actions
    # to follow the workload.
    Role.COORDINATOR: {
        "mass": ["manage_staff", "view_auditevent", "view_site", "change_site", "add_site"],
        "patients": ["view_patient", "merge_patient", "view_patientmerge", "view_episode",
                     "view_visit", "view_harmreductioncontact", "view_outreachattempt",
                     "change_worklistthresholds"],
        "consultations": [*_CONSULTATIONS_SEEN, *_PARTNER_EDIT],
        "dispensary": [*_DISPENSARY_READ, "view_registerentry", "add_product", "change_product",
                       "add_pharmacy", "change_pharmacy", "view_inductionrule"],
        "social": ["view_socialaction"],
        "reporting": ["view_report", "view_tdirecord", "add_declaredyear", "view_declaredyear"],
        # The yearly care figures, counts only (their lists name people's HCV status).
        "labs": ["view_care_figures"],
    },
}


def apply_role_permissions(*, using: str = DEFAULT_DB_ALIAS,
                           table: dict[Role, dict[str, list[str]]] = ROLE_PERMISSIONS) -> None:
    """Make each role's group hold exactly the permissions of its row in ``table``: the group
    is created if missing, a permission missing from the row is taken away. Idempotent.

    A codename that no model defines is an error (a typo in the table must not pass silently).
    """
    known = {(permission.content_type.app_label, permission.codename): permission
             for permission in Permission.objects.using(using).select_related("content_type")}
    with transaction.atomic(using=using):
        for role in Role:
            wanted = []
            for app_label, codenames in table.get(role, {}).items():
                for codename in codenames:
                    permission = known.get((app_label, codename))
                    if permission is None:
                        raise LookupError(f"mass.accounts.roles: role {role.value} is given "
                                          f"{app_label}.{codename}, which no model defines")
                    wanted.append(permission)
            group, _created = Group.objects.using(using).get_or_create(name=role.value)
            group.permissions.set(wanted)
