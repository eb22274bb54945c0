"""Where post pictures are stored: an upload waits for processing in private storage, under a random
name with the extension of the format it really is; the processed master and renditions are public.

``Post.image`` uses ``post_image_storage``; processing is posts/images.py. The private storage is
``SOCIALSHOP["PRIVATE_UPLOAD_STORAGE"]`` (a ``STORAGES`` alias) or, when empty, a folder next to
MEDIA_ROOT that no URL reaches. ``manage.py check --deploy`` warns when it lies under MEDIA_ROOT.
"""
from __future__ import annotations

import io
import uuid
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from django.core.files.storage import FileSystemStorage, Storage, default_storage, storages
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from socialshop.conf import app_settings

PRIVATE_PREFIX = "socialshop/private/"
# Pillow's name of each accepted format -> the only extension a stored upload may have.
FORMAT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
UNKNOWN_EXTENSION = "bin"  # served as application/octet-stream if it ever were served
PRIVATE_FOLDER = "socialshop-private"


class PrivateFileSystemStorage(FileSystemStorage):
    """Files on disk that have no URL: asking for one is a programming error, not a link."""

    def url(self, name: str | None) -> str:
        raise ValueError(f"{name!r} is a private upload waiting for processing; it has no public URL.")


def default_private_root() -> Path:
    """The built-in private folder: ``socialshop-private`` next to (not inside) MEDIA_ROOT."""
    media = Path(app_settings.django("MEDIA_ROOT") or ".").resolve()
    return media.parent / PRIVATE_FOLDER


@lru_cache(maxsize=8)
def _filesystem(location: str) -> PrivateFileSystemStorage:
    return PrivateFileSystemStorage(location=location, base_url=None)


def private_storage() -> Storage:
    """The storage uploads wait in until processed (read when called: settings may change)."""
    alias = app_settings.PRIVATE_UPLOAD_STORAGE
    if alias:
        return storages[alias]
    return _filesystem(str(default_private_root()))


def is_private(name: str) -> bool:
    """True for the name of an upload that has not been processed yet."""
    return bool(name) and name.startswith(PRIVATE_PREFIX)


def sniffed_extension(content: IO[bytes] | Any) -> str:
    """The extension of the image format ``content`` really holds (from its header), never the sender's."""
    try:
        content.seek(0)
        head = content.read(64 * 1024)
        content.seek(0)
        fmt = Image.open(io.BytesIO(head)).format
    except (UnidentifiedImageError, OSError, ValueError, AttributeError, SyntaxError):
        return UNKNOWN_EXTENSION
    return FORMAT_EXTENSIONS.get(fmt or "", UNKNOWN_EXTENSION)


def upload_name(now: datetime | None = None) -> str:
    """A fresh private name for an upload; the extension is set from the content when it is saved."""
    return f"{PRIVATE_PREFIX}posts/{(now or timezone.now()):%Y/%m}/{uuid.uuid4().hex}.{UNKNOWN_EXTENSION}"


class PostImageStorage(Storage):
    """Routes each name to its storage: private uploads to ``private_storage()``, the rest to default."""

    def _target(self, name: str) -> Storage:
        return private_storage() if is_private(name) else default_storage

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        name = name or getattr(content, "name", "") or upload_name()
        if is_private(name):
            name = f"{name.rsplit('.', 1)[0]}.{sniffed_extension(content)}"
        return self._target(name).save(name, content, max_length=max_length)

    def _open(self, name: str, mode: str = "rb") -> Any:
        return self._target(name).open(name, mode)

    def delete(self, name: str) -> None:
        self._target(name).delete(name)

    def exists(self, name: str) -> bool:
        return self._target(name).exists(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self._target(path.rstrip("/") + "/").listdir(path)

    def size(self, name: str) -> int:
        return self._target(name).size(name)

    def url(self, name: str | None) -> str:
        return self._target(name or "").url(name)

    def path(self, name: str) -> str:
        return self._target(name).path(name)

    def get_modified_time(self, name: str) -> datetime:
        return self._target(name).get_modified_time(name)

    def get_created_time(self, name: str) -> datetime:
        return self._target(name).get_created_time(name)

    def get_accessed_time(self, name: str) -> datetime:
        return self._target(name).get_accessed_time(name)

    def deconstruct(self) -> tuple[str, tuple, dict]:
        return ("socialshop.posts.storage.PostImageStorage", (), {})


def post_image_storage() -> PostImageStorage:
    """The storage of ``Post.image`` (a callable, so migrations do not depend on settings)."""
    return PostImageStorage()
