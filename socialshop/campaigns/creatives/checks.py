"""System checks for ad creatives (socialshop.E185-E189): the font folders exist and hold fonts for the
scripts ads are drawn in. The settings' types are checked with the others in socialshop/checks.py.
"""
from __future__ import annotations

import os

from django.core.checks import CheckMessage, Error
from django.core.checks import Warning as CheckWarning

from socialshop.campaigns.creatives.fonts import COMMON, INSTALL_HINT, font_dirs, missing_scripts


def check_creatives() -> list[CheckMessage]:
    """E185 when no font folder exists or none covers Latin text; W186 naming scripts no font covers."""
    dirs = font_dirs()
    if not any(os.path.isdir(d) for d in dirs):
        return [Error(f"SOCIALSHOP['CREATIVE_FONT_DIRS'] = {list(dirs)!r}: none of these folders exists",
                      hint=f"Point it at your font folders (default ['/usr/share/fonts']) and {INSTALL_HINT}.",
                      id="socialshop.E185")]
    missing = missing_scripts()
    if COMMON in missing:
        return [Error(f"SOCIALSHOP['CREATIVE_FONT_DIRS'] = {list(dirs)!r} holds no font for Latin text",
                      hint=f"Ads cannot be drawn; {INSTALL_HINT}.", id="socialshop.E185")]
    if missing:
        return [CheckWarning(
            f"SOCIALSHOP['CREATIVE_FONT_DIRS'] = {list(dirs)!r} holds no font for: {', '.join(missing)}",
            hint=f"Ads with such titles fail with a message naming the script; {INSTALL_HINT}.", id="socialshop.W186")]
    return []
