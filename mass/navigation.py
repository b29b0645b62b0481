"""The sections of the application and who sees them. A section appears in the navigation
and on the start page of the users holding its permission; the view checks the same one."""

from dataclasses import dataclass
from functools import cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Section:
    key: str
    label: str | Promise
    url_name: str
    permission: str
    description: str | Promise = ""
    #: Visited now and then: in the menu under "More", so that the menu of the role with
    #: the most sections fits on one line at 1366 px in every language (the start page
    #: still shows it as a tile).
    occasional: bool = False

    @property
    def url(self) -> str | None:
        return _url(self.url_name, get_urlconf(), get_script_prefix())


@cache
def _url(url_name: str, urlconf, prefix: str) -> str | None:
    """The section's address, reversed once: the menu shows it on every page, two or three
    times each (a reverse costs about as much as rendering the link)."""
    try:
        return reverse(url_name, urlconf=urlconf)
    except NoReverseMatch:  # the app that serves it is not installed yet
        return None


@receiver(setting_changed)
def _forget_urls(*, setting, **kwargs) -> None:
    if setting == "ROOT_URLCONF":
        _url.cache_clear()


SECTIONS = [
    Section("reception", _("Reception"), "reception:board", "patients.add_patient",
            _("Today's walk-ins: log an arrival in two keystrokes.")),
    # The same board for clinicians: who came today, a consultation in one click.
    Section("arrivals", _("Today's walk-ins"), "reception:board",
            "consultations.add_consultation",
            _("Who came today: record a consultation with them in one click.")),
    Section("patients", _("Patients"), "patients:search", "patients.view_patient",
            _("Find a person by alias, name, file number or birth year.")),
    Section("lost", _("Who have we lost"), "patients:lost", "patients.view_outreachattempt",
            _("People in treatment not seen for a while: reach out before the 6-month rule "
              "ends their episode."), occasional=True),
    # Opened on the team's phone, installed from there: a link in the menu is enough.
    Section("outreach", _("Outreach round"), "outreach:page", "outreach.use_outreach",
            _("The mobile team's page: record a round in shelters, hotels and the street, "
              "with or without a connection."), occasional=True),
    Section("consultations", _("Consultations"), "consultations:list",
            "consultations.add_consultation", _("Your consultations and notes to sign.")),
    Section("dispensary", _("Dispensary"), "dispensary:today", "dispensary.add_dispensation",
            _("Today's dispensing list.")),
    Section("prescriptions", _("Prescriptions"), "dispensary:prescriptions",
            "dispensary.add_prescription", _("Substitution prescriptions to review.")),
    Section("register", _("Drug register"), "dispensary:register",
            "dispensary.view_registerentry", _("Controlled-drug register and stock.")),
    Section("social", _("Social caseload"), "social:caseload", "social.view_socialaction",
            _("Your open social actions, overdue first.")),
    Section("groups", _("Groups"), "consultations:groups", "consultations.add_groupsession",
            _("Open groups and their attendance."), occasional=True),
    Section("partners", _("Partners"), "consultations:partners", "consultations.view_partner",
            _("The partner network and referrals."), occasional=True),
    Section("reporting", _("Yearly figures"), "reporting:index", "reporting.view_report",
            _("File active figures for the funder and the TDI file.")),
    # Vaccinations and lab results (issue 17), occasional: the menu keeps to one line.
    Section("vaccinations_due", _("Vaccinations due"), "vaccinations:due",
            "vaccinations.view_vaccinationcourse",
            _("The vaccine doses due this week, and those overdue."), occasional=True),
    Section("lab_import", _("Import lab results"), "labs:import", "labs.add_labimport",
            _("A lab's CSV file of results, imported whole or not at all."), occasional=True),
    Section("care_figures", _("Care figures"), "labs:care_figures_current",
            "labs.view_care_figures",
            _("HCV screening, treatment and cure, hepatitis B vaccination, by year."),
            occasional=True),
    Section("staff", _("Staff"), "staff_list", "mass.manage_staff",
            _("Accounts, roles, passwords.")),
    Section("audit", _("Audit trail"), "audit_list", "mass.view_auditevent",
            _("Who did what, and who read a file."), occasional=True),
    Section("sites", _("Sites"), "site_list", "mass.view_site",
            _("The centre, outreach places and opening hours."), occasional=True),
]


def sections_for(user) -> list[Section]:
    if not user.is_authenticated:
        return []
    shown, urls = [], set()
    for section in SECTIONS:
        if not user.has_perm(section.permission):
            continue
        url = section.url
        # one entry per page: the desk's staff see the board once, as "Reception"
        if url is not None and url not in urls:
            shown.append(section)
            urls.add(url)
    return shown
