"""The outreach page in a real browser (issue 16): a nurse of the mobile team prepares a
round for a shelter, loses the connection, records a known person's note, registers a new
alias, hands out anonymous material, reloads the page without network and finds the queue
behind the PIN; back online the records reach the server once, with their audit rows, and a
replayed batch doubles nothing. A phone reported lost gets its pending batch refused; a
tampered record is shown damaged and the rest is sent; wrong PINs, the 12-hour expiry and
the logout wipe the device. Nothing about a person is ever readable in the device's
IndexedDB or Cache Storage.

The live server is http://localhost: a secure context, so the service worker and WebCrypto
work as on the team's phones over HTTPS."""

import datetime
import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import csp_errors, login
from tests.e2e.test_accessibility import PHONE, axe_check, sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]

PIN = "246810"
NOTE = "Sleeps at the Nord station since Monday."

# Everything the page stored, as text: each IndexedDB item (its bytes as Latin-1, so that
# a name in clear would show) and each response in Cache Storage. Run in the page.
DEVICE_CONTENTS = """async () => {
  const asText = (value) => JSON.stringify(value, (key, item) => {
    if (item instanceof ArrayBuffer) item = new Uint8Array(item);
    if (item instanceof Uint8Array) return Array.from(item, (b) => String.fromCharCode(b)).join("");
    return item;
  });
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("mass-outreach");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const stores = {};
  for (const name of Array.from(db.objectStoreNames)) {
    stores[name] = await new Promise((resolve) => {
      const request = db.transaction(name).objectStore(name).getAll();
      request.onsuccess = () => resolve(request.result.map(asText));
    });
  }
  db.close();
  const cached = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      cached.push({url: request.url, text: await response.text()});
    }
  }
  return {stores, cached};
}"""

# Flips one byte of the ciphertext of the queued record made first (as a thief editing the
# phone's storage would), leaving its IV and the others untouched.
TAMPER_FIRST_RECORD = """async () => {
  const db = await new Promise((resolve) => {
    const request = indexedDB.open("mass-outreach");
    request.onsuccess = () => resolve(request.result);
  });
  const items = await new Promise((resolve) => {
    const request = db.transaction("queue").objectStore("queue").getAll();
    request.onsuccess = () => resolve(request.result);
  });
  items.sort((a, b) => a.seq - b.seq);
  const first = items[0];
  const bytes = new Uint8Array(first.data);
  bytes[5] ^= 0xff;
  first.data = bytes.buffer;
  await new Promise((resolve) => {
    const tx = db.transaction("queue", "readwrite");
    tx.objectStore("queue").put(first);
    tx.oncomplete = resolve;
  });
  db.close();
  return first.uuid;
}"""

# The round's fetch time moved 13 hours back, as if the phone had stayed in a pocket.
AGE_THE_ROUND = """async () => {
  const db = await new Promise((resolve) => {
    const request = indexedDB.open("mass-outreach");
    request.onsuccess = () => resolve(request.result);
  });
  await new Promise((resolve) => {
    const tx = db.transaction("meta", "readwrite");
    tx.objectStore("meta").put(Date.now() - 13 * 3600 * 1000, "fetched_at");
    tx.oncomplete = resolve;
  });
  db.close();
}"""


@pytest.fixture
def round_world(staff_factory):
    """A nurse of the mobile team, a shelter, and Kéké, seen there three weeks ago (so on
    the shelter's round)."""
    from tests.factories import PatientFactory, SiteFactory, VisitFactory
    nurse = staff_factory(Role.NURSE, username="e2e_outreach_nurse")
    shelter = SiteFactory(name="Samusocial shelter", kind="shelter")
    keke = PatientFactory(alias="Kéké Lasso", file_number="OUT-0042", birth_year=1984)
    VisitFactory(patient=keke, site=shelter,
                 date=timezone.localdate() - datetime.timedelta(days=21))
    return nurse, shelter, keke


def start_round(page, shelter, *, device_name="Team phone 2"):
    page.goto("/outreach/")
    # The page shows the start screen once it has looked at the device's storage.
    expect(page.get_by_role("heading", name="Start a round")).to_be_visible()
    device = page.get_by_label("Name of this device")
    if device.is_visible():
        device.fill(device_name)
    page.get_by_label("Place").select_option(str(shelter.pk))
    page.get_by_label("PIN for this round").fill(PIN)
    page.get_by_label("The same PIN again").fill(PIN)
    page.get_by_role("button", name="Fetch the round").click()
    expect(page.locator("[data-message]")).to_contain_text("Round ready")
    # The service worker has the shell before the connection goes.
    page.evaluate("""async () => {
      await navigator.serviceWorker.ready;
      while (!navigator.serviceWorker.controller) await new Promise((r) => setTimeout(r, 50));
    }""")


def unlock(page, pin=PIN):
    page.get_by_label("PIN", exact=True).fill(pin)
    page.get_by_role("button", name="Unlock").click()


def choose(page, search, name):
    page.get_by_label("Find a person").fill(search)
    page.locator("[data-people] button", has_text=name).click()


def record_note(page, text):
    page.get_by_label("What to record").select_option("note")
    page.get_by_label("Short note").fill(text)
    page.get_by_role("button", name="Record on this device").click()


def go_offline(page):
    page.context.set_offline(True)
    expect(page.locator("[data-connection]")).to_have_text("Offline")


def device_contents(page) -> dict:
    return page.evaluate(DEVICE_CONTENTS)


# Complexity 20, kept: one browser walk asserted step by step.
def test_offline_round_is_encrypted_on_the_device_and_reaches_the_server_once(
        page, steps, round_world):
    from consultations.models import Consultation
    from mass.models import AuditEvent
    from outreach.models import SyncedRecord
    from patients.models import HarmReductionContact, Patient, Visit
    nurse, shelter, keke = round_world
    login(page, "e2e_outreach_nurse")
    start_round(page, shelter)
    expect(page.locator("[data-people]")).to_contain_text("Kéké Lasso · OUT-0042 · born 1984")
    steps.shot("round-ready")

    go_offline(page)
    choose(page, "keke", "Kéké Lasso")
    record_note(page, NOTE)
    page.locator("summary", has_text="Register a person").click()
    page.get_by_label("Alias", exact=True).fill("Zébulon")
    page.get_by_label("Birth year (if known)").fill("1990")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator("[data-chosen]")).to_contain_text("Zébulon")
    page.get_by_label("What to record").select_option("contact")
    page.get_by_role("button", name="Record on this device").click()
    page.get_by_role("button", name="Anonymous material (no person)").click()
    page.locator("[data-material] input[name=handed_out]").first.fill("10")
    page.locator("[data-material] input[name=returned]").first.fill("4")
    page.get_by_role("button", name="Record on this device").click()
    expect(page.locator("[data-queue] li")).to_have_count(4)
    steps.shot("recorded-offline")

    # Reloaded with no network: the service worker's shell, the PIN, the queue.
    page.reload()
    expect(page.get_by_role("heading", name="Unlock the round")).to_be_visible()
    assert page.evaluate("fetch('/healthz').then(() => 'reached', () => 'offline')") == "offline"
    unlock(page)
    queue = page.locator("[data-queue] li")
    expect(queue).to_have_count(4)
    expect(queue.nth(0)).to_contain_text("Note")
    expect(queue.nth(0)).to_contain_text("Kéké Lasso")
    expect(queue.nth(1)).to_contain_text("New person (alias only)")
    expect(queue.nth(2)).to_contain_text("Zébulon")
    expect(queue.nth(3)).to_contain_text("Anonymous")
    steps.shot("queue-after-offline-reload")
    assert axe_check(page, rules=("color-contrast", "label")) == []

    # What a thief reading the phone's storage would find: ciphertext, and the shell.
    contents = device_contents(page)
    assert len(contents["stores"]["queue"]) == 4 and len(contents["stores"]["people"]) == 1
    assert any(entry["url"].endswith("/outreach/") for entry in contents["cached"])
    everything = json.dumps(contents, ensure_ascii=False)
    for secret in ["Kéké", "Lasso", "OUT-0042", "Zébulon", "Nord station", NOTE]:
        assert secret not in everything, secret
    assert not any("/api/" in entry["url"] for entry in contents["cached"])

    # Back online: the page sends the queue by itself.
    with page.expect_request("**/outreach/api/sync/") as sent:
        page.context.set_offline(False)
    batch = sent.value.post_data
    expect(page.locator("[data-report] [data-result=accepted]")).to_have_count(4)
    expect(page.locator("[data-message]")).to_contain_text(
        "Everything was sent. The round was wiped from this device.")
    expect(page.locator("[data-report]")).to_contain_text("Registered as file")
    steps.shot("sent")

    synced = SyncedRecord.objects.filter(user=nurse)
    assert sorted(synced.values_list("kind", flat=True)) == ["contact", "material", "note",
                                                            "person"]
    zebulon = Patient.objects.get(alias="Zébulon")
    assert zebulon.birth_year == 1990
    assert Visit.objects.filter(patient=zebulon, site=shelter).count() == 1
    note = Consultation.objects.get(patient=keke, note=NOTE)
    assert note.site == shelter and note.date == timezone.localdate()
    anonymous = HarmReductionContact.objects.get(site=shelter, patient=None)
    assert (anonymous.handed_out, anonymous.returned) == (10, 4)
    for row in synced:
        model = row.content_type.model_class()
        assert AuditEvent.objects.filter(
            actor=nurse, action=AuditEvent.Action.CREATE, object_type=model._meta.label_lower,
            object_id=str(row.object_id)).count() == 1, row.kind
    # The device keeps nothing of the round once it is all sent.
    assert all(items == [] for items in device_contents(page)["stores"].values())

    # The same batch sent again (a retry after a lost answer): nothing is written twice.
    counts = (SyncedRecord.objects.count(), Patient.objects.count(), Visit.objects.count(),
              Consultation.objects.count(), HarmReductionContact.objects.count(),
              AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).count())
    token = page.locator("[data-outreach]").get_attribute("data-csrf-token")
    replay = page.request.post("/outreach/api/sync/", data=batch, headers={
        "Content-Type": "application/json", "X-CSRFToken": token})
    assert replay.status == 200
    assert [r["status"] for r in replay.json()["results"]] == ["already"] * 4
    assert (SyncedRecord.objects.count(), Patient.objects.count(), Visit.objects.count(),
            Consultation.objects.count(), HarmReductionContact.objects.count(),
            AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).count()) == counts
    assert csp_errors(page) == []


def test_lost_device_has_its_pending_batch_refused(page, new_page, steps, round_world,
                                                   staff_factory):
    from consultations.models import Consultation
    from mass.models import AuditEvent
    from outreach.models import OutreachDevice, SyncedRecord
    nurse, shelter, keke = round_world
    staff_factory(Role.COORDINATOR, username="e2e_outreach_coordinator")
    login(page, "e2e_outreach_nurse")
    start_round(page, shelter, device_name="Phone lost on the tram")
    go_offline(page)
    choose(page, "OUT-0042", "Kéké Lasso")
    record_note(page, NOTE)
    expect(page.locator("[data-queue] li")).to_have_count(1)

    # The nurse calls the centre: the coordinator disables the phone.
    coordinator = new_page("en")
    login(coordinator, "e2e_outreach_coordinator")
    coordinator.goto("/outreach/devices/")
    row = coordinator.locator("tr", has_text="Phone lost on the tram")
    row.get_by_role("button", name="Disable (lost)").click()
    expect(coordinator.locator("tr", has_text="Phone lost on the tram")).to_contain_text(
        "Disabled on")
    assert OutreachDevice.objects.get(name="Phone lost on the tram").is_disabled

    # The disable ended the nurse's sessions: whoever holds the phone is asked to log in.
    page.context.set_offline(False)
    expect(page.locator("[data-message]")).to_contain_text("Your session has ended")
    expect(page.locator("[data-queue] li[data-status=pending]")).to_have_count(1)
    page.locator("[data-message] a", has_text="Log in").click()
    page.fill("input[name=username]", "e2e_outreach_nurse")
    page.fill("input[name=password]", "test-password-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/outreach/")
    unlock(page)
    page.get_by_role("button", name="Send now").click()
    refused = page.locator("[data-queue] li[data-status=refused]")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("Device disabled")
    expect(page.locator("[data-report] [data-result=refused]")).to_have_count(1)
    steps.shot("refused")
    assert not Consultation.objects.filter(note=NOTE).exists()
    assert not SyncedRecord.objects.exists()
    assert AuditEvent.objects.filter(actor=nurse,
                                     summary__contains="disabled outreach device").count() == 1
    assert OutreachDevice.objects.filter(user=nurse).count() == 1
    assert csp_errors(page, coordinator) == []


def test_tampered_record_is_shown_damaged_and_the_others_are_sent(page, steps, round_world):
    from consultations.models import Consultation
    nurse, shelter, keke = round_world
    page.set_viewport_size(PHONE)  # the team's phone
    login(page, "e2e_outreach_nurse")
    start_round(page, shelter)
    assert sideways_scroll(page) == 0
    go_offline(page)
    choose(page, "1984", "Kéké Lasso")
    record_note(page, "First note, to be tampered with.")
    record_note(page, "Second note, intact.")
    expect(page.locator("[data-queue] li")).to_have_count(2)

    page.evaluate(TAMPER_FIRST_RECORD)
    page.reload()
    unlock(page)
    damaged = page.locator("[data-queue] li[data-status=damaged]")
    expect(damaged).to_have_count(1)
    expect(damaged).to_contain_text("damaged, cannot be sent")
    expect(page.locator("[data-queue] li[data-status=pending]")).to_contain_text("Kéké Lasso")
    steps.shot("damaged")
    assert sideways_scroll(page) == 0
    assert axe_check(page, rules=("color-contrast", "label")) == []

    page.context.set_offline(False)
    expect(page.locator("[data-report] [data-result=accepted]")).to_have_count(1)
    expect(page.locator("[data-message]")).to_contain_text("1 sent, 0 refused, 1 damaged.")
    assert list(Consultation.objects.filter(patient=keke).values_list("note", flat=True)) == [
        "Second note, intact."]
    # The damaged record stays, said so, until the team removes it (or the round expires).
    expect(page.locator("[data-queue] li")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    damaged.get_by_role("button", name="Remove").click()
    expect(page.locator("[data-queue] li")).to_have_count(0)
    assert csp_errors(page) == []


def test_wrong_pins_the_12_hours_and_the_logout_wipe_the_device(page, steps, round_world):
    nurse, shelter, keke = round_world
    login(page, "e2e_outreach_nurse")
    start_round(page, shelter)

    page.reload()
    for left in [4, 3, 2, 1]:
        unlock(page, "000000")
        expect(page.locator("[data-message]")).to_contain_text(f"Wrong PIN. {left} tries left")
    unlock(page, "000000")
    expect(page.locator("[data-message]")).to_contain_text(
        "Too many wrong PINs: everything on this device was wiped.")
    expect(page.get_by_role("heading", name="Start a round")).to_be_visible()
    assert all(items == [] for items in device_contents(page)["stores"].values())
    assert axe_check(page, rules=("color-contrast", "label")) == []
    steps.shot("wiped-after-wrong-pins")

    start_round(page, shelter)
    page.evaluate(AGE_THE_ROUND)
    page.reload()
    expect(page.locator("[data-message]")).to_contain_text("more than 12 hours ago")
    assert all(items == [] for items in device_contents(page)["stores"].values())

    # Logging out tells the browser to clear the site's storage (Clear-Site-Data).
    start_round(page, shelter)
    assert device_contents(page)["stores"]["people"] != []
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    stores = page.evaluate("""async () => {
      const names = (await indexedDB.databases()).map((db) => db.name);
      return {databases: names, caches: await caches.keys()};
    }""")
    assert "mass-outreach" not in stores["databases"] and stores["caches"] == []
    assert csp_errors(page) == []


def test_every_kind_of_the_form_reaches_the_server_and_a_shared_phone_keeps_rounds_apart(
        page, steps, round_world, staff_factory):
    from alerts.models import Alert
    from consultations.models import Referral, ScreeningTest
    from patients.models import OutreachAttempt, Visit
    from tests.factories import PartnerFactory
    nurse, shelter, keke = round_world
    PartnerFactory(name="Transit detox")
    staff_factory(Role.NURSE, username="e2e_outreach_colleague")
    login(page, "e2e_outreach_nurse")
    start_round(page, shelter)
    choose(page, "keke", "Kéké Lasso")
    expect(page.locator("[data-chosen]")).to_contain_text("Kéké Lasso")

    kind = page.get_by_label("What to record")
    record = page.get_by_role("button", name="Record on this device")
    kind.select_option("contact")
    page.get_by_label("Purpose").select_option("harm_reduction")
    record.click()
    kind.select_option("screening")
    page.get_by_label("Test", exact=True).select_option("hcv")
    page.get_by_label("Result", exact=True).select_option("negative")
    record.click()
    kind.select_option("referral")
    page.get_by_label("Referred to").select_option(label="Transit detox")
    page.get_by_label("Reason").fill("Asks for a detox bed.")
    record.click()
    kind.select_option("attempt")
    page.get_by_label("Outcome").select_option("reached")
    record.click()
    kind.select_option("initiation")
    page.get_by_label("What was decided, and why").fill("Methadone decided with the team.")
    record.click()
    expect(page.locator("[data-queue] li")).to_have_count(5)
    steps.shot("five-kinds")

    page.get_by_role("button", name="Send now").click()
    expect(page.locator("[data-report] [data-result=accepted]")).to_have_count(5)
    assert Visit.objects.get(patient=keke, site=shelter,
                             date=timezone.localdate()).purpose == "harm_reduction"
    assert ScreeningTest.objects.get(patient=keke).result == "negative"
    assert Referral.objects.get(patient=keke).reason == "Asks for a detox bed."
    assert OutreachAttempt.objects.get(patient=keke).result == "reached"
    assert Alert.objects.filter(patient=keke, kind=Alert.Kind.DOCTOR_FIRST).count() == 1

    # A new round, then the session ends without a logout (the phone put down): the next
    # member on the phone cannot open it, and may only wipe it to start their own.
    start_round(page, shelter)
    page.context.clear_cookies()
    login(page, "e2e_outreach_colleague")
    page.goto("/outreach/")
    expect(page.get_by_role("heading", name="This device holds another member's round")) \
        .to_be_visible()
    expect(page.get_by_label("PIN", exact=True)).to_be_hidden()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Wipe it and start my round").click()
    expect(page.get_by_role("heading", name="Start a round")).to_be_visible()
    assert all(items == [] for items in device_contents(page)["stores"].values())
    assert csp_errors(page) == []


def test_a_session_ended_during_the_round_keeps_the_records_until_the_next_login(
        page, steps, round_world):
    from django.conf import settings

    from consultations.models import Consultation
    nurse, shelter, keke = round_world
    login(page, "e2e_outreach_nurse")
    start_round(page, shelter)
    go_offline(page)
    choose(page, "keke", "Kéké Lasso")
    record_note(page, NOTE)
    # In the queue (the page lists it once stored): what the connection's return sends.
    expect(page.locator("[data-queue] li[data-status=pending]")).to_have_count(1)

    # Half an hour without a request: the session is over when the connection comes back.
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
    page.context.set_offline(False)
    expect(page.locator("[data-message]")).to_contain_text(
        "Your session has ended: log in again to send the records.")
    expect(page.locator("[data-queue] li[data-status=pending]")).to_have_count(1)
    assert not Consultation.objects.filter(note=NOTE).exists()
    steps.shot("session-ended")

    page.locator("[data-message] a", has_text="Log in").click()
    page.fill("input[name=username]", "e2e_outreach_nurse")
    page.fill("input[name=password]", "test-password-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/outreach/")
    unlock(page)
    page.get_by_role("button", name="Send now").click()
    expect(page.locator("[data-message]")).to_contain_text("Everything was sent.")
    assert Consultation.objects.filter(patient=keke, note=NOTE).count() == 1
    assert csp_errors(page) == []
