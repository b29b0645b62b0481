/* Logging out wipes the outreach page's store (Clear-Site-Data, issue 16): records recorded on
 * a round and not yet sent would be lost with it. Before the logout form of any page is
 * submitted, count the queue of the encrypted store (a count only: nothing is decrypted, the
 * key is not here) and ask first when it is not empty. Loaded only for staff who go on rounds. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-outreach-guard]");
  if (!form || !window.indexedDB) return;
  var pending = 0;
  var request = indexedDB.open("mass-outreach");
  // No store on this device: do not create an empty one (the page creates it, versioned).
  request.onupgradeneeded = function () { request.transaction.abort(); };
  request.onsuccess = function () {
    var db = request.result;
    if (!db.objectStoreNames.contains("queue")) { db.close(); return; }
    var count = db.transaction("queue", "readonly").objectStore("queue").count();
    count.onsuccess = function () { pending = count.result; db.close(); };
  };
  request.onerror = function (event) { event.preventDefault(); };
  form.addEventListener("submit", function (event) {
    if (pending > 0 && !window.confirm(form.dataset.outreachGuard.replace("%(count)s", pending))) {
      event.preventDefault();
    }
  });
})();
