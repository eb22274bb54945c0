"""Admin for shoppable posts: the post editor with the click-to-tag widget and product search,
engagement counts and attributed revenue, the customer photo moderation queue and comment moderation.
"""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.contrib.admin.views.main import ChangeList
from django.core.files.uploadedfile import UploadedFile
from django.db.models import CharField, OuterRef, QuerySet
from django.db.models.functions import Cast, Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from socialshop.catalog import get_catalog
from socialshop.conf import app_settings
from socialshop.core.images import ImageRejected, validate_upload
from socialshop.core.money import format_money
from socialshop.posts.engagement import attribution_by_post, attribution_for, counts_by_tag, engagement_count
from socialshop.posts.gallery import rendition_url, search_products, snapshot_tag, tag_submitted_product
from socialshop.posts.images import schedule_processing
from socialshop.posts.storage import is_private
from socialshop.posts.models import (
    MAX_TAGS_PER_POST, Comment, CommentStatus, CustomerPhoto, ImageState, Moderation, Post, PostSource, PostStatus,
    ProductTag,
)
from socialshop.tracking.models import EventName


class PostForm(forms.ModelForm):
    class Meta:
        model = Post
        fields = "__all__"
        # A plain file input: no "Currently:" link to the upload as sent (it may be hostile and is
        # private until processed). The processed picture shows in the read-only preview instead.
        widgets = {"image": forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"})}

    def clean_image(self) -> Any:
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):
            try:
                validate_upload(image)
            except ImageRejected as exc:
                raise forms.ValidationError(str(exc)) from None
        return image


class ProductTagForm(forms.ModelForm):
    class Meta:
        model = ProductTag
        fields = ("product_id", "variant_chosen", "x", "y")
        widgets = {
            "product_id": forms.TextInput(attrs={"class": "ss-tag-product", "autocomplete": "off"}),
            "x": forms.NumberInput(attrs={"class": "ss-tag-x", "step": "0.0001", "min": "0", "max": "1"}),
            "y": forms.NumberInput(attrs={"class": "ss-tag-y", "step": "0.0001", "min": "0", "max": "1"}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        product_id = (data.get("product_id") or "").strip()
        if product_id and not self.errors:
            record = get_catalog().get_records([product_id]).get(product_id)
            if record is None:
                raise forms.ValidationError(f"No product with catalog id {product_id!r}; pick one with the search.")
            snapshot_tag(self.instance, record)
        return data


class ProductTagFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [f for f in self.forms if f.has_changed() or f.instance.pk]
        kept = [f for f in kept if not (self.can_delete and self._should_delete_form(f))]
        if len(kept) > MAX_TAGS_PER_POST:
            raise forms.ValidationError(f"A post has at most {MAX_TAGS_PER_POST} product tags; this one has {len(kept)}.")


class ProductTagInline(admin.TabularInline):
    model = ProductTag
    form = ProductTagForm
    formset = ProductTagFormSet
    extra = 1
    max_num = MAX_TAGS_PER_POST
    fields = ("product_id", "variant_chosen", "x", "y", "title", "category")
    readonly_fields = ("title", "category")


def _event_count(name: str) -> Coalesce:
    """The post's deduplicated count of ``name`` (per visitor, posts/engagement.py), sortable."""
    return engagement_count(name, Cast(OuterRef("pk"), CharField()))


class PostChangeList(ChangeList):
    """Attaches each listed post's attribution, computed for the whole page in two queries."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        attribution = attribution_by_post([post.tracking_id for post in self.result_list])
        for post in self.result_list:
            post.attribution = attribution[post.tracking_id]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    form = PostForm
    inlines = [ProductTagInline]
    change_form_template = "socialshop/posts/admin/change_form.html"
    # Fits 1280 px beside the admin's sidebars: status and source sit under the title.
    list_display = ("preview", "post_title", "views", "closeups", "clicks", "saves_likes_shares", "revenue")
    list_display_links = ("preview", "post_title")
    list_filter = ("status", "source", "image_state")
    search_fields = ("slug", "caption", "credit", "hashtags")
    readonly_fields = ("image_preview", "image_state", "image_error", "width", "height", "hashtags", "engagement")
    actions = ["publish", "hide", "reprocess"]
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("image_preview", "image", "alt_text", "caption", "slug", "source", "credit", "published_at", "status")}),
        ("Image processing", {"fields": ("image_state", "image_error", "width", "height", "hashtags")}),
        ("Customer photo", {"classes": ("collapse",), "fields": (
            "rights_granted", "moderation", "submitter_name", "submitter_email", "submitted_product_id",
        )}),
        ("Engagement", {"fields": ("engagement",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        return super().get_queryset(request).annotate(
            n_views=_event_count(EventName.POST_VIEW), n_closeups=_event_count(EventName.POST_CLOSEUP),
            n_clicks=_event_count(EventName.POST_CLICK), n_saves=_event_count(EventName.POST_SAVE),
            n_likes=_event_count(EventName.POST_LIKE), n_shares=_event_count(EventName.POST_SHARE),
        )

    @admin.display(description="")
    def preview(self, obj: Post) -> str:
        url = rendition_url(obj, "thumbnail")
        return format_html('<img src="{}" alt="" width="64" height="64" loading="lazy">', url) if url else "–"

    @admin.display(description="processed picture")
    def image_preview(self, obj: Post) -> str:
        """The cleaned rendition only; the upload as sent is never linked (it may carry a script)."""
        url = rendition_url(obj, "portrait") if obj.pk and obj.image_state == ImageState.READY else ""
        if url:
            return format_html('<img src="{}" alt="" style="max-width:270px;height:auto">', url)
        if obj.pk and obj.image_state == ImageState.FAILED:
            return format_html("Refused: {}", obj.image_error)
        return "Shown here once the picture is processed." if obj.pk else "–"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PostChangeList

    @admin.display(description="post", ordering="-published_at")
    def post_title(self, obj: Post) -> str:
        """Title, then status (with the date only once published), source and image state if not ready."""
        status = obj.get_status_display()
        if obj.status == PostStatus.PUBLISHED and obj.published_at:
            status += f" {timezone.localtime(obj.published_at):%b %d, %Y}"
        image = "" if obj.image_state == ImageState.READY else obj.get_image_state_display()
        detail = " · ".join(p for p in (status, obj.get_source_display(), image) if p)
        return format_html('{}<br><small style="color:#6b7280">{}</small>', obj.title, detail)

    @admin.display(description="views", ordering="n_views")
    def views(self, obj: Post) -> int:
        return getattr(obj, "n_views", 0)

    @admin.display(description="opened", ordering="n_closeups")
    def closeups(self, obj: Post) -> int:
        return getattr(obj, "n_closeups", 0)

    @admin.display(description="clicks", ordering="n_clicks")
    def clicks(self, obj: Post) -> int:
        return getattr(obj, "n_clicks", 0)

    @admin.display(description="saves/likes")
    def saves_likes_shares(self, obj: Post) -> str:
        saves, likes, shares = getattr(obj, "n_saves", 0), getattr(obj, "n_likes", 0), getattr(obj, "n_shares", 0)
        return format_html('<span title="{} saves, {} likes, {} shares">{} / {}</span>', saves, likes, shares, saves, likes)

    @admin.display(description="revenue")
    def revenue(self, obj: Post) -> str:
        result = getattr(obj, "attribution", None) or attribution_for(obj.tracking_id)
        if not result.orders:
            return "–"
        return ", ".join(format_money(amount, currency) for currency, amount in result.revenue.items()) + f" ({result.orders})"

    @admin.display(description="engagement by tag")
    def engagement(self, obj: Post) -> str:
        if not obj.pk:
            return "–"
        by_tag = counts_by_tag(obj.tracking_id)
        days = app_settings.POST_ATTRIBUTION_DAYS
        result = attribution_for(obj.tracking_id)
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (tag.title or tag.product_id, by_tag.get(str(tag.pk), {}).get(EventName.POST_CLICK, 0),
             by_tag.get(str(tag.pk), {}).get(EventName.ADD_TO_CART, 0))
            for tag in obj.tags.all()
        ))
        revenue = ", ".join(format_money(a, c) for c, a in result.revenue.items()) or format_money(0)
        return format_html(
            "<p>Attributed ({} day{} after a tag click): {} order{}, {}</p>"
            "<table><tr><th>Tag</th><th>Clicks</th><th>Add to cart</th></tr>{}</table>",
            days, "" if days == 1 else "s", result.orders, "" if result.orders == 1 else "s", revenue, rows,
        )

    def get_urls(self) -> list[Any]:
        extra = [
            path("product-search/", self.admin_site.admin_view(self.product_search), name="socialshop_post_product_search"),
        ]
        return extra + super().get_urls()

    def product_search(self, request: HttpRequest) -> HttpResponse:
        """JSON results for the tag widget's product picker (for those who may add or edit posts)."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        query = request.GET.get("q", "").strip()
        return JsonResponse({"results": search_products(query, limit=20) if len(query) >= 1 else []})

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> HttpResponse:
        obj = kwargs.get("obj")
        ready = obj is not None and obj.image and obj.image_state == ImageState.READY and not is_private(obj.image.name)
        context["ss_image_url"] = obj.image.url if ready else ""  # the clean master, never the raw upload
        context["ss_max_tags"] = MAX_TAGS_PER_POST
        return super().render_change_form(request, context, *args, **kwargs)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # A new picture and added, moved or removed tags are queued by posts/receivers.py (for the
        # ORM and the API alike); saving a post whose processing failed tries it again.
        if form.instance.image_state != ImageState.READY:
            schedule_processing(form.instance.pk)

    @admin.action(description="Publish selected posts", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        allowed = queryset.exclude(source=PostSource.CUSTOMER, rights_granted=False).exclude(
            source=PostSource.CUSTOMER, moderation__in=[Moderation.PENDING, Moderation.REJECTED]
        )
        done = allowed.update(status=PostStatus.PUBLISHED)
        skipped = queryset.count() - done
        self.message_user(request, ngettext("Published %(n)d post.", "Published %(n)d posts.", done) % {"n": done} + (
            ngettext(" %(n)d customer photo was skipped: it needs granted rights and approval first.",
                     " %(n)d customer photos were skipped: they need granted rights and approval first.", skipped) % {"n": skipped}
            if skipped else ""
        ), messages.WARNING if skipped else messages.SUCCESS)

    @admin.action(description="Hide selected posts", permissions=["change"])
    def hide(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        done = queryset.update(status=PostStatus.HIDDEN)
        self.message_user(request, ngettext("Hid %(n)d post.", "Hid %(n)d posts.", done) % {"n": done})

    @admin.action(description="Process images again", permissions=["change"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        pks = list(queryset.values_list("pk", flat=True))
        Post.objects.filter(pk__in=pks).update(image_state=ImageState.PENDING)  # so the run redoes the work
        for pk in pks:
            schedule_processing(pk)
        self.message_user(request, ngettext("Queued %(n)d image.", "Queued %(n)d images.", len(pks)) % {"n": len(pks)})


@admin.register(CustomerPhoto)
class CustomerPhotoAdmin(admin.ModelAdmin):
    """The moderation queue: approve (and publish) or reject photos sent by customers."""

    list_display = ("preview", "submitter_name", "caption", "rights_granted", "moderation", "image_state", "status", "created_at")
    list_filter = ("moderation", "rights_granted", "status")
    search_fields = ("caption", "submitter_name", "submitter_email")
    readonly_fields = ("rights_granted", "rights_granted_at", "submitter_name", "submitter_email", "submitted_product_id",
                       "image_preview", "image_state", "image_error", "moderated_at")
    fields = ("image_preview", "caption", "alt_text", "credit", "rights_granted", "rights_granted_at", "moderation", "moderated_at",
              "status", "submitter_name", "submitter_email", "submitted_product_id", "image_state", "image_error")
    actions = ["approve_and_publish", "approve", "reject"]
    preview = PostAdmin.preview

    @admin.display(description="photo (processed)")
    def image_preview(self, obj: Post) -> str:
        """The processed rendition only: moderators never open the upload as sent (it may carry a script)."""
        url = (rendition_url(obj, "square") or rendition_url(obj, "thumbnail")) if obj.pk and obj.image_state == ImageState.READY else ""
        if url:
            return format_html('<img src="{}" alt="{}" style="max-width:min(100%,360px);height:auto;border-radius:4px">',
                               url, obj.alt_text or "customer photo")
        if obj.pk and obj.image_state == ImageState.FAILED:
            return format_html("Refused: {}", obj.image_error)
        return f"Not processed yet ({obj.get_image_state_display().lower()})." if obj.pk else "–"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customer photos come from the storefront upload form

    def save_model(self, request: HttpRequest, obj: Post, form: forms.ModelForm, change: bool) -> None:
        if "moderation" in form.changed_data:
            obj.moderated_at = timezone.now()
        super().save_model(request, obj, form, change)
        if obj.moderation == Moderation.APPROVED:
            tag_submitted_product(obj)

    @staticmethod
    def _tag_approved(queryset: QuerySet[Post]) -> int:
        """Tag each approved photo with the product its customer named; returns how many got a tag."""
        return sum(1 for post in queryset.filter(moderation=Moderation.APPROVED) if tag_submitted_product(post))

    @admin.action(description="Approve and publish (rights must be granted)", permissions=["change"])
    def approve_and_publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        done = queryset.filter(rights_granted=True).update(
            moderation=Moderation.APPROVED, moderated_at=timezone.now(), status=PostStatus.PUBLISHED,
        )
        tagged = self._tag_approved(queryset)
        refused = queryset.filter(rights_granted=False).count()
        self.message_user(request, ngettext("Approved and published %(n)d photo.", "Approved and published %(n)d photos.", done) % {"n": done}
                          + (ngettext(" %(n)d is now tagged with the product its customer named.",
                                      " %(n)d are now tagged with the product their customers named.", tagged) % {"n": tagged} if tagged else "")
                          + (ngettext(" %(n)d without granted rights was left unpublished.",
                                      " %(n)d without granted rights were left unpublished.", refused) % {"n": refused} if refused else ""),
                          messages.WARNING if refused else messages.SUCCESS)

    @admin.action(description="Approve (keep unpublished)", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        done = queryset.update(moderation=Moderation.APPROVED, moderated_at=timezone.now())
        self._tag_approved(queryset)
        self.message_user(request, ngettext("Approved %(n)d photo.", "Approved %(n)d photos.", done) % {"n": done})

    @admin.action(description="Reject", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        done = queryset.update(moderation=Moderation.REJECTED, moderated_at=timezone.now(), status=PostStatus.HIDDEN)
        self.message_user(request, ngettext("Rejected %(n)d photo.", "Rejected %(n)d photos.", done) % {"n": done})


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("name", "post", "body", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "body")
    actions = ["approve", "reject"]
    raw_id_fields = ("post", "user")

    @admin.action(description="Approve (show) selected comments", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        done = queryset.update(status=CommentStatus.APPROVED)
        self.message_user(request, ngettext("Approved %(n)d comment.", "Approved %(n)d comments.", done) % {"n": done})

    @admin.action(description="Reject selected comments", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        done = queryset.update(status=CommentStatus.REJECTED)
        self.message_user(request, ngettext("Rejected %(n)d comment.", "Rejected %(n)d comments.", done) % {"n": done})
