"""The dispensary's clinical constants, each defined once: the Python rules
(dispensary.selectors, services, the demo), the database's own rules (dispensary.triggers
formats them into its SQL) and the templates (through ``DoseState``, e.g.
``missed_enough_to_hold``) read them from here."""

#: A dose given after this many days or more without any dose of the substance (since the
#: patient's last dose of it) needs a doctor's review first, and no take-home dose is handed
#: that day ("the hold").
HOLD_AFTER_MISSED_DAYS = 3

#: From this many the warning is stronger and a full dose needs the doctor's confirmation.
STRONG_WARNING_MISSED_DAYS = 5
#: Take-home doses are handed for at most this many following days.
MAX_TAKE_HOME_DAYS = 6
#: How far back a dose given on paper (the downtime sheet) may be recorded: a network
#: failure lasts hours, not weeks, and the missed-day hold and the take-home doses of the
#: days since depend on it (a take-home dose covers at most 7 days too).
PAPER_RECORD_DAYS = 7

#: A public holiday or a one-off closure is shown this many days ahead on the list and the
#: closed-day plan, so that a doctor can plan the doses of patients without take-home rights.
CLOSED_DAY_NOTICE_DAYS = 7

# --- methadone and the QT interval (the clinical app's rule, clinical.selectors/services) ---
# Sources: the methadone QT warnings of the FDA (boxed warning of the methadone label since
# 2006) and of the EMA (CMDh review of oral methadone, 2014), and the expert panel they led
# to, Krantz MJ et al., "QTc interval screening in methadone treatment", Ann Intern Med
# 2009;150:387-395: an ECG before treatment, within 30 days, yearly, and when the daily dose
# goes above 100 mg; at a QTc above 500 ms, discontinue or reduce the dose.

#: The substance of the rule (Product.substance).
QT_RULE_SUBSTANCE = "methadone"

#: A daily dose of methadone above this many mg needs a QTc measured within
#: ECG_VALID_DAYS; without one, the patient is "ECG due" (alert kind QT_ECG).
QT_ECG_DAILY_DOSE_MG = 100

#: How long a QTc counts: 12 months.
ECG_VALID_DAYS = 365

#: A QTc above this many ms records the alert "doctor before any dose" (kind DOCTOR_FIRST):
#: no dose until a doctor has seen the person and ends it with a reason.
QTC_DOCTOR_FIRST_MS = 500
