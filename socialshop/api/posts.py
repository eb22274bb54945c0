"""API resources ``posts`` and ``post-tags`` for headless storefronts: anyone reads live posts (with
renditions, tag positions per rendition and live product cards); staff users with ``view_post`` also see
drafts, and writes need the model's add/change/delete permission (``api/base.py``).
"""
from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, pagination, parsers, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from socialshop.api.base import SocialshopAPIMixin, may
from socialshop.api.schema import ErrorSerializer, document
from socialshop.catalog import get_catalog
from socialshop.core.jobs import run_task
from socialshop.posts.gallery import card_of, filter_posts, live_posts, snapshot_tag
from socialshop.core.images import ImageRejected, validate_upload
from socialshop.posts.images import position_in
from socialshop.posts.models import MAX_TAGS_PER_POST, ImageState, Post, ProductTag


def _sees_drafts(request: Request) -> bool:
    """Staff with ``view_post`` (or ``change_post``) see every post; everyone else live posts only."""
    return may(request, "socialshop.view_post")


class ProductCardSerializer(serializers.Serializer):
    """The live product card of a tag (documentation of ``TagSerializer.product``)."""

    id = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    image = serializers.CharField(allow_null=True)
    price = serializers.CharField(allow_null=True)
    sale_price = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    availability = serializers.CharField()


class RenditionSerializer(serializers.Serializer):
    """One rendition of a post's picture (documentation of ``PostSerializer.renditions``)."""

    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    jpeg = serializers.URLField(required=False)
    webp = serializers.URLField(required=False)


class TagSerializer(serializers.ModelSerializer):
    positions = serializers.SerializerMethodField(help_text="rendition name -> [x, y] inside that rendition.")
    product = serializers.SerializerMethodField(help_text="Live product card; null when the product is gone.")

    class Meta:
        model = ProductTag
        fields = ("id", "post", "product_id", "variant_chosen", "x", "y", "positions", "product", "title", "category")
        read_only_fields = ("title", "category")

    @extend_schema_field(serializers.DictField(child=serializers.ListField(child=serializers.FloatField())))
    def get_positions(self, tag: ProductTag) -> dict[str, list[float]]:
        post = tag.post
        out = {}
        for name, entry in (post.renditions or {}).items():
            if post.width and post.height and entry.get("box"):
                x, y = position_in(entry["box"], post.width, post.height, tag.x, tag.y)
                out[name] = [round(x, 4), round(y, 4)]
        return out

    @extend_schema_field(ProductCardSerializer(allow_null=True))
    def get_product(self, tag: ProductTag) -> dict[str, Any] | None:
        records = self.context.get("records")
        if records is None:
            records = get_catalog().get_records([tag.product_id])
        record = records.get(tag.product_id)
        if record is None:
            return None
        card = card_of(record, tag_id=str(tag.pk), x=tag.x, y=tag.y)
        return {
            "id": card.product_id, "title": card.title, "url": card.url, "image": card.image_url,
            "price": str(card.price) if card.price is not None else None,
            "sale_price": str(card.sale_price) if card.sale_price is not None else None,
            "currency": card.currency, "availability": card.availability,
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for axis in ("x", "y"):
            value = attrs.get(axis, getattr(self.instance, axis, None))
            if value is None or not 0 <= value <= 1:
                raise serializers.ValidationError({axis: f"{axis} = {value!r} is outside the picture; use a fraction from 0 to 1."})
        product_id = attrs.get("product_id", getattr(self.instance, "product_id", ""))
        record = get_catalog().get_records([product_id]).get(product_id)
        if record is None:
            raise serializers.ValidationError({"product_id": f"No product with catalog id {product_id!r}."})
        post = attrs.get("post") or getattr(self.instance, "post", None)
        if self.instance is None and post is not None and post.tags.count() >= MAX_TAGS_PER_POST:
            raise serializers.ValidationError(f"A post has at most {MAX_TAGS_PER_POST} product tags.")
        attrs["_record"] = record
        return attrs

    def save(self, **kwargs: Any) -> ProductTag:
        record = self.validated_data.pop("_record", None)
        tag = super().save(**kwargs)
        snapshot_tag(tag, record)
        tag.save(update_fields=["group_id", "category", "title", "updated_at"])
        _schedule(tag.post_id)
        return tag


class PostSerializer(serializers.ModelSerializer):
    renditions = serializers.SerializerMethodField(help_text="name -> {width, height, jpeg, webp} (absolute URLs).")
    tags = serializers.SerializerMethodField(help_text="Visible tags: products the catalog still has.")
    hashtags = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = (
            "id", "slug", "image", "caption", "hashtags", "mentions", "alt_text", "source", "credit", "published_at",
            "status", "image_state", "image_error", "width", "height", "renditions", "tags",
        )
        read_only_fields = ("hashtags", "mentions", "image_state", "image_error", "width", "height")
        extra_kwargs = {"slug": {"required": False}, "image": {"write_only": True}}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_hashtags(self, post: Post) -> list[str]:
        return post.hashtag_list

    @extend_schema_field(serializers.DictField(child=RenditionSerializer()))
    def get_renditions(self, post: Post) -> dict[str, dict[str, Any]]:
        request = self.context.get("request")
        out = {}
        for name, entry in (post.renditions or {}).items():
            urls = {fmt: default_storage.url(entry[fmt]) for fmt in ("jpeg", "webp") if entry.get(fmt)}
            if request is not None:
                urls = {fmt: request.build_absolute_uri(url) for fmt, url in urls.items()}
            out[name] = {"width": entry.get("width"), "height": entry.get("height"), **urls}
        return out

    @extend_schema_field(TagSerializer(many=True))
    def get_tags(self, post: Post) -> list[dict[str, Any]]:
        data = TagSerializer(post.tags.all(), many=True, context=self.context).data
        return [tag for tag in data if tag["product"] is not None]

    def validate_image(self, image: Any) -> Any:
        try:
            validate_upload(image, limit=64 * 1024 * 1024)
        except ImageRejected as exc:
            raise serializers.ValidationError(str(exc)) from None
        return image

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        probe = Post(**{**{f: getattr(self.instance, f) for f in ("source", "status", "rights_granted", "moderation")
                           if self.instance is not None}, **{k: v for k, v in attrs.items() if k != "image"}})
        try:
            probe.clean()
        except Exception as exc:  # noqa: BLE001 - Django ValidationError -> DRF error with the same words
            raise serializers.ValidationError(getattr(exc, "message_dict", str(exc))) from None
        return attrs

    def save(self, **kwargs: Any) -> Post:
        image_changed = "image" in self.validated_data
        if image_changed:
            kwargs["image_state"] = ImageState.PENDING
        post = super().save(**kwargs)
        if image_changed:
            _schedule(post.pk)
        return post


def _schedule(post_pk: int) -> None:
    from socialshop.tasks import process_post_image

    transaction.on_commit(lambda: run_task(process_post_image, post_pk))


class PostPagination(pagination.PageNumberPagination):
    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100


UNSUPPORTED_MEDIA = OpenApiResponse(ErrorSerializer, description="A post is created by multipart/form-data upload only.")


class PostViewSet(SocialshopAPIMixin, viewsets.ModelViewSet):
    """Shoppable posts. Filters: ``?product=<catalog id>``, ``?category=<path prefix>``, ``?hashtag=``.

    Anyone reads live posts; staff with ``view_post`` see every post (``?status=`` filters); writes need
    ``add_post``/``change_post``/``delete_post``. A post is created by multipart upload (its image).
    """

    serializer_class = PostSerializer
    pagination_class = PostPagination
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser]
    lookup_field = "slug"
    public_actions = ("list", "retrieve")

    def get_queryset(self) -> QuerySet[Post]:
        params = self.request.query_params
        filters = {key: params.get(key, "").strip()[:100] for key in ("product", "category", "hashtag")}
        if _sees_drafts(self.request):
            qs = filter_posts(Post.objects.all(), **filters)
            if params.get("status"):
                qs = qs.filter(status=params["status"])
            if params.get("source"):
                qs = qs.filter(source=params["source"])
            return qs.prefetch_related("tags").order_by("-published_at", "-pk")
        qs = live_posts(**filters)
        if params.get("source"):
            qs = qs.filter(source=params["source"])
        return qs.prefetch_related("tags")

    @document(request={"multipart/form-data": PostSerializer}, responses={201: PostSerializer, 415: UNSUPPORTED_MEDIA})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not (request.content_type or "").startswith("multipart/form-data"):
            raise exceptions.UnsupportedMediaType(
                request.content_type, detail="Create a post by multipart/form-data upload with its image file.")
        return super().create(request, *args, **kwargs)

    def _context_with_records(self, posts: list[Post]) -> dict[str, Any]:
        ids = {tag.product_id for post in posts for tag in post.tags.all()}
        return {**self.get_serializer_context(), "records": get_catalog().get_records(sorted(ids)) if ids else {}}

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        posts = list(page if page is not None else queryset)
        data = PostSerializer(posts, many=True, context=self._context_with_records(posts)).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        post = self.get_object()
        return Response(PostSerializer(post, context=self._context_with_records([post])).data)


class PostTagViewSet(SocialshopAPIMixin, viewsets.ModelViewSet):
    """Product tags of posts (``?post=<id>``, ``?product=<catalog id>``). Anyone reads the tags of live posts;
    staff with ``view_post`` those of every post; writes need ``add/change/delete_producttag``."""

    serializer_class = TagSerializer
    pagination_class = PostPagination
    public_actions = ("list", "retrieve")

    def get_queryset(self) -> QuerySet[ProductTag]:
        qs = ProductTag.objects.select_related("post")
        if not _sees_drafts(self.request):
            qs = qs.filter(post__in=live_posts().values("pk"))
        params = self.request.query_params
        if params.get("post"):
            qs = qs.filter(post_id=params["post"]) if params["post"].isdigit() else qs.none()
        if params.get("product"):
            qs = qs.filter(product_id=params["product"])
        return qs.order_by("pk")

    def perform_destroy(self, instance: ProductTag) -> None:
        post_pk = instance.post_id
        instance.delete()
        _schedule(post_pk)
