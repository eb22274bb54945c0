"""What each configured platform's browser tag needs, for tracking's tag config (``platforms``).

static/socialshop/pixels.js reads it after ads consent; event tables come from the platform modules.
"""
from __future__ import annotations

from typing import Any

from socialshop.platforms import configured_platforms


def browser_config() -> dict[str, dict[str, Any]]:
    """slug -> {ids, script_url, events} for every configured platform that has its browser id set.

    ``script_url`` is the real host unless ``SOCIALSHOP['PLATFORMS'][slug]['script_url']`` says otherwise.
    """
    out: dict[str, dict[str, Any]] = {}
    for slug, platform in configured_platforms().items():
        config = platform.browser_config()
        if config:
            out[slug] = config
    return out
