// The outreach page's encrypted store (issue 16; docs/security.md, "The outreach device").
//
// Nothing about a person is written to the device in clear: the round (people, alerts,
// photos) and every record not yet sent are kept in IndexedDB, each item encrypted on its
// own with AES-GCM (256-bit key, a random 96-bit IV per item, the item's store and key as
// additional data so that no item can be moved to another place). The key is derived from
// the round's PIN with PBKDF2-SHA-256 and a random salt; it is not extractable and lives in
// the page's memory only, so a reload asks for the PIN again. What is kept in clear is only
// what the page needs before the PIN: the salt, the count of wrong PINs and the time the
// round was fetched (for the 12-hour expiry).
(function () {
  "use strict";
  var DB_NAME = "mass-outreach";
  var STORES = ["meta", "people", "queue"];
  // Encrypted with the key when the round starts: decrypting it proves the PIN.
  var PIN_CHECK = "mass-outreach-pin-check";
  var encoder = new TextEncoder();
  var decoder = new TextDecoder();
  var connection = null;

  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function database() {
    if (connection) return Promise.resolve(connection);
    var request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = function () {
      var db = request.result;
      db.createObjectStore("meta");
      db.createObjectStore("people", {keyPath: "id"});
      db.createObjectStore("queue", {keyPath: "uuid"});
    };
    return done(request).then(function (db) {
      // Clear-Site-Data at logout, or another tab wiping: let the database go.
      db.onversionchange = function () { db.close(); connection = null; };
      connection = db;
      return db;
    });
  }

  // Runs ``work(store...)`` in one transaction over ``names``; resolves with what ``work``
  // returned (a request's result, or a plain value) once the transaction is complete.
  function transact(names, mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(names, mode);
        var result = work.apply(null, names.map(function (name) { return tx.objectStore(name); }));
        tx.oncomplete = function () {
          resolve(result instanceof IDBRequest ? result.result : result);
        };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function additionalData(store, id) {
    return encoder.encode("mass-outreach/" + store + "/" + id);
  }

  function encrypt(key, store, id, value) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    var plain = encoder.encode(JSON.stringify(value));
    return crypto.subtle.encrypt({name: "AES-GCM", iv: iv, additionalData: additionalData(store, id)},
                                 key, plain)
      .then(function (data) { return {iv: iv, data: data}; });
  }

  // Rejects when the item was altered (GCM's tag does not match) or the key is not the one.
  function decrypt(key, store, id, box) {
    return crypto.subtle.decrypt({name: "AES-GCM", iv: box.iv, additionalData: additionalData(store, id)},
                                 key, box.data)
      .then(function (plain) { return JSON.parse(decoder.decode(plain)); });
  }

  function deriveKey(pin, salt, iterations) {
    return crypto.subtle.importKey("raw", encoder.encode(pin), "PBKDF2", false, ["deriveKey"])
      .then(function (material) {
        return crypto.subtle.deriveKey(
          {name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: iterations},
          material, {name: "AES-GCM", length: 256}, false, ["encrypt", "decrypt"]);
      });
  }

  function getMeta(name) {
    return transact(["meta"], "readonly", function (meta) { return meta.get(name); });
  }

  function setMeta(name, value) {
    return transact(["meta"], "readwrite", function (meta) { meta.put(value, name); });
  }

  var Vault = {
    getMeta: getMeta,
    setMeta: setMeta,

    // The round's key from a new PIN: a new random salt, and the PIN check. ``owner`` is
    // the user id of who started the round (a team phone is shared).
    create: function (pin, iterations, owner) {
      var salt = crypto.getRandomValues(new Uint8Array(16));
      return deriveKey(pin, salt, iterations).then(function (key) {
        return encrypt(key, "meta", "check", PIN_CHECK).then(function (check) {
          return setMeta("lock", {salt: salt, iterations: iterations, check: check,
                                  wrong_pins: 0, owner: owner});
        }).then(function () { return key; });
      });
    },

    // The key, if ``pin`` is the round's; else rejects with {left: n}, or {wiped: true}
    // when this was the last try allowed (everything is then wiped).
    unlock: function (pin, allowedTries) {
      return getMeta("lock").then(function (lock) {
        if (!lock) return Promise.reject({wiped: true});
        return deriveKey(pin, lock.salt, lock.iterations).then(function (key) {
          return decrypt(key, "meta", "check", lock.check).then(function (value) {
            if (value !== PIN_CHECK) throw new Error("check");
            lock.wrong_pins = 0;
            return setMeta("lock", lock).then(function () { return key; });
          });
        }).catch(function () {
          lock.wrong_pins = (lock.wrong_pins || 0) + 1;
          if (lock.wrong_pins >= allowedTries) {
            return Vault.wipe().then(function () { return Promise.reject({wiped: true}); });
          }
          return setMeta("lock", lock).then(function () {
            return Promise.reject({left: allowedTries - lock.wrong_pins});
          });
        });
      });
    },

    saveRound: function (key, round, fetchedAt) {
      var people = round.people || [];
      var summary = Object.assign({}, round, {people: undefined});
      return Promise.all([encrypt(key, "meta", "round", summary)].concat(
        people.map(function (person, index) { return encrypt(key, "people", index, person); })
      )).then(function (boxes) {
        return transact(["meta", "people"], "readwrite", function (meta, store) {
          meta.put(boxes[0], "round");
          meta.put(fetchedAt, "fetched_at");
          store.clear();
          boxes.slice(1).forEach(function (box, index) {
            store.put({id: index, iv: box.iv, data: box.data});
          });
        });
      });
    },

    readRound: function (key) {
      return getMeta("round").then(function (box) { return box ? decrypt(key, "meta", "round", box) : null; });
    },

    // The round's people; an item that does not decrypt is left out (and counted).
    readPeople: function (key) {
      return transact(["people"], "readonly", function (store) { return store.getAll(); })
        .then(function (items) {
          return Promise.all(items.map(function (item) {
            return decrypt(key, "people", item.id, item).catch(function () { return null; });
          }));
        })
        .then(function (people) { return people.filter(Boolean); });
    },

    queueAdd: function (key, envelope) {
      var uuid = envelope.record.uuid;
      return encrypt(key, "queue", uuid, envelope).then(function (box) {
        return transact(["queue"], "readwrite", function (queue) {
          queue.put({uuid: uuid, seq: Date.now() + Math.random(), iv: box.iv, data: box.data});
        });
      });
    },

    // Every queued item in the order it was made: {uuid, envelope} or {uuid, damaged: true}
    // when its ciphertext was altered (it can never be sent, the others still are).
    queueRead: function (key) {
      return transact(["queue"], "readonly", function (queue) { return queue.getAll(); })
        .then(function (items) {
          items.sort(function (a, b) { return a.seq - b.seq; });
          return Promise.all(items.map(function (item) {
            return decrypt(key, "queue", item.uuid, item)
              .then(function (envelope) {
                if (!envelope || !envelope.record || envelope.record.uuid !== item.uuid) {
                  return {uuid: item.uuid, damaged: true};
                }
                return {uuid: item.uuid, envelope: envelope};
              })
              .catch(function () { return {uuid: item.uuid, damaged: true}; });
          }));
        });
    },

    queueDelete: function (uuids) {
      return transact(["queue"], "readwrite", function (queue) {
        uuids.forEach(function (uuid) { queue.delete(uuid); });
      });
    },

    // The round, the records not sent, the PIN's salt: all of it.
    wipe: function () {
      return transact(STORES, "readwrite", function () {
        Array.prototype.forEach.call(arguments, function (store) { store.clear(); });
      });
    },
  };

  window.MassOutreachVault = Vault;
})();
