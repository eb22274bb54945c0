"""The plain project's URLs: admin, and socialshop included as the README says."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("socialshop/", include("socialshop.urls")),
]
