"""socialshop's admin section: each domain registers its own ModelAdmins; this module imports them."""
from socialshop.core import admin as core_admin  # noqa: F401
from socialshop.posts import admin as posts_admin  # noqa: F401
