// The outreach page's service worker (served by outreach.views_page from /outreach/sw.js,
// so that its scope is /outreach/). It keeps the app shell only: the page's HTML, which
// holds no patient data, and the static files it uses. API answers (the round, the sync)
// are never touched: they go to the network, and are never cached. Everything is fetched
// from the network first, so a connected device always has the current page and token;
// the copy serves only when there is no network.
"use strict";

var CACHE = "mass-outreach-shell-v1";
var SCOPE = new URL("./", self.location).pathname;  // "/outreach/"
var SHELL = [SCOPE, SCOPE + "manifest.webmanifest"];
var STATIC = "/static/";

function isShell(url) {
  if (url.origin !== self.location.origin) return false;
  if (url.pathname.indexOf(SCOPE + "api/") === 0) return false;
  return SHELL.indexOf(url.pathname) !== -1 || url.pathname.indexOf(STATIC) === 0;
}

// Only a plain answer of our own server for that very address: a redirect (to the login
// page, after a session ended) is never kept as the page.
function keepable(response, url) {
  return response.ok && response.type === "basic" && !response.redirected &&
    new URL(response.url).pathname === url.pathname;
}

function cacheKey(url) {
  // The page and the manifest whatever their query; static files by their full address.
  return url.pathname.indexOf(STATIC) === 0 ? url.href : url.origin + url.pathname;
}

function cacheShell(addresses) {
  return caches.open(CACHE).then(function (cache) {
    return Promise.all(addresses.map(function (address) {
      var url = new URL(address, self.location);
      if (!isShell(url)) return null;
      return fetch(url.href, {credentials: "same-origin", cache: "no-store"})
        .then(function (response) {
          if (keepable(response, url)) return cache.put(cacheKey(url), response);
          return null;
        })
        .catch(function () { return null; });
    }));
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(cacheShell(SHELL).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("mass-outreach-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// Static files the page no longer uses (their hashed names change at each deployment).
function pruneStatic(addresses) {
  var current = addresses.map(function (address) {
    return cacheKey(new URL(address, self.location));
  });
  return caches.open(CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (request) {
        return new URL(request.url).pathname.indexOf(STATIC) === 0 &&
          current.indexOf(request.url) === -1;
      }).map(function (request) { return cache.delete(request); }));
    });
  });
}

// The page sends the addresses of its scripts, styles and icons once the worker is active.
self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "cache-shell" && Array.isArray(event.data.urls)) {
    var urls = event.data.urls;
    event.waitUntil(cacheShell(urls).then(function () { return pruneStatic(urls); }));
  }
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (!isShell(url)) return;  // the API and anything else: the network, untouched
  event.respondWith(fetch(request).then(function (response) {
    if (keepable(response, url)) {
      var copy = response.clone();
      event.waitUntil(caches.open(CACHE).then(function (cache) {
        return cache.put(cacheKey(url), copy);
      }));
    }
    return response;
  }, function (failure) {
    return caches.match(cacheKey(url), {ignoreVary: true}).then(function (cached) {
      if (cached) return cached;
      throw failure;
    });
  }));
});
