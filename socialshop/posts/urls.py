"""Storefront URLs of shoppable posts, included under /socialshop/posts/ by socialshop/urls.py."""
from django.urls import path

from socialshop.posts import views

urlpatterns = [
    path("", views.gallery, name="posts-gallery"),
    path("photos/new/", views.submit_photo, name="posts-submit-photo"),
    path("<slug:slug>/", views.post_detail, name="posts-detail"),
    path("<slug:slug>/comments/", views.comment, name="posts-comment"),
]
