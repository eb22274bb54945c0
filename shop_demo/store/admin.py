"""Admin for the demo store's own models (socialshop's section comes from socialshop/admin.py)."""
from __future__ import annotations

from django.contrib import admin

from shop_demo.store.models import Category, Order, OrderLine, Product, ProductImage, Variant, Voucher


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("path", "slug", "google_category")
    prepopulated_fields = {"slug": ("name",)}
    exclude = ("path",)


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "brand", "price", "sale_price", "is_active", "created_at")
    list_filter = ("is_active", "category__parent", "brand")
    search_fields = ("name", "brand", "gtin", "mpn", "variants__sku")
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("category",)
    inlines = [VariantInline, ProductImageInline]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ("product", "variant")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "email", "status", "total", "currency", "created_at", "paid_at")
    list_filter = ("status", "country")
    search_fields = ("number", "email", "last_name")
    date_hierarchy = "created_at"
    raw_id_fields = ("user",)
    inlines = [OrderLineInline]


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    """Discount codes; campaign codes are created by socialshop through shop_demo/store/discounts.py."""

    list_display = ("code", "campaign", "kind", "amount", "currency", "min_order", "expires_at", "used_at", "order")
    list_filter = ("kind", "campaign")
    search_fields = ("code", "campaign")
    raw_id_fields = ("order",)
