"""socialshop's URLs; a project includes them with path("socialshop/", include("socialshop.urls"))."""
from django.urls import include, path

app_name = "socialshop"

urlpatterns = [
    path("api/", include("socialshop.api.urls")),
    path("posts/", include("socialshop.posts.urls")),
    path("feeds/", include("socialshop.feeds.urls")),
    path("", include("socialshop.campaigns.urls")),
    path("staff/", include("socialshop.audiences.urls")),  # staff only: every view checks its permission
    path("", include("socialshop.tracking.urls")),
    path("", include("socialshop.privacy.urls")),
]
