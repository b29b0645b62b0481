"""What each figure is called, in the words of seed 000's table, and what it counts (the
definitions of docs/domain.md), for the page, the spreadsheet and the explanation lists."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Figure:
    key: str
    label: object
    unit: object
    definition: object
    average: bool = False  # shown rounded to a whole number, as in seed 000


#: The nine figures of seed 000's table, in its order.
SEED_FIGURES = [
    Figure("annual_active_patients", _("Annual active caseload"), _("distinct patients"),
           _("Distinct patients with at least one contact (walk-in, consultation, "
             "dispensation or group attendance) in the year.")),
    Figure("monthly_active_patients_avg", _("Monthly active caseload"),
           _("distinct patients on average"),
           _("Mean, over the months with at least one activity day, of the distinct patients "
             "with a contact in the month."), average=True),
    Figure("weekly_active_patients_avg", _("Weekly active caseload"),
           _("distinct patients on average"),
           _("Mean, over the ISO weeks (Monday to Sunday) with at least one activity day in "
             "the year, of the distinct patients with a contact on a day of that week that "
             "falls in the year."), average=True),
    Figure("daily_distinct_patients_avg", _("Average distinct patients per day"), "",
           _("Patient contacts divided by activity days."), average=True),
    Figure("daily_consultations_avg", _("Average consultations per day"), "",
           _("Consultations divided by activity days."), average=True),
    Figure("new_requests", _("New requests per year"), "",
           _("Treatment episodes opened in the year for a person with no earlier episode.")),
    Figure("resumption_requests", _("Treatment resumption requests per year"), "",
           _("Treatment episodes opened in the year for a person who had one before.")),
    Figure("patient_contacts", _("Patient contacts per year"), "",
           _("(Patient, day) pairs with at least one walk-in, consultation, dispensation or "
             "group attendance: several on one day count once.")),
    Figure("consultations", _("Consultations per year"), "",
           _("Consultation records dated in the year, every discipline, individual, couple "
             "or family (groups and dispensations apart).")),
]

#: The other figures of the issue.
OTHER_FIGURES = [
    Figure("activity_days", _("Activity days"), _("days"),
           _("Days of the year with at least one contact.")),
    Figure("patients_in_treatment", _("Patients in treatment"), _("patients"),
           _("Patients with a treatment episode that overlaps the year (opened on or before "
             "31 December, not closed before 1 January).")),
    Figure("dispensations", _("Dispensations"), _("doses"),
           _("Doses (or dose parts) handed over in the year, take-home doses included; "
             "withheld and cancelled entries excluded.")),
    Figure("patients_on_substitution", _("Patients on substitution"), _("patients"),
           _("Patients given a substitution product (methadone, buprenorphine) at least once "
             "in the year.")),
    Figure("group_attendances", _("Group attendances"), "",
           _("Attendances of patients at open-group sessions held in the year.")),
    Figure("harm_reduction_contacts", _("Harm-reduction contacts"), "",
           _("Hand-outs of harm-reduction material recorded in the year, anonymous or not "
             "(one per hand-out, whatever the kinds of material).")),
    Figure("harm_reduction_items_handed_out", _("Harm-reduction items handed out"), "",
           _("Items of harm-reduction material handed out in the year.")),
    Figure("harm_reduction_items_returned", _("Harm-reduction items returned"), "",
           _("Items (used syringes and other material) returned in the year.")),
]

INCOME_FIGURE = Figure(
    "income_in_treatment", _("Income of patients in treatment"), "%",
    _("Patients in treatment, each counted once under the latest income source recorded on "
      "or before 31 December ('unknown' if none), in percent."))

FIGURES = {figure.key: figure for figure in [*SEED_FIGURES, *OTHER_FIGURES, INCOME_FIGURE]}

#: Income sources in the order of seed 000's table, with its wording.
INCOME_LABELS = {
    "pension": _("Pension (retirement or survivor's)"),
    "salary": _("Salary"),
    "sickness_benefit": _("Sickness benefit"),
    "unemployment": _("Unemployment benefit"),
    "cpas": _("CPAS/OCMW income"),
    "none": _("No own income"),
    "other": pgettext_lazy("income source", "Other"),
    "unknown": _("Unknown"),
}

#: The lists of the consistency checks that are not figures (``reporting.declaring``).
CHECK_LISTS = {figure.key: figure for figure in [
    Figure("in_treatment_without_contact", _("Patients in treatment with no contact"),
           _("patients"),
           _("Patients with a treatment episode overlapping the year and no contact recorded "
             "in it.")),
    Figure("contacts_after_death", _("Contacts recorded after a death"), _("contacts"),
           _("Contacts of the year dated after the closure of one of the person's episodes "
             "for death (the patient file records no date of death).")),
]}
