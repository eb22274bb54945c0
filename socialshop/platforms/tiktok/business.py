"""What every TikTok capability shares: Business API answers are HTTP 200 with a non-zero "code" on errors.

Facts from reference/platforms.md sections E and F.
"""
from __future__ import annotations

from typing import Any

from socialshop.platforms.http import PlatformAPIError

# Business API answer codes (HTTP 200 with a non-zero "code"). Third-party lists only, so unconfirmed:
# 40100 rate limited, 40102/40104/40105 token expired/missing/revoked, 40001 app not authorised, 5xxxx server.
AUTH_CODES = frozenset({40001, 40102, 40104, 40105})
RETRY_CODES = frozenset({40100, 40200, 40201})


class BusinessApi:
    """TikTok Business API answers: HTTP 200 with a non-zero "code" is an error (shared by every TikTok capability)."""

    def answer_error(self, status: int, answer: Any) -> PlatformAPIError | None:
        """The error an answer carries, or None when its code is 0."""
        if not isinstance(answer, dict) or "code" not in answer:
            return PlatformAPIError(self.name, f"unexpected answer {answer!r}", status=status, retryable=True)  # type: ignore[attr-defined]
        code_value = answer.get("code")
        if code_value == 0:
            return None
        message = str(answer.get("message") or f"code {code_value}")
        return PlatformAPIError(
            self.name, f"{message} (code {code_value})", status=status, body=answer,  # type: ignore[attr-defined]
            retryable=code_value in RETRY_CODES or (isinstance(code_value, int) and code_value >= 50000),
            auth=code_value in AUTH_CODES,
        )
