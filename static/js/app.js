// Small behaviours shared by every page. No inline script: the CSP forbids it.
(function () {
  "use strict";
  // Forms with data-confirm ask before submitting (cancelling a dose, merging two files).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // "/" focuses the search box of the page, as in most search tools, unless typing.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.isContentEditable)) return;
    var box = document.querySelector("[data-search-box]");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
})();

// --- reception board (patients) ---
// From the search box, ArrowDown goes to the first person found; on a person, ArrowUp and
// ArrowDown move between people and the digits 1-9 log the arrival for that purpose (Enter
// logs the highlighted one, what the person usually comes for): an arrival in two keystrokes.
(function () {
  "use strict";
  function arrivalRows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-arrival-row]"));
  }
  function focusRow(row) {
    // The highlighted button (what the person usually comes for): Enter presses it.
    var button = row && (row.querySelector("button[name=purpose][data-usual]") ||
                         row.querySelector("button[name=purpose]"));
    if (button) button.focus();
    return !!button;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (!target || !target.closest) return;
    if (target.matches("[data-arrival-search]")) {
      if (event.key === "ArrowDown" && focusRow(arrivalRows()[0])) event.preventDefault();
      return;
    }
    var row = target.closest("[data-arrival-row]");
    if (!row) return;
    var rows = arrivalRows();
    var index = rows.indexOf(row);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var next = rows[index + (event.key === "ArrowDown" ? 1 : -1)];
      if (!focusRow(next) && event.key === "ArrowUp") {
        var box = document.querySelector("[data-arrival-search]");
        if (box) box.focus();
      }
    } else if (/^[1-9]$/.test(event.key)) {
      var button = row.querySelectorAll("button[name=purpose]")[Number(event.key) - 1];
      if (button) {
        event.preventDefault();
        button.click();
      }
    }
  });
  // After an arrival is logged: clear the search, ready for the next person.
  document.addEventListener("htmx:afterRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (!element || !element.closest || !event.detail.successful) return;
    if (!element.closest("[data-arrival-form]")) return;
    var box = document.querySelector("[data-arrival-search]");
    var results = document.getElementById("arrival-results");
    if (results) results.innerHTML = "";
    if (box) {
      box.value = "";
      box.focus();
    }
  });
  // A select marked data-autosubmit submits its form when changed (the desk's site).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });
})();
// dispensary: filter today's list as the nurse types (the server filters too with ?q=), accents
// and case aside as the server does ("dede" finds "Dédé").
(function () {
  "use strict";
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-filter-rows]")) return;
    var table = document.querySelector(box.getAttribute("data-filter-rows"));
    if (!table) return;
    var needle = fold(box.value.trim());
    table.querySelectorAll("tbody tr[data-filter-text]").forEach(function (row) {
      row.hidden = needle !== "" && fold(row.getAttribute("data-filter-text")).indexOf(needle) === -1;
    });
  });
})();
// A "Print" button (the yearly figures and the monthly controlled-drug register are printed
// and signed): one handler for every page, so one click opens one print dialog.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-print]") : null;
  if (button) {
    event.preventDefault();
    window.print();
  }
});
// An htmx action that failed says so at the top of the page, never silently and never in the
// row it was for: the server's alert for a refusal or an error (mass.middleware's
// HtmxFailureMiddleware, recognised by its HX-Retarget), else the region's own text for no
// answer at all (network down, timeout) or an answer from elsewhere (a proxy's error page).
// htmx does not swap error responses, hence this one handler for every htmx endpoint. The
// alert stays until closed: a later success must not hide that an earlier dose was not recorded.
(function () {
  "use strict";
  function region() {
    return document.getElementById("htmx-alert");
  }
  function show(alert) {
    var box = region();
    if (!box) return;
    box.replaceChildren(alert);
    box.focus({ preventScroll: true });
    box.scrollIntoView({ block: "nearest" });
  }
  function textAlert(text) {
    var box = region();
    var alert = document.createElement("div");
    alert.className = "alert alert-danger alert-dismissible mb-3";
    alert.setAttribute("role", "alert");
    alert.setAttribute("data-htmx-failure", "");
    alert.appendChild(document.createTextNode(text));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", (box && box.getAttribute("data-close-label")) || "Close");
    alert.appendChild(close);
    return alert;
  }
  function regionText(name) {
    var box = region();
    return (box && box.getAttribute(name)) || "";
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Retarget") === "#htmx-alert") {
      var parsed = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var alert = parsed.querySelector("[data-htmx-failure]");
      if (alert) {
        show(document.importNode(alert, true));
        return;
      }
    }
    show(textAlert(regionText("data-request-failed")));
  });
  function connectionLost() {
    show(textAlert(regionText("data-connection-lost")));
  }
  document.addEventListener("htmx:sendError", connectionLost);
  document.addEventListener("htmx:timeout", connectionLost);
})();

// --- narrow screens: stacked tables (app.css, .stack-tables) ---
// Below 576 px the tables of the desk, the counter and the patient file show each row's cells
// one under the other instead of scrolling sideways; each cell is labelled with its column's
// heading (data-label, shown by the stylesheet), also in the rows htmx swaps in.
(function () {
  "use strict";
  function labelCells() {
    document.querySelectorAll(".stack-tables table").forEach(function (table) {
      var headings = Array.prototype.map.call(table.querySelectorAll(":scope > thead th"),
        function (th) { return th.textContent.trim(); });
      table.querySelectorAll(":scope > tbody > tr").forEach(function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (cell.colSpan === 1 && headings[column] && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", headings[column]);
          }
          column += cell.colSpan;
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", labelCells);
  document.addEventListener("htmx:afterSettle", labelCells);
})();
