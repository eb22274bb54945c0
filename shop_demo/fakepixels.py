"""Stand-in browser scripts for the four platform tags, served by the fake server (shop_demo/fakeplatforms.py).

Each drains its tag's command queue the way the real script does and reports every tracked event as
``GET /beacon/<platform>?ev=<their name>&eid=<event id>``, so a browser test can see what would be sent.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from shop_demo.settings import STAND_IN_SCRIPT_PATHS as PATHS  # the demo settings point script_url here

if TYPE_CHECKING:
    from shop_demo.fakeplatforms import FakePlatforms

_BEACON = """
var base = new URL(document.currentScript.src).origin;
function beacon(slug, ev, eid) {
  fetch(base + "/beacon/" + slug + "?ev=" + encodeURIComponent(ev) + "&eid=" + encodeURIComponent(eid || ""), {mode: "no-cors"});
}
"""

META = "(function(){" + _BEACON + """
var f = window.fbq;
function h(a) { if (a[0] === "track") beacon("meta", a[1], (a[3] || {}).eventID); }
for (var i = 0; i < f.queue.length; i++) h(f.queue[i]);
f.queue = []; f.callMethod = function () { h(arguments); };
})();"""

PINTEREST = "(function(){" + _BEACON + """
function h(a) {
  if (a[0] === "page") beacon("pinterest", "page", (a[1] || {}).event_id);
  if (a[0] === "track") beacon("pinterest", a[1], (a[2] || {}).event_id);
}
var q = window.pintrk.queue || [];
for (var i = 0; i < q.length; i++) h(q[i]);
window.pintrk = function () { h(Array.prototype.slice.call(arguments)); };
})();"""

TIKTOK = "(function(){" + _BEACON + """
function h(a) {
  if (a[0] === "page") beacon("tiktok", "page", "");
  if (a[0] === "track") beacon("tiktok", a[1], (a[3] || {}).event_id);
}
var t = window.ttq;
for (var i = 0; i < t.length; i++) h(t[i]);
t.length = 0;
t.page = function () { h(["page"]); };
t.track = function (name, props, opts) { h(["track", name, props, opts]); };
})();"""

GTAG = "(function(){" + _BEACON + """
function h(a) { if (a[0] === "event") beacon("google", a[1], (a[2] || {}).event_id || (a[2] || {}).send_to); }
var dl = window.dataLayer;
for (var i = 0; i < dl.length; i++) h(dl[i]);
var push = dl.push;
dl.push = function (a) { h(a); return push.apply(dl, arguments); };
})();"""


def install(fake: FakePlatforms) -> dict[str, str]:
    """Serve the stand-in scripts from ``fake``; returns slug -> script_url for SOCIALSHOP['PLATFORMS']."""
    fake.scripts.update({PATHS["meta"]: META, PATHS["pinterest"]: PINTEREST, PATHS["tiktok"]: TIKTOK, PATHS["google"]: GTAG})
    return {slug: fake.url + path for slug, path in PATHS.items()}
