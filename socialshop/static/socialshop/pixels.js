/* socialshop pixels: the platforms' browser tags (Meta Pixel, Pinterest tag, TikTok pixel, Google tag).
   tag.js injects this file only after the visitor allowed ads sharing; it reads window.socialshop.config.platforms
   (built by socialshop/platforms/browser.py: ids, script_url, event-name tables) and forwards every shareable
   event with OUR event_id, so each platform deduplicates the browser copy against the server copy.
   Never throws into the page. */
(function (w, d) {
  "use strict";
  var ss = w.socialshop;
  if (!ss || !ss.config || w.__socialshopPixels) return;
  w.__socialshopPixels = true;
  var P = ss.config.platforms || {};
  var allowed = false;
  var senders = [];

  function load(src) {
    var s = d.createElement("script");
    s.async = true;
    s.src = src;
    (d.head || d.documentElement).appendChild(s);
  }
  function num(v) { var n = parseFloat(v); return isNaN(n) ? undefined : n; }
  function contents(ev) {
    if (ev.contents && ev.contents.length) return ev.contents;
    var out = [], ids = ev.content_ids || [];
    for (var i = 0; i < ids.length; i++) out.push({ id: ids[i], quantity: 1 });
    return out;
  }
  function clean(o) { for (var k in o) if (o[k] === undefined || o[k] === "" || o[k] === null) delete o[k]; return o; }
  function mapped(table, name) { return table && Object.prototype.hasOwnProperty.call(table, name) ? table[name] : null; }
  function guard(fn) {
    return function (ev) { try { fn(ev); } catch (e) { if (w.console && console.debug) console.debug("socialshop pixels", e); } };
  }

  // --- Meta Pixel: fbq('track', Name, params, {eventID}) --------------------------------------------------
  if (P.meta && P.meta.pixel_id) {
    if (!w.fbq) {
      var fbq = w.fbq = function () { fbq.callMethod ? fbq.callMethod.apply(fbq, arguments) : fbq.queue.push(arguments); };
      if (!w._fbq) w._fbq = fbq;
      fbq.push = fbq; fbq.loaded = true; fbq.version = "2.0"; fbq.queue = [];
    }
    w.fbq("consent", "grant");
    w.fbq("init", P.meta.pixel_id);
    load(P.meta.script_url);
    senders.push(guard(function (ev) {
      var name = mapped(P.meta.events, ev.name);
      if (!name) return;
      var items = contents(ev), params = clean({
        content_ids: ev.content_ids, content_type: (ev.content_ids || items.length) ? "product" : undefined,
        contents: items.length ? items.map(function (c) { return clean({ id: c.id, quantity: c.quantity, item_price: num(c.item_price) }); }) : undefined,
        value: num(ev.value), currency: ev.currency, search_string: ev.search_string, order_id: ev.order_id,
        num_items: items.length ? items.reduce(function (n, c) { return n + (c.quantity || 1); }, 0) : undefined
      });
      w.fbq("track", name, params, { eventID: ev.event_id });
    }));
  }

  // --- Pinterest tag: pintrk('page'|'track', ...) with event_id ------------------------------------------
  if (P.pinterest && P.pinterest.tag_id) {
    if (!w.pintrk) {
      var pintrk = w.pintrk = function () { pintrk.queue.push(Array.prototype.slice.call(arguments)); };
      pintrk.queue = []; pintrk.version = "3.0";
    }
    w.pintrk("load", P.pinterest.tag_id);
    load(P.pinterest.script_url);
    senders.push(guard(function (ev) {
      var name = mapped(P.pinterest.events, ev.name);
      if (!name) return;
      if (name === "page") { w.pintrk("page", { event_id: ev.event_id }); return; }
      var items = contents(ev);
      w.pintrk("track", name, clean({
        event_id: ev.event_id, value: num(ev.value), currency: ev.currency, order_id: ev.order_id,
        search_query: ev.search_string,
        order_quantity: items.length ? items.reduce(function (n, c) { return n + (c.quantity || 1); }, 0) : undefined,
        line_items: items.length ? items.map(function (c) {
          return clean({ product_id: c.id, product_quantity: c.quantity, product_price: num(c.item_price) });
        }) : undefined
      }));
    }));
  }

  // --- TikTok pixel: ttq.page() / ttq.track(Name, props, {event_id}) ---------------------------------------
  if (P.tiktok && P.tiktok.pixel_code) {
    if (!w.ttq) {
      w.TiktokAnalyticsObject = "ttq";
      var ttq = w.ttq = [];
      ttq.methods = ["page", "track", "identify", "instances", "debug", "on", "off", "once", "ready", "alias", "group",
                     "enableCookie", "disableCookie", "holdConsent", "revokeConsent", "grantConsent"];
      ttq.setAndDefer = function (t, e) { t[e] = function () { t.push([e].concat(Array.prototype.slice.call(arguments, 0))); }; };
      for (var i = 0; i < ttq.methods.length; i++) ttq.setAndDefer(ttq, ttq.methods[i]);
    }
    var sep = P.tiktok.script_url.indexOf("?") >= 0 ? "&" : "?";
    load(P.tiktok.script_url + sep + "sdkid=" + encodeURIComponent(P.tiktok.pixel_code) + "&lib=ttq");
    w.ttq.grantConsent();
    senders.push(guard(function (ev) {
      var name = mapped(P.tiktok.events, ev.name);
      if (!name) return;
      if (name === "page") { w.ttq.page(); return; }
      var items = contents(ev);
      w.ttq.track(name, clean({
        contents: items.length ? items.map(function (c) {
          return clean({ content_id: c.id, content_type: "product", quantity: c.quantity, price: num(c.item_price) });
        }) : undefined,
        content_type: items.length ? "product" : undefined,
        value: num(ev.value), currency: ev.currency, query: ev.search_string
      }), { event_id: ev.event_id });
    }));
  }

  // --- Google tag: GA4 + Google Ads, Consent Mode v2 ---------------------------------------------------------
  var gtag = null;
  if (P.google && P.google.measurement_id) {
    w.dataLayer = w.dataLayer || [];
    gtag = w.gtag = w.gtag || function () { w.dataLayer.push(arguments); };
    var hasDefault = false;
    for (var j = 0; j < w.dataLayer.length; j++) {
      var entry = w.dataLayer[j];
      if (entry && entry[0] === "consent" && entry[1] === "default") { hasDefault = true; break; }
    }
    // Consent Mode v2: defaults are 'denied' and must precede the Google tag; tag.js normally set them already.
    if (!hasDefault) {
      gtag("consent", "default", { ad_storage: "denied", ad_user_data: "denied", ad_personalization: "denied",
                                   analytics_storage: "denied", wait_for_update: 500 });
    }
    var c0 = ss.consent ? ss.consent() : {};
    var ok0 = !!(c0.ads && !c0.gpc && !c0.opted_out) ? "granted" : "denied";
    gtag("consent", "update", { ad_storage: ok0, ad_user_data: ok0, ad_personalization: ok0,
                                analytics_storage: c0.analytics && !c0.opted_out ? "granted" : "denied" });
    gtag("js", new Date());
    gtag("config", P.google.measurement_id);
    if (P.google.ads_id) gtag("config", P.google.ads_id);
    var gsep = P.google.script_url.indexOf("?") >= 0 ? "&" : "?";
    load(P.google.script_url + gsep + "id=" + encodeURIComponent(P.google.measurement_id));
    senders.push(guard(function (ev) {
      var name = mapped(P.google.events, ev.name);
      var items = contents(ev);
      var common = clean({ value: num(ev.value), currency: ev.currency, transaction_id: ev.order_id });
      if (name) {
        var params = clean({
          send_to: P.google.measurement_id, event_id: ev.event_id, search_term: ev.search_string,
          items: items.length ? items.map(function (c) { return clean({ item_id: c.id, quantity: c.quantity, price: num(c.item_price) }); }) : undefined
        });
        for (var k in common) params[k] = common[k];
        gtag("event", name, params);
      }
      var conversion = P.google.ads_conversions && P.google.ads_conversions[ev.name];
      if (conversion) {
        var conv = { send_to: conversion };
        for (var k2 in common) conv[k2] = common[k2];
        gtag("event", "conversion", conv);
      }
    }));
  }

  ss.on("consent", function (c) {
    var ok = !!(c.ads && !c.gpc && !c.opted_out);
    if (ok === allowed) return;
    allowed = ok;
    var state = ok ? "granted" : "denied";
    if (w.fbq && P.meta) w.fbq("consent", ok ? "grant" : "revoke");
    if (w.ttq && P.tiktok) { if (ok) w.ttq.grantConsent(); else w.ttq.revokeConsent(); }
    if (gtag) gtag("consent", "update", { ad_storage: state, ad_user_data: state, ad_personalization: state });
  });
  ss.on("event", function (ev) {
    if (!allowed || !ev || !ev.event_id) return;
    for (var i = 0; i < senders.length; i++) senders[i](ev);
  });
})(window, document);
