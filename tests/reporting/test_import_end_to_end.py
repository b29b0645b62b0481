"""From the import files to the funder's figures: CSV files in the import format of
docs/interfaces.md go through ``import_records``, then ``file_active``; the figures must equal
those computed here, in plain Python, from the same CSV rows and the definitions of
docs/domain.md."""

import calendar
import csv
import datetime
import json
import random
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from reporting.selectors import FIGURE_KEYS, VERSION_KEYS

# import_records is the owner's work (staging tables, TRUNCATE, ANALYZE): docs/security.md.
pytestmark = pytest.mark.database_owner

D = datetime.date
START, END = D(2023, 1, 1), D(2026, 6, 30)
SOURCES = ["pension", "salary", "sickness_benefit", "unemployment", "cpas", "none", "other",
           "unknown"]
DISCIPLINES = ["medical", "psychiatric", "psychological", "social", "nursing", "other"]


def random_day(rng, start=START, end=END) -> D:
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


def generate(seed: int = 7, people: int = 60) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    rows = defaultdict(list)
    for n in range(1, people + 1):
        number = f"IMP-{n:04d}"
        rows["patients"].append({
            "file_number": number, "alias": f"Imported {n}", "last_name": "", "first_name": "",
            "birth_date": rng.choice([
                "", str(rng.randint(1955, 2005)),
                f"{rng.randint(1955, 2005)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"]),
            "sex": rng.choice("FMXU"), "language": rng.choice(["fr", "nl", "en", "other", ""]),
        })
        for _ in range(rng.randint(0, 25)):
            rows["visits"].append({"file_number": number, "date": random_day(rng).isoformat(),
                                   "time": "", "site": ""})
        for _ in range(rng.randint(0, 25)):
            rows["consultations"].append({
                "file_number": number, "date": random_day(rng).isoformat(),
                "discipline": rng.choice(DISCIPLINES), "time": "", "author": "", "note": ""})
        # Episodes: one after the other, the last one maybe still open; the first is new.
        day = random_day(rng, START, D(2025, 6, 30))
        for index in range(rng.randint(0, 3)):
            closed = day + datetime.timedelta(days=rng.randint(20, 300))
            still_open = closed > END or rng.random() < 0.25
            rows["episodes"].append({
                "file_number": number, "opened_on": day.isoformat(),
                "kind": "new" if index == 0 else "resumption",
                "closed_on": "" if still_open else closed.isoformat(),
                "closure_reason": "" if still_open else "lost_contact"})
            if still_open:
                break
            day = closed + datetime.timedelta(days=rng.randint(1, 200))
            if day > END:
                break
        income_days = sorted({random_day(rng) for _ in range(rng.randint(0, 3))})
        for income_day in income_days:
            rows["income"].append({"file_number": number, "date": income_day.isoformat(),
                                   "source": rng.choice(SOURCES)})
    return rows


def write(directory, rows):
    for name, records in rows.items():
        with open(directory / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)


def percents(counts: dict[str, int]) -> dict[str, float]:
    """Largest-remainder rounding to one decimal, written out: each share cut to a tenth of a
    percent, the tenths missing to reach 100.0 handed one by one to the biggest leftovers
    (a tie: the larger count, then the order of the sources)."""
    total = sum(counts.values())
    if not total:
        return dict.fromkeys(counts, 0.0)
    exact = {source: Decimal(1000 * n) / Decimal(total) for source, n in counts.items()}
    cut = {source: int(value) for source, value in exact.items()}
    missing = 1000 - sum(cut.values())
    by_leftover = sorted(counts, key=lambda s: (-(exact[s] - cut[s]), -counts[s],
                                                list(counts).index(s)))
    for source in by_leftover[:missing]:
        cut[source] += 1
    return {source: cut[source] / 10 for source in counts}


def six_months_after(d: D) -> D:
    month = d.month + 6
    year, month = d.year + (month - 1) // 12, (month - 1) % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return D(year, month, min(d.day, last))


def episode_end(episode: dict, contact_days: set[D], today: D | None = None) -> D | None:
    """docs/domain.md's 6-month rule, written out: the episode's contacts (its opening day
    counts as one) up to its closure; the first one followed by six calendar months without
    another (or without the closure, or without today) ends it; else its closure."""
    today = today or timezone.localdate()
    opened = D.fromisoformat(episode["opened_on"])
    closed = D.fromisoformat(episode["closed_on"]) if episode["closed_on"] else None
    days = sorted({opened} | {d for d in contact_days
                              if d > opened and (closed is None or d <= closed)})
    for current, following in zip(days, [*days[1:], closed or today], strict=True):
        if following >= six_months_after(current):
            return current
    return closed


# Complexity 23, kept: the figures recomputed by hand from the CSV rows, one definition each.
def expected_figures(rows, year: int) -> dict:
    """docs/domain.md, "Definitions (binding)", in plain Python."""
    start, end = D(year, 1, 1), D(year, 12, 31)
    day = D.fromisoformat
    contacts = {(r["file_number"], day(r["date"])) for r in rows["visits"] + rows["consultations"]
                if start <= day(r["date"]) <= end}
    days = {d for _, d in contacts}
    by_month, by_week = defaultdict(set), defaultdict(set)
    for person, d in contacts:
        by_month[d.month].add(person)
        by_week[d.isocalendar()[:2]].add(person)
    consultations = sum(start <= day(r["date"]) <= end for r in rows["consultations"])
    episodes = sorted(rows["episodes"], key=lambda r: (r["file_number"], r["opened_on"]))
    new = resumption = 0
    seen = set()
    for episode in episodes:
        first = episode["file_number"] not in seen
        seen.add(episode["file_number"])
        if start <= day(episode["opened_on"]) <= end:
            new += first
            resumption += not first
    person_days = defaultdict(set)
    for r in rows["visits"] + rows["consultations"]:
        person_days[r["file_number"]].add(day(r["date"]))
    in_treatment = {e["file_number"] for e in episodes if day(e["opened_on"]) <= end
                    and (episode_end(e, person_days[e["file_number"]]) or end) >= start}
    latest = {}
    for record in sorted(rows["income"], key=lambda r: r["date"]):
        if day(record["date"]) <= end:
            latest[record["file_number"]] = record["source"]
    counts = defaultdict(int)
    for person in in_treatment:
        counts[latest.get(person, "unknown")] += 1
    return {
        "year": year,
        "annual_active_patients": len({person for person, _ in contacts}),
        "monthly_active_patients_avg": (sum(map(len, by_month.values())) / len(by_month)
                                        if by_month else 0.0),
        "weekly_active_patients_avg": (sum(map(len, by_week.values())) / len(by_week)
                                       if by_week else 0.0),
        "daily_distinct_patients_avg": len(contacts) / len(days) if days else 0.0,
        "daily_consultations_avg": consultations / len(days) if days else 0.0,
        "new_requests": new,
        "resumption_requests": resumption,
        "patient_contacts": len(contacts),
        "consultations": consultations,
        "activity_days": len(days),
        "patients_in_treatment": len(in_treatment),
        "income_in_treatment": percents({source: counts[source] for source in SOURCES}),
        "income_in_treatment_counts": {source: counts[source] for source in SOURCES},
        "dispensations": 0,
        "patients_on_substitution": 0,
        "group_attendances": 0,
        "harm_reduction_contacts": 0,
        "harm_reduction_items_handed_out": 0,
        "harm_reduction_items_returned": 0,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("year", [2024, 2025])
def test_imported_history_gives_the_independently_computed_figures(tmp_path, year):
    rows = generate()
    write(tmp_path, rows)
    call_command("import_records", str(tmp_path), stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("file_active", "--year", str(year), stdout=out)
    actual = json.loads(out.getvalue())
    expected = expected_figures(rows, year)
    assert list(actual) == [*FIGURE_KEYS, *VERSION_KEYS]
    assert actual["declared_version"] is None  # nothing declared: today's records
    assert sum(actual["income_in_treatment"].values()) == pytest.approx(100.0)
    assert expected["patient_contacts"] > 100 and expected["new_requests"] > 3  # not trivial
    for key, value in expected.items():
        if isinstance(value, float):
            assert actual[key] == pytest.approx(value, rel=1e-12), key
        else:
            assert actual[key] == value, key


def load_with_orm(rows):
    """The same rows straight into the models (no importer): checks this module's plain-Python
    definitions against the SQL on a random history, whatever the state of import_records."""
    from consultations.models import Consultation
    from patients.models import Episode, Patient, Visit
    from social.models import IncomeRecord

    patients = {}
    for row in rows["patients"]:
        birth = row["birth_date"]
        patients[row["file_number"]] = Patient.objects.create(
            file_number=row["file_number"], alias=row["alias"], sex=row["sex"],
            birth_year=int(birth[:4]) if birth else None)
    Visit.objects.bulk_create(Visit(patient=patients[r["file_number"]],
                                    date=D.fromisoformat(r["date"])) for r in rows["visits"])
    Consultation.objects.bulk_create(Consultation(
        patient=patients[r["file_number"]], date=D.fromisoformat(r["date"]),
        discipline=r["discipline"], imported=True) for r in rows["consultations"])
    for r in rows["episodes"]:
        Episode.objects.create(patient=patients[r["file_number"]],
                               opened_on=D.fromisoformat(r["opened_on"]), kind=r["kind"],
                               closed_on=D.fromisoformat(r["closed_on"]) if r["closed_on"]
                               else None, closure_reason=r["closure_reason"])
    IncomeRecord.objects.bulk_create(IncomeRecord(
        patient=patients[r["file_number"]], date=D.fromisoformat(r["date"]),
        source=r["source"]) for r in rows["income"])


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_figures_match_plain_python_on_random_histories(seed):
    from reporting.selectors import file_active_figures
    rows = generate(seed=seed, people=40)
    load_with_orm(rows)
    for year in (2023, 2024, 2025, 2026):
        actual = file_active_figures(year).figures
        for key, value in expected_figures(rows, year).items():
            assert actual[key] == pytest.approx(value, rel=1e-12), (year, key)
