"""Storefront views of shoppable posts: the gallery, a post page with hotspots, customer photo upload
and comments. Queries live in posts/gallery.py; templates in templates/socialshop/posts/.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from socialshop.conf import app_settings
from socialshop.posts.forms import CommentForm, CustomerPhotoForm
from socialshop.posts.gallery import cards_for, live_posts, rendition_url, share_url
from socialshop.posts.limits import allow
from socialshop.posts.models import Comment, CommentStatus, ImageState, Moderation, Post, PostSource, PostStatus

PAGE_SIZE = 24


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def gallery(request: HttpRequest) -> HttpResponse:
    """The shoppable gallery: a grid of live posts, filtered by ?product=, ?category=, ?hashtag=."""
    filters = {key: request.GET.get(key, "").strip()[:100] for key in ("product", "category", "hashtag")}
    page = Paginator(live_posts(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "socialshop/posts/gallery.html", {
        "page": page, "posts": page.object_list, "filters": filters, "active_filter": any(filters.values()),
    })


def _post_for(request: HttpRequest, slug: str) -> Post:
    post = Post.objects.filter(slug=slug).first()
    if post is None:
        raise Http404("No such post")
    if not post.is_live and not (request.user.is_authenticated and request.user.is_staff):
        raise Http404("No such post")
    return post


def post_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A post with its hotspots (product cards with add-to-cart) and its approved comments."""
    post = _post_for(request, slug)
    cards = cards_for(post, rendition="portrait")
    comments = post.comments.filter(status=CommentStatus.APPROVED).select_related(None)
    signed_in = request.user.is_authenticated
    absolute = request.build_absolute_uri(reverse("socialshop:posts-detail", args=[post.slug]))
    return render(request, "socialshop/posts/post.html", {
        "post": post, "cards": cards, "comments": comments,
        "comment_form": CommentForm(signed_in=signed_in), "signed_in": signed_in,
        "share_url": share_url(absolute), "cart_add_url": app_settings.CART_ADD_URL,
        "image_jpeg": rendition_url(post, "portrait"), "image_webp": rendition_url(post, "portrait", "webp"),
        "content_ids": [card.product_id for card in cards],
        "commented": request.GET.get("commented") == "1",
    })


@require_POST
def comment(request: HttpRequest, slug: str) -> HttpResponse:
    """Save a comment (held for moderation when COMMENT_MODERATION); JSON for fetch, redirect otherwise."""
    post = _post_for(request, slug)
    signed_in = request.user.is_authenticated
    form = CommentForm(request.POST, signed_in=signed_in)
    if not form.is_valid():
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": errors}, status=400)
        messages.error(request, errors)
        return redirect(reverse("socialshop:posts-detail", args=[post.slug]) + "#comments")
    if not allow(request, "comment", per_hour=int(app_settings.COMMENTS_PER_HOUR)):
        message = "You have commented a lot in the last hour; please try again later."
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": message}, status=429)
        return HttpResponse(message, status=429, content_type="text/plain")
    user = request.user if signed_in else None
    held = bool(app_settings.COMMENT_MODERATION)
    name = form.cleaned_data.get("name") or (user.get_full_name() or user.get_username() if user else "")
    item = Comment.objects.create(
        post=post, user=user, name=name[:80], email=form.cleaned_data.get("email") or (getattr(user, "email", "") or ""),
        body=form.cleaned_data["body"], status=CommentStatus.PENDING if held else CommentStatus.APPROVED,
    )
    if _wants_json(request):
        return JsonResponse({"ok": True, "held": held, "id": item.pk, "name": item.name, "body": item.body})
    messages.success(request, "Thanks! Your comment will show once it is approved." if held else "Thanks for your comment!")
    return redirect(reverse("socialshop:posts-detail", args=[post.slug]) + "?commented=1#comments")


@require_http_methods(["GET", "POST"])
def submit_photo(request: HttpRequest) -> HttpResponse:
    """A customer sends a photo of what they bought; it waits in the moderation queue."""
    form = CustomerPhotoForm(initial={"product_id": request.GET.get("product", "")[:64]})
    if request.method == "POST":
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > int(app_settings.UPLOAD_MAX_BYTES) + 64 * 1024:
            return HttpResponse("The upload is too large.", status=413, content_type="text/plain")
        # Counted before the (costly) image check, so a flood of bad files is limited too.
        if not allow(request, "upload", per_hour=int(app_settings.POST_UPLOADS_PER_HOUR)):
            return HttpResponse("Too many uploads from you in the last hour; please try later.", status=429,
                                content_type="text/plain")
        form = CustomerPhotoForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            post = Post(
                image=data["photo"], caption=data["caption"], source=PostSource.CUSTOMER, status=PostStatus.DRAFT,
                credit=data["name"], submitter_name=data["name"], submitter_email=data["email"],
                submitted_product_id=data.get("product_id", ""), rights_granted=bool(data["rights"]),
                moderation=Moderation.PENDING, image_state=ImageState.PENDING,
                submitted_by=request.user if request.user.is_authenticated else None,
            )
            post.save()  # posts/receivers.py queues the image processing
            return render(request, "socialshop/posts/submit_done.html", {"post": post}, status=201)
    return render(request, "socialshop/posts/submit.html", {"form": form})
