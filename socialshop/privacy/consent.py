"""A visitor's consent: read it from the request (cookies + ``Sec-GPC``), change it, remember it.

Cookies: ``ss_consent`` (the choice, strictly necessary, holds no id) and ``ss_vid`` (the visitor
id, set only once consent allows identifying data). The record is ``privacy/models.py``.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace

from django.http import HttpRequest, HttpResponse

from socialshop.conf import app_settings
from socialshop.core.db import writing
from socialshop.privacy.models import ConsentChoice, ConsentRecord

CONSENT_COOKIE = "ss_consent"
VISITOR_COOKIE = "ss_vid"
SESSION_COOKIE = "ss_sid"
VISITOR_COOKIE_AGE = 365 * 24 * 3600
SESSION_COOKIE_AGE = 30 * 60  # a visit ends after 30 idle minutes, as web analytics usually count it
CONSENT_COOKIE_AGE = 180 * 24 * 3600  # ask again after six months
# Both used with fullmatch: "$" also matches before a final newline, which a quoted cookie can
# carry ("...\012" unquotes to "\n") and a 40-character id plus "\n" does not fit its column.
ID_RE = re.compile(r"[A-Za-z0-9_-]{16,40}")
_COOKIE_RE = re.compile(r"a([gdu])\.d([gdu])\.o([01])")
_LETTER = {"g": ConsentChoice.GRANTED, "d": ConsentChoice.DENIED, "u": ConsentChoice.UNSET}


@dataclass(frozen=True, slots=True)
class ConsentState:
    """What a visitor allowed: ``analytics``/``ads`` are "granted", "denied" or "unset"."""

    analytics: str = ConsentChoice.UNSET
    ads: str = ConsentChoice.UNSET
    gpc: bool = False
    opted_out: bool = False
    required: bool = True

    @property
    def decided(self) -> bool:
        """The visitor answered the banner (or consent is not required)."""
        return not self.required or (self.analytics != ConsentChoice.UNSET and self.ads != ConsentChoice.UNSET)

    @property
    def may_identify(self) -> bool:
        """A visitor cookie, IP, user agent and customer link may be stored."""
        if self.opted_out:
            return False
        if not self.required:
            return self.analytics != ConsentChoice.DENIED or self.ads == ConsentChoice.GRANTED
        return ConsentChoice.GRANTED in (self.analytics, self.ads)

    @property
    def may_share(self) -> bool:
        """Events may go to ad platforms and audiences (GPC and opt-out always say no)."""
        if self.opted_out or self.gpc or not self.may_identify:
            return False
        return self.ads == ConsentChoice.GRANTED or (not self.required and self.ads == ConsentChoice.UNSET)

    def as_json(self) -> dict[str, object]:
        """The shape the tag sees: ``{analytics, ads, gpc, opted_out}`` with booleans."""
        return {
            "analytics": self.may_identify and self.analytics != ConsentChoice.DENIED,
            "ads": self.may_share,
            "gpc": self.gpc,
            "opted_out": self.opted_out,
            "decided": self.decided,
        }

    def cookie_value(self) -> str:
        return f"a{self.analytics[0]}.d{self.ads[0]}.o{int(self.opted_out)}"


def _parse_cookie(value: str) -> tuple[str, str, bool] | None:
    match = _COOKIE_RE.fullmatch(value or "")
    if not match:
        return None
    return _LETTER[match.group(1)], _LETTER[match.group(2)], match.group(3) == "1"


def gpc_from_request(request: HttpRequest) -> bool:
    """True when the browser sent ``Sec-GPC: 1`` (Global Privacy Control)."""
    return request.META.get("HTTP_SEC_GPC", "").strip() == "1"


def consent_from_request(request: HttpRequest) -> ConsentState:
    """The visitor's consent from the ``ss_consent`` cookie and ``Sec-GPC``; no database query."""
    required = bool(app_settings.CONSENT_REQUIRED)
    parsed = _parse_cookie(request.COOKIES.get(CONSENT_COOKIE, ""))
    analytics, ads, opted_out = parsed or (ConsentChoice.UNSET, ConsentChoice.UNSET, False)
    return ConsentState(analytics=analytics, ads=ads, gpc=gpc_from_request(request), opted_out=opted_out, required=required)


def visitor_id_from_request(request: HttpRequest) -> str:
    """The visitor id from the cookie when it is well formed, else ""."""
    value = request.COOKIES.get(VISITOR_COOKIE, "")
    return value if ID_RE.fullmatch(value) else ""


def new_id() -> str:
    """A random id for a visitor or a session (22 url-safe characters, never a leading "-", which a command
    line would read as an option: ``socialshop_erase_visitor`` takes these ids as arguments)."""
    value = secrets.token_urlsafe(16)
    while value.startswith("-"):
        value = secrets.token_urlsafe(16)
    return value


def _user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def set_consent(
    request: HttpRequest,
    response: HttpResponse,
    *,
    analytics: bool,
    ads: bool,
    opted_out: bool = False,
) -> tuple[ConsentState, str]:
    """Store a visitor's choice: the cookie, the visitor cookie when allowed, and ``ConsentRecord``.

    A withdrawal (identifying no longer allowed) deletes the visitor cookie. Returns the new state
    and the visitor id it was recorded for ("" when there is none); the caller unshares that
    visitor's stored events when the new state does not allow sharing (``tracking/store.py``).
    """
    state = ConsentState(
        analytics=ConsentChoice.GRANTED if analytics and not opted_out else ConsentChoice.DENIED,
        ads=ConsentChoice.GRANTED if ads and not opted_out else ConsentChoice.DENIED,
        gpc=gpc_from_request(request),
        opted_out=opted_out,
        required=bool(app_settings.CONSENT_REQUIRED),
    )
    secure = request.is_secure()
    response.set_cookie(CONSENT_COOKIE, state.cookie_value(), max_age=CONSENT_COOKIE_AGE, samesite="Lax", secure=secure)
    visitor_id = visitor_id_from_request(request)
    if state.may_identify:
        visitor_id = visitor_id or new_id()
        response.set_cookie(VISITOR_COOKIE, visitor_id, max_age=VISITOR_COOKIE_AGE, samesite="Lax", secure=secure, httponly=True)
    else:
        response.delete_cookie(VISITOR_COOKIE, samesite="Lax")
        response.delete_cookie(SESSION_COOKIE, samesite="Lax")
    if visitor_id:
        record_consent(visitor_id, state, user_id=_user_id(request))
    return state, visitor_id


def record_consent(visitor_id: str, state: ConsentState, *, user_id: int | None = None) -> ConsentRecord:
    """Upsert the visitor's ``ConsentRecord`` with ``state``."""
    defaults: dict[str, object] = {
        "analytics": state.analytics, "ads": state.ads, "gpc": state.gpc, "opted_out": state.opted_out,
    }
    if user_id is not None:
        defaults["user_id"] = user_id
    with writing():  # update_or_create reads, then writes: beside other writers on SQLite it must hold the lock first
        record, _ = ConsentRecord.objects.update_or_create(visitor_id=visitor_id, defaults=defaults)
    return record


def note_gpc(visitor_id: str) -> bool:
    """Remember that a known visitor's browser sends GPC; True when that is news (first time seen)."""
    return bool(visitor_id) and bool(ConsentRecord.objects.filter(visitor_id=visitor_id, gpc=False).update(gpc=True))


def with_gpc(state: ConsentState, gpc: bool) -> ConsentState:
    """``state`` with GPC also on when the page (``navigator.globalPrivacyControl``) reports it."""
    return replace(state, gpc=True) if gpc and not state.gpc else state
