"""The coded values of the Treatment Demand Indicator (EUDA/EMCDDA TDI standard protocol 3.0)
as recorded at the opening of a treatment episode and written to the yearly file for Sciensano.

The integer codes are the values written to the export file (``reporting.exports.tdi_rows``);
99 is "not known" everywhere, as in the protocol. The labels are shown in the questionnaire.

Verification (see each class): the protocol's own coding annex could not be consulted. The
primary-drug and living-status (where) lists were checked against the EUDA TDI reporting
template (standard tables 9.1.x-16.1.x), whose rows are numbered like the protocol codes
(1.1 heroin ... 5.3 other hallucinogens, 99 not known), as reproduced in the public repository
AleksandarMedarevic/tdi-emcdda-app (``app.R``) and in the same authors' per-table mapping
scripts. The other lists are unverified at code level: their categories agree with those
tables where the tables show them, their numbers do not come from a source.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

NOT_KNOWN = 99


class Setting(models.TextChoices):
    """Not a TDI item: whether the episode is a treatment episode for TDI at all. The protocol
    does not count harm-reduction-only and outreach-only contacts as treatment."""

    TREATMENT = "treatment", _("Treatment at the centre")
    OUTREACH_ONLY = "outreach_only", _("Outreach only (mobile team)")
    HARM_REDUCTION_ONLY = "harm_reduction_only", _("Harm reduction only")


class EverTreated(models.IntegerChoices):
    NEVER = 1, _("Never previously treated")
    PREVIOUSLY = 2, _("Previously treated")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


class OstEver(models.IntegerChoices):
    NEVER = 1, _("Never received opioid substitution treatment")
    YES = 2, _("Received opioid substitution treatment before")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


class ReferralSource(models.IntegerChoices):
    SELF = 1, _("Self-referral")
    FAMILY_FRIENDS = 2, _("Family or friends")
    OTHER_DRUG_CENTRE = 3, _("Other drug treatment centre")
    GENERAL_PRACTITIONER = 4, _("General practitioner")
    HOSPITAL_MEDICAL = 5, _("Hospital or other medical source")
    SOCIAL_SERVICES = 6, _("Social services")
    EDUCATIONAL = 7, _("Educational services")
    CRIMINAL_JUSTICE = 8, _("Court, probation or police")
    OTHER = 9, _("Other")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


class LivingWith(models.IntegerChoices):
    ALONE = 1, _("Alone")
    PARENTS = 2, _("With parents or family of origin")
    ALONE_WITH_CHILDREN = 3, _("Alone with child(ren)")
    PARTNER = 4, _("With partner (no children)")
    PARTNER_AND_CHILDREN = 5, _("With partner and child(ren)")
    FRIENDS_OTHERS = 6, _("With friends or others (not relatives)")
    OTHER = 7, _("Other")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


class Accommodation(models.IntegerChoices):
    """Living status (where). EUDA TDI template, table 16.1.1: "1. stable accommodation,
    2. unstable accommodation and/or homeless, 3. in detention, 4. other, 99. not known"."""

    STABLE = 1, _("Stable accommodation")
    UNSTABLE = 2, _("Unstable accommodation or homeless (street, shelter, squat, hotel)")
    DETENTION = 3, _("In detention (prison)")
    OTHER = 4, _("Other")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


class LabourStatus(models.IntegerChoices):
    EMPLOYED = 1, _("Regularly employed")
    STUDENT = 2, _("Pupil or student")
    UNEMPLOYED = 3, _("Unemployed or discontinuously employed")
    INACTIVE = 4, _("Economically inactive (pensioner, homemaker, disabled)")
    OTHER = 5, _("Other")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


class Education(models.IntegerChoices):
    NONE = 0, _("Never went to school or primary not completed")
    PRIMARY = 1, _("Primary (ISCED 1)")
    LOWER_SECONDARY = 2, _("Lower secondary (ISCED 2)")
    UPPER_SECONDARY = 3, _("Upper secondary (ISCED 3-4)")
    HIGHER = 4, _("Higher education (ISCED 5-8)")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


class Drug(models.IntegerChoices):
    """Primary and secondary drugs: the protocol's groups (first digit) and substances.

    EUDA TDI template, table 9.1.1 rows: 1.1 heroin ... 1.5 other opioids; 2.1 powder cocaine,
    2.2 crack, 2.3 other; 3.1 amphetamines ... 3.5 other stimulants; 4.1 barbiturates ... 4.4
    other hypnotics and sedatives; 5.1 LSD, 5.2 ketamine, 5.3 other; 6 volatile inhalants;
    7.1 herbal cannabis or resin, 7.2 synthetic cannabinoids, 7.3 other cannabis; 9 other
    substances; 99 not known. Group 8 is absent from these drug tables: it is alcohol (the
    Serbian national TDI coding, built on the same groups, codes alcohol 80). Groups without
    substances are written as two digits (60, 80, 90) as before.
    """

    HEROIN = 11, _("Heroin")
    METHADONE_MISUSED = 12, _("Methadone (misused)")
    BUPRENORPHINE_MISUSED = 13, _("Buprenorphine (misused)")
    FENTANYL = 14, _("Fentanyl (illicit or misused)")
    OTHER_OPIOIDS = 15, _("Other opioids")
    COCAINE_POWDER = 21, _("Cocaine powder")
    CRACK = 22, _("Crack cocaine")
    OTHER_COCAINE = 23, _("Other cocaine")
    AMPHETAMINES = 31, _("Amphetamines")
    METHAMPHETAMINE = 32, _("Methamphetamine")
    MDMA = 33, _("MDMA and derivatives")
    CATHINONES = 34, _("Synthetic cathinones")
    OTHER_STIMULANTS = 35, _("Other stimulants")
    BARBITURATES = 41, _("Barbiturates")
    BENZODIAZEPINES = 42, _("Benzodiazepines")
    GHB = 43, _("GHB/GBL")
    OTHER_SEDATIVES = 44, _("Other hypnotics and sedatives")
    LSD = 51, _("LSD")
    KETAMINE = 52, _("Ketamine")
    OTHER_HALLUCINOGENS = 53, _("Other hallucinogens")
    INHALANTS = 60, _("Volatile inhalants")
    CANNABIS = 71, _("Cannabis (herb or resin)")
    SYNTHETIC_CANNABINOIDS = 72, _("Synthetic cannabinoids")
    OTHER_CANNABIS = 73, _("Other cannabis")
    ALCOHOL = 80, _("Alcohol")
    OTHER_SUBSTANCES = 90, _("Other substances")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


class Route(models.IntegerChoices):
    INJECT = 1, _("Inject")
    SMOKE = 2, _("Smoke or inhale")
    EAT_DRINK = 3, _("Eat or drink")
    SNIFF = 4, _("Sniff")
    OTHER = 5, _("Other")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


class Frequency(models.IntegerChoices):
    DAILY = 1, _("Daily")
    FOUR_TO_SIX = 2, _("4 to 6 days a week")
    TWO_TO_THREE = 3, _("2 to 3 days a week")
    WEEKLY_OR_LESS = 4, _("Once a week or less")
    NOT_USED = 5, _("Not used in the last 30 days")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


class YesNo(models.IntegerChoices):
    YES = 1, _("Yes")
    NO = 2, _("No")
    NOT_KNOWN = NOT_KNOWN, _("Not known")


#: Sex in the TDI file, from the patient file (patients.Patient.Sex).
SEX_CODES = {"M": 1, "F": 2, "X": 3, "U": NOT_KNOWN}
