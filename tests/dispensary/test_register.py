"""The controlled-drug register: receipts, counts, corrections, the monthly printout."""

from decimal import Decimal

from django.urls import reverse

from dispensary.models import RegisterEntry
from tests.conftest import EN
from tests.dispensary.conftest import balance, day, give
from tests.factories import methadone_syrup


def receipt_data(**overrides):
    return {"product": methadone_syrup().pk, "quantity": "5000", "supplier": "Febelco",
            "batch": "MS-2291", "received_on": day().isoformat(), "note": "", **overrides}


def test_nurse_records_a_receipt(nurse_client, nurse_user):
    response = nurse_client.post(reverse("dispensary:receipt"), receipt_data(), **EN)
    assert response.status_code == 302
    entry = RegisterEntry.objects.get()
    assert (entry.kind, entry.quantity, entry.balance_after, entry.sequence) == \
        ("receipt", 5000, 5000, 1)
    assert entry.batch == "MS-2291" and entry.recorded_by == nurse_user
    page = nurse_client.get(reverse("dispensary:register"), **EN).content.decode()
    assert 'data-balance="5000' in page and "MS-2291" in page


def test_receipt_bad_input_writes_nothing(nurse_client):
    url = reverse("dispensary:receipt")
    for overrides, message in [
        ({"quantity": "0"}, "greater than or equal to 0.01"),
        ({"quantity": "-5"}, "greater than or equal to 0.01"),
        ({"quantity": "abc"}, "Enter a number."),
        ({"supplier": ""}, "This field is required."),
        ({"batch": ""}, "This field is required."),
        ({"received_on": day(3).isoformat()}, "A receipt cannot be in the future."),
        ({"product": "999999"}, "Select a valid choice."),
    ]:
        response = nurse_client.post(url, receipt_data(**overrides), **EN)
        assert response.status_code == 200 and message in response.content.decode(), overrides
    assert not RegisterEntry.objects.exists()


def test_stock_count_matching_needs_no_reason(nurse_client, stock):
    response = nurse_client.post(reverse("dispensary:stock_count"), {
        "product": stock.product.pk, "counted": "10000"}, **EN)
    assert response.status_code == 302
    count = RegisterEntry.objects.get(kind="count")
    assert count.quantity == 0 and count.balance_after == 10000 and count.reason_code == ""


def test_stock_count_discrepancy_needs_a_reason_code(nurse_client, stock):
    url = reverse("dispensary:stock_count")
    response = nurse_client.post(url, {"product": stock.product.pk, "counted": "9950"}, **EN)
    assert "The count differs from the register by -50 mg: give the reason." in \
        response.content.decode()
    assert not RegisterEntry.objects.filter(kind="count").exists()
    response = nurse_client.post(url, {"product": stock.product.pk, "counted": "9950",
                                       "reason_code": "other"}, **EN)
    assert "Explain the discrepancy." in response.content.decode()
    response = nurse_client.post(url, {"product": stock.product.pk, "counted": "9950",
                                       "reason_code": "spillage", "note": "bottle tipped"},
                                 **EN)
    assert response.status_code == 302
    count = RegisterEntry.objects.get(kind="count")
    assert (count.quantity, count.balance_after, count.counted, count.reason_code) == \
        (-50, 9950, 9950, "spillage")
    assert balance() == 9950


def test_stock_count_bad_input(nurse_client, stock):
    url = reverse("dispensary:stock_count")
    for data, message in [
        ({"product": stock.product.pk, "counted": "-1"}, "greater than or equal to 0"),
        ({"product": stock.product.pk}, "This field is required."),
        ({"product": stock.product.pk, "counted": "10", "reason_code": "lost"},
         "Select a valid choice."),
    ]:
        response = nurse_client.post(url, data, **EN)
        assert response.status_code == 200 and message in response.content.decode(), data
    assert RegisterEntry.objects.count() == 1


def test_receipt_correction_is_a_linked_entry(nurse_client, stock):
    url = reverse("dispensary:correction", args=[stock.pk])
    response = nurse_client.post(url, {"quantity": "0", "note": "typo"}, **EN)
    assert "A correction cannot be zero." in response.content.decode()
    response = nurse_client.post(url, {"quantity": "-20000", "note": "typo"}, **EN)
    assert "would go below zero" in response.content.decode()
    response = nurse_client.post(url, {"quantity": "-9000", "note": ""}, **EN)
    assert "This field is required." in response.content.decode()
    assert RegisterEntry.objects.count() == 1
    response = nurse_client.post(url, {"quantity": "-9000", "note": "1000 received, not 10000"},
                                 **EN)
    assert response.status_code == 302
    correction = RegisterEntry.objects.get(kind="correction")
    assert correction.corrects == stock and correction.balance_after == 1000


def test_coordinator_reads_the_register_but_cannot_write(coordinator_client, stock):
    assert coordinator_client.get(reverse("dispensary:register")).status_code == 200
    assert coordinator_client.post(reverse("dispensary:receipt"),
                                   receipt_data()).status_code == 403
    assert coordinator_client.get(reverse("dispensary:stock_count")).status_code == 403
    assert coordinator_client.post(reverse("dispensary:stock_count"), {
        "product": stock.product.pk, "counted": "9000", "reason_code": "spillage"}
    ).status_code == 403
    assert coordinator_client.post(reverse("dispensary:correction", args=[stock.pk]), {
        "quantity": "-9000", "note": "typo"}).status_code == 403
    # The register is as it was: the one receipt of the fixture, its balance.
    assert list(RegisterEntry.objects.values_list("kind", "quantity", "balance_after")) == \
        [("receipt", 10000, 10000)]


def test_monthly_register_prints_opening_lines_and_closing(nurse_client, rx, client,
                                                           coordinator_user):
    give(nurse_client, rx)
    today = day()
    client.force_login(coordinator_user)
    url = reverse("dispensary:register_month", args=[rx.product.pk, today.year, today.month])
    content = client.get(url, **EN).content.decode()
    assert "Opening balance" in content and "Febelco" not in content
    assert "Pharmacie centrale" in content and "Dispensed (1 dose)" in content
    assert 'data-closing>9940<' in content
    detailed = client.get(url, {"detail": "1"}, **EN).content.decode()
    assert rx.patient.file_number in detailed
    assert 'href="/static/css/print.css" media="print"' in content


def test_monthly_register_opening_balance_is_last_month_closing(nurse_client, stock):
    from django.utils import timezone

    from dispensary.selectors import monthly_register
    next_month = (day().replace(day=1) + timezone.timedelta(days=32)).replace(day=1)
    register = monthly_register(product=stock.product, year=next_month.year,
                                month=next_month.month)
    assert register.opening_balance == Decimal(10000) and register.lines == []
    assert register.closing_balance == Decimal(10000)


def test_register_month_out_of_range_is_404(nurse_client, stock):
    url = reverse("dispensary:register_month", args=[stock.product.pk, 2020, 13])
    assert nurse_client.get(url).status_code == 404
