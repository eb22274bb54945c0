"""The demo store's own models: an ordinary shop schema that knows nothing of socialshop."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Category(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    path = models.CharField(max_length=300, blank=True, help_text="Full path, e.g. 'Women > Dresses' (kept on save).")
    google_category = models.CharField(max_length=200, blank=True, help_text="Google product taxonomy id or path.")

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["path"]

    def save(self, *args, **kwargs):
        self.path = f"{self.parent.path} > {self.name}" if self.parent_id else self.name
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.path

    def get_absolute_url(self) -> str:
        return reverse("store:category", args=[self.slug])


class Product(models.Model):
    class Gender(models.TextChoices):
        MALE = "male"
        FEMALE = "female"
        UNISEX = "unisex"

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True, max_length=220)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    description = models.TextField(blank=True)
    brand = models.CharField(max_length=70, blank=True)
    gtin = models.CharField(max_length=14, blank=True)
    mpn = models.CharField(max_length=70, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    age_group = models.CharField(max_length=10, blank=True, default="adult")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    sale_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    sale_starts_at = models.DateTimeField(null=True, blank=True)
    sale_ends_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("store:product", args=[self.slug])

    def is_on_sale(self) -> bool:
        """True when a sale price is set and today falls inside its (optional) dates."""
        now = timezone.now()
        return self.sale_price is not None and (
            (self.sale_starts_at is None or self.sale_starts_at <= now) and (self.sale_ends_at is None or now < self.sale_ends_at)
        )

    def current_price(self) -> Decimal:
        return self.sale_price if self.is_on_sale() else self.price


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]


class Variant(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=50, unique=True)
    size = models.CharField(max_length=20, blank=True)
    color = models.CharField(max_length=40, blank=True)
    price_override = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    stock = models.PositiveIntegerField(default=0)
    # Each variant is its own trade item: Google disapproves items that share a GTIN.
    gtin = models.CharField(max_length=14, blank=True, help_text="This variant's own GTIN; empty: the product's.")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.product.name} ({self.label})"

    @property
    def label(self) -> str:
        return " / ".join(p for p in (self.color, self.size) if p)

    def unit_price(self) -> Decimal:
        return self.price_override if self.price_override is not None else self.product.current_price()


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PAID = "paid"

    number = models.CharField(max_length=20, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    email = models.EmailField()
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    phone = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=200)
    city = models.CharField(max_length=80)
    postcode = models.CharField(max_length=20)
    country = models.CharField(max_length=2, default="US")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"), help_text="What the customer pays.")
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"), help_text="Taken off by a discount code.")
    discount_code = models.CharField(max_length=40, blank=True)
    shipping = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="store_order_user_recent")]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("store:order", args=[self.number])

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.PAID


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    variant = models.ForeignKey(
        Variant, null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines",
        help_text="Empty for a product sold without variants.",
    )
    catalog_id = models.CharField(max_length=64, help_text="The id socialshop knows this offer by (SKU or product id).")
    title = models.CharField(max_length=250, help_text="Product name and variant label when ordered.")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class Voucher(models.Model):
    """A discount code of this store: one use, an expiry, an optional minimum order, one currency.

    Campaign codes are created by socialshop through ``shop_demo.store.discounts.DemoDiscountAdapter``.
    """

    class Kind(models.TextChoices):
        PERCENT = "percent"
        FIXED = "fixed"
        FREE_SHIPPING = "free_shipping"

    code = models.CharField(max_length=40, unique=True)
    campaign = models.CharField(max_length=60, blank=True, help_text="The socialshop campaign that issued it.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    min_order = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="vouchers")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.code
