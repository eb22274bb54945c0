"""The API documentation page (issue #11.20): Swagger UI at /socialshop/api/docs/ from the sidecar's
static files, linked from the API root, rendering every operation with no request to another host."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import make_user

API = "/socialshop/api/"


@pytest.mark.django_db
def test_docs_page_loads_swagger_ui_from_local_static_files_and_points_at_the_schema() -> None:
    response = APIClient().get(API + "docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in html
    assert '"schemaUrl": "/socialshop/api/schema/"' in html
    assert "cdn." not in html and "https://" not in html


@pytest.mark.django_db
def test_api_root_links_the_schema_and_the_docs() -> None:
    data = APIClient().get(API, HTTP_ACCEPT="application/json").json()
    assert data["docs"] == "http://testserver/socialshop/api/docs/"
    assert data["schema"] == "http://testserver/socialshop/api/schema/"
    assert {"posts", "post-tags", "feeds"} <= set(data)


@pytest.mark.django_db
def test_docs_page_says_what_is_missing_without_the_sidecar_app(settings: Any) -> None:
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "drf_spectacular_sidecar"]
    response = APIClient().get(API + "docs/")
    assert response.status_code == 503 and b"drf_spectacular_sidecar" in response.content


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_docs_page_renders_every_operation_without_leaving_the_site(browser: Any, live_server: Any) -> None:
    make_user("root", superuser=True)
    local = urlparse(live_server.url).hostname
    requested: list[str] = []
    page = browser.new_page()
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + API + "docs/")
    page.wait_for_selector(".opblock", timeout=20_000)
    page.wait_for_load_state("networkidle")

    operations = {(page.locator(".opblock-summary-method").nth(i).inner_text().strip(),
                   page.locator(".opblock-summary-path").nth(i).get_attribute("data-path"))
                  for i in range(page.locator(".opblock").count())}
    assert ("GET", "/feeds/{id}/builds/") in operations
    assert ("POST", "/posts/") in operations and ("DELETE", "/post-tags/{id}/") in operations
    assert ("GET", "/campaigns/{id}/stats/") in operations and ("POST", "/campaigns/{id}/refresh/") in operations
    assert ("GET", "/audiences/{id}/destinations/") in operations and ("POST", "/audiences/{id}/build/") in operations
    assert ("GET", "/campaigns/{id}/picks/") in operations
    assert len(operations) == 46
    foreign = [url for url in requested if urlparse(url).scheme in ("http", "https") and urlparse(url).hostname != local]
    assert not foreign, foreign
    assert any("swagger-ui-bundle.js" in url for url in requested)
    page.close()
