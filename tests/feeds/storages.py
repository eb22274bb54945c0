"""A storage backend for tests whose writes can be made to fail (a full disk, a lost bucket)."""
from __future__ import annotations

from typing import Any

from django.core.files.storage import FileSystemStorage


class FlakyStorage(FileSystemStorage):
    """FileSystemStorage that raises OSError on save while ``failing`` is True."""

    failing = False

    def _save(self, name: str, content: Any) -> str:
        if type(self).failing:
            raise OSError(28, "No space left on device")
        return super()._save(name, content)
