"""The admin's socialshop section: every page of every registered model opens for staff."""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def socialshop_models() -> list[type]:
    return [model for model in admin.site._registry if model._meta.app_label == "socialshop"]


def test_admin_index_shows_the_socialshop_section(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Social shop" in response.content.decode()


def test_every_socialshop_changelist_opens(admin_client):
    models = socialshop_models()
    assert len(models) >= 2
    for model in models:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(reverse("admin:socialshop_heartbeat_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]
