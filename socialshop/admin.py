"""socialshop's admin section: each domain registers its own ModelAdmins; this module imports them."""
from socialshop.audiences import admin as audiences_admin  # noqa: F401
from socialshop.campaigns import admin as campaigns_admin  # noqa: F401
from socialshop.core import admin as core_admin  # noqa: F401
from socialshop.feeds import admin as feeds_admin  # noqa: F401
from socialshop.posts import admin as posts_admin  # noqa: F401
from socialshop.platforms import admin as platforms_admin  # noqa: F401
from socialshop.privacy import admin as privacy_admin  # noqa: F401
from socialshop.tracking import admin as tracking_admin  # noqa: F401
