"""Demo store URLs: the store itself, admin, and socialshop included as the README says."""
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("socialshop/", include("socialshop.urls")),
    path("", include("shop_demo.store.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
