"""What is kept of a visitor's IP address (``IP_HANDLING``): truncated, hashed or nothing."""
from __future__ import annotations

import hashlib
import ipaddress
from functools import lru_cache

from socialshop.conf import app_settings


def stored_ip(raw: str) -> str:
    """The form of ``raw`` to store: "truncate" keeps /24 (IPv4) or /48 (IPv6), "hash" a keyed
    SHA-256 prefix, "none" nothing. An unparseable address gives ""."""
    mode = app_settings.IP_HANDLING
    if mode == "none" or not raw:
        return ""
    key = str(app_settings.django("SECRET_KEY", "")) if mode == "hash" else ""
    return _reduced(raw, mode, key)


def ip_digest(raw: str) -> str:
    """A keyed SHA-256 prefix of an address (whatever IP_HANDLING says), for counting per client
    without keeping the address; "" when it does not parse."""
    return _reduced(raw, "hash", str(app_settings.django("SECRET_KEY", "")))


@lru_cache(maxsize=4096)  # busy clients repeat; parsing an address is the slow part
def _reduced(raw: str, mode: str, secret: str) -> str:
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return ""
    if mode == "hash":
        return hashlib.sha256(secret.encode() + b"|" + address.packed).hexdigest()[:32]
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
