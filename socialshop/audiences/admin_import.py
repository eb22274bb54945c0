"""The customer-list import in admin: upload a CSV, see a masked preview with the suggested column
mapping (``lists.sniff``), confirm, import (``lists.import_list``, which hashes every row) and rebuild.

The uploaded file waits between the two steps in a private temporary file named by a random token that
only the uploader's session knows; it is deleted after the import and, if abandoned, within an hour.
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from socialshop.audiences.models import Audience, RuleKind
from socialshop.exceptions import JobLocked

PENDING_SECONDS = 3600  # an abandoned upload is deleted after this long
SESSION_KEY = "socialshop_list_imports"
SHOWN_ERRORS = 20


def pending_dir() -> Path:
    """The private directory where uploads wait for confirmation."""
    folder = Path(tempfile.gettempdir()) / "socialshop-list-imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _forget_old(folder: Path) -> None:
    cutoff = time.time() - PENDING_SECONDS
    for path in folder.glob("*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


class UploadForm(forms.Form):
    file = forms.FileField(label="Customer list (CSV)", help_text="Columns such as email, phone, first name, last name, "
                                                                 "country, postcode; a header row helps. Only hashes are kept.")


class MappingForm(forms.Form):
    """Which column holds which field, prefilled with ``sniff``'s suggestion."""

    default_country = forms.CharField(required=False, max_length=40, label="Country for phones without a country code",
                                      help_text="ISO code, e.g. US; empty: the store's COUNTRY setting.")

    def __init__(self, *args: Any, fields: tuple[str, ...], columns: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "— not in the file —"), *((str(i), f"{i + 1}: {name}") for i, name in enumerate(columns))]
        for field in fields:
            self.fields[f"map_{field}"] = forms.ChoiceField(choices=choices, required=False, label=field.replace("_", " "))
        self.order_fields([*(f"map_{f}" for f in fields), "default_country"])

    def mapping(self) -> dict[str, int]:
        return {name[4:]: int(value) for name, value in self.cleaned_data.items() if name.startswith("map_") and value != ""}


class ListImportViews:
    """Mixed into ``AudienceAdmin``: the ``<pk>/import/`` view."""

    def import_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        from socialshop.audiences import lists

        audience = get_object_or_404(Audience, pk=pk)
        if not self.has_change_permission(request, audience):  # type: ignore[attr-defined]
            raise PermissionDenied
        back = reverse("admin:socialshop_audience_change", args=[audience.pk])
        if audience.kind != RuleKind.CUSTOMER_LIST:
            self.message_user(request, f"{audience.name} is a {audience.get_kind_display()!r} audience; only customer-list "  # type: ignore[attr-defined]
                                       "audiences take an uploaded list.", messages.ERROR)
            return HttpResponseRedirect(back)
        folder = pending_dir()
        _forget_old(folder)
        pending: dict[str, int] = request.session.get(SESSION_KEY, {})
        token = request.POST.get("token", "")
        if request.method == "POST" and token:
            return self._confirm_step(request, audience, lists, folder, pending, token, back)
        upload = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and upload.is_valid():
            token = secrets.token_urlsafe(18)
            path = folder / f"{token}.csv"
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                shutil.copyfileobj(upload.cleaned_data["file"], out)
            try:
                with path.open("rb") as handle:
                    preview = lists.sniff(handle)
            except lists.ListImportError as exc:
                path.unlink(missing_ok=True)
                upload.add_error("file", str(exc))
            else:
                request.session[SESSION_KEY] = {**pending, token: audience.pk}
                initial = {f"map_{field}": str(column) for field, column in preview.mapping.items()}
                form = MappingForm(initial=initial, fields=tuple(lists.FIELDS), columns=tuple(preview.columns))
                return self._page(request, audience, step="map", form=form, preview=preview, token=token)
        return self._page(request, audience, step="upload", form=upload)

    def _confirm_step(self, request: HttpRequest, audience: Audience, lists: Any, folder: Path, pending: dict[str, int],
                      token: str, back: str) -> HttpResponse:
        path = folder / f"{token}.csv"
        if pending.get(token) != audience.pk or not token.replace("-", "").replace("_", "").isalnum() or not path.exists():
            self.message_user(request, "That upload has expired or was already imported; upload the file again.",  # type: ignore[attr-defined]
                              messages.ERROR)
            return HttpResponseRedirect(reverse("admin:socialshop_audience_import", args=[audience.pk]))
        with path.open("rb") as handle:
            preview = lists.sniff(handle)
        form = MappingForm(request.POST, fields=tuple(lists.FIELDS), columns=tuple(preview.columns))
        if form.is_valid():
            try:
                with path.open("rb") as handle:
                    result = lists.import_list(audience, handle, mapping=form.mapping(),
                                               default_country=form.cleaned_data["default_country"] or None)
            except lists.ListImportError as exc:
                form.add_error(None, str(exc))
            except JobLocked:
                form.add_error(None, "Another import into this audience is running; try again when it has finished.")
            else:
                path.unlink(missing_ok=True)
                request.session[SESSION_KEY] = {k: v for k, v in pending.items() if k != token}
                self._report(request, audience, result)
                return HttpResponseRedirect(back)
        return self._page(request, audience, step="map", form=form, preview=preview, token=token)

    def _report(self, request: HttpRequest, audience: Audience, result: Any) -> None:
        say = self.message_user  # type: ignore[attr-defined]
        say(request, f"{audience.name}: {result.summary()}. Only SHA-256 hashes were stored.", messages.SUCCESS)
        for error in list(result.errors)[:SHOWN_ERRORS]:
            say(request, f"Left out {error}", messages.WARNING)
        if result.invalid > SHOWN_ERRORS:
            say(request, f"… and {result.invalid - SHOWN_ERRORS:,} more invalid rows.", messages.WARNING)
        if self.has_build_permission(request):  # type: ignore[attr-defined]
            self._build(request, audience)  # type: ignore[attr-defined]
        else:
            say(request, "The membership follows at the next scheduled build.", messages.INFO)

    def _page(self, request: HttpRequest, audience: Audience, **extra: Any) -> HttpResponse:
        context = {**self.admin_site.each_context(request), "opts": Audience._meta, "audience": audience,  # type: ignore[attr-defined]
                   "title": f"Import a customer list: {audience.name}", **extra}
        return TemplateResponse(request, "socialshop/admin/audiences/import.html", context)
