/* socialshop tag: first-party, consent-aware event tracking. Served by /socialshop/tag.js.
   Config comes from <script id="socialshop-config" type="application/json"> ({% socialshop_tag %});
   page events from <script type="application/json" data-socialshop-event> ({% socialshop_event %}).
   Never throws into the page: every entry point is wrapped. */
(function (w, d) {
  "use strict";
  if (w.socialshop && w.socialshop.version) return;
  var FIELDS = ["content_ids", "contents", "value", "currency", "order_id", "search_string", "post_id", "tag_id"];
  var BATCH = 20, DELAY = 1000;
  var prior = w.socialshop && w.socialshop.q;
  var config = {}, queue = [], history = [], listeners = [], consentListeners = [];
  var timer = null, pixelsLoaded = false, seen = {};
  var consent = { analytics: false, ads: false, gpc: false, opted_out: false, decided: false };

  function safe(fn) {
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { if (w.console && console.debug) console.debug("socialshop", e); }
    };
  }
  function readConfig() {
    var el = d.getElementById("socialshop-config");
    if (!el) return {};
    try { return JSON.parse(el.textContent || "{}") || {}; } catch (e) { return {}; }
  }
  function uid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    var s = "";
    for (var i = 0; i < 4; i++) s += Math.floor((1 + Math.random()) * 0x100000000).toString(16).slice(1);
    return s + "-" + Date.now().toString(36);
  }
  function canShare() { return !!(consent.ads && !consent.gpc && !consent.opted_out); }
  function copy(o) { var r = {}; for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) r[k] = o[k]; return r; }
  function cookie(name) {
    var m = d.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function browserIds() {
    var ids = {}, pairs = [["fbp", "_fbp"], ["fbc", "_fbc"], ["ttp", "_ttp"], ["ga", "_ga"], ["epik", "_epik"]];
    for (var i = 0; i < pairs.length; i++) { var v = cookie(pairs[i][1]); if (v) ids[pairs[i][0]] = v; }
    return ids;
  }

  function send(batch, beacon) {
    if (!batch.length || !config.collect) return;
    var body = JSON.stringify({ events: batch });
    if (beacon && navigator.sendBeacon) {
      try { if (navigator.sendBeacon(config.collect, body)) return; } catch (e) { /* fall back to fetch */ }
    }
    if (w.fetch) {
      w.fetch(config.collect, {
        method: "POST", body: body, keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "text/plain;charset=UTF-8" }
      }).catch(function () { /* a failing collector never breaks the page */ });
    }
  }
  function flush(beacon) {
    if (timer) { clearTimeout(timer); timer = null; }
    while (queue.length) send(queue.splice(0, BATCH), beacon);
  }
  function waiting() { return !!(config.consent_required && !consent.decided); }
  function schedule() {
    // Until the visitor answers the banner, events wait here (sent anonymously if the page is left).
    if (waiting()) return;
    if (queue.length >= BATCH) flush(false);
    else if (!timer) timer = setTimeout(function () { timer = null; flush(false); }, DELAY);
  }

  function pump() {
    if (!canShare()) return;
    for (var i = 0; i < listeners.length; i++) {
      var l = listeners[i];
      while (l.next < history.length) {
        var ev = history[l.next++];
        try { l.cb(copy(ev)); } catch (e) { /* a listener's error stays its own */ }
      }
    }
  }
  function emitConsent() {
    var state = copy(consent);
    for (var i = 0; i < consentListeners.length; i++) { try { consentListeners[i](copy(state)); } catch (e) { /* ignore */ } }
  }
  function gtag() { w.dataLayer = w.dataLayer || []; w.dataLayer.push(arguments); }
  function googleConsent(kind) {
    // Google Consent Mode v2: defaults before any Google tag, updates on every change.
    if (!config.platforms || !config.platforms.google) return;
    var ads = canShare() ? "granted" : "denied";
    var stats = consent.analytics && !consent.opted_out ? "granted" : "denied";
    var state = { ad_storage: ads, ad_user_data: ads, ad_personalization: ads, analytics_storage: stats };
    if (kind === "default") state.wait_for_update = 500;
    gtag("consent", kind, state);
  }
  function loadPixels() {
    if (pixelsLoaded || !config.pixels_src || !canShare()) return;
    pixelsLoaded = true;
    var s = d.createElement("script");
    s.async = true;
    s.src = config.pixels_src;
    (d.head || d.documentElement).appendChild(s);
  }
  function consentChanged() {
    if (navigator.globalPrivacyControl) { consent.gpc = true; }
    googleConsent("update");
    emitConsent();
    loadPixels();
    pump();
    if (consent.opted_out) queue = []; else flush(false);
  }

  var track = safe(function (name, data) {
    data = data || {};
    if (data.event_id && seen[data.event_id]) return String(data.event_id);
    var ev = {
      event_id: String(data.event_id || uid()), name: String(name), time: Date.now() / 1000,
      url: String(w.location.href), referrer: String(d.referrer || "")
    };
    var props = {}, hasProps = false;
    for (var k in data) {
      if (!Object.prototype.hasOwnProperty.call(data, k) || k === "event_id" || data[k] == null) continue;
      if (FIELDS.indexOf(k) >= 0) ev[k] = data[k]; else { props[k] = data[k]; hasProps = true; }
    }
    if (hasProps) ev.properties = props;
    if (consent.gpc) ev.gpc = true;
    if (canShare()) { var ids = browserIds(); for (var x in ids) { ev.browser_ids = ids; break; } }
    seen[ev.event_id] = 1;
    history.push(ev);
    if (!consent.opted_out) { queue.push(ev); schedule(); }
    pump();
    return ev.event_id;
  });

  var setConsent = safe(function (choice) {
    choice = choice || {};
    var body = { analytics: !!choice.analytics, ads: !!choice.ads, opted_out: !!choice.opted_out };
    consent.analytics = body.analytics && !body.opted_out;
    consent.ads = body.ads && !body.opted_out;
    consent.opted_out = body.opted_out;
    consent.decided = true;
    hideBanner();
    var done = function () { consentChanged(); };
    if (config.consent_url && w.fetch) {
      return w.fetch(config.consent_url, {
        method: "POST", credentials: "same-origin", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" }
      }).then(function (r) { return r.json(); }).then(function (state) {
        if (state && typeof state.ads === "boolean") { for (var k in state) consent[k] = state[k]; }
        done();
        return copy(consent);
      }).catch(function () { done(); return copy(consent); });
    }
    done();
  });

  function hideBanner() {
    var b = d.querySelectorAll("[data-socialshop-banner]");
    for (var i = 0; i < b.length; i++) b[i].hidden = true;
  }
  function wireBanner() {
    var forms = d.querySelectorAll("form[data-socialshop-consent]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener("submit", safe(function (e) {
        var form = e.currentTarget, button = e.submitter, choice = button && button.value;
        if (!choice) return;
        e.preventDefault();
        var analytics = choice === "accept", ads = choice === "accept";
        if (choice === "choose") {
          analytics = !!(form.elements.analytics && form.elements.analytics.checked);
          ads = !!(form.elements.ads && form.elements.ads.checked);
        }
        setConsent({ analytics: analytics, ads: ads, opted_out: choice === "optout" });
      }));
    }
  }
  function pageEvents() {
    var els = d.querySelectorAll('script[type="application/json"][data-socialshop-event]');
    for (var i = 0; i < els.length; i++) {
      if (els[i].getAttribute("data-socialshop-done")) continue;
      els[i].setAttribute("data-socialshop-done", "1");
      try {
        var spec = JSON.parse(els[i].textContent || "{}");
        if (spec && spec.name) track(spec.name, spec.data || {});
      } catch (e) { /* one bad declaration never stops the others */ }
    }
  }

  var api = {
    version: "1",
    config: null,
    track: track,
    on: safe(function (type, cb) {
      if (typeof cb !== "function") return;
      if (type === "event") { listeners.push({ cb: cb, next: 0 }); pump(); }
      else if (type === "consent") { consentListeners.push(cb); try { cb(copy(consent)); } catch (e) { /* ignore */ } }
    }),
    consent: function () { return copy(consent); },
    setConsent: setConsent,
    flush: safe(function () { flush(false); })
  };

  safe(function () {
    config = readConfig();
    api.config = config;
    var c = config.consent || {};
    consent = { analytics: !!c.analytics, ads: !!c.ads, gpc: !!c.gpc || !!navigator.globalPrivacyControl,
                opted_out: !!c.opted_out, decided: !!c.decided };
    w.socialshop = api;
    googleConsent("default");
    if (consent.decided) googleConsent("update");
    loadPixels();
    var start = function () {
      wireBanner();
      track("PageView", {});
      var pending = config.events || [];
      for (var i = 0; i < pending.length; i++) track(pending[i].name, pending[i].data || {});
      pageEvents();
    };
    if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", safe(start)); else start();
    d.addEventListener("visibilitychange", safe(function () { if (d.visibilityState === "hidden") flush(true); }));
    w.addEventListener("pagehide", safe(function () { flush(true); }));
    if (prior && prior.length) {
      for (var j = 0; j < prior.length; j++) { var call = prior[j]; if (api[call[0]]) api[call[0]].apply(api, call[1] || []); }
    }
  })();
})(window, document);
