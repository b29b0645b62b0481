/* Logging out wipes the outreach page's store (Clear-Site-Data, issue 16): records recorded on
 * a round and not yet sent would be lost with it. When the logout form of any page is
 * submitted, count the queue of the encrypted store at that moment (a count only: nothing is
 * decrypted, the key is not here) and ask first when it is not empty. Loaded only for staff
 * who go on rounds. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-outreach-guard]");
  if (!form || !window.indexedDB) return;

  function pendingRecords() {
    return new Promise(function (resolve) {
      var request = indexedDB.open("mass-outreach");
      // No store on this device: do not create an empty one (the page creates it, versioned).
      request.onupgradeneeded = function () { request.transaction.abort(); };
      request.onerror = function (event) { event.preventDefault(); resolve(0); };
      request.onsuccess = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("queue")) { db.close(); resolve(0); return; }
        var count = db.transaction("queue", "readonly").objectStore("queue").count();
        count.onsuccess = function () { db.close(); resolve(count.result); };
        count.onerror = function () { db.close(); resolve(0); };
      };
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    pendingRecords().then(function (pending) {
      if (pending === 0 ||
          window.confirm(form.dataset.outreachGuard.replace("%(count)s", pending))) {
        form.submit();  // a programmatic submit does not come back through this listener
      }
    });
  });
})();
