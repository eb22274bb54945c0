"""System checks for ``SOCIALSHOP['PLATFORMS']`` (socialshop.E040-E044, and each active capability's own
value rules, ``Capability.check_values``: E170-E173 Meta and Pinterest, E175-E179 Google and TikTok
audiences, E165 Meta product sets), run from socialshop/checks.py.

Each message names the full key, e.g. SOCIALSHOP['PLATFORMS']['meta']['access_token'], and the
capability that needs it; an opt-in capability's keys are checked once one of them is set.
"""
from __future__ import annotations

import re

from django.core.checks import CheckMessage, Error

from socialshop.conf import app_settings
from socialshop.platforms import REGISTRY

URL_RE = re.compile(r"https?://[^/\s]+(/\S*)?")  # fullmatch: "$" would let a final "\n" through


def check_platforms() -> list[CheckMessage]:
    """Unknown slugs, non-dict entries, missing credentials, bad URLs and unknown keys."""
    errors: list[CheckMessage] = []
    platforms = app_settings.PLATFORMS or {}
    for slug, entry in platforms.items():
        key = f"SOCIALSHOP['PLATFORMS'][{slug!r}]"
        if slug not in REGISTRY:
            errors.append(Error(f"{key} is not a known platform", hint=f"Use one of: {', '.join(REGISTRY)}.", id="socialshop.E040"))
            continue
        if not isinstance(entry, dict):
            errors.append(Error(f"{key} = {entry!r} is not a dict", hint="Give the platform's ids and credentials as a dict.", id="socialshop.E043"))
            continue
        if entry.get("enabled", True) is False:
            continue
        cls = REGISTRY[slug]
        platform = cls(entry)
        for kind, capability in cls.capabilities.items():
            if not platform.is_active(kind):
                continue
            errors.extend(capability.check_values(entry, key))
            for name in capability.required_settings:
                value = entry.get(name)
                if value in (None, "") or not isinstance(value, (str, int)):
                    errors.append(Error(
                        f"{key}[{name!r}] is missing (got {value!r}); {cls.name} {capability.label} need it",
                        hint=f"Set {key}[{name!r}] from your {cls.name} account; see docs/platforms/{slug}.md.",
                        id="socialshop.E041",
                    ))
        url_keys = ["api_base", "script_url", *(k for c in cls.capabilities.values() if (k := c.own_api_base_key()))]
        for name in url_keys:
            value = entry.get(name)
            if value is not None and not (isinstance(value, str) and URL_RE.fullmatch(value)):
                errors.append(Error(f"{key}[{name!r}] = {value!r} is not an absolute http(s) URL",
                                    hint="Use e.g. 'http://127.0.0.1:8300' or leave the key out for the real host.", id="socialshop.E042"))
        timeout = entry.get("timeout")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            errors.append(Error(f"{key}['timeout'] = {timeout!r} is not a positive number of seconds",
                                hint="Use e.g. 10.", id="socialshop.E042"))
        known = cls.settings_keys()
        for name in sorted(set(entry) - known):
            errors.append(Error(f"{key}[{name!r}] is not a {cls.name} setting",
                                hint=f"Check the spelling; known keys: {', '.join(sorted(known))}.", id="socialshop.E044"))
    return errors
