"""The OpenAPI schema class of socialshop's API: error responses (400/401/403/404) on every operation,
``security: [{}]`` on public reads, and fields that a response may leave out. Used by ``api/base.py``.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
F = TypeVar("F", bound=Callable[..., Any])


class ErrorSerializer(serializers.Serializer):
    """DRF's error body: ``{"detail": "..."}``."""

    detail = serializers.CharField()


VALIDATION_ERROR = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="Invalid input: {field: [messages]} (``non_field_errors`` for the whole object), or {detail}.",
)
NOT_AUTHENTICATED = OpenApiResponse(ErrorSerializer, description="Missing or wrong credentials (see WWW-Authenticate).")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="The user lacks the Django permission for this action.")
UNSUPPORTED_MEDIA_TYPE = OpenApiResponse(ErrorSerializer, description="The body's Content-Type is not one this operation takes.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such object (or page), or not visible to this user.")


class SocialshopAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the answers every socialshop operation can give."""

    def _is_public(self) -> bool:
        return self.method in permissions.SAFE_METHODS and getattr(self.view, "action", None) in getattr(
            self.view, "public_actions", ())

    def get_auth(self) -> list[dict[str, Any]]:
        auths = super().get_auth()
        if self._is_public() and {} not in auths:
            auths.append({})  # anyone may call it: no credentials is an alternative
        return auths

    def get_override_parameters(self) -> list[Any]:
        return [*super().get_override_parameters(), OpenApiParameter(
            "WWW-Authenticate", type=str, location=OpenApiParameter.HEADER, response=[401],
            description="The authentication scheme to use, e.g. Basic realm=\"api\".")]

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        errors: dict[str, OpenApiResponse] = {"401": NOT_AUTHENTICATED}
        if self.method in WRITE_METHODS:
            errors["400"] = VALIDATION_ERROR
            errors["415"] = UNSUPPORTED_MEDIA_TYPE
        if not self._is_public():
            errors["403"] = FORBIDDEN
        paginated = self._is_list_view() and getattr(self.view, "pagination_class", None) is not None
        if "{" in self.path or paginated:
            errors["404"] = NOT_FOUND
        for code, response in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return dict(sorted(responses.items()))

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        # Meta.optional_in_response: fields the serializer leaves out for some users (a feed's token).
        optional = set(getattr(getattr(serializer, "Meta", None), "optional_in_response", ()))
        if direction == "response" and optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema


def document(**kwargs: Any) -> Callable[[F], F]:
    """``@extend_schema(**kwargs)`` for a socialshop view method or action.

    drf-spectacular builds the override on the host's DEFAULT_SCHEMA_CLASS, which need not be its own;
    naming our schema class on the function first makes the override extend ``SocialshopAutoSchema``.
    """
    def decorator(func: F) -> F:
        func.schema = SocialshopAutoSchema  # type: ignore[attr-defined]
        return extend_schema(**kwargs)(func)
    return decorator
