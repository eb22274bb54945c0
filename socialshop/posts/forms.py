"""Storefront forms for shoppable posts: a customer photo upload (with an explicit rights grant) and a
comment. Image checks are posts/images.py; the views that use them are posts/views.py.
"""
from __future__ import annotations

from typing import Any

from django import forms

from socialshop.conf import app_settings
from socialshop.core.images import ImageRejected, validate_upload

RIGHTS_TEXT = (
    "I took this photo and I grant the store a free, non-exclusive right to show it on its website and "
    "social channels with my name as credit."
)


class CustomerPhotoForm(forms.Form):
    photo = forms.FileField(help_text="JPEG, PNG or WebP.", widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
    caption = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    name = forms.CharField(max_length=120, label="Your name (shown as credit)")
    email = forms.EmailField(help_text="Only to contact you about your photo; never shown.")
    product_id = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    rights = forms.BooleanField(required=True, label=RIGHTS_TEXT, error_messages={
        "required": "Please grant the store the right to use your photo; we cannot show it otherwise.",
    })

    def clean_photo(self) -> Any:
        photo = self.cleaned_data["photo"]
        limit = int(app_settings.UPLOAD_MAX_BYTES)
        if photo.size is not None and photo.size > limit:
            raise forms.ValidationError(f"The photo is larger than {limit // (1024 * 1024)} MB; please send a smaller one.")
        try:
            validate_upload(photo, limit=limit)
        except ImageRejected as exc:
            raise forms.ValidationError(str(exc)) from None
        return photo


class CommentForm(forms.Form):
    name = forms.CharField(max_length=80, required=False)
    email = forms.EmailField(required=False, help_text="Never shown.")
    body = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), label="Comment")

    def __init__(self, *args: Any, signed_in: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed_in = signed_in
        if signed_in:
            del self.fields["email"]
            self.fields["name"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.signed_in and (not data.get("name") or not data.get("email")):
            raise forms.ValidationError("Sign in, or give your name and email to comment.")
        return data
