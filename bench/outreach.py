"""Benchmark of the outreach sync (issue 16): a round of 200 mixed records synchronised in
one request of the API, against the same 200 records posted one by one through the desk's
own forms (registration, walk-in, harm-reduction material, note, screening, referral,
outreach attempt), side by side, by the same member of staff with the test client.

    DEMO=1 .venv/bin/python -m bench outreach

Goal (issue 16): the sync under 2x the desk's time. Runs in a throwaway database
(``bench_outreach``) on the same server, dropped at the end.
"""

import datetime
import json
import os
import statistics
import time
import uuid

RECORDS = 200
ROUNDS = 3
#: One round's mix, repeated: what a team records in an evening at a shelter.
MIX = ["person", "contact", "contact", "material", "note", "note", "screening", "referral",
       "attempt", "contact"]


def populate(patients: int):
    from django.contrib.auth.models import Group

    from consultations.models import Partner
    from mass.models import Site, User
    from patients.models import Patient

    user = User.objects.create(username="bench_team")
    # Nurse for the notes and screening; reception for the desk's registration and material
    # forms, so that both sides are posted by the same account.
    user.groups.set(Group.objects.filter(name__in=["nurse", "reception"]))
    shelter = Site.objects.create(name="Bench shelter", kind=Site.Kind.SHELTER)
    partner = Partner.objects.create(name="Bench partner", kind="treatment")
    Patient.objects.bulk_create(Patient(file_number=f"B{i:06d}", alias=f"Person {i}")
                                for i in range(patients))
    people = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    return user, shelter, partner, people


def round_records(n: int, *, tag: str, people: list[int], shelter, partner) -> list[dict]:
    """``n`` records of the mix, each about another person (the desk folds two walk-ins of
    one person within two minutes into one, which would flatter it)."""
    made_at = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=30)).isoformat()
    records = []
    for i in range(n):
        kind = MIX[i % len(MIX)]
        record = {"uuid": str(uuid.uuid4()), "kind": kind, "made_at": made_at,
                  "site": shelter.pk, "patient": people[i], "person": None}
        if kind == "person":
            record.update(patient=None, alias=f"{uuid.uuid4().hex[:10]}",
                          birth_year=1980 + i % 20)
        elif kind == "contact":
            record["purpose"] = "harm_reduction"
        elif kind == "material":
            record.update(patient=None, lines=[{"code": "syringe", "handed_out": 10,
                                                "returned": 5},
                                               {"code": "condom", "handed_out": 4,
                                                "returned": 0}])
        elif kind == "note":
            record.update(discipline="nursing", text=f"Seen at the shelter ({tag} {i}).")
        elif kind == "screening":
            record.update(test="hcv", result="negative")
        elif kind == "referral":
            record.update(partner=partner.pk, text="Asks for a detox bed.")
        elif kind == "attempt":
            record.update(outcome="not_reached")
        records.append(record)
    return records


def desk_post(client, record: dict, *, shelter) -> int:
    """The same record through the desk's own form; the form's status code."""
    today = datetime.date.today().isoformat()
    kind, patient = record["kind"], record["patient"]
    if kind == "person":
        url, data = "/patients/new/", {"alias": record["alias"], "sex": "U",
                                       "birth_year": record["birth_year"]}
    elif kind == "contact":
        url = f"/patients/{patient}/walk-ins/new/"
        data = {"date": today, "time": "20:00", "purpose": record["purpose"],
                "site": shelter.pk}
    elif kind == "material":
        url, data = "/reception/harm-reduction/", {"site": shelter.pk}
        for line in record["lines"]:
            data[f"out_{line['code']}"] = line["handed_out"]
            data[f"ret_{line['code']}"] = line["returned"]
    elif kind == "note":
        url = f"/consultations/new/?patient={patient}"
        data = {"discipline": record["discipline"], "form": "individual",
                "site": shelter.pk, "date": today, "time": "20:00", "note": record["text"]}
    elif kind == "screening":
        url = f"/consultations/screening/new/?patient={patient}"
        data = {"test": record["test"], "date": today, "result": record["result"],
                "result_date": today}
    elif kind == "referral":
        url = f"/consultations/referrals/new/?patient={patient}"
        data = {"partner": record["partner"], "date": today, "reason": record["text"]}
    else:
        url = f"/patients/{patient}/outreach/"
        data = {"means": "visit", "result": record["outcome"], "where": shelter.pk}
    status = client.post(url, data).status_code
    if kind == "person" and status == 200:
        # The desk showed likely duplicates: the clerk says it is someone else, as offline
        # the file is registered anyway (and offered for merge).
        status = client.post(url, {**data, "not_a_duplicate": "on"}).status_code
    return status


def written() -> dict[str, int]:
    from consultations.models import Consultation, Referral, ScreeningTest
    from patients.models import HarmReductionContact, OutreachAttempt, Patient, Visit
    return {model._meta.label_lower: model.objects.count()
            for model in (Patient, Visit, HarmReductionContact, Consultation, ScreeningTest,
                          Referral, OutreachAttempt)}


def grown(before: dict, after: dict) -> dict:
    return {key: after[key] - before[key] for key in before}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mass.config.settings_test")
    os.environ["TEST_DATABASE_NAME"] = "bench_outreach"
    import django
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from outreach.models import OutreachDevice

    settings.ALLOWED_HOSTS = ["*"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        user, shelter, partner, people = populate(patients=2 * RECORDS * (ROUNDS + 1))
        device = OutreachDevice.objects.create(user=user, name="Bench phone")
        client = Client()
        client.force_login(user)
        api_times, desk_times = [], []
        for n in range(ROUNDS + 1):  # the first of each is a warm-up, not counted
            offset = 2 * n * RECORDS
            records = round_records(RECORDS, tag=f"api{n}", shelter=shelter, partner=partner,
                                    people=people[offset:offset + RECORDS])
            before = written()
            start = time.perf_counter()
            response = client.post("/outreach/api/sync/",
                                   data=json.dumps({"device": str(device.pk),
                                                    "records": records}),
                                   content_type="application/json")
            api_ms = (time.perf_counter() - start) * 1000
            statuses = [r["status"] for r in response.json()["results"]]
            assert statuses == ["accepted"] * RECORDS, [
                r for r in response.json()["results"] if r["status"] != "accepted"][:3]
            api_rows = grown(before, written())

            records = round_records(RECORDS, tag=f"desk{n}", shelter=shelter, partner=partner,
                                    people=people[offset + RECORDS:offset + 2 * RECORDS])
            before = written()
            start = time.perf_counter()
            codes = [desk_post(client, record, shelter=shelter) for record in records]
            desk_ms = (time.perf_counter() - start) * 1000
            assert set(codes) == {302}, sorted({(r["kind"], c)
                                                for r, c in zip(records, codes, strict=True)})
            desk_rows = grown(before, written())
            # The same records written both ways (else the comparison would mean nothing).
            assert api_rows == desk_rows, (api_rows, desk_rows)
            if n:
                api_times.append(api_ms)
                desk_times.append(desk_ms)
        api, desk = statistics.median(api_times), statistics.median(desk_times)
        print(f"{RECORDS} records ({', '.join(sorted(set(MIX)))}), median of {ROUNDS} rounds")
        print(f"rows written each way: {api_rows}")
        print(f"outreach sync, one request: {api:.0f} ms ({api / RECORDS:.2f} ms a record)")
        print(f"desk forms, {RECORDS} requests: {desk:.0f} ms ({desk / RECORDS:.2f} ms a "
              f"record)")
        print(f"ratio sync / desk: {api / desk:.2f} (goal < 2)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
