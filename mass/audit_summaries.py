"""What an audit row's summary shows to the person reading the trail.

The stored summary is written for the record (``mass.audit``): "dispensed 60 mg Methadone…",
"dose withheld (intoxication)". Whoever reads the trail (the coordinator, "who read this
file") may see in it only what they could see on the record itself (docs/domain.md: a role
reads what its discipline may). So the summary is shown in full to the roles that read that
kind of record, and to anyone else as a neutral label of the kind ("dispensing record"),
next to the action and the patient, which every reader of the trail may see.

``SUMMARY_READERS`` is the one table of that rule: every model of the project is in it
(``tests/mass/test_audit_summaries.py`` checks it), so a new kind of record gets a decided
rule before it is merged. A row of a kind not in the table (an old row, a model since removed)
is shown neutral to everyone.
"""

from django.utils.translation import gettext_lazy as _

from mass.roles import CLINICAL_ROLES, Role, user_roles

ALL = frozenset(Role)
#: The roles that read the dispensing record, prescriptions and medical results
#: (tests/access/test_matrix.py READERS: prescription instructions, dose observations).
MEDICAL = frozenset({Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST})
#: Who opens a social action (``social:action_detail``): not its notes, its type and status.
SOCIAL_ACTIONS = frozenset({Role.DOCTOR, Role.PSYCHIATRIST, Role.SOCIAL_WORKER,
                            Role.COORDINATOR})
#: Everyone who meets the person (alerts.rules: the coordinator meets nobody).
CARERS = ALL - {Role.COORDINATOR}

#: object type -> (the roles shown the summary in full, the neutral label shown to others).
#: The summaries never hold a note's text (tests/access/test_audit_trail.py); what they may
#: hold is what the kind of record shows its readers: a dose, a reason for withholding, a
#: test, a social dimension.
SUMMARY_READERS: dict[str, tuple[frozenset, object]] = {
    # The centre's own records: staff, sites, the audit trail. Nothing of a patient.
    "mass.user": (ALL, _("staff account")),
    "mass.rolegrant": (ALL, _("role grant")),
    "mass.recoverycodedevice": (ALL, _("recovery codes")),
    "mass.site": (ALL, _("site")),
    "mass.openinghours": (ALL, _("opening hours")),
    "mass.siteclosure": (ALL, _("closure")),
    "mass.auditevent": (ALL, _("audit trail")),
    # The file itself: identity, episodes, walk-ins, merges, outreach, the photo. Every
    # role opens the file and sees these (a walk-in's purpose, an episode's closing reason).
    "patients.patient": (ALL, _("patient file")),
    "patients.episode": (ALL, _("treatment episode")),
    "patients.visit": (ALL, _("walk-in")),
    # A cancellation is read by the readers of what it cancels (mass.corrections).
    "patients.visitcancellation": (ALL, _("walk-in")),
    "patients.patientmerge": (ALL, _("merge of two files")),
    "patients.outreachattempt": (ALL, _("outreach attempt")),
    "patients.worklistthresholds": (ALL, _("worklist thresholds")),
    "patients.patientphoto": (ALL, _("identification photo")),
    "patients.photoconsent": (ALL, _("photo consent")),
    # The material handed (syringes, pipes) says what the person uses: those who meet them.
    "patients.harmreductioncontact": (CARERS, _("harm-reduction material")),
    "patients.harmreductioncontactcancellation": (CARERS, _("harm-reduction material")),
    # That a consultation took place, its discipline and date: every role (the timeline);
    # its text is never in a summary.
    "consultations.consultation": (ALL, _("consultation note")),
    "consultations.consultationamendment": (ALL, _("amendment of a note")),
    "consultations.groupsession": (ALL, _("group session")),
    "consultations.groupattendance": (ALL, _("group attendance")),
    "consultations.groupattendancecancellation": (ALL, _("group attendance")),
    "consultations.partner": (ALL, _("partner")),
    # Where a person was sent says much (a detox unit, a psychiatric ward): clinicians.
    "consultations.referral": (CLINICAL_ROLES, _("referral")),
    # Which test (HIV, hepatitis C) and its result: medical.
    "consultations.screeningtest": (MEDICAL, _("screening test")),
    "consultations.screeningtestcancellation": (MEDICAL, _("screening test")),
    "consultations.screeningresultamendment": (MEDICAL, _("screening test")),
    # Substitution treatment: product, dose, withheld doses and why. Medical only: the
    # coordinator and reception may not see the dispensing list.
    "dispensary.prescription": (MEDICAL, _("prescription")),
    "dispensary.holdreview": (MEDICAL, _("review of a held prescription")),
    "dispensary.closeddayplan": (MEDICAL, _("closed-day plan")),
    "dispensary.dispensation": (MEDICAL, _("dispensing record")),
    "dispensary.dispensationcancellation": (MEDICAL, _("dispensing record")),
    # The stock: products, rules, pharmacies, the narcotics register (the coordinator keeps
    # the products and reads the register). No patient.
    "dispensary.product": (ALL, _("product")),
    "dispensary.inductionrule": (ALL, _("induction rule")),
    "dispensary.pharmacy": (ALL, _("partner pharmacy")),
    "dispensary.registerentry": (ALL, _("narcotics register")),
    # The social situation (income, housing, papers): clinicians; social actions: those who
    # open them (their notes are never in a summary).
    "social.incomerecord": (CLINICAL_ROLES, _("social situation")),
    "social.insurancerecord": (CLINICAL_ROLES, _("social situation")),
    "social.cpasrecord": (CLINICAL_ROLES, _("social situation")),
    "social.housingrecord": (CLINICAL_ROLES, _("social situation")),
    "social.identityrecord": (CLINICAL_ROLES, _("social situation")),
    "social.addressrecord": (CLINICAL_ROLES, _("social situation")),
    "social.socialaction": (SOCIAL_ACTIONS, _("social action")),
    "social.socialactionupdate": (SOCIAL_ACTIONS, _("social action")),
    # The TDI questionnaire (the coordinator exports them) and the declared years.
    "reporting.tdirecord": (ALL, _("TDI questionnaire")),
    "reporting.declaredyear": (ALL, _("declared year")),
    # An alert's kind (allergy, violence) is read by the disciplines of the kind; the
    # summaries name no kind, but the coordinator meets nobody at the counter.
    "alerts.alert": (CARERS, _("alert")),
}

#: A row of a kind not in the table, that names a patient.
UNKNOWN = (frozenset(), _("patient file"))

TEXT_NOT_SHOWN = _("opened, text not shown")


def summary_for_reader(event, *, user) -> str:
    """The summary of ``event`` as ``user`` may read it.

    A row without a patient and without an object (a login, a search, a list page, an
    export) is about the centre's work, never a record's content: shown as it is. A row
    of a patient's record is shown in full to the roles of ``SUMMARY_READERS``, else as the
    neutral label of its kind. An opening of a note whose text was hidden from the one who
    opened it says so (``details["text_shown"]`` false), whoever reads the trail.
    """
    if not event.object_type and not event.patient_id:
        return event.summary
    readers, label = SUMMARY_READERS.get(event.object_type, UNKNOWN)
    shown = event.summary if readers & set(user_roles(user)) else str(label)
    if isinstance(event.details, dict) and event.details.get("text_shown") is False:
        shown = f"{shown}: {TEXT_NOT_SHOWN}"
    return shown
