/* socialshop shoppable posts: gallery view tracking, hotspot product cards with add-to-cart,
   like/save/share and comments. Events go through the tracking tag (window.socialshop.track).
   No dependencies; never throws into the page. */
(function (w, d) {
  "use strict";
  if (w.__socialshopPosts) return;
  w.__socialshopPosts = true;

  function track(name, data) {
    try {
      if (w.socialshop && w.socialshop.version) { w.socialshop.track(name, data || {}); return; }
      // tag.js loads async: queue the call; the tag replays socialshop.q when it starts.
      w.socialshop = w.socialshop || {};
      (w.socialshop.q = w.socialshop.q || []).push(["track", [name, data || {}]]);
    } catch (e) { /* never break the page */ }
  }
  function num(v) { var n = parseFloat(v); return isNaN(n) ? undefined : n; }
  function uid() {
    if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID();
    var s = "";
    for (var i = 0; i < 4; i++) s += Math.floor((1 + Math.random()) * 0x100000000).toString(16).slice(1);
    return s + "-" + Date.now().toString(36);
  }
  function csrf(root) {
    var m = d.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    return (m && decodeURIComponent(m[1])) || (root && root.getAttribute("data-csrf")) || "";
  }
  function say(el, text) { if (el) el.textContent = text; }

  /* PostView: once per tile/post when at least half of it is on screen. */
  function observeViews() {
    var items = d.querySelectorAll("[data-ss-tile], [data-ss-post]");
    var seen = {};
    function view(el) {
      var id = el.getAttribute("data-post-id");
      if (!id || seen[id]) return;
      seen[id] = true;
      track("PostView", { post_id: id });
    }
    if (!("IntersectionObserver" in w)) { for (var i = 0; i < items.length; i++) view(items[i]); return; }
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { view(entry.target); io.unobserve(entry.target); }
      });
    }, { threshold: 0.5 });
    for (var j = 0; j < items.length; j++) io.observe(items[j]);
  }

  function cardData(post, card, extra) {
    var data = {
      post_id: post.getAttribute("data-post-id"),
      tag_id: card.getAttribute("data-tag-id"),
      content_ids: [card.getAttribute("data-product-id")],
      currency: card.getAttribute("data-currency") || undefined,
      value: num(card.getAttribute("data-value"))
    };
    for (var k in extra) if (Object.prototype.hasOwnProperty.call(extra, k)) data[k] = extra[k];
    return data;
  }

  function setupPost(post) {
    var postId = post.getAttribute("data-post-id");
    var ids = (post.getAttribute("data-content-ids") || "").split(",").filter(Boolean);
    track("PostCloseup", { post_id: postId, content_ids: ids });
    var opener = null;

    function openCard(button) {
      var card = d.getElementById(button.getAttribute("aria-controls"));
      if (!card) return;
      opener = button;
      d.querySelectorAll("[data-ss-card][open]").forEach(function (other) { if (other !== card) other.close(); });
      if (typeof card.showModal === "function") { if (!card.open) card.showModal(); } else { card.setAttribute("open", ""); }
      var focusTarget = card.querySelector(".ss-card-title a") || card.querySelector("[data-ss-close]");
      if (focusTarget) focusTarget.focus();
      track("PostClick", cardData(post, card, {}));
    }
    post.querySelectorAll("[data-ss-hotspot]").forEach(function (button) {
      button.addEventListener("click", function () { openCard(button); });
    });
    post.querySelectorAll("[data-ss-card]").forEach(function (card) {
      var close = card.querySelector("[data-ss-close]");
      if (close) close.addEventListener("click", function () { if (card.close) card.close(); else card.removeAttribute("open"); });
      card.addEventListener("close", function () { if (opener) { opener.focus(); opener = null; } });
      card.addEventListener("click", function (e) { if (e.target === card && card.close) card.close(); });  // backdrop
      var form = card.querySelector("[data-ss-add]");
      if (form) form.addEventListener("submit", function (e) { addToCart(e, post, card, form); });
    });

    post.querySelectorAll("[data-ss-action]").forEach(function (button) {
      var name = button.getAttribute("data-ss-action");
      var key = "socialshop:" + name + ":" + postId;
      try { if (w.localStorage.getItem(key)) button.setAttribute("aria-pressed", "true"); } catch (e) { /* storage off */ }
      button.addEventListener("click", function () {
        var on = button.getAttribute("aria-pressed") !== "true";
        button.setAttribute("aria-pressed", on ? "true" : "false");
        try { if (on) w.localStorage.setItem(key, "1"); else w.localStorage.removeItem(key); } catch (e) { /* storage off */ }
        if (on) track(name, { post_id: postId, content_ids: ids });
        say(post.querySelector("[data-ss-action-status]"), on ? (name === "PostLike" ? "Liked" : "Saved") : "");
      });
    });

    var share = post.querySelector("[data-ss-share]");
    if (share) share.addEventListener("click", function (e) {
      e.preventDefault();
      var url = share.href;
      track("PostShare", { post_id: postId, content_ids: ids });
      var status = post.querySelector("[data-ss-action-status]");
      if (navigator.share) {
        navigator.share({ url: url, title: d.title }).catch(function () { /* dismissed */ });
      } else if (navigator.clipboard) {
        navigator.clipboard.writeText(url).then(function () { say(status, "Link copied"); }, function () { say(status, url); });
      } else {
        say(status, url);
      }
    });

    var commentForm = post.querySelector("[data-ss-comment]");
    if (commentForm && w.fetch && w.FormData) commentForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var status = commentForm.querySelector("[data-ss-comment-status]");
      w.fetch(commentForm.action, {
        method: "POST", body: new FormData(commentForm), credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrf(post) }
      }).then(function (r) { return r.json(); }).then(function (data) {
        if (!data.ok) { say(status, data.error || "Your comment could not be sent."); return; }
        track("PostComment", { post_id: postId });
        commentForm.reset();
        if (data.held) { say(status, "Thanks! Your comment will show once it is approved."); return; }
        var list = post.querySelector("[data-ss-comments]"), empty = post.querySelector("[data-ss-no-comments]");
        if (empty) empty.remove();
        var li = d.createElement("li"), who = d.createElement("strong"), body = d.createElement("span");
        who.textContent = data.name; body.textContent = " " + data.body;  // textContent: always escaped
        li.appendChild(who); li.appendChild(body); list.appendChild(li);
        say(status, "Thanks for your comment!");
      }).catch(function () { say(status, "Your comment could not be sent; please try again."); });
    });
  }

  function addToCart(e, post, card, form) {
    var url = post.getAttribute("data-cart-url");
    if (!url || !w.fetch || !w.FormData) return;  // plain form post as a fallback
    e.preventDefault();
    var status = card.querySelector("[data-ss-status]");
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    say(status, "Adding…");
    // One AddToCart, one event_id: the store's cart view hands these fields to report_cart_change,
    // which records the event with this id; the browser's copy below is then a duplicate, and the
    // pixels and the server copy dedupe on it (docs/tracking.md).
    var eventId = uid();
    var body = new FormData(form);
    body.append("socialshop_event_id", eventId);
    body.append("socialshop_post_id", post.getAttribute("data-post-id") || "");
    body.append("socialshop_tag_id", card.getAttribute("data-tag-id") || "");
    w.fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf(post), "X-Socialshop-Event-Id": eventId }
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, error: "The cart did not answer." }; });
    }).then(function (data) {
      if (!data || !data.ok) { say(status, (data && data.error) || "Could not add to cart."); return; }
      var item = data.item || {};
      var qty = item.quantity || parseInt(form.quantity && form.quantity.value, 10) || 1;
      var price = num(item.price);
      say(status, "Added to cart" + (data.cart_count ? " (" + data.cart_count + " in cart)" : ""));
      d.querySelectorAll("[data-cart-count]").forEach(function (el) { el.textContent = data.cart_count; });
      track("AddToCart", cardData(post, card, {
        event_id: eventId,
        content_ids: [item.id || card.getAttribute("data-product-id")],
        contents: [{ id: item.id || card.getAttribute("data-product-id"), quantity: qty, item_price: price }],
        value: price !== undefined ? Math.round(price * qty * 100) / 100 : num(card.getAttribute("data-value")),
        currency: item.currency || card.getAttribute("data-currency") || undefined
      }));
    }).catch(function () { say(status, "Could not add to cart; please try again."); })
      .then(function () { if (button) button.disabled = false; });
  }

  function start() {
    observeViews();
    d.querySelectorAll("[data-ss-post]").forEach(setupPost);
  }
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", start); else start();
})(window, document);
