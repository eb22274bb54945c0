"""The browser-tag capability (``BrowserTag``): what a platform's pixel needs in the page.

static/socialshop/pixels.js loads the script and maps our event names through ``events`` after
ads consent; ``platforms.browser_config()`` gathers every configured platform's part.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from socialshop.platforms.base import Capability


class BrowserTag(Capability):
    """A platform's pixel script, its id and its event-name table; left out of the page without the id."""

    kind: ClassVar[str] = "browser_tag"
    label: ClassVar[str] = "browser tag"
    # our event name -> the browser tag's event name.
    browser_event_names: ClassVar[Mapping[str, str]]
    default_script_url: ClassVar[str]
    # Settings key holding the id the tag needs; the tag is left out without it.
    browser_id_setting: ClassVar[str]

    @classmethod
    def settings_keys(cls) -> tuple[str, ...]:
        return (*super().settings_keys(), cls.browser_id_setting, "script_url")

    def extra_config(self) -> dict[str, Any]:
        """Further JSON-ready values this platform's part of pixels.js reads (none by default)."""
        return {}

    def browser_config(self) -> dict[str, Any]:
        """{id, script_url, events, ...} as JSON-ready data; {} when the id is not set."""
        tag_id = self.config.get(self.browser_id_setting)
        if not tag_id:
            return {}
        return {self.browser_id_setting: str(tag_id), "script_url": self.config.get("script_url") or self.default_script_url,
                "events": dict(self.browser_event_names), **self.extra_config()}
