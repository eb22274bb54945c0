"""Ad platforms (Meta, Google, Pinterest, TikTok): one module each behind ``HttpPlatform``.

``REGISTRY`` lists them explicitly (slug -> class); adding a platform is one line here plus its
module, tests and docs/platforms/<slug>.md.
"""
from __future__ import annotations

REGISTRY: dict[str, type] = {}
