"""Storefront views: browsing, the cart, checkout and payment, customer accounts.

State changes go through shop_demo/store/checkout.py; templates are in templates/store/.
"""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from shop_demo.store import checkout
from shop_demo.store.forms import CheckoutForm, EmailLoginForm, SignupForm
from shop_demo.store.models import Category, Order, Product, ProductImage

PAGE_SIZE = 24
SORTS = {"name": "name", "price": "price", "-price": "-price", "new": "-created_at"}


def listed_products() -> QuerySet[Product]:
    """Active products with what a product card needs, in two extra queries per page."""
    return (
        Product.objects.filter(is_active=True)
        .select_related("category")
        .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position", "pk")), "variants")
    )


def _page(request: HttpRequest, queryset: QuerySet[Product]) -> Any:
    sort = request.GET.get("sort", "name")
    queryset = queryset.order_by(SORTS.get(sort, "name"), "pk")
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    on_sale = listed_products().filter(sale_price__isnull=False).filter(
        Q(sale_starts_at__isnull=True) | Q(sale_starts_at__lte=now), Q(sale_ends_at__isnull=True) | Q(sale_ends_at__gt=now)
    )
    return render(request, "store/home.html", {
        "new_products": listed_products().order_by("-created_at", "pk")[:8],
        "sale_products": on_sale.order_by("sale_ends_at", "pk")[:8],
    })


def category(request: HttpRequest, slug: str) -> HttpResponse:
    cat = get_object_or_404(Category.objects.select_related("parent").prefetch_related("children"), slug=slug)
    products = listed_products().filter(Q(category=cat) | Q(category__parent=cat))
    return render(request, "store/category.html", {
        "category": cat, "page": _page(request, products), "sort": request.GET.get("sort", "name"),
    })


def product(request: HttpRequest, slug: str) -> HttpResponse:
    obj = get_object_or_404(listed_products(), slug=slug)
    variants = list(obj.variants.all())
    related = listed_products().filter(category=obj.category).exclude(pk=obj.pk).order_by("-created_at", "pk")[:4]
    return render(request, "store/product.html", {
        "product": obj,
        "images": list(obj.images.all()),
        "variants": variants,
        "colors": list(dict.fromkeys(v.color for v in variants if v.color)),
        "sizes": list(dict.fromkeys(v.size for v in variants if v.size)),
        "in_stock": any(v.stock > 0 for v in variants) or not variants,
        "default_variant": next((v for v in variants if v.stock > 0), variants[0] if variants else None),
        "related_products": related,
    })


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    products = listed_products().none()
    if query:
        products = listed_products()
        for word in query.split()[:6]:
            products = products.filter(
                Q(name__icontains=word) | Q(brand__icontains=word) | Q(category__path__icontains=word)
                | Q(description__icontains=word) | Q(variants__sku__iexact=word)
            )
        products = products.distinct()
    page = _page(request, products)
    return render(request, "store/search.html", {"query": query, "page": page, "sort": request.GET.get("sort", "name")})


# -- cart -------------------------------------------------------------------------------------
def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    """POST product_id (a catalog id) and quantity; JSON answer when the client accepts JSON."""
    catalog_id = request.POST.get("product_id", "")
    try:
        quantity = checkout.parse_quantity(request.POST.get("quantity"))
        line = checkout.add_to_cart(request, catalog_id, quantity)
    except checkout.CartError as exc:
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": str(exc)}, status=400)
        messages.error(request, str(exc)[:1].upper() + str(exc)[1:] + ".")
        return redirect(request.POST["next"] if _safe_next(request) else "store:cart")
    if _wants_json(request):
        return JsonResponse({
            "ok": True,
            "cart_count": checkout.cart_count(request),
            "item": {
                "id": line.item.catalog_id,
                "title": line.item.title,
                "price": f"{line.item.unit_price:.2f}",
                "currency": checkout.currency(),
                "quantity": quantity,
            },
        })
    messages.success(request, f"Added {quantity} x {line.item.title} to your cart.")
    return redirect("store:cart")


def _is_own_page(request: HttpRequest, target: str) -> bool:
    """True when ``target`` is a page of this site (rejects //host, /\\host, other schemes and hosts)."""
    return bool(target) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure(),
    )


def _safe_next(request: HttpRequest) -> bool:
    return _is_own_page(request, request.POST.get("next", ""))


def cart(request: HttpRequest) -> HttpResponse:
    lines = checkout.cart_lines(request)
    money, refused = checkout.cart_totals(request, lines)
    return render(request, "store/cart.html", {"lines": lines, "total": checkout.cart_total(lines), "money": money,
                                               "applied_code": checkout.applied_code(request), "code_refused": refused})


@require_POST
def cart_code(request: HttpRequest) -> HttpResponse:
    """Apply (``code``) or remove (``remove``) a discount code; the reason is shown when it does not apply."""
    if "remove" in request.POST:
        checkout.remove_code(request)
        messages.info(request, "Discount code removed.")
        return redirect("store:cart")
    try:
        money = checkout.apply_code(request, request.POST.get("code", ""))
    except checkout.CartError as exc:
        messages.error(request, str(exc)[:1].upper() + str(exc)[1:] + ".")
    else:
        saved = "free shipping" if money.shipping == 0 and money.discount == 0 else f"{money.discount:.2f} {checkout.currency()} off"
        messages.success(request, f"Code {money.code} applied: {saved}.")
    return redirect("store:cart")


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    catalog_id = request.POST.get("product_id", "")
    try:
        if "remove" in request.POST:
            checkout.remove_from_cart(request, catalog_id)
            messages.info(request, "Removed from your cart.")
        else:
            quantity = checkout.parse_quantity(request.POST.get("quantity"), allow_zero=True)
            checkout.set_quantity(request, catalog_id, quantity)
            messages.info(request, "Cart updated." if quantity else "Removed from your cart.")
    except checkout.CartError as exc:
        messages.error(request, str(exc)[:1].upper() + str(exc)[1:] + ".")
    return redirect("store:cart")


# -- checkout and orders ------------------------------------------------------------------------
def _checkout_initial(request: HttpRequest) -> dict[str, str]:
    user = request.user
    if not user.is_authenticated:
        return {}
    initial = {"email": user.email, "first_name": user.first_name, "last_name": user.last_name}
    last = user.orders.order_by("-created_at").first()
    if last:
        initial.update({name: getattr(last, name) for name in ("phone", "address", "city", "postcode", "country")})
    return initial


def checkout_view(request: HttpRequest) -> HttpResponse:
    lines = checkout.cart_lines(request)
    if not lines:
        messages.info(request, "Your cart is empty.")
        return redirect("store:cart")
    form = CheckoutForm(request.POST or None, initial=_checkout_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            order = checkout.place_order(request, form.cleaned_data)
        except checkout.CartError as exc:
            messages.error(request, str(exc)[:1].upper() + str(exc)[1:] + ".")
        else:
            return redirect(order.get_absolute_url())
    money, refused = checkout.cart_totals(request, lines)
    return render(request, "store/checkout.html", {"form": form, "lines": lines, "total": money.total, "money": money,
                                                   "code_refused": refused})


def _visible_order(request: HttpRequest, number: str) -> Order:
    order = get_object_or_404(Order.objects.prefetch_related("lines__product__images"), number=number)
    if not checkout.can_view_order(request, order):
        raise Http404("No such order")
    return order


def order(request: HttpRequest, number: str) -> HttpResponse:
    """A pending order shows the demo pay button; a paid one is the order confirmation."""
    obj = _visible_order(request, number)
    template = "store/order_confirmation.html" if obj.is_paid else "store/order_pay.html"
    return render(request, template, {"order": obj, "lines": list(obj.lines.all())})


@require_POST
def order_pay(request: HttpRequest, number: str) -> HttpResponse:
    obj = _visible_order(request, number)
    try:
        checkout.mark_paid(obj, request=request)
    except checkout.CartError as exc:
        messages.error(request, str(exc)[:1].upper() + str(exc)[1:] + ".")
    return redirect(obj.get_absolute_url())


# -- accounts ---------------------------------------------------------------------------------
class LoginView(auth_views.LoginView):
    template_name = "store/account/login.html"
    authentication_form = EmailLoginForm


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("store:home")


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("store:account")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.first_name}! Your account is ready.")
        target = request.GET.get("next", "")
        return redirect(target if _is_own_page(request, target) else "store:account")
    return render(request, "store/account/signup.html", {"form": form})


@login_required
def account(request: HttpRequest) -> HttpResponse:
    orders = request.user.orders.prefetch_related("lines").order_by("-created_at")
    return render(request, "store/account/orders.html", {"orders": orders})
