"""Every error socialshop raises; each also subclasses what callers already catch."""
from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class SocialshopError(Exception):
    """Base of all socialshop errors."""


class ConfigurationError(SocialshopError, ImproperlyConfigured):
    """A SOCIALSHOP setting is missing or wrong; the message names the key and the value."""


class CatalogError(SocialshopError):
    """The catalog adapter could not read the host's products."""


class UnsupportedFeature(SocialshopError, NotImplementedError):
    """A platform lacks a capability; the message names the platform and the feature."""

    def __init__(self, platform: str, feature: str) -> None:
        self.platform = platform
        self.feature = feature
        super().__init__(f"{platform} does not support {feature}")


class JobLocked(SocialshopError):
    """Another run of the same single-flight job holds its lock."""
