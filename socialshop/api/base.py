"""What every socialshop API resource shares: authentication, model permissions and the OpenAPI schema class.

Authentication is HTTP Basic (tooling; 401 + ``WWW-Authenticate`` on missing or bad credentials) and the
Django session (the admin's users in a browser). The schema class is ``socialshop/api/schema.py``.
"""
from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework import authentication, parsers, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from socialshop.api.schema import SocialshopAutoSchema

# The viewset actions whose permission follows from the HTTP method (perms_map below).
STANDARD_ACTIONS = frozenset({"list", "retrieve", "create", "update", "partial_update", "destroy", "metadata", None})


def is_public(request: Request, view: APIView) -> bool:
    """True for a safe request to an action the view lists in ``public_actions`` (anyone may read it)."""
    return request.method in permissions.SAFE_METHODS and getattr(view, "action", None) in getattr(view, "public_actions", ())


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django's model permissions for every action, as in the admin: staff users only, reads need ``view``
    (or ``change``, which implies it), writes ``add``/``change``/``delete``, and each custom action the
    permissions named in the view's ``action_permissions`` (``{"build": ("socialshop.build_feed",)}``).
    Actions listed in the view's ``public_actions`` are open to anyone for safe methods.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: APIView) -> bool:
        if is_public(request, view):
            return True
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        model = self._queryset(view).model
        return all(_has(user, perm) for perm in self.required_permissions(request, view, model))

    def required_permissions(self, request: Request, view: APIView, model: type) -> list[str]:
        """The permission names this request needs."""
        action = getattr(view, "action", None)
        if action in STANDARD_ACTIONS:
            return self.get_required_permissions(request.method, model)
        named = getattr(view, "action_permissions", {})
        if action not in named:
            raise ImproperlyConfigured(
                f"{type(view).__name__}.action_permissions has no entry for the action {action!r}; "
                "name the permissions it needs, e.g. {'build': ('socialshop.build_feed',)}.")
        return list(named[action])


def _has(user: object, perm: str) -> bool:
    """``user.has_perm`` where ``view_x`` is also granted by ``change_x``, as in the admin."""
    if user.has_perm(perm):  # type: ignore[attr-defined]
        return True
    app_label, _, codename = perm.partition(".")
    return codename.startswith("view_") and user.has_perm(f"{app_label}.change_{codename[5:]}")  # type: ignore[attr-defined]


def may(request: Request, perm: str) -> bool:
    """Whether the request's user is active staff holding ``perm`` (``view_x`` also by ``change_x``)."""
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_active and user.is_staff and _has(user, perm))


class SocialshopAPIMixin:
    """Mix into every viewset: authentication, permissions and schema that need no host setting."""

    # Basic first: its authenticate_header makes missing or bad credentials a 401 with WWW-Authenticate.
    authentication_classes = [authentication.BasicAuthentication, authentication.SessionAuthentication]
    permission_classes = [ModelPermissions]
    parser_classes: list[type[parsers.BaseParser]] = [parsers.JSONParser]
    schema = SocialshopAutoSchema()
    public_actions: tuple[str, ...] = ()
    action_permissions: dict[str, tuple[str, ...]] = {}
