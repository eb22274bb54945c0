"""Demo store URLs: the store itself, admin, and socialshop included as the README says."""
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from shop_demo.store.standin import stand_in_view

urlpatterns = [
    path("admin/platform-stand-in/", admin.site.admin_view(stand_in_view), name="platform-stand-in"),
    path("admin/", admin.site.urls),
    path("socialshop/", include("socialshop.urls")),
    path("", include("shop_demo.store.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
