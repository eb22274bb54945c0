"""What every Meta capability shares: the Graph API's version in the path and its error codes.

Facts from reference/platforms.md sections D and F.
"""
from __future__ import annotations

from typing import Any

# Graph API error codes meaning a bad or revoked token, and the temporary/throttling ones.
AUTH_CODES = frozenset({102, 190})
RETRY_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})
# Meta: every Graph API endpoint (events, custom audiences) is versioned in its path.
DEFAULT_API_VERSION = "v25.0"


class GraphApi:
    """Graph API error codes, shared by every Meta capability that calls graph.facebook.com."""

    def error_flags(self, status: int, body: Any) -> tuple[bool, bool]:
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        if code in AUTH_CODES:
            return False, True
        if code in RETRY_CODES:
            return True, False
        return super().error_flags(status, body)  # type: ignore[misc]

    def graph_path(self, tail: str) -> str:
        """``/<api_version>/<tail>``: the version from settings, else the one tested here."""
        return f"/{self.config.get('api_version') or DEFAULT_API_VERSION}/{tail}"  # type: ignore[attr-defined]
