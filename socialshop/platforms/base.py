"""A ``Platform`` is composed of ``Capability`` classes (events, browser tag, later audience uploads,
product sets, reporting), each with its own base, settings and, where its API lives elsewhere, host.

Capability bases: platforms/events.py (server events), platforms/browser.py (the browser tag).
HTTP plumbing is platforms/http.py; the delivery engine that sends queued records is
platforms/delivery.py. docs/adding-a-platform.md is the recipe.
"""
from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar

from socialshop.exceptions import ConfigurationError, UnsupportedFeature
from socialshop.platforms.http import ApiCall, HttpClient, default_error_flags, default_error_message


class Capability(abc.ABC):
    """One thing a platform can do, with the settings it needs and the host it calls.

    Subclasses are bases per kind (``EventsCapability``, ``BrowserTag``); a platform module
    subclasses those with its facts as class data. ``config`` is the platform's settings entry.
    """

    # What this capability is, as platforms name it in ``Platform.capabilities`` and status rows.
    kind: ClassVar[str]
    # Human words for admin and messages ("server events", "browser tag").
    label: ClassVar[str]
    # Settings keys this capability needs; `manage.py check` names each missing one.
    required_settings: ClassVar[tuple[str, ...]] = ()
    # Further keys it reads (any other key of the platform entry is flagged as a typo).
    optional_settings: ClassVar[tuple[str, ...]] = ()
    # An opt-in capability is on only once one of its own required keys is set (a store that
    # never uploads audiences needs no ad account id); the others are on with the platform.
    opt_in: ClassVar[bool] = False
    # Its own host when the API lives elsewhere than the platform's (Google's audience uploads);
    # "" means the platform's. Overridable by the settings key "<kind>_api_base".
    default_api_base: ClassVar[str] = ""
    default_timeout: ClassVar[float] = 10.0

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.config: Mapping[str, Any] = platform.config
        self._client: HttpClient | None = None

    @property
    def name(self) -> str:
        return self.platform.name

    @property
    def slug(self) -> str:
        return self.platform.slug

    @classmethod
    def own_api_base_key(cls) -> str | None:
        """The settings key overriding this capability's own host, or None when it uses the platform's."""
        return f"{cls.kind}_api_base" if cls.default_api_base else None

    @classmethod
    def settings_keys(cls) -> tuple[str, ...]:
        """Every key this capability reads."""
        own = cls.own_api_base_key()
        return (*cls.required_settings, *cls.optional_settings, *((own,) if own else ()))

    @classmethod
    def check_values(cls, entry: Mapping[str, Any], key: str) -> list[Any]:
        """System-check messages for this capability's values in ``entry`` (``key`` is its full settings key); none by default."""
        return []

    @classmethod
    def value_error(cls, key: str, entry: Mapping[str, Any], name: str, expected: str, check_id: str) -> Any:
        """The check message for a wrong value of ``name``: names the full key and the value, says what fits."""
        from django.core.checks import Error

        return Error(f"{key}[{name!r}] = {entry.get(name)!r} is not valid for {cls.label}", hint=f"Use {expected}.", id=check_id)

    @property
    def api_base(self) -> str:
        own = self.own_api_base_key()
        value = (own and self.config.get(own)) or self.config.get("api_base") or self.default_api_base
        return str(value or self.platform.default_api_base).rstrip("/")

    @property
    def timeout(self) -> float:
        return float(self.config.get("timeout") or self.default_timeout)

    def setting(self, key: str) -> Any:
        """A required settings value, or ``ConfigurationError`` naming the full key."""
        value = self.config.get(key)
        if value in (None, ""):
            raise ConfigurationError(f"SOCIALSHOP['PLATFORMS']['{self.slug}']['{key}'] is not set")
        return value

    def credential_values(self) -> dict[str, str]:
        """The settings that authenticate this capability (its required keys and host): a halt lasts until they change."""
        return {**{k: str(self.config.get(k, "")) for k in self.required_settings}, "api_base": self.api_base}

    @property
    def client(self) -> HttpClient:
        """The kept-alive HTTP client for this capability's host."""
        if self._client is None:
            self._client = HttpClient(self.api_base, name=self.name, timeout=self.timeout,
                                      error_flags=self.error_flags, error_message=self.error_message)
        return self._client

    def call(self, api_call: ApiCall) -> tuple[int, Any]:
        """Make ``api_call`` on this capability's host (``HttpClient.call``)."""
        return self.client.call(api_call)

    def close(self) -> None:
        """Close the kept-alive connection, if any."""
        if self._client is not None:
            self._client.close()

    def error_flags(self, status: int, body: Any) -> tuple[bool, bool]:
        """(retryable, auth) for an error answer; platforms override for their error codes."""
        return default_error_flags(status, body)

    def error_message(self, body: Any) -> str:
        """The platform's error text from an error body; platforms override for their format."""
        return default_error_message(body)


class Platform:
    """An ad platform: its facts and the capabilities it is composed of.

    ``config`` is ``SOCIALSHOP['PLATFORMS'][slug]``. Ask for a capability with ``capability(kind)``
    (or the ``events`` and ``browser_tag`` shortcuts); one it lacks raises ``UnsupportedFeature``.
    """

    slug: ClassVar[str]
    name: ClassVar[str]
    default_api_base: ClassVar[str]
    # kind -> capability class; the single list of what this platform can do.
    capabilities: ClassVar[Mapping[str, type[Capability]]]
    # Keys every platform entry accepts.
    common_settings: ClassVar[tuple[str, ...]] = ("api_base", "timeout", "enabled")

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)
        self._instances: dict[str, Capability] = {}

    @classmethod
    def supports(cls, kind: str) -> bool:
        """Whether this platform has the ``kind`` capability at all."""
        return kind in cls.capabilities

    @classmethod
    def settings_keys(cls) -> set[str]:
        """Every key a settings entry of this platform may hold."""
        keys = set(cls.common_settings)
        for capability in cls.capabilities.values():
            keys.update(capability.settings_keys())
        return keys

    def is_active(self, kind: str) -> bool:
        """Whether the ``kind`` capability is switched on by the settings (opt-in ones need one of their own keys)."""
        cls = self.capabilities.get(kind)
        if cls is None:
            return False
        if not cls.opt_in:
            return True
        shared = {k for other in self.capabilities.values() if not other.opt_in for k in other.settings_keys()}
        return any(self.config.get(k) not in (None, "") for k in cls.required_settings if k not in shared)

    def capability(self, kind: str) -> Capability:
        """This platform's ``kind`` capability; ``UnsupportedFeature`` naming both when it has none."""
        if kind not in self._instances:
            cls = self.capabilities.get(kind)
            if cls is None:
                raise UnsupportedFeature(self.name, kind)
            self._instances[kind] = cls(self)
        return self._instances[kind]

    @property
    def events(self) -> Any:
        """The server-events capability (``EventsCapability``)."""
        return self.capability("events")

    @property
    def browser_tag(self) -> Any:
        """The browser-tag capability (``BrowserTag``)."""
        return self.capability("browser_tag")

    def close(self) -> None:
        """Close every capability's kept-alive connection."""
        for capability in self._instances.values():
            capability.close()
