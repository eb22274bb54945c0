"""OAuth 2.0 refresh-token flow for Google APIs that take no API key (the Data Manager API).

``TokenSource`` trades the store's refresh token for an access token at Google's token endpoint and
keeps it, per process, until shortly before it expires. A refused refresh is a credential error
(``PlatformAPIError(auth=True)``) so the delivery engine halts the capability until the keys change.
Used by platforms/google/audiences.py and reporting.py (``OAuthCapability``); docs in docs/platforms/google.md (Audiences).
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from socialshop.platforms.http import ApiCall, HttpClient, PlatformAPIError

# Google: the token endpoint of the OAuth 2.0 refresh-token grant (reference/platforms.md F, Auth).
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
# Renew this many seconds before Google's expiry, so a token never dies between check and call.
EXPIRY_MARGIN_SECONDS = 60


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: float  # time.monotonic()


# (token url, client id, digest of the refresh token) -> token; shared by every instance in the process.
_CACHE: dict[tuple[str, str, str], _Token] = {}
_LOCK = threading.Lock()


def _token_error_flags(status: int, body: Any) -> tuple[bool, bool]:
    """(retryable, auth): 400/401 from the token endpoint mean the client or refresh token is refused."""
    return (status in (408, 429) or status >= 500), status in (400, 401, 403)


def _token_error_message(body: Any) -> str:
    """Google's OAuth error shape: {"error": "invalid_grant", "error_description": "..."}."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        return f"{body['error']}: {description}" if description else body["error"]
    return ""


def clear_cache() -> None:
    """Forget every cached access token (tests; a changed refresh token gets a new key anyway)."""
    with _LOCK:
        _CACHE.clear()


class TokenSource:
    """Access tokens for one (client id, client secret, refresh token) at ``token_url``."""

    def __init__(self, *, token_url: str, client_id: str, client_secret: str, refresh_token: str, name: str,
                 timeout: float) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.name = name
        self.timeout = timeout
        self._key = (token_url, client_id, hashlib.sha256(refresh_token.encode()).hexdigest())

    def token(self) -> str:
        """A valid access token: the cached one, or a fresh one from the token endpoint."""
        with _LOCK:
            cached = _CACHE.get(self._key)
        if cached is not None and cached.expires_at > time.monotonic():
            return cached.value
        return self.refresh()

    def invalidate(self, value: str) -> None:
        """Drop ``value`` from the cache (the API refused it before its stated expiry)."""
        with _LOCK:
            if self._key in _CACHE and _CACHE[self._key].value == value:
                del _CACHE[self._key]

    def refresh(self) -> str:
        """Ask the token endpoint for a new access token; ``PlatformAPIError(auth=True)`` when it refuses."""
        parts = urlsplit(self.token_url)
        client = HttpClient(f"{parts.scheme}://{parts.netloc}", name=self.name, timeout=self.timeout,
                            error_flags=_token_error_flags, error_message=_token_error_message)
        form = urlencode({"grant_type": "refresh_token", "client_id": self.client_id,
                          "client_secret": self.client_secret, "refresh_token": self.refresh_token}).encode()
        try:
            _, answer = client.call(ApiCall("POST", parts.path or "/", raw=form,
                                            headers={"Content-Type": "application/x-www-form-urlencoded"}))
        except PlatformAPIError as exc:
            if exc.auth:
                raise PlatformAPIError(self.name, f"OAuth refresh refused: {exc.message}", status=exc.status,
                                       auth=True, body=exc.body) from exc
            raise
        finally:
            client.close()
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise PlatformAPIError(self.name, f"OAuth token endpoint answered without access_token: {answer!r}"[:300],
                                   retryable=True)
        lifetime = float(answer.get("expires_in") or 3600)
        token = _Token(str(answer["access_token"]), time.monotonic() + max(lifetime - EXPIRY_MARGIN_SECONDS, 0.0))
        with _LOCK:
            _CACHE[self._key] = token
        return token.value


class OAuthCapability:
    """What a Google capability with the shared OAuth keys (Customer Match, reporting) needs: its
    ``TokenSource``, made once from ``oauth_client_id``, ``oauth_client_secret``, ``oauth_refresh_token``
    and the optional ``oauth_token_url``. Put it before the capability base class."""

    _tokens: TokenSource | None = None  # the instance's own once made

    @property
    def tokens(self) -> TokenSource:
        if self._tokens is None:
            cap: Any = self  # a Capability: config, setting(), name, timeout
            self._tokens = TokenSource(
                token_url=str(cap.config.get("oauth_token_url") or DEFAULT_TOKEN_URL),
                client_id=str(cap.setting("oauth_client_id")), client_secret=str(cap.setting("oauth_client_secret")),
                refresh_token=str(cap.setting("oauth_refresh_token")), name=cap.name, timeout=cap.timeout,
            )
        return self._tokens
