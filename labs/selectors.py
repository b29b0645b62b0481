"""Reads of laboratory results and the cascades, and who may read them.

Lab results are medical records, read by the readers of screening results (doctors,
psychiatrists and nurses: consultations.selectors.SCREENING_READERS); the others never see
that a result exists (404). The HCV and HIV screening tests recorded in consultations are read
here as the first steps of the cascades, with their current result (the latest amendment)
and without the cancelled ones: they are not copied (docs/domain.md "The HCV and HIV
cascades").
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consultations.models import ScreeningResultAmendment, ScreeningTest
from consultations.selectors import screening_visible
from labs.models import LabResult, LabTest, Reading, Treatment
from mass.accounts.roles import Role, has_role
from mass.contributions import TimelineKind

#: SVR12: the HCV RNA not detected at least 12 weeks after the end of the treatment.
SVR12_WEEKS = 12
#: The latest results of a patient shown on the file (the panel) and the summary.
PANEL_ROWS = 10
#: The urine drug screens shown to the doctor on the dispensary page.
DRUG_SCREEN_ROWS = 5


#: Who sees the urine drug screens at the dispensary.
PRESCRIBERS = (Role.DOCTOR, Role.PSYCHIATRIST)


def labs_visible(user) -> bool:
    return screening_visible(user)


def results_for_user(user, patient) -> QuerySet:
    if not labs_visible(user):
        return LabResult.objects.none()
    return (LabResult.objects.filter(patient=patient)
            .select_related("cancellation__cancelled_by", "recorded_by"))


def treatments_for_user(user, patient) -> QuerySet:
    if not labs_visible(user):
        return Treatment.objects.none()
    return (Treatment.objects.filter(patient=patient)
            .select_related("cancellation__cancelled_by", "recorded_by"))


def result_get_for_user(*, user, pk: int) -> LabResult:
    if not labs_visible(user):
        raise Http404
    try:
        return LabResult.objects.select_related("patient", "recorded_by", "cancellation").get(
            pk=pk)
    except LabResult.DoesNotExist:
        raise Http404 from None


def treatment_get_for_user(*, user, pk: int) -> Treatment:
    if not labs_visible(user):
        raise Http404
    try:
        return Treatment.objects.select_related("patient", "recorded_by", "cancellation").get(
            pk=pk)
    except Treatment.DoesNotExist:
        raise Http404 from None


def drug_screens_for_user(user, patient) -> list[LabResult] | None:
    """The latest urine drug screens (not cancelled), for the prescriber at the dispensary
    (the doses are theirs to adjust); None for anyone else (nurses read them on the file)."""
    if not has_role(user, *PRESCRIBERS):
        return None
    return list(LabResult.objects.standing()
                .filter(patient=patient, test=LabTest.URINE_DRUG_SCREEN)
                .order_by("-sample_date", "-id")[:DRUG_SCREEN_ROWS])


# --- the cascades ----------------------------------------------------------------------------


def screening_current_result() -> Coalesce:
    """A screening test's current result in SQL: its latest amendment's, else its own."""
    latest = (ScreeningResultAmendment.objects.filter(screening=OuterRef("pk"))
              .order_by("-created_at", "-id").values("result")[:1])
    return Coalesce(Subquery(latest), "result")


@dataclass
class Step:
    """One step of a cascade: its name, the latest record of it (None: not reached), what
    that record says, and its date."""

    key: str
    record: object = None
    says: str = ""
    date: datetime.date | None = None
    reading: str = ""  # the code of the reading (Reading), when the record has one


@dataclass
class Cascade:
    steps: list[Step] = field(default_factory=list)
    where: str = ""  # the step reached, in words

    def step(self, key: str) -> Step:
        return next(step for step in self.steps if step.key == key)


def _latest(items, key):
    items = [item for item in items if key(item) is not None]
    return max(items, key=key, default=None)


def _latest_test(screenings, results, screening_test, lab_test) -> Step:
    # A screening test (consultations) or a lab result of that test, the latest one.
    # (The results of both share their codes: positive, negative, indeterminate.)
    readings = dict(Reading.choices)
    screening_labels = dict(ScreeningTest.Result.choices)
    candidates = [(s.date, s.current, screening_labels[s.current], s) for s in screenings
                  if s.test == screening_test and s.current != "pending"]
    candidates += [(r.sample_date, r.reading, readings.get(r.reading, ""), r)
                   for r in results if r.test == lab_test]
    if not candidates:
        return Step(lab_test)
    date, reading, says, record = max(candidates, key=lambda c: (c[0], c[3].created_at))
    return Step(lab_test, record, str(says), date, reading)


def _latest_result(results, test) -> Step:
    result = _latest([r for r in results if r.test == test], key=lambda r: r.sample_date)
    if result is None:
        return Step(test)
    says = result.get_genotype_display() if test == LabTest.HCV_GENOTYPE else \
        dict(Reading.choices).get(result.reading, "")
    return Step(test, result, str(says), result.sample_date, result.reading)


def _latest_treatment(treatments, condition) -> Step:
    treatment = _latest([t for t in treatments if t.condition == condition],
                        key=lambda t: t.started_on)
    if treatment is None:
        return Step(f"{condition}_treatment")
    return Step(f"{condition}_treatment", treatment, treatment.get_regimen_display(),
                treatment.started_on)


def _svr12_follow(hcv: Cascade, results) -> None:
    """The SVR12 step of an ended treatment: the latest RNA from 12 weeks after
    its end, or when that RNA is due."""
    treatment = hcv.step("hcv_treatment").record
    if treatment is None or treatment.ended_on is None:
        return
    due = treatment.ended_on + datetime.timedelta(weeks=SVR12_WEEKS)
    after = _latest([r for r in results if r.test == LabTest.HCV_RNA
                     and r.sample_date >= due], key=lambda r: r.sample_date)
    svr = hcv.step("svr12")
    if after is not None:
        svr.record, svr.date = after, after.sample_date
        svr.says = _("cured") if after.reading == Reading.NEGATIVE else _("not cured")
    else:
        svr.says = _("RNA due from %(day)s") % {
            "day": date_format(due, "SHORT_DATE_FORMAT")}


def _hcv_where(hcv: Cascade) -> str:
    """The HCV step reached, the furthest along the cascade first."""
    treatment = hcv.step("hcv_treatment").record
    rna = hcv.step(LabTest.HCV_RNA)
    if hcv.step("svr12").record is not None:
        return _("SVR12: %(says)s") % {"says": hcv.step("svr12").says}
    if treatment is not None:
        return _("treated, SVR12 to check") if treatment.ended_on else _("on treatment")
    if rna.reading == Reading.POSITIVE:
        return _("RNA positive: treatment to start")
    if rna.record is not None:
        return _("RNA %(says)s") % {"says": rna.says}
    if hcv.steps[0].record is not None:
        return (_("antibody positive: RNA to test")
                if hcv.steps[0].reading == Reading.POSITIVE
                else _("screened: %(says)s") % {"says": hcv.steps[0].says})
    return _("not screened")


def _hiv_where(hiv: Cascade) -> str:
    """The HIV step reached, the furthest along the cascade first."""
    if hiv.steps[2].record is not None:
        return _("in care")
    if hiv.steps[1].record is not None:
        return _("confirmation: %(says)s") % {"says": hiv.steps[1].says}
    if hiv.steps[0].record is not None:
        return _("tested: %(says)s") % {"says": hiv.steps[0].says}
    return _("not tested")


def cascades(*, patient) -> dict[str, Cascade]:
    """The HCV and HIV cascades of a patient, from the standing screening tests, results and
    treatments (three queries). Each step shows its latest record."""
    screenings = list(ScreeningTest.objects.standing().filter(patient=patient)
                      .annotate(current=screening_current_result()))
    results = list(LabResult.objects.standing().filter(patient=patient))
    treatments = list(Treatment.objects.standing().filter(patient=patient))

    hcv = Cascade([_latest_test(screenings, results, "hcv", LabTest.HCV_ANTIBODY),
                   _latest_result(results, LabTest.HCV_RNA),
                   _latest_result(results, LabTest.HCV_GENOTYPE),
                   _latest_treatment(treatments, "hcv"), Step("svr12")])
    _svr12_follow(hcv, results)
    hcv.where = _hcv_where(hcv)

    hiv = Cascade([_latest_test(screenings, results, "hiv", LabTest.HIV_TEST),
                   _latest_result(results, LabTest.HIV_CONFIRMATION),
                   _latest_treatment(treatments, "hiv")])
    hiv.where = _hiv_where(hiv)
    return {"hcv": hcv, "hiv": hiv}


def results_timeline_kind(user) -> TimelineKind | None:
    """The patient's timeline: the lab results by sample date (not the cancelled ones), for
    who reads lab results; no entry for the others."""
    if not labs_visible(user):
        return None

    def load(ids):
        return {result.pk: (result, True) for result in LabResult.objects.filter(pk__in=ids)}
    return TimelineKind(
        "lab_result", gettext_lazy("Lab result"),
        lambda patient: LabResult.objects.standing().filter(patient=patient), load,
        date="sample_date", time=None)
