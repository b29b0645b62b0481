"""Starting and restarting safely (issue 12, part 4): a first prescription of a substitution
product's substance, or one after the missed-day hold, is checked against the product's
induction rule (starting-dose ceiling, increases during the induction, no take-home doses in
the first days); going above needs the prescriber's confirmation and a reason, recorded."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dispensary import services
from dispensary.models import InductionRule, Prescription, Product
from mass.models import AuditEvent
from tests.conftest import EN
from tests.dispensary.conftest import day, history, prescribing
from tests.factories import PatientFactory, PrescriptionFactory, methadone_syrup

REASON = "Tolerance confirmed: 60 mg a day at the Transit programme until last week."


def create_url(patient):
    return reverse("dispensary:prescription_create", args=[patient.pk])


def methadone(patient, **fields):
    return prescribing(patient, **{"product": methadone_syrup().pk,
                                   "start_date": day().isoformat(), **fields})


def rule(product=None) -> InductionRule:
    return InductionRule.objects.get(product=product or methadone_syrup())


def amount(value: Decimal) -> str:
    return f"{value.normalize():f} mg"


def established(patient, *, daily_dose=60, days=40, last_dose_days_ago=1):
    """Methadone taken every day for ``days`` days, the last dose ``last_dose_days_ago``."""
    rx = PrescriptionFactory(patient=patient, daily_dose=daily_dose, start_date=day(-days))
    history(rx, days_ago=list(range(last_dose_days_ago, days + 1)))
    return rx


# --- the defaults: a published guideline, named -----------------------------------------------


def test_substitution_products_have_their_guideline_default(db):
    methadone_rule, bup_rule = rule(), rule(Product.objects.get(
        name="Buprenorphine sublingual tablets"))
    assert methadone_rule.max_starting_dose == 30 and bup_rule.max_starting_dose == 8
    assert "WHO" in methadone_rule.source and "2009" in methadone_rule.source
    assert set(InductionRule.objects.values_list("product__substance", flat=True)) == {
        "methadone", "buprenorphine"}
    assert not InductionRule.objects.filter(product__is_substitution=False).exists()


# --- a first prescription ---------------------------------------------------------------------


def test_first_prescription_within_the_ceiling_is_saved(doctor_client, patient):
    ceiling = rule().max_starting_dose
    response = doctor_client.post(create_url(patient),
                                  methadone(patient, daily_dose=str(ceiling)), **EN)
    assert response.status_code == 302
    rx = Prescription.objects.get(patient=patient)
    assert rx.daily_dose == ceiling
    assert rx.induction_overrides == [] and rx.induction_override_reason == ""


def test_first_prescription_above_the_ceiling_warns_and_writes_nothing(doctor_client, patient):
    ceiling = rule().max_starting_dose
    dose = ceiling * 2
    response = doctor_client.post(create_url(patient),
                                  methadone(patient, daily_dose=str(dose)), **EN)
    content = response.content.decode()
    assert response.status_code == 200
    assert "data-induction-warning" in content
    assert (f"Starting dose {amount(dose)}: above the induction ceiling of "
            f"{amount(ceiling)} for Methadone syrup 1 mg/ml.") in content
    assert "a first prescription of methadone for this patient" in content
    assert rule().source in content  # the rule's source is named
    assert "Nothing was recorded" in content
    # The confirmation appears with the warning, not before.
    assert 'name="induction_confirmed"' in content
    assert 'name="induction_override_reason"' in content
    form = doctor_client.get(create_url(patient)).content.decode()
    assert 'name="induction_confirmed"' not in form
    assert not Prescription.objects.exists()
    assert not AuditEvent.objects.filter(object_type="dispensary.prescription").exists()


def test_confirmed_with_a_reason_is_saved_and_recorded(doctor_client, nurse_client, patient):
    dose = rule().max_starting_dose * 2
    response = doctor_client.post(create_url(patient), methadone(
        patient, daily_dose=str(dose), induction_confirmed="on",
        induction_override_reason=f"  {REASON} "), **EN)
    assert response.status_code == 302
    rx = Prescription.objects.get(patient=patient)
    assert rx.daily_dose == dose
    assert rx.induction_overrides == ["starting_dose"]
    assert rx.induction_override_reason == REASON
    event = AuditEvent.objects.get(action="create", object_id=str(rx.pk))
    assert "above the induction rules (starting_dose), confirmed with a reason" in event.summary
    # The reason is clinical: on the prescription, not in the trail the coordinator reads.
    assert REASON not in event.summary
    # The prescription history shows it to those who read the prescriptions.
    page = nurse_client.get(reverse("dispensary:patient", args=[patient.pk]), **EN)
    row = page.content.decode().split(f'data-induction-override="{rx.pk}"')[1]
    assert "Starting dose above the ceiling" in row.split("</tr>")[0]
    assert REASON in row.split("</tr>")[0]


@pytest.mark.parametrize("confirmation, message", [
    ({"induction_confirmed": "on", "induction_override_reason": "   "},
     "Give the reason for going above the induction rules: the confirmation alone is not "
     "enough. Nothing was recorded."),
    ({"induction_override_reason": REASON},
     "Lower the prescription, or confirm and give your reason to prescribe it anyway."),
])
def test_an_override_needs_both_the_confirmation_and_a_reason(doctor_client, patient,
                                                              confirmation, message):
    dose = rule().max_starting_dose * 2
    response = doctor_client.post(create_url(patient), methadone(
        patient, daily_dose=str(dose), **confirmation), **EN)
    content = response.content.decode()
    assert response.status_code == 200 and message in content
    assert "data-induction-warning" in content  # the rule is shown again
    assert not Prescription.objects.exists()
    assert not AuditEvent.objects.filter(object_type="dispensary.prescription").exists()


def test_the_service_checks_any_route(doctor_user, patient):
    """The rule lives in the service: a call without the form is checked the same way."""
    dose = rule().max_starting_dose * 2
    with pytest.raises(services.AboveInductionRules) as refused:
        services.prescription_create(patient=patient, product=methadone_syrup(),
                                     daily_dose=dose, start_date=day(), actor=doctor_user)
    assert refused.value.assessment.codes == ["starting_dose"]
    with pytest.raises(services.AboveInductionRules, match="Give the reason"):
        services.prescription_create(patient=patient, product=methadone_syrup(),
                                     daily_dose=dose, start_date=day(), actor=doctor_user,
                                     induction_confirmed=True, induction_override_reason=" ")
    assert not Prescription.objects.exists()


def test_buprenorphine_has_its_own_ceiling(doctor_client, patient):
    bup = Product.objects.get(name="Buprenorphine/naloxone sublingual tablets")
    ceiling = rule(bup).max_starting_dose
    response = doctor_client.post(create_url(patient), prescribing(
        patient, product=bup.pk, daily_dose=str(ceiling + 8), start_date=day().isoformat()),
        **EN)
    assert f"above the induction ceiling of {amount(ceiling)}" in response.content.decode()
    assert not Prescription.objects.exists()


# --- take-home doses in the first days ---------------------------------------------------------


def test_take_home_days_in_the_first_days_warn(doctor_client, patient):
    """The issue's case: a brand-new patient at 30 mg with take-home doses six days a week."""
    methadone_rule = rule()
    six_days = [d for d in range(7) if d != day().weekday()]
    response = doctor_client.post(create_url(patient), methadone(
        patient, daily_dose=str(methadone_rule.max_starting_dose),
        take_home_weekdays=[str(d) for d in six_days]), **EN)
    content = response.content.decode()
    assert 'data-induction-check="take_home"' in content
    assert "Take-home doses from" in content
    assert f"within the first {methadone_rule.supervised_days} days" in content
    assert not Prescription.objects.exists()
    # Confirmed with a reason: saved, the override recorded.
    doctor_client.post(create_url(patient), methadone(
        patient, daily_dose=str(methadone_rule.max_starting_dose),
        take_home_weekdays=[str(d) for d in six_days], induction_confirmed="on",
        induction_override_reason="Lives 60 km away; daily visits impossible."), **EN)
    assert Prescription.objects.get(patient=patient).induction_overrides == ["take_home"]


def test_take_home_days_after_the_first_days_do_not_warn(doctor_client, patient):
    methadone_rule = rule()
    established(patient, days=methadone_rule.supervised_days + 10)
    saturday = 5
    response = doctor_client.post(create_url(patient), methadone(
        patient, daily_dose="60", take_home_weekdays=[str(saturday)]), **EN)
    assert response.status_code == 302
    assert Prescription.objects.get(patient=patient, start_date=day(),
                                    daily_dose=60).take_home_weekdays == [saturday]


# --- a restart after the hold -----------------------------------------------------------------


def test_a_restart_after_the_hold_is_an_induction(doctor_client, patient):
    from dispensary.selectors import HOLD_AFTER_MISSED_DAYS
    # 60 mg taken for weeks, then the missed-day hold: tolerance may be lost.
    old = established(patient, last_dose_days_ago=HOLD_AFTER_MISSED_DAYS + 1)
    response = doctor_client.post(create_url(patient), methadone(patient, daily_dose="60"),
                                  **EN)
    content = response.content.decode()
    assert (f"a restart after {HOLD_AFTER_MISSED_DAYS} days without a dose of methadone "
            "(the missed-day hold)") in content
    assert 'data-induction-check="starting_dose"' in content
    assert Prescription.objects.filter(patient=patient).get() == old


def test_one_day_less_than_the_hold_is_not_a_restart(doctor_client, patient):
    from dispensary.selectors import HOLD_AFTER_MISSED_DAYS
    established(patient, last_dose_days_ago=HOLD_AFTER_MISSED_DAYS)
    response = doctor_client.post(create_url(patient), methadone(patient, daily_dose="60"),
                                  **EN)
    assert response.status_code == 302
    assert Prescription.objects.filter(patient=patient).count() == 2


# --- increases ----------------------------------------------------------------------------------


def test_a_normal_increase_on_an_established_treatment_does_not_warn(doctor_client, patient):
    methadone_rule = rule()
    old = established(patient, days=methadone_rule.induction_days + 20)
    dose = old.daily_dose + methadone_rule.max_increase * 2
    response = doctor_client.post(create_url(patient), methadone(patient, daily_dose=str(dose)),
                                  **EN)
    assert response.status_code == 302
    new = Prescription.objects.get(replaces=old)
    assert new.daily_dose == dose and new.induction_overrides == []


def test_an_increase_larger_than_the_step_during_the_induction_warns(doctor_client, patient):
    methadone_rule = rule()
    start = methadone_rule.max_starting_dose
    days = methadone_rule.min_days_between_increases + 1
    established(patient, daily_dose=start, days=days)  # started within the rule's days
    dose = start + methadone_rule.max_increase + 5
    response = doctor_client.post(create_url(patient), methadone(patient, daily_dose=str(dose)),
                                  **EN)
    content = response.content.decode()
    assert 'data-induction-check="increase"' in content
    assert (f"An increase of {amount(dose - start)} (from {amount(start)}) during the first "
            f"{methadone_rule.induction_days} days") in content
    assert f"day {days + 1} of the treatment of methadone" in content
    assert Prescription.objects.filter(patient=patient).count() == 1


def test_an_increase_too_soon_during_the_induction_warns(doctor_client, patient):
    methadone_rule = rule()
    start = methadone_rule.max_starting_dose
    established(patient, daily_dose=start, days=1)  # started yesterday
    response = doctor_client.post(create_url(patient), methadone(
        patient, daily_dose=str(start + methadone_rule.max_increase)), **EN)
    content = response.content.decode()
    assert 'data-induction-check="increase_interval"' in content
    assert 'data-induction-check="increase"' not in content  # the step itself is allowed
    assert Prescription.objects.filter(patient=patient).count() == 1


def test_an_increase_within_the_rule_during_the_induction_is_saved(doctor_client, patient):
    methadone_rule = rule()
    start = methadone_rule.max_starting_dose
    old = established(patient, daily_dose=start,
                      days=methadone_rule.min_days_between_increases)
    response = doctor_client.post(create_url(patient), methadone(
        patient, daily_dose=str(start + methadone_rule.max_increase)), **EN)
    assert response.status_code == 302
    assert Prescription.objects.get(replaces=old).induction_overrides == []


# --- the rules page ---------------------------------------------------------------------------


@pytest.mark.parametrize("role_client, edits", [("nurse_client", False),
                                                ("doctor_client", True),
                                                ("psychiatrist_client", True),
                                                ("coordinator_client", False)])
def test_the_rules_page_for_those_who_prescribe_dispense_or_keep_the_products(
        db, request, role_client, edits):
    client = request.getfixturevalue(role_client)
    response = client.get(reverse("dispensary:induction_rules"), **EN)
    content = response.content.decode()
    assert response.status_code == 200
    row = content.split(f'data-product="{methadone_syrup().pk}"')[1].split("</tr>")[0]
    assert f"{rule().max_starting_dose.normalize():f} mg" in row and rule().source in row
    edit_url = reverse("dispensary:induction_rule_edit", args=[methadone_syrup().pk])
    assert (edit_url in content) is edits


@pytest.mark.parametrize("role_client", ["reception_client", "psychologist_client",
                                         "social_worker_client"])
def test_the_rules_page_is_refused_to_other_roles(db, request, role_client):
    client = request.getfixturevalue(role_client)
    assert client.get(reverse("dispensary:induction_rules")).status_code == 403


def test_the_rules_page_constant_queries(coordinator_client):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert coordinator_client.get(reverse("dispensary:induction_rules")).status_code == 200
        return len(queries)

    count()  # the first request of the client warms what every later one reuses
    before = count()
    for index in range(2):
        product = Product.objects.create(name=f"Slow-release morphine {index}",
                                         substance="morphine", form="capsule",
                                         is_substitution=True, max_daily_dose=Decimal(1200))
        InductionRule.objects.create(product=product, max_starting_dose=Decimal(100),
                                     induction_days=7, max_increase=Decimal(50),
                                     supervised_days=7, source="Team decision, 2026.")
    assert count() == before


# --- editing a rule ---------------------------------------------------------------------------


RULE = {"max_starting_dose": "20", "induction_days": "21", "max_increase": "5",
        "min_days_between_increases": "4", "supervised_days": "28",
        "source": "WHO 2009, Annex 12: generally not above 20 mg. Team decision, 2026."}


def test_doctor_edits_a_rule_and_prescribing_follows(doctor_client, doctor_user, patient):
    url = reverse("dispensary:induction_rule_edit", args=[methadone_syrup().pk])
    assert doctor_client.get(url).status_code == 200
    response = doctor_client.post(url, RULE)
    assert response.status_code == 302
    saved = rule()
    assert (saved.max_starting_dose, saved.induction_days, saved.max_increase,
            saved.min_days_between_increases, saved.supervised_days, saved.source) == (
        20, 21, 5, 4, 28, RULE["source"])
    assert saved.updated_by == doctor_user
    event = AuditEvent.objects.get(object_type="dispensary.inductionrule",
                                   object_id=str(saved.pk))
    assert event.details["before"]["max_starting_dose"] == "30.00"
    assert event.details["after"]["max_starting_dose"] == "20.00"
    # 30 mg to start is now above the rule.
    response = doctor_client.post(create_url(patient), methadone(patient, daily_dose="30"),
                                  **EN)
    assert "above the induction ceiling of 20 mg" in response.content.decode()


def test_doctor_sets_a_rule_for_a_new_substitution_product(coordinator_client, doctor_client):
    product = Product.objects.create(name="Slow-release morphine", substance="morphine",
                                     form="capsule", is_substitution=True,
                                     max_daily_dose=Decimal(1200))
    page = coordinator_client.get(reverse("dispensary:induction_rules"), **EN).content.decode()
    assert "No induction rule: prescriptions of this product are not checked." in page
    doctor_client.post(reverse("dispensary:induction_rule_edit", args=[product.pk]), RULE)
    assert InductionRule.objects.get(product=product).max_starting_dose == 20


def test_rule_edit_bad_input_writes_nothing(doctor_client):
    url = reverse("dispensary:induction_rule_edit", args=[methadone_syrup().pk])
    before = InductionRule.objects.values().get(product=methadone_syrup())
    for overrides, message in [
        ({"max_starting_dose": "0"}, "Must be above zero."),
        ({"max_starting_dose": "301"},
         "Above the highest daily dose of the product (300 mg)."),
        ({"max_starting_dose": "abc"}, "Enter a number."),
        ({"max_increase": "-5"}, "Must be above zero."),
        ({"induction_days": "0"}, "Must be above zero."),
        ({"supervised_days": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"supervised_days": "9999"}, "Ensure this value is less than or equal to 365."),
        ({"source": "   "}, "This field is required."),
        ({"source": "x" * 301}, "Ensure this value has at most 300 characters"),
    ]:
        response = doctor_client.post(url, {**RULE, **overrides}, **EN)
        assert response.status_code == 200 and message in response.content.decode(), overrides
    assert InductionRule.objects.values().get(product=methadone_syrup()) == before
    assert not AuditEvent.objects.filter(object_type="dispensary.inductionrule").exists()


def test_rule_edit_refused_to_nurses_and_coordinators_and_for_other_products(
        nurse_client, coordinator_client, doctor_client):
    url = reverse("dispensary:induction_rule_edit", args=[methadone_syrup().pk])
    assert nurse_client.post(url, RULE).status_code == 403
    assert coordinator_client.post(url, RULE).status_code == 403
    diazepam = Product.objects.get(name="Diazepam tablets")
    assert doctor_client.get(reverse("dispensary:induction_rule_edit",
                                          args=[diazepam.pk])).status_code == 404
    assert rule().max_starting_dose == 30


def test_rules_page_get_only(nurse_client):
    assert nurse_client.post(reverse("dispensary:induction_rules")).status_code == 405


# --- a partner pharmacy -----------------------------------------------------------------------


def test_a_pharmacy_prescription_continuing_a_treatment_is_not_an_induction(doctor_client,
                                                                            patient):
    from dispensary.models import Pharmacy
    pharmacy = Pharmacy.objects.create(name="Pharmacie Anspach")
    PrescriptionFactory(patient=patient, daily_dose=80, start_date=day(-100), pharmacy=pharmacy)
    response = doctor_client.post(create_url(patient), methadone(
        patient, daily_dose="80", pharmacy=pharmacy.pk, start_date=day(1).isoformat()), **EN)
    assert response.status_code == 302
    # Nor one taken over by the MASS from the pharmacy without a break.
    response = doctor_client.post(create_url(patient), methadone(
        patient, daily_dose="80", start_date=day(2).isoformat()), **EN)
    assert response.status_code == 302
    assert Prescription.objects.filter(patient=patient, pharmacy__isnull=True).exists()
    # A first one at a pharmacy is checked.
    other = PatientFactory(alias="Nouvelle")
    response = doctor_client.post(create_url(other), methadone(
        other, daily_dose="80", pharmacy=pharmacy.pk), **EN)
    assert 'data-induction-check="starting_dose"' in response.content.decode()
    assert not Prescription.objects.filter(patient=other).exists()


def test_a_prescription_never_collected_leaves_the_start_ahead(doctor_client, patient):
    """Never dosed under a prescription written days ago: the next one still sets the
    starting dose (an increase over a dose never taken is a higher start)."""
    PrescriptionFactory(patient=patient, daily_dose=30, start_date=day(-1))
    response = doctor_client.post(create_url(patient), methadone(patient, daily_dose="40"),
                                  **EN)
    assert 'data-induction-check="starting_dose"' in response.content.decode()
    assert Prescription.objects.filter(patient=patient).count() == 1


# --- the hold review's lower dose: a restart too ------------------------------------------------


def test_a_lower_dose_after_the_hold_is_checked_against_the_rule(doctor_client, patient):
    from dispensary.models import HoldReview
    from dispensary.selectors import STRONG_WARNING_MISSED_DAYS
    ceiling = rule().max_starting_dose
    held = established(patient, daily_dose=120, last_dose_days_ago=STRONG_WARNING_MISSED_DAYS + 1)
    url = reverse("dispensary:review", args=[held.pk])
    lower = {"decision": "lower", "new_daily_dose": str(ceiling * 2),
             "note": "Six days without methadone: restart lower."}
    response = doctor_client.post(url, lower, **EN)
    content = response.content.decode()
    assert 'data-induction-check="starting_dose"' in content
    assert "a restart after" in content and rule().source in content
    assert not HoldReview.objects.exists() and Prescription.objects.count() == 1
    response = doctor_client.post(url, {**lower, "induction_confirmed": "on",
                                        "induction_override_reason": REASON}, **EN)
    assert response.status_code == 302
    lowered = HoldReview.objects.get().new_prescription
    assert lowered.daily_dose == ceiling * 2 and lowered.induction_overrides == ["starting_dose"]
    assert lowered.induction_override_reason == REASON


def test_a_lower_dose_within_the_rule_after_the_hold_is_saved(doctor_client, patient):
    from dispensary.models import HoldReview
    from dispensary.selectors import STRONG_WARNING_MISSED_DAYS
    held = established(patient, daily_dose=120, last_dose_days_ago=STRONG_WARNING_MISSED_DAYS + 1)
    response = doctor_client.post(reverse("dispensary:review", args=[held.pk]), {
        "decision": "lower", "new_daily_dose": str(rule().max_starting_dose),
        "note": "Six days without methadone: restart at the starting dose."}, **EN)
    assert response.status_code == 302
    assert HoldReview.objects.get().new_prescription.induction_overrides == []
