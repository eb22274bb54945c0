"""Storefront URLs: browsing, cart (/cart/add/ is SOCIALSHOP["CART_ADD_URL"]), checkout, accounts."""
from django.urls import path

from shop_demo.store import contacts, views

app_name = "store"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("p/<slug:slug>/", views.product, name="product"),
    path("search/", views.search, name="search"),
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/update/", views.cart_update, name="cart_update"),
    path("cart/code/", views.cart_code, name="cart_code"),
    path("cart/restore/", contacts.restore_cart, name="cart_restore"),  # the cart emails' link (socialshop)
    path("checkout/", views.checkout_view, name="checkout"),
    path("order/<str:number>/", views.order, name="order"),
    path("order/<str:number>/pay/", views.order_pay, name="order_pay"),
    path("account/", views.account, name="account"),
    path("account/login/", views.LoginView.as_view(), name="login"),
    path("account/logout/", views.LogoutView.as_view(), name="logout"),
    path("account/signup/", views.signup, name="signup"),
]
