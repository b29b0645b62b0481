"""Consistency checks of the yearly figures, episodes that are not treatment episodes (harm
reduction or outreach only), and the income percentages (largest remainder)."""

import datetime

from reporting import declaring, explain, selectors, sql
from tests.factories import (
    EpisodeFactory,
    IncomeRecordFactory,
    PatientFactory,
    TdiRecordFactory,
    VisitFactory,
    woeringen,
)

D = datetime.date
PAGE = "/reporting/file-active/2025/"


def _explained_ids(key: str, year: int = 2025) -> list[int]:
    rows = explain.explanation(year=year, key=key, filters=explain.Filters(), user=None).rows
    rows = rows[0:None] if isinstance(rows, sql.SqlListing) else list(rows)
    return sorted(row["patient_id"] for row in rows)


def test_harm_reduction_and_outreach_only_episodes_count_nowhere(db):
    treated = EpisodeFactory(opened_on=D(2025, 2, 1))
    TdiRecordFactory(episode=treated)
    harm = EpisodeFactory(opened_on=D(2025, 3, 1))
    TdiRecordFactory(episode=harm, setting="harm_reduction_only")
    outreach = EpisodeFactory(opened_on=D(2025, 4, 1))
    TdiRecordFactory(episode=outreach, setting="outreach_only")
    # Harm reduction only in 2024, then a treatment request in 2025: a new request, as
    # nothing before it was a treatment episode.
    later = PatientFactory()
    earlier = EpisodeFactory(patient=later, opened_on=D(2024, 5, 1), closed_on=D(2024, 6, 1),
                             closure_reason="other")
    TdiRecordFactory(episode=earlier, setting="harm_reduction_only")
    second = EpisodeFactory(patient=later, opened_on=D(2025, 5, 1), kind="resumption")
    # A questionnaire first marked outreach only, then corrected to treatment: it counts.
    corrected = EpisodeFactory(opened_on=D(2025, 6, 1))
    first = TdiRecordFactory(episode=corrected, setting="outreach_only")
    TdiRecordFactory(episode=corrected, supersedes=first, correction_reason="was treated",
                     setting="treatment")
    counted = sorted([treated.patient_id, later.pk, corrected.patient_id])

    figures = selectors.file_active_figures(2025).figures
    tdi = selectors.tdi_year_counts(2025)

    assert figures["new_requests"] == 3 and figures["resumption_requests"] == 0
    assert figures["patients_in_treatment"] == len(counted)
    assert _explained_ids("new_requests") == counted
    assert _explained_ids("resumption_requests") == []
    assert _explained_ids("patients_in_treatment") == counted
    assert _explained_ids("income_in_treatment") == counted
    assert sorted(selectors.patients_in_treatment_ids(2025).values_list("patient_id",
                                                                        flat=True)) == counted
    assert sum(selectors.income_in_treatment_counts(2025).values()) == len(counted)
    # The TDI file leaves out the same episodes: its rows are the requests.
    assert tdi["in_file"] == figures["new_requests"] + figures["resumption_requests"]
    assert len(selectors.tdi_file_rows(2025)) == tdi["in_file"]
    assert {second.pk} <= {row["id"] for row in
                           explain.explanation(year=2025, key="new_requests",
                                               filters=explain.Filters(), user=None).rows[0:]}


def test_the_checks_count_and_list_what_needs_a_look(coordinator_client, db):
    centre = woeringen()
    # In treatment (opened in March, ended by the rule as of its opening) but never seen.
    unseen = EpisodeFactory(opened_on=D(2025, 3, 1)).patient
    # Closed for death in May, yet a walk-in in June.
    died = PatientFactory()
    EpisodeFactory(patient=died, opened_on=D(2025, 1, 10), closed_on=D(2025, 5, 1),
                   closure_reason="deceased")
    VisitFactory(patient=died, date=D(2025, 1, 10), site=centre)
    VisitFactory(patient=died, date=D(2025, 6, 1), site=centre)
    with_questionnaire = EpisodeFactory(opened_on=D(2025, 4, 1))
    TdiRecordFactory(episode=with_questionnaire)
    VisitFactory(patient=with_questionnaire.patient, date=D(2025, 4, 1), site=centre)

    figures = selectors.file_active_figures(2025).figures
    checks = {check["key"]: check for check in declaring.year_checks(2025, figures)}

    assert checks["in_treatment_without_contact"]["count"] == 1
    assert checks["contacts_after_death"]["count"] == 1
    assert checks["episodes_without_questionnaire"]["count"] == 2
    assert checks["tdi_rows_vs_requests"]["count"] == 0
    assert checks["not_treatment_episodes"]["count"] == 0
    # The page takes the two checks that read contacts from its own figures query: the same.
    response = coordinator_client.get(PAGE)
    assert response.context["current"].check_counts == {
        "in_treatment_without_contact": 1, "contacts_after_death": 1}
    page = response.content.decode()
    for key, check in checks.items():
        assert f'data-check="{key}"' in page
        assert f'href="{check["url"]}"' in page
    unseen_list = coordinator_client.get(checks["in_treatment_without_contact"]["url"])
    assert unseen_list.status_code == 200
    assert f"/patients/{unseen.pk}/" in unseen_list.content.decode()
    after_death = coordinator_client.get(checks["contacts_after_death"]["url"])
    assert f"/patients/{died.pk}/" in after_death.content.decode()
    assert _explained_ids("contacts_after_death") == [died.pk]


def test_income_percentages_add_up_to_one_hundred(coordinator_client, db):
    for source in ("cpas", "salary", "none"):
        patient = EpisodeFactory(opened_on=D(2025, 2, 1)).patient
        IncomeRecordFactory(patient=patient, date=D(2025, 2, 1), source=source)

    figures = coordinator_client.get(PAGE + "?format=json").json()

    shares = figures["income_in_treatment"]
    # A third each: 33.3 three times would add up to 99.9; the tenth left goes to one share.
    assert sorted(shares[s] for s in ("cpas", "salary", "none")) == [33.3, 33.3, 33.4]
    assert round(sum(shares.values()), 1) == 100.0
    assert figures["income_in_treatment_counts"] == {
        "pension": 0, "salary": 1, "sickness_benefit": 0, "unemployment": 0, "cpas": 1,
        "none": 1, "other": 0, "unknown": 0}


def test_an_income_correction_counts_at_its_own_date_in_the_yearly_figure(db):
    # Recorded as of 2026 by mistake, corrected to June 2025: counts in 2025.
    moved_in = EpisodeFactory(opened_on=D(2025, 2, 1)).patient
    wrong = IncomeRecordFactory(patient=moved_in, date=D(2026, 1, 10), source="salary")
    IncomeRecordFactory(patient=moved_in, date=D(2025, 6, 1), source="cpas", corrects=wrong,
                        correction_reason="wrong year")
    # Recorded as of 2025 by mistake, corrected to 2026: no income known on 31 December 2025.
    moved_out = EpisodeFactory(opened_on=D(2025, 2, 1)).patient
    early = IncomeRecordFactory(patient=moved_out, date=D(2025, 3, 1), source="pension")
    IncomeRecordFactory(patient=moved_out, date=D(2026, 2, 1), source="pension",
                        corrects=early, correction_reason="wrong year")

    counts = selectors.file_active_figures(2025).figures["income_in_treatment_counts"]

    assert counts["cpas"] == 1 and counts["salary"] == 0
    assert counts["pension"] == 0 and counts["unknown"] == 1
