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
