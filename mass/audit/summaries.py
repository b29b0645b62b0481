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

from functools import cache

from django.apps import apps
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mass.accounts.roles import CLINICAL_ROLES, Role, user_roles

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
    # Walk-ins counted by day and purpose: kept by the database, no one's in particular.
    "patients.purposecount": (ALL, _("walk-ins of a day")),
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
    # The mobile team's devices (a name, whose) and what a round synchronised (a kind of
    # record; the record itself is audited by its own service). A possible duplicate names
    # two files, as a merge does.
    "outreach.outreachdevice": (ALL, _("outreach device")),
    "outreach.syncedrecord": (ALL, _("outreach record")),
    "outreach.possibleduplicate": (ALL, _("possible duplicate")),
    # The problem list and the measures: their summaries name no code nor value; a
    # psychiatric problem's readers are narrower still (clinical.rules), so its kind is
    # shown to the medical roles and psychologists, who read one discipline of problems.
    "clinical.problem": (MEDICAL | {Role.PSYCHOLOGIST}, _("problem list")),
    "clinical.problemversion": (MEDICAL | {Role.PSYCHOLOGIST}, _("problem list")),
    "clinical.measurement": (MEDICAL, _("measures")),
    "clinical.measurementwithdrawal": (MEDICAL, _("measures")),
    # Vaccinations and lab results are medical (vaccinations.selectors, labs.selectors): the
    # same readers as the records; a lab file's import names no patient.
    "vaccinations.vaccinationcourse": (MEDICAL, _("vaccinations")),
    "vaccinations.vaccinationdose": (MEDICAL, _("vaccinations")),
    "vaccinations.vaccinationdosecancellation": (MEDICAL, _("vaccinations")),
    "labs.labresult": (MEDICAL, _("lab results")),
    "labs.labresultcancellation": (MEDICAL, _("lab results")),
    "labs.treatment": (MEDICAL, _("lab results")),
    "labs.treatmentcancellation": (MEDICAL, _("lab results")),
    "labs.labimport": (MEDICAL, _("lab results")),
}

#: A row of a kind not in the table, that names a patient.
UNKNOWN = (frozenset(), _("patient file"))

TEXT_NOT_SHOWN = _("opened, text not shown")

#: The printed "who read my file" answer (mass.selectors.audit_file_reads) names the kind of
#: record only; a list page or a search that named the file (no record of its own) is this.
LIST_OF_PATIENTS = _("a list of patients or a search")

#: What was done, in the words of a letter to the patient.
ACTION_WORDS = {
    "view": _("read"),
    "search": _("found in a search"),
    "export": _("exported"),
    "create": _("recorded"),
    "update": _("changed"),
    "merge": _("merged"),
    "cancel": _("cancelled"),
}


def summary_in_language(event) -> str:
    """The row's summary in the active language; as stored for a row written before the
    summaries had codes."""
    if not event.summary_code:
        return event.summary
    return summary_render(event.summary_code, event.summary_params or {})


def summary_for_reader(event, *, user) -> str:
    """The summary of ``event`` as ``user`` may read it.

    A row without a patient and without an object (a login, a search, a list page, an
    export) is about the centre's work, never a record's content: shown as it is. A row
    of a patient's record is shown in full to the roles of ``SUMMARY_READERS``, else as the
    neutral label of its kind. An opening of a note whose text was hidden from the one who
    opened it says so (``details["text_shown"]`` false), whoever reads the trail.
    """
    if not event.object_type and not event.patient_id:
        return summary_in_language(event)
    readers, label = SUMMARY_READERS.get(event.object_type, UNKNOWN)
    shown = summary_in_language(event) if readers & set(user_roles(user)) else str(label)
    if isinstance(event.details, dict) and event.details.get("text_shown") is False:
        shown = f"{shown}: {TEXT_NOT_SHOWN}"
    return shown


# Rendering a summary in the reader's language (the code and parameters written by
# mass.audit.audit_record).

def _choices(label: str):
    """The labeller of a parameter that is a model field's choice: "app.Model.field"."""
    app_model, field_name = label.rsplit(".", 1)

    @cache
    def labels():
        field = apps.get_model(app_model)._meta.get_field(field_name)
        return dict(field.flatchoices)

    return lambda code: labels().get(code, code)


def _role(code):
    return Role(code).label if code in Role.values else code


def _dimension(code):
    model = import_string("social.models.SITUATION_MODELS").get(code)
    return model._meta.verbose_name if model else code


def _team(code):
    team = import_string("patients.selectors.Team")
    return team(code).label if code in team.values else code


def _product(name):
    return import_string("dispensary.models.product_display_name")(name)


#: The parameters stored as a code and labelled when the summary is read, in the reader's
#: language: a parameter of this name is a code of these choices wherever it is used. A
#: parameter not named here (a file number, a date, a count) is shown as stored.
PARAM_LABELS = {
    "purpose": _choices("patients.Visit.purpose"),
    "episode_kind": _choices("patients.Episode.kind"),
    "closure_reason": _choices("patients.Episode.closure_reason"),
    "means": _choices("patients.OutreachAttempt.means"),
    "outreach_result": _choices("patients.OutreachAttempt.result"),
    "photo_source": _choices("patients.PatientPhoto.source"),
    "material": _choices("patients.HarmReductionContact.material"),
    "discipline": _choices("consultations.Consultation.discipline"),
    "group_kind": _choices("consultations.GroupSession.kind"),
    "referral_outcome": _choices("consultations.Referral.outcome"),
    "test": _choices("consultations.ScreeningTest.test"),
    "dimension": _dimension,
    "action_type": _choices("social.SocialAction.type"),
    "status_from": _choices("social.SocialAction.status"),
    "status_to": _choices("social.SocialAction.status"),
    "part": _choices("dispensary.Dispensation.part"),
    "withheld_reason": _choices("dispensary.Dispensation.withheld_reason"),
    "review_decision": _choices("dispensary.HoldReview.decision"),
    "plan_decision": _choices("dispensary.ClosedDayPlan.decision"),
    "vaccine": _choices("vaccinations.VaccinationCourse.vaccine"),
    "lab_test": _choices("labs.LabResult.test"),
    "condition": _choices("labs.Treatment.condition"),
    "product": _product,
    "role": _role,
    "team": _team,
}

#: A list of phrases (mass.audit.phrase) added after the sentence, each after a "; ".
NOTES = "notes"


def _param(name, value):
    if isinstance(value, dict) and "code" in value:
        return summary_render(value["code"], value.get("params") or {})
    if isinstance(value, list):
        return ", ".join(str(_param(name, item)) for item in value)
    labeller = PARAM_LABELS.get(name)
    return str(labeller(value)) if labeller and value not in (None, "") else value


def _fill(template: str, values: dict) -> str | None:
    if not values:
        return template
    try:
        return template % values
    except (KeyError, ValueError, TypeError):
        return None


def summary_render(code: str, params: dict, *, language: str | None = None) -> str:
    """The summary ``code`` % ``params`` in ``language`` (default: the active one), its
    choice parameters labelled in that language. A translation that does not fit its
    parameters (a translator's slip) falls back to the English sentence, never an error
    page."""
    if language is not None:
        with translation.override(language):
            return summary_render(code, params)
    values = {name: _param(name, value) for name, value in params.items() if name != NOTES}
    text = _fill(gettext(code), values)
    if text is None:  # the translation does not fit its parameters
        text = _fill(code, values) or code
    notes = [_param(NOTES, note) for note in params.get(NOTES) or []]
    return "; ".join([text, *notes])
