"""The demo store's contact adapter for socialshop's cart emails, and the link that restores a cart.

``DemoContactAdapter`` (SOCIALSHOP["CONTACT_ADAPTER"] in shop_demo/settings.py) gives a signed-in
customer's address from their account at send time. The store's cart lives in the browser's session,
so the email lists the cart socialshop saw (its AddToCart events, the adapter's default), and its link
goes through ``/cart/restore/``, which puts those lines back in whichever browser opens it.
"""
from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from shop_demo.store import checkout
from shop_demo.store.models import Order
from socialshop.campaigns.contacts import CartLine, Contact, ContactAdapter

RESTORE_SALT = "shop_demo.store.cart-restore"
RESTORE_PARAM = "c"


class DemoContactAdapter(ContactAdapter):
    """Customers of the demo store: signed-in accounts (``u:<id>``) are reachable; guests (``h:``) and
    anonymous visitors (``v:``) are not, since the store keeps no address for them.

    Consent: the demo writes only to customers who have ordered before (the "soft opt-in" for existing
    customers, who can unsubscribe in every email); an account without an order gets ``consent=False``.
    """

    def contacts(self, persons: Sequence[str]) -> dict[str, Contact]:
        """One query: the active accounts among ``persons`` with their address, first name and whether they ordered."""
        ids = {int(p[2:]): p for p in persons if p.startswith("u:") and p[2:].isdigit()}
        if not ids:
            return {}
        users = (get_user_model().objects.filter(pk__in=ids, is_active=True)
                 .annotate(ordered=Exists(Order.objects.filter(user=OuterRef("pk"))))
                 .values_list("pk", "email", "first_name", "ordered"))
        return {ids[pk]: Contact(email=email, name=name, consent=ordered) for pk, email, name, ordered in users if email}

    def restore_path(self, person: str, lines: Sequence[CartLine]) -> str:
        """``/cart/restore/?c=<signed lines>``: the lines (catalog id, quantity), signed so nobody can forge a cart."""
        token = signing.dumps([[line.catalog_id, line.quantity] for line in lines], salt=RESTORE_SALT, compress=True)
        return f"{reverse('store:cart_restore')}?{urlencode({RESTORE_PARAM: token})}"


@require_GET
def restore_cart(request: HttpRequest) -> HttpResponseRedirect:
    """``GET /cart/restore/?c=...``: add the signed lines to this browser's cart (up to the quantity in the
    email; items now sold out or gone are left out with a message), then show the cart, keeping utm_*."""
    try:
        lines = signing.loads(request.GET.get(RESTORE_PARAM, ""), salt=RESTORE_SALT)
    except signing.BadSignature:
        lines = None
    utm = {k: v for k, v in request.GET.items() if k.startswith("utm_")}
    target = reverse("store:cart") + (f"?{urlencode(utm)}" if utm else "")
    if not isinstance(lines, list):
        messages.error(request, "This cart link is not valid any more; here is your current cart.")
        return HttpResponseRedirect(target)
    cart = checkout.get_cart(request)
    missing = 0
    for entry in lines[:50]:
        try:
            catalog_id, quantity = str(entry[0]), int(entry[1])
            wanted = min(quantity, checkout.MAX_QUANTITY) - cart.get(catalog_id, 0)
            if wanted > 0:
                checkout.add_to_cart(request, catalog_id, wanted)
        except (checkout.CartError, TypeError, ValueError, IndexError):
            missing += 1
    if missing:
        messages.info(request, f"{missing} item(s) from your email are no longer available.")
    return HttpResponseRedirect(target)
