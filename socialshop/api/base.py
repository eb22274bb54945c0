"""What every socialshop API resource shares: OpenAPI schema generation and permissions."""
from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView


class ReadPublicWriteStaff(permissions.BasePermission):
    """Anyone may read; only staff users may write."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff)


class StaffOnly(permissions.BasePermission):
    """Only staff users, for resources that expose store internals (feeds, audiences)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_staff)


class SocialshopAPIMixin:
    """Mix into every viewset: the schema works without the host setting DEFAULT_SCHEMA_CLASS."""

    schema = AutoSchema()
    permission_classes = [ReadPublicWriteStaff]
