"""Shoppable posts: ``Post`` (an image with a caption), its ``ProductTag`` hotspots and ``Comment``.

Customer photos are posts with ``source="customer"`` (``CustomerPhoto`` is the moderation-queue
proxy). Image work is ``posts/images.py``; engagement counts and attribution are ``posts/engagement.py``;
what happens after a post or tag is saved (renditions, tag snapshot) is ``posts/receivers.py``.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.text import slugify

from socialshop.posts.storage import post_image_storage, upload_name

MAX_TAGS_PER_POST = 20  # Instagram: at most 20 product tags per post.
# Written by image processing (posts/images.py) with a queryset update, behind the instance's back.
PROCESSING_FIELDS = ("image", "image_state", "image_error", "image_digest", "width", "height", "renditions")
HASHTAG_RE = re.compile(r"(?<![\w&])#(\w{1,60})", re.UNICODE)
MENTION_RE = re.compile(r"(?<![\w@])@([\w.]{1,60})", re.UNICODE)


class PostSource(models.TextChoices):
    OWN = "own", "Own"
    CUSTOMER = "customer", "Customer photo"
    INFLUENCER = "influencer", "Influencer"


class PostStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    HIDDEN = "hidden", "Hidden"


class ImageState(models.TextChoices):
    PENDING = "pending", "Waiting for processing"
    READY = "ready", "Renditions ready"
    FAILED = "failed", "Refused"


class Moderation(models.TextChoices):
    PENDING = "pending", "Waiting for moderation"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


def hashtags_of(caption: str) -> list[str]:
    """Lower-cased hashtags in ``caption`` without '#', in order, without repeats."""
    return list(dict.fromkeys(tag.casefold() for tag in HASHTAG_RE.findall(caption or "")))


def mentions_of(caption: str) -> list[str]:
    """Mentioned handles in ``caption`` without '@', in order, without repeats."""
    return list(dict.fromkeys(MENTION_RE.findall(caption or "")))


def upload_path(instance: "Post", filename: str) -> str:
    """A random private name: the sender's file name and extension are never used (posts/storage.py
    gives it the extension of the format the file really is)."""
    return upload_name()


class Post(models.Model):
    slug = models.SlugField(max_length=80, unique=True, help_text="Used in the post page URL.")
    image = models.FileField(
        upload_to=upload_path, storage=post_image_storage, max_length=255,
        help_text="The picture. It waits in private storage until processing replaces it by a clean public copy "
                  "(oriented, sRGB, no metadata).",
    )
    caption = models.TextField(blank=True, default="", help_text="Text shown with the post; #hashtags and @mentions are picked out.")
    hashtags = models.CharField(
        max_length=1000, blank=True, default="", editable=False,
        help_text="Hashtags of the caption, space-separated and padded (' a b '), for filtering.",
    )
    mentions = models.JSONField(default=list, blank=True, editable=False, help_text="@handles mentioned in the caption.")
    source = models.CharField(max_length=12, choices=PostSource.choices, default=PostSource.OWN)
    credit = models.CharField(max_length=120, blank=True, default="", help_text="Who made the picture (shown as 'Photo: ...').")
    published_at = models.DateTimeField(default=timezone.now, db_index=True, help_text="Shown from this time on, newest first.")
    status = models.CharField(max_length=10, choices=PostStatus.choices, default=PostStatus.DRAFT)
    alt_text = models.CharField(max_length=300, blank=True, default="", help_text="Describes the picture for screen readers.")
    # Image processing (posts/images.py)
    image_state = models.CharField(max_length=10, choices=ImageState.choices, default=ImageState.PENDING)
    image_error = models.CharField(max_length=300, blank=True, default="", help_text="Why the image was refused.")
    image_digest = models.CharField(max_length=64, blank=True, default="", help_text="SHA-256 of the processed master image.")
    width = models.PositiveIntegerField(default=0, help_text="Master image width in pixels, after EXIF orientation.")
    height = models.PositiveIntegerField(default=0)
    renditions = models.JSONField(
        default=dict, blank=True,
        help_text="name -> {width, height, box: [left, top, right, bottom] in master pixels, jpeg, webp}.",
    )
    # Customer photos (source=customer)
    rights_granted = models.BooleanField(default=False, help_text="The author granted the store the right to use the photo.")
    rights_granted_at = models.DateTimeField(null=True, blank=True)
    moderation = models.CharField(max_length=10, choices=Moderation.choices, default=Moderation.APPROVED)
    moderated_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="socialshop_photos", help_text="The signed-in customer who uploaded it.",
    )
    submitter_name = models.CharField(max_length=120, blank=True, default="")
    submitter_email = models.EmailField(blank=True, default="", help_text="Kept to contact the author; never shown.")
    submitted_product_id = models.CharField(max_length=64, blank=True, default="", help_text="Catalog id the customer says is pictured.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "post"
        ordering = ["-published_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "image_state", "published_at"], name="ss_post_gallery"),
            models.Index(fields=["source", "moderation"], name="ss_post_moderation"),
        ]
        constraints = [
            # A customer photo can never be published before its rights are granted and it is approved.
            models.CheckConstraint(
                condition=~models.Q(source="customer", status="published")
                | models.Q(rights_granted=True, moderation="approved"),
                name="ss_post_customer_publish_needs_rights_and_approval",
            ),
            models.CheckConstraint(
                condition=models.Q(rights_granted=False) | models.Q(rights_granted_at__isnull=False),
                name="ss_post_rights_have_a_time",
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> "Post":
        instance = super().from_db(db, field_names, values)
        instance._remember_processing_fields()
        return instance

    def _processing_value(self, name: str) -> Any:
        value = self.__dict__.get(name)
        return value.name if isinstance(value, FieldFile) else copy.deepcopy(value)

    def _remember_processing_fields(self, fields: Any = None) -> None:
        """Note the processing fields as stored, to tell the caller's changes from stale copies."""
        names = [n for n in PROCESSING_FIELDS if n in self.__dict__ and (fields is None or n in fields)]
        stored = getattr(self, "_stored_processing", None) if fields is not None else None
        self._stored_processing = {**(stored or {}), **{n: self._processing_value(n) for n in names}}

    def refresh_from_db(self, using: str | None = None, fields: Any = None, from_queryset: Any = None) -> None:
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        self._remember_processing_fields(fields)

    def get_absolute_url(self) -> str:
        """The post's page in the gallery (admin's "View on site")."""
        from django.urls import reverse

        return reverse("socialshop:posts-detail", kwargs={"slug": self.slug})

    @property
    def title(self) -> str:
        """A short title for lists: the caption's first line without hashtags, else the alt text or slug."""
        first = re.sub(r"[#@]\w+", "", (self.caption or "").strip().split("\n")[0]).strip(" -–·")
        text = first or self.alt_text or self.slug
        return text if len(text) <= 70 else text[:69].rstrip() + "…"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; a new picture goes back to PENDING (posts/receivers.py queues its processing).

        Processing writes its results with a queryset update, so this instance may hold stale copies
        of them: fields the caller did not change are left out of the write, never written back.
        """
        self.hashtags = (" " + " ".join(hashtags_of(self.caption)) + " ") if hashtags_of(self.caption) else ""
        self.mentions = mentions_of(self.caption)
        if self.rights_granted and self.rights_granted_at is None:
            self.rights_granted_at = timezone.now()
        if not self.slug:
            self.slug = self._unique_slug()
        stored = getattr(self, "_stored_processing", None)
        self.image_changed = self._state.adding or (stored is not None and self._processing_value("image") != stored.get("image"))
        if self.image_changed and not self._state.adding:
            self.image_state, self.image_error = ImageState.PENDING, ""
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"hashtags", "mentions", "updated_at"}
        elif stored and not self._state.adding and not kwargs.get("force_insert"):
            untouched = {n for n, v in stored.items() if self._processing_value(n) == v}
            if untouched:
                kwargs["update_fields"] = [
                    f.name for f in self._meta.concrete_fields if not f.primary_key and f.name not in untouched]
        super().save(*args, **kwargs)
        self._remember_processing_fields()

    def _unique_slug(self) -> str:
        base = slugify(self.caption.split("\n", 1)[0])[:60].strip("-") or "post"
        slug, n = base, 1
        while Post.objects.filter(slug=slug).exclude(pk=self.pk).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    def clean(self) -> None:
        if self.source == PostSource.CUSTOMER and self.status == PostStatus.PUBLISHED:
            if not self.rights_granted:
                raise ValidationError({"status": "A customer photo cannot be published before its author grants the rights."})
            if self.moderation != Moderation.APPROVED:
                raise ValidationError({"status": "A customer photo cannot be published before it is approved."})

    @property
    def hashtag_list(self) -> list[str]:
        return self.hashtags.split()

    @property
    def is_live(self) -> bool:
        return (
            self.status == PostStatus.PUBLISHED and self.image_state == ImageState.READY
            and self.published_at <= timezone.now()
        )

    @property
    def tracking_id(self) -> str:
        """The ``post_id`` carried by engagement events."""
        return str(self.pk)


class ProductTag(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="tags")
    product_id = models.CharField(max_length=64, help_text="Catalog id (as in the feeds) of the tagged product or variant.")
    group_id = models.CharField(
        max_length=64, blank=True, default="",
        help_text="The product's item_group_id (or its id), kept for 'posts of this product' lookups.",
    )
    variant_chosen = models.BooleanField(default=False, help_text="The marketer picked this exact variant, not just the product.")
    category = models.CharField(max_length=300, blank=True, default="", help_text="The product's category path when tagged, for filtering.")
    title = models.CharField(max_length=200, blank=True, default="", help_text="Product title when tagged (admin display only).")
    x = models.FloatField(help_text="Horizontal position as a fraction of the width (0 = left, 1 = right).")
    y = models.FloatField(help_text="Vertical position as a fraction of the height (0 = top, 1 = bottom).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "product tag"
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["product_id"], name="ss_tag_product"),
            models.Index(fields=["group_id"], name="ss_tag_group"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(x__gte=0, x__lte=1, y__gte=0, y__lte=1), name="ss_tag_inside_picture"),
            models.UniqueConstraint(fields=["post", "product_id", "x", "y"], name="ss_tag_once_per_spot"),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.product_id} @ ({self.x:.2f}, {self.y:.2f})"

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> "ProductTag":
        instance = super().from_db(db, field_names, values)
        instance.stored_product_id = instance.__dict__.get("product_id")
        return instance

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is None and self.post_id and ProductTag.objects.filter(post_id=self.post_id).count() >= MAX_TAGS_PER_POST:
            raise ValidationError(f"A post has at most {MAX_TAGS_PER_POST} product tags.")
        if kwargs.get("update_fields") is not None and "product_id" in kwargs["update_fields"]:
            # posts/receivers.py refills these from the catalog for the new product
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"group_id", "category", "title"}
        super().save(*args, **kwargs)
        self.stored_product_id = self.product_id

    def clean(self) -> None:
        errors = {}
        for axis in ("x", "y"):
            value = getattr(self, axis)
            if value is None or not 0 <= value <= 1:
                errors[axis] = f"{axis} = {value!r} is outside the picture; use a fraction from 0 to 1."
        if errors:
            raise ValidationError(errors)
        if self.post_id and not self.pk:
            if ProductTag.objects.filter(post_id=self.post_id).count() >= MAX_TAGS_PER_POST:
                raise ValidationError(f"A post has at most {MAX_TAGS_PER_POST} product tags.")


class CommentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for moderation"
    APPROVED = "approved", "Shown"
    REJECTED = "rejected", "Rejected"


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="socialshop_comments",
    )
    name = models.CharField(max_length=80, help_text="Shown with the comment.")
    email = models.EmailField(blank=True, default="", help_text="Never shown.")
    body = models.TextField(max_length=2000, help_text="Plain text; always shown escaped.")
    status = models.CharField(max_length=10, choices=CommentStatus.choices, default=CommentStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "comment"
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["post", "status", "created_at"], name="ss_comment_post")]
        constraints = [
            models.CheckConstraint(condition=models.Q(user__isnull=False) | ~models.Q(email=""), name="ss_comment_has_author"),
        ]

    def __str__(self) -> str:
        return f"{self.name} on {self.post_id}"


class CustomerPhotoManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(source=PostSource.CUSTOMER)


class CustomerPhoto(Post):
    """The moderation queue: customer-submitted posts."""

    objects = CustomerPhotoManager()

    class Meta:
        proxy = True
        verbose_name = "customer photo"
        ordering = ["moderation", "-created_at"]

