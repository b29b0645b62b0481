// The outreach page (templates/outreach/page.html; docs/features.md, "The outreach page"):
// start a round with a PIN, fetch the people of a place, record offline, send when connected.
// Every word shown comes translated from the page (the outreach-config JSON or the
// template); the data is kept by MassOutreachVault (vault.js), encrypted.
(function () {
  "use strict";
  var root = document.querySelector("[data-outreach]");
  var configElement = document.getElementById("outreach-config");
  if (!root || !configElement) return;
  var config = JSON.parse(configElement.textContent);
  var S = config.strings;
  var Vault = window.MassOutreachVault;
  var ROUND_MS = config.round_hours * 3600 * 1000;
  // The device's registration belongs to one user: a team phone used by several people holds
  // one id per user.
  var DEVICE_COOKIE = "mass_outreach_device_" + config.user;

  var state = {
    key: null,          // the round's CryptoKey: in memory only
    round: null,        // site, materials, disciplines, limits
    people: [],         // the round's people, decrypted
    queue: [],          // [{uuid, envelope} | {uuid, damaged}]
    refused: {},        // uuid -> reason given by the server at the last sync
    chosen: null,       // {patient: id} | {person: uuid} | {anonymous: true}, with a label
    syncing: false,
  };

  function $(selector) { return root.querySelector(selector); }
  function format(text, params) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) { return params[name]; });
  }
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  var message = $("[data-message]");
  function say(text, level) {
    message.textContent = text || "";
    message.className = "alert alert-" + (level || "info");
    message.hidden = !text;
  }
  // A message with a link (the login page, for a session that ended while offline).
  function sayWithLink(text, linkText, href) {
    say(text, "warning");
    var link = element("a", "alert-link ms-1", linkText);
    link.href = href;
    message.appendChild(link);
  }

  function show(screen) {
    root.querySelectorAll("[data-screen]").forEach(function (section) {
      section.hidden = section.getAttribute("data-screen") !== screen;
    });
  }

  // --- time ---------------------------------------------------------------------------------
  function pad(number) { return String(number).padStart(2, "0"); }
  // ISO 8601 with the device's offset: the server keeps it as the time the thing happened.
  function nowWithOffset() {
    var now = new Date();
    var offset = -now.getTimezoneOffset();
    return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate()) +
      "T" + pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds()) +
      (offset >= 0 ? "+" : "-") + pad(Math.floor(Math.abs(offset) / 60)) + ":" +
      pad(Math.abs(offset) % 60);
  }
  function timeOfDay(date) {
    return date.toLocaleTimeString(document.documentElement.lang || undefined,
                                   {hour: "2-digit", minute: "2-digit"});
  }

  // --- connection and service worker --------------------------------------------------------
  var badge = $("[data-connection]");
  function showConnection() {
    badge.textContent = navigator.onLine ? S.online : S.offline_badge;
    badge.className = "badge " + (navigator.onLine ? "text-bg-success" : "text-bg-warning");
  }

  // The page's own files, for the service worker to keep for offline use (it never keeps
  // anything from the API).
  function shellUrls() {
    var urls = [config.urls.page];
    document.querySelectorAll("script[src], link[href]").forEach(function (node) {
      var url = new URL(node.src || node.href, location.href);
      if (url.origin === location.origin) urls.push(url.pathname + url.search);
    });
    return urls.concat(config.icons || []);
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(config.urls.worker, {scope: config.urls.page})
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        if (registration.active) {
          registration.active.postMessage({type: "cache-shell", urls: shellUrls()});
        }
      })
      .catch(function () { /* the page still works online */ });
  }

  // --- the device ---------------------------------------------------------------------------
  // The device's id is a cookie, not storage: the logout's Clear-Site-Data wipes storage,
  // and the phone must stay one device on the staff page (to be disabled if lost).
  function deviceId() {
    var match = document.cookie.match(new RegExp("(?:^|; )" + DEVICE_COOKIE + "=([0-9a-f-]{36})"));
    return match ? match[1] : null;
  }
  function keepDeviceId(uuid) {
    document.cookie = DEVICE_COOKIE + "=" + uuid + "; path=" + config.urls.page +
      "; max-age=" + (5 * 365 * 24 * 3600) + "; samesite=strict" +
      (location.protocol === "https:" ? "; secure" : "");
  }

  function forgetDeviceId() {
    document.cookie = DEVICE_COOKIE + "=; path=" + config.urls.page + "; max-age=0";
  }

  function csrfToken() { return root.getAttribute("data-csrf-token"); }

  function loggedOut(response) {
    return response.redirected || response.type === "opaqueredirect" || response.status === 401;
  }

  // The server's reason ({"error": "..."}, in the user's language) or a general message.
  function refusal(response, fallback) {
    return response.json()
      .then(function (body) { return body.error; }, function () { return null; })
      .then(function (reason) {
        say(reason || format(fallback, {status: response.status}), "danger");
      });
  }

  function sessionEnded() {
    sayWithLink(S.session_ended, S.log_in,
                config.urls.login + "?next=" + encodeURIComponent(config.urls.page));
  }

  function postJson(url, body, token) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token,
                "Accept": "application/json"},
      body: JSON.stringify(body),
    });
  }

  function ensureDevice(name) {
    var known = deviceId();
    if (known) return Promise.resolve(known);
    return postJson(config.urls.devices, {name: name}, csrfToken()).then(function (response) {
      if (loggedOut(response)) { sessionEnded(); throw new Error("session"); }
      if (!response.ok) {
        return refusal(response, S.device_refused).then(function () { throw new Error("device"); });
      }
      return response.json().then(function (data) {
        keepDeviceId(data.device);
        return data.device;
      });
    });
  }

  // --- starting, unlocking, expiry ----------------------------------------------------------
  function showStart() {
    state.key = null;
    $("[data-device-name-group]").hidden = Boolean(deviceId());
    show("start");
  }

  function lock() {
    state.key = null;
    state.round = null;
    state.people = [];
    state.queue = [];
    state.chosen = null;
    show("unlock");
    $("[data-unlock-form] input[name=pin]").value = "";
  }

  function wipe(text, level) {
    return Vault.wipe().then(function () {
      lock();
      state.refused = {};
      showStart();
      say(text, level || "warning");
    });
  }

  function expired() {
    return Vault.getMeta("fetched_at").then(function (fetchedAt) {
      return Boolean(fetchedAt) && Date.now() - fetchedAt > ROUND_MS;
    });
  }

  function wipeIfExpired() {
    return expired().then(function (isExpired) {
      if (isExpired) {
        return wipe(format(S.expired, {hours: config.round_hours})).then(function () { return true; });
      }
      return false;
    });
  }

  $("[data-start-form]").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var pin = form.elements.pin.value;
    if (pin.length < config.pin_min_length) {
      say(format(S.pin_too_short, {n: config.pin_min_length}), "danger");
      form.elements.pin.focus();
      return;
    }
    if (pin !== form.elements.pin_again.value) {
      say(S.pin_mismatch, "danger");
      form.elements.pin_again.focus();
      return;
    }
    if (!navigator.onLine) { say(S.offline, "warning"); return; }
    var site = form.elements.site.value;
    var name = form.elements.device_name.value.trim() || navigator.platform || "outreach";
    say(S.fetching);
    ensureDevice(name)
      .then(function (device) {
        var url = config.urls.round + "?site=" + encodeURIComponent(site) +
          "&device=" + encodeURIComponent(device);
        return fetch(url, {credentials: "same-origin", cache: "no-store",
                           headers: {"Accept": "application/json"}});
      })
      .then(function (response) {
        if (loggedOut(response)) { sessionEnded(); throw new Error("session"); }
        if (!response.ok) {
          // A device disabled as lost, then found: it is registered again (a new id) at the
          // next round, and the coordinator sees the new registration. The server allows it
          // only after a new login and 12 hours after the disable (outreach.services).
          if (response.status === 403) forgetDeviceId();
          return refusal(response, S.server_refused).then(function () { throw new Error("round"); });
        }
        return response.json();
      })
      .then(function (round) {
        var fetchedAt = Date.now();
        return Vault.wipe()
          .then(function () { return Vault.create(pin, config.pbkdf2_iterations, config.user); })
          .then(function (key) {
            state.key = key;
            return Vault.saveRound(key, round, fetchedAt);
          })
          .then(function () {
            form.reset();
            return open().catch(function () { say(S.failed, "danger"); });
          })
          .then(function () {
            say(format(S.fetched, {n: state.people.length,
                                   time: timeOfDay(new Date(fetchedAt + ROUND_MS))}), "success");
          });
      })
      .catch(function (error) {
        if (error instanceof TypeError) say(S.offline, "warning");  // the network failed
      });
  });

  $("[data-unlock-form]").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = event.target.elements.pin;
    wipeIfExpired().then(function (wiped) {
      if (wiped) return;
      return Vault.unlock(input.value, config.wrong_pins_before_wipe)
        .then(function (key) {
          input.value = "";
          state.key = key;
          say("");
          return open().catch(function () { say(S.failed, "danger"); });
        }, function (failure) {
          input.value = "";
          if (failure && failure.wiped) return wipe(S.pin_wiped, "danger");
          say(format(S.pin_wrong, {n: failure.left}), "danger");
          input.focus();
        });
    });
  });

  // The unlocked round: read and decrypt it, show the work screen.
  function open() {
    var damagedRound = false;
    var round = Vault.readRound(state.key).catch(function () { damagedRound = true; return null; });
    return Promise.all([round, Vault.readPeople(state.key), Vault.getMeta("fetched_at")])
      .then(function (results) {
        state.round = results[0] || {};
        if (damagedRound) say(S.round_damaged, "danger");
        state.people = results[1];
        var until = new Date(results[2] + ROUND_MS);
        $("[data-round-summary]").textContent = (state.round.site ? state.round.site.name + " · " : "") +
          format(S.expires_at, {time: timeOfDay(until)});
        fillRecordForm();
        return reloadQueue();
      })
      .then(function () {
        show("work");
        renderPeople();
        $("[data-search]").focus();
      });
  }

  // --- people -------------------------------------------------------------------------------
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // The round's people and those registered on this device, not yet sent.
  function everyone() {
    var registered = state.queue.filter(function (item) {
      return item.envelope && item.envelope.record.kind === "person";
    }).map(function (item) {
      var record = item.envelope.record;
      return {person: record.uuid, alias: record.alias, birth_year: record.birth_year || null,
              file_number: "", alerts: [], photo: null};
    });
    return registered.concat(state.people);
  }

  function personLabel(person) {
    var parts = [person.alias];
    if (person.file_number) parts.push(person.file_number);
    if (person.birth_year) parts.push(format(S.born, {year: person.birth_year}));
    if (person.person) parts.push(S.new_person);
    return parts.join(" · ");
  }

  function renderPeople() {
    var list = $("[data-people]");
    var query = fold($("[data-search]").value.trim());
    list.textContent = "";
    var found = everyone().filter(function (person) {
      return !query || fold(person.alias).indexOf(query) !== -1 ||
        fold(person.file_number).indexOf(query) !== -1 || String(person.birth_year) === query;
    }).slice(0, 50);
    if (!found.length) {
      list.appendChild(element("li", "list-group-item text-muted", S.no_one_found));
      return;
    }
    found.forEach(function (person) {
      var item = element("li", "list-group-item p-0");
      var button = element("button", "btn btn-link text-start w-100 d-flex gap-2 align-items-center text-decoration-none");
      button.type = "button";
      button.setAttribute("data-person", person.person || person.id);
      if (person.photo) {
        var photo = element("img", "outreach-photo rounded");
        photo.src = person.photo;
        photo.alt = "";
        button.appendChild(photo);
      }
      var text = element("span", null, personLabel(person));
      button.appendChild(text);
      (person.alerts || []).forEach(function (alert) {
        button.appendChild(element("span", "badge text-bg-danger", alert.label));
      });
      button.addEventListener("click", function () { choose(person); });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function choose(person) {
    state.chosen = person ? (person.person ? {person: person.person} : {patient: person.id})
                          : {anonymous: true};
    state.chosen.label = person ? personLabel(person) : S.anonymous;
    $("[data-chosen]").textContent = state.chosen.label;
    var alerts = $("[data-chosen-alerts]");
    alerts.textContent = "";
    ((person && person.alerts) || []).forEach(function (alert) {
      alerts.appendChild(element("li", "badge text-bg-danger me-1", alert.label));
    });
    if (!person) $("[data-record-form] select[name=kind]").value = "material";
    showKindFields();
    $("[data-record-form] select[name=kind]").focus();
  }

  $("[data-search]").addEventListener("input", renderPeople);
  $("[data-anonymous]").addEventListener("click", function () { choose(null); });

  $("[data-person-form]").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var alias = form.elements.alias.value.trim();
    if (!alias) { say(S.alias_required, "danger"); form.elements.alias.focus(); return; }
    var record = newRecord("person");
    record.alias = alias;
    if (form.elements.birth_year.value) record.birth_year = Number(form.elements.birth_year.value);
    if (form.elements.sex.value) record.sex = form.elements.sex.value;
    queue(record, alias).then(function () {
      form.reset();
      renderPeople();
      choose(everyone()[state.queue.filter(function (item) {
        return item.envelope && item.envelope.record.kind === "person";
      }).length - 1]);
    });
  });

  // --- recording ----------------------------------------------------------------------------
  var recordForm = $("[data-record-form]");

  function fillRecordForm() {
    var rows = $("[data-material-rows]");
    rows.textContent = "";
    (state.round.materials || []).forEach(function (material, index) {
      var row = element("tr");
      row.setAttribute("data-material", material.code);
      var label = element("th", null);
      label.scope = "row";
      var name = element("label", null, material.label);
      name.htmlFor = "outreach-material-" + index;
      label.appendChild(name);
      row.appendChild(label);
      ["handed_out", "returned"].forEach(function (field) {
        var cell = element("td");
        var input = element("input", "form-control form-control-sm outreach-quantity");
        input.type = "number";
        input.min = "0";
        input.max = "999";
        input.inputMode = "numeric";
        input.name = field;
        if (field === "handed_out") input.id = "outreach-material-" + index;
        else input.setAttribute("aria-label", material.label + " — " +
                                recordForm.querySelector("[data-fields=material] th:nth-child(3)").textContent);
        cell.appendChild(input);
        row.appendChild(cell);
      });
      rows.appendChild(row);
    });
    fillSelect($("[data-disciplines]"), state.round.note_disciplines);
    fillSelect($("[data-partners]"), (state.round.partners || []).map(function (partner) {
      return {code: partner.id, label: partner.name};
    }));
    var choices = state.round.choices || {};
    root.querySelectorAll("[data-choices]").forEach(function (select) {
      fillSelect(select, choices[select.getAttribute("data-choices")]);
    });
    // Only the kinds this user may record (an initiation is for nurses and doctors).
    var kinds = state.round.kinds;
    recordForm.elements.kind.querySelectorAll("option").forEach(function (option) {
      option.hidden = option.disabled = Boolean(kinds) && kinds.indexOf(option.value) === -1;
    });
    var firstKind = recordForm.elements.kind.querySelector("option:not([disabled])");
    if (firstKind) recordForm.elements.kind.value = firstKind.value;
    $("[data-person-form]").closest("details").hidden = Boolean(kinds) && kinds.indexOf("person") === -1;
    var textarea = recordForm.elements.note_text;
    var max = noteMax();
    if (max) textarea.maxLength = max;
    showNoteLeft();
    showKindFields();
  }

  // The options of a select from the round's [{code, label}]; a first empty option stays.
  function fillSelect(select, options) {
    select.querySelectorAll("option:not([value=''])").forEach(function (option) { option.remove(); });
    (options || []).forEach(function (choice) {
      var option = element("option", null, choice.label);
      option.value = choice.code;
      select.appendChild(option);
    });
  }

  function noteMax() { return (state.round && state.round.limits && state.round.limits.note_max_chars) || 0; }

  function showNoteLeft() {
    var max = noteMax();
    $("[data-note-left]").textContent = max ? format(S.note_left, {
      n: recordForm.elements.note_text.value.length, max: max}) : "";
  }
  recordForm.elements.note_text.addEventListener("input", showNoteLeft);

  function showKindFields() {
    var kind = recordForm.elements.kind.value;
    recordForm.querySelectorAll("[data-fields]").forEach(function (fieldset) {
      fieldset.hidden = fieldset.getAttribute("data-fields") !== kind;
    });
  }
  recordForm.elements.kind.addEventListener("change", showKindFields);

  function newRecord(kind) {
    return {uuid: crypto.randomUUID(), kind: kind, made_at: nowWithOffset(),
            site: state.round.site ? state.round.site.id : null, patient: null, person: null};
  }

  // The fields of each kind, from the form; a message (and null) when something is missing.
  var readers = {
    contact: function () {
      return recordForm.elements.purpose.value ? {purpose: recordForm.elements.purpose.value} : {};
    },
    material: function () {
      var lines = [];
      recordForm.querySelectorAll("[data-material]").forEach(function (row) {
        var out = Number(row.querySelector("[name=handed_out]").value || 0);
        var back = Number(row.querySelector("[name=returned]").value || 0);
        if (out > 0 || back > 0) {
          lines.push({code: row.getAttribute("data-material"), handed_out: out, returned: back});
        }
      });
      return lines.length ? {lines: lines} : S.nothing_handed;
    },
    note: function () {
      var text = recordForm.elements.note_text.value.trim();
      if (!text) return S.text_required;
      if (noteMax() && text.length > noteMax()) return format(S.note_too_long, {max: noteMax()});
      return {text: text, discipline: recordForm.elements.discipline.value};
    },
    screening: function () {
      return {test: recordForm.elements.test.value, result: recordForm.elements.result.value};
    },
    referral: function () {
      var text = recordForm.elements.referral_text.value.trim();
      if (!recordForm.elements.partner.value) return S.partner_required;
      return text ? {partner: Number(recordForm.elements.partner.value), text: text}
                  : S.text_required;
    },
    attempt: function () {
      return {outcome: recordForm.elements.outcome.value};
    },
    initiation: function () {
      var text = recordForm.elements.initiation_text.value.trim();
      return text ? {text: text} : S.text_required;
    },
  };

  recordForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var kind = recordForm.elements.kind.value;
    var chosen = state.chosen;
    var anonymousAllowed = kind === "material";
    if (!chosen || (chosen.anonymous && !anonymousAllowed)) {
      say(S.choose_person, "danger");
      $("[data-search]").focus();
      return;
    }
    var fields = readers[kind]();
    if (typeof fields === "string") { say(fields, "danger"); return; }
    var record = Object.assign(newRecord(kind), fields);
    if (chosen.patient) record.patient = chosen.patient;
    if (chosen.person) record.person = chosen.person;
    queue(record, chosen.label).then(function () {
      recordForm.querySelectorAll("textarea, input").forEach(function (input) { input.value = ""; });
      var fieldset = recordForm.querySelector("[data-fields=" + kind + "]");
      if (fieldset) fieldset.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
      showNoteLeft();
    });
  });

  // Encrypts and keeps the record; ``label`` (who it is about) is for this page's queue
  // list only and is never sent.
  function queue(record, label) {
    return Vault.queueAdd(state.key, {record: record, label: label})
      .then(reloadQueue)
      .then(function () {
        // Not sent at once even when connected: a fully sent round is wiped from the device,
        // so sending is the worker's decision (the button), or the connection coming back.
        say(format(S.queued, {kind: S["kind_" + record.kind]}), "success");
      });
  }

  // --- the queue ----------------------------------------------------------------------------
  function reloadQueue() {
    return Vault.queueRead(state.key).then(function (items) {
      state.queue = items;
      renderQueue();
    });
  }

  function renderQueue() {
    var list = $("[data-queue]");
    list.textContent = "";
    $("[data-queue-count]").textContent = state.queue.length;
    state.queue.forEach(function (item) {
      var row = element("li", "list-group-item d-flex flex-wrap gap-2 align-items-center");
      row.setAttribute("data-queued", item.uuid);
      var status;
      if (item.damaged) {
        row.classList.add("list-group-item-danger");
        row.appendChild(element("span", null, S.status_damaged));
        status = "damaged";
      } else {
        var record = item.envelope.record;
        row.appendChild(element("strong", null, S["kind_" + record.kind] || record.kind));
        row.appendChild(element("span", null, item.envelope.label));
        row.appendChild(element("span", "text-muted small", record.made_at.slice(11, 16)));
        var reason = state.refused[item.uuid];
        status = reason ? "refused" : "pending";
        if (reason) row.classList.add("list-group-item-warning");
        row.appendChild(element("span", "badge " + (reason ? "text-bg-warning" : "text-bg-secondary"),
                                reason ? S.status_refused + ": " + reason : S.status_pending));
      }
      row.setAttribute("data-status", status);
      if (status !== "pending") {
        var remove = element("button", "btn btn-sm btn-danger ms-auto", S.remove);
        remove.type = "button";
        remove.addEventListener("click", function () {
          if (!window.confirm(S.remove_confirm)) return;
          Vault.queueDelete([item.uuid]).then(reloadQueue).then(renderPeople);
        });
        row.appendChild(remove);
      }
      list.appendChild(row);
    });
  }

  // --- sending ------------------------------------------------------------------------------
  // A CSRF token of this session: the page may come from the service worker's copy, made
  // before a new login, so it is read again from the server before sending.
  function freshToken() {
    return fetch(config.urls.page, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (loggedOut(response) || !response.ok) { sessionEnded(); return null; }
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var shell = page.querySelector("[data-outreach]");
          if (!shell) { sessionEnded(); return null; }
          var token = shell.getAttribute("data-csrf-token");
          root.setAttribute("data-csrf-token", token);
          return token;
        });
      });
  }

  function sync() {
    if (state.syncing || !state.key) return Promise.resolve();
    var sendable = state.queue.filter(function (item) { return !item.damaged; });
    var damaged = state.queue.length - sendable.length;
    if (!sendable.length) return Promise.resolve();
    if (!navigator.onLine) { say(S.offline, "warning"); return Promise.resolve(); }
    state.syncing = true;
    var counts = {accepted: 0, refused: 0, damaged: damaged};
    $("[data-report-list]").textContent = "";
    $("[data-report]").hidden = false;
    say(format(S.syncing, {n: sendable.length}));
    return freshToken()
      .then(function (token) {
        if (!token) return false;
        var batches = [];
        var size = (state.round.limits && state.round.limits.sync_max_records) || config.sync_batch_max;
        for (var start = 0; start < sendable.length; start += size) {
          batches.push(sendable.slice(start, start + size));
        }
        // One batch after the other, in the order recorded: a person before their records.
        return batches.reduce(function (previous, batch) {
          return previous.then(function (going) {
            return going && sendBatch(token, batch, counts);
          });
        }, Promise.resolve(true));
      })
      .then(function (complete) {
        return reloadQueue().then(function () {
          renderPeople();
          if (!complete) return;
          if (!state.queue.length) return wipe(S.all_sent, "success");
          say(format(S.sync_done, counts), counts.refused || counts.damaged ? "warning" : "success");
        });
      })
      .catch(function () { say(S.offline, "warning"); })
      .then(function () { state.syncing = false; });
  }

  // One line of the last sending's report: what, about whom, and the server's answer.
  function report(envelope, result) {
    var row = element("li", "list-group-item d-flex flex-wrap gap-2");
    row.setAttribute("data-result", result.status);
    if (envelope) {
      row.appendChild(element("strong", null, S["kind_" + envelope.record.kind]));
      row.appendChild(element("span", null, envelope.label));
    }
    var level = result.status === "refused" ? "text-bg-warning" : "text-bg-success";
    row.appendChild(element("span", "badge " + level, S["status_" + result.status] || result.status));
    if (result.reason) row.appendChild(element("span", "small", result.reason));
    $("[data-report-list]").appendChild(row);
  }

  function sendBatch(token, batch, counts) {
    var body = {device: deviceId(),
                records: batch.map(function (item) { return item.envelope.record; })};
    return postJson(config.urls.sync, body, token).then(function (response) {
      if (loggedOut(response)) { sessionEnded(); return false; }
      if (!response.ok) return refusal(response, S.server_refused).then(function () { return false; });
      return response.json().then(function (answer) {
        var sent = [];
        var byUuid = {};
        batch.forEach(function (item) { byUuid[item.uuid] = item.envelope; });
        (answer.results || []).forEach(function (result) {
          report(byUuid[result.uuid], result);
          if (result.status === "accepted" || result.status === "already") {
            sent.push(result.uuid);
            delete state.refused[result.uuid];
            counts.accepted += 1;
          } else {
            state.refused[result.uuid] = result.reason || result.status;
            counts.refused += 1;
          }
        });
        return Vault.queueDelete(sent).then(function () { return true; });
      });
    });
  }

  $("[data-sync]").addEventListener("click", function () { sync(); });
  $("[data-lock]").addEventListener("click", function () {
    lock();
    say("");
    $("[data-report]").hidden = true;
    $("[data-report-list]").textContent = "";
  });
  root.querySelectorAll("[data-wipe]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (window.confirm(S.wipe_confirm)) wipe(S.wiped, "info");
    });
  });

  window.addEventListener("online", function () { showConnection(); sync(); });
  window.addEventListener("offline", showConnection);
  // A round left open past its 12 hours is wiped even if no one touches the page.
  window.setInterval(function () { wipeIfExpired(); }, 60 * 1000);

  // --- opening the page ---------------------------------------------------------------------
  showConnection();
  if (!window.crypto || !crypto.subtle || !crypto.randomUUID || !window.indexedDB) {
    say(S.no_crypto, "danger");
    return;
  }
  registerWorker();
  wipeIfExpired()
    .then(function (wiped) {
      if (wiped) return;
      return Vault.getMeta("lock").then(function (existing) {
        if (existing && existing.owner !== config.user) {
          // Another member's round, left when their session ended (a logout would have
          // wiped it): they may still send it; this member may only wipe it to start theirs.
          show("other");
        } else if (existing) {
          show("unlock");
          $("[data-unlock-form] input[name=pin]").focus();
        } else {
          showStart();
        }
      });
    })
    .catch(function () { say(S.no_crypto, "danger"); });
})();
