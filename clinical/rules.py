"""Who records and who reads the problem list and the measures, and what a plausible measure
is: the rules of the clinical app, each in one table.

Problems (diagnoses)
    Recorded and corrected by doctors and psychiatrists (a diagnosis is a doctor's act).
    Read by the readers of the notes of their discipline (consultations.selectors, reached
    through mass.contributions.readable_disciplines), and always by their author:

    ==========================================  ====================================
    problem                                     readers
    ==========================================  ====================================
    psychiatric (ICD-10 F00-F09, F20-F99)       psychologists, psychiatrists, author
    medical (every other code, F10-F19 too)     doctors, psychiatrists, nurses, author
    ==========================================  ====================================

    Substance use disorders (F10-F19) are treated by the medical team (substitution), so they
    follow the medical rule. A problem in free text (no code) is medical unless its recorder
    marks it psychiatric. The discipline of a problem is fixed when it is recorded: a
    correction may not move it to the other one (that would show earlier versions to readers
    they were not written for); the wrong problem is resolved and a new one recorded.

Measures (vital signs, ECG QTc)
    Recorded by nurses, doctors and psychiatrists; read by them (medical confidentiality,
    as the medical and nursing notes).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from mass.accounts.roles import Role, has_role
from mass.contributions import readable_disciplines

PROBLEM_RECORDERS = frozenset({Role.DOCTOR, Role.PSYCHIATRIST})
MEASURE_RECORDERS = frozenset({Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST})
MEASURE_READERS = frozenset({Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST})

MEDICAL, PSYCHIATRIC = "medical", "psychiatric"


def readable_problem_disciplines(user) -> set[str]:
    """The disciplines of problem this user reads through their roles (besides their own)."""
    return readable_disciplines(user) & {MEDICAL, PSYCHIATRIC}


def may_record_problems(user) -> bool:
    return has_role(user, *PROBLEM_RECORDERS)


def may_record_measures(user) -> bool:
    return has_role(user, *MEASURE_RECORDERS)


def may_read_measures(user) -> bool:
    return has_role(user, *MEASURE_READERS)


@dataclass(frozen=True)
class Measure:
    """One measure: its field on Measurement, its unit and the plausible range (inclusive)
    outside which the value is a typing error and refused."""

    field: str
    label: object
    unit: str
    low: Decimal
    high: Decimal


#: The plausible ranges: wide enough for every adult the clinic sees (a cachectic patient, a
#: fever, a desaturation), narrow enough to catch a slip of the keyboard (0 or 700 kg, a QTc
#: of 5 ms). The database holds the same limits (Measurement's constraints).
MEASURES = [
    Measure("weight_kg", _("weight"), "kg", Decimal("20"), Decimal("350")),
    Measure("systolic_mmhg", _("blood pressure, systolic"), "mmHg", Decimal("50"), Decimal("280")),
    Measure("diastolic_mmhg", _("blood pressure, diastolic"), "mmHg", Decimal("20"),
            Decimal("180")),
    Measure("pulse_bpm", _("pulse"), "/min", Decimal("20"), Decimal("250")),
    Measure("temperature_c", _("temperature"), "°C", Decimal("30"), Decimal("45")),
    Measure("spo2_percent", _("oxygen saturation (SpO2)"), "%", Decimal("50"), Decimal("100")),
    Measure("qtc_ms", _("ECG QTc"), "ms", Decimal("250"), Decimal("750")),
]
MEASURE_BY_FIELD = {measure.field: measure for measure in MEASURES}
