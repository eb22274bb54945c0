"""What every Meta capability shares: the Graph API's version in the path and its error codes.

Facts from reference/platforms.md sections D and F.
"""
from __future__ import annotations

from typing import Any

# Graph API error codes meaning a bad or revoked token, and the temporary/throttling ones
# (4 app limit, 17/2446079 user rate limit, 613/1487742 ad-account limit: reference F).
AUTH_CODES = frozenset({102, 190})
RETRY_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})
# (code, error_subcode) pairs: 100/33 is "no permission on the object" (the ad account): nothing sent
# with these credentials can succeed, so it halts the capability like a refused token.
AUTH_SUBCODES = frozenset({(100, 33)})
RETRY_SUBCODES = frozenset({(17, 2446079), (613, 1487742)})


def graph_error(body: Any) -> tuple[Any, Any]:
    """(code, error_subcode) of a Graph API error body, (None, None) for anything else."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    return error.get("code"), error.get("error_subcode")
# Meta: every Graph API endpoint (events, custom audiences) is versioned in its path.
DEFAULT_API_VERSION = "v25.0"


class GraphApi:
    """Graph API error codes, shared by every Meta capability that calls graph.facebook.com."""

    def error_flags(self, status: int, body: Any) -> tuple[bool, bool]:
        code, subcode = graph_error(body)
        if code in AUTH_CODES or (code, subcode) in AUTH_SUBCODES:
            return False, True
        if code in RETRY_CODES or (code, subcode) in RETRY_SUBCODES:
            return True, False
        return super().error_flags(status, body)  # type: ignore[misc]

    def graph_path(self, tail: str) -> str:
        """``/<api_version>/<tail>``: the version from settings, else the one tested here."""
        return f"/{self.config.get('api_version') or DEFAULT_API_VERSION}/{tail}"  # type: ignore[attr-defined]
