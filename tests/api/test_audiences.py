"""API resource ``audiences``: rules with their kind, params and include/exclude, sizes, build history,
upload state per platform, build and sync with their permissions, rule parameters checked as in admin,
never a member's identity; the schema documents each action as it answers."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from socialshop.audiences.models import (
    Audience, AudienceBuild, AudienceMember, BuildStatus, Destination, DestinationMember, RuleKind,
)
from socialshop.tracking.models import Event
from tests.api.conftest import basic_client, make_user

pytestmark = pytest.mark.django_db
API = "/socialshop/api/audiences/"
SECRET_PERSON = "h:" + "ab" * 32


@pytest.fixture
def audience() -> Audience:
    buyers = Audience.objects.create(name="Buyers", slug="buyers", kind=RuleKind.PURCHASERS, lookback_days=180,
                                     params={"recency_days": 180, "min_orders": 1, "min_value": 0})
    carts = Audience.objects.create(name="Carts", slug="carts", kind=RuleKind.CART_ABANDONERS, size=1,
                                    params={"min_delay_minutes": 60, "max_delay_minutes": 10080}, exclude_purchasers_days=30)
    carts.exclude.add(buyers)
    now = timezone.now()
    AudienceMember.objects.create(audience=carts, person=SECRET_PERSON, visitor_id="visitor-secret", joined_at=now,
                                  reason="added to cart, no purchase since")
    for i in range(3):
        AudienceBuild.objects.create(audience=carts, status=BuildStatus.SUCCEEDED, started_at=now - timedelta(hours=3 - i),
                                     finished_at=now, size=i, added=1, removed=0)
    destination = Destination.objects.create(audience=carts, platform="meta", remote_id="2385", twin_id="77",
                                             state="1 sent", last_result={"batches": [{"op": "add", "members": 1}]})
    DestinationMember.objects.create(destination=destination, person=SECRET_PERSON, added_at=now, hashes={"em": "ab" * 32})
    return carts


def client_with(*perms: str) -> Any:
    make_user("u-" + "-".join(perms or ("none",)), perms=perms)
    return basic_client("u-" + "-".join(perms or ("none",)))


def test_list_and_detail_show_the_rule_sizes_and_last_build_but_no_member(audience: Audience) -> None:
    client = client_with("view_audience")
    listed = client.get(API)
    assert listed.status_code == 200
    carts = next(a for a in listed.json() if a["slug"] == "carts")
    assert carts["kind"] == "cart_abandoners" and carts["size"] == 1
    assert carts["params"] == {"min_delay_minutes": 60, "max_delay_minutes": 10080}
    assert carts["exclude"] == [Audience.objects.get(slug="buyers").pk] and carts["exclude_purchasers_days"] == 30
    assert carts["last_build"]["size"] == 2 and carts["last_build"]["status"] == "succeeded"
    detail = client.get(f"{API}{audience.pk}/").json()
    assert detail["id"] == audience.pk
    for body in (listed.content, client.get(f"{API}{audience.pk}/destinations/").content,
                 client.get(f"{API}{audience.pk}/builds/").content):
        assert b"ab" * 8 not in body and b"visitor-secret" not in body


def test_list_takes_a_constant_number_of_queries(audience: Audience, django_assert_max_num_queries: Any) -> None:
    client = client_with("view_audience")
    client.get(API)
    with django_assert_max_num_queries(10) as few:
        client.get(API)
    for i in range(8):
        extra = Audience.objects.create(name=f"A{i}", slug=f"a{i}", kind=RuleKind.VISITORS)
        extra.include.add(audience)
        AudienceBuild.objects.create(audience=extra, status=BuildStatus.SUCCEEDED, started_at=timezone.now())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(API).json()) == 10


def test_builds_and_destinations(audience: Audience) -> None:
    client = client_with("view_audience")
    builds = client.get(f"{API}{audience.pk}/builds/").json()
    assert [b["size"] for b in builds] == [2, 1, 0]
    (meta,) = client.get(f"{API}{audience.pk}/destinations/").json()
    assert meta["platform"] == "meta" and meta["remote_id"] == "2385" and meta["twin_id"] == "77"
    assert meta["uploaded"] == 1 and meta["unmatched"] == 0 and meta["last_result"]["batches"][0]["op"] == "add"


def test_create_checks_the_rule_parameters_as_admin_does() -> None:
    client = client_with("add_audience", "view_audience")
    ok = client.post(API, {"name": "Engagers", "slug": "engagers", "kind": "post_engagers", "lookback_days": 30,
                           "params": {"actions": ["PostSave"]}}, format="json")
    assert ok.status_code == 201, ok.content
    assert Audience.objects.get(slug="engagers").params == {"actions": ["PostSave"]}
    for params, message in (({"min_delay_minutes": 600, "max_delay_minutes": 60}, "longer than the minimum"),
                            ({"top_percent": 5}, "do not apply"),
                            ({"min_delay_minutes": "soon"}, "not a whole number")):
        bad = client.post(API, {"name": "X", "slug": "x", "kind": "cart_abandoners", "params": params}, format="json")
        assert bad.status_code == 400 and message in json.dumps(bad.json()), bad.content
    assert client.post(API, {"name": "X", "slug": "x", "kind": "nope"}, format="json").status_code == 400


def test_an_audience_cannot_include_itself(audience: Audience) -> None:
    client = client_with("change_audience", "view_audience")
    response = client.patch(f"{API}{audience.pk}/", {"include": [audience.pk]}, format="json")
    assert response.status_code == 400 and "itself" in json.dumps(response.json())


def test_build_needs_the_build_permission_not_change(audience: Audience) -> None:
    Event.objects.create(event_id="api-1", name="AddToCart", visitor_id="v-cart", occurred_at=timezone.now() - timedelta(hours=3),
                         received_at=timezone.now(), source="browser", may_share=True)
    assert client_with("view_audience", "change_audience").post(f"{API}{audience.pk}/build/").status_code == 403
    response = client_with("view_audience", "build_audience").post(f"{API}{audience.pk}/build/")
    assert response.status_code == 202
    assert response.json() == {"audience": "carts", "status": "succeeded", "size": 1, "added": 1, "removed": 1, "error": ""}


def test_sync_needs_change_and_a_platform_with_audience_uploads(audience: Audience, settings: Any) -> None:
    assert client_with("view_audience", "build_audience").post(f"{API}{audience.pk}/sync/").status_code == 403
    client = client_with("view_audience", "change_audience")
    refused = client.post(f"{API}{audience.pk}/sync/", {}, format="json")
    assert refused.status_code == 400 and "no audience uploads set up" in json.dumps(refused.json())
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {**settings.SOCIALSHOP["PLATFORMS"], "meta": {
        **settings.SOCIALSHOP["PLATFORMS"]["meta"], "ad_account_id": "act_1"}}}
    Destination.objects.all().delete()
    done = client.post(f"{API}{audience.pk}/sync/", {"platform": "meta"}, format="json")
    assert done.status_code == 202
    assert done.json()["results"][0]["state"].endswith("not uploaded")


def test_without_permission_every_action_is_403(audience: Audience) -> None:
    client = client_with()
    for method, path in (("get", API), ("get", f"{API}{audience.pk}/"), ("get", f"{API}{audience.pk}/builds/"),
                         ("get", f"{API}{audience.pk}/destinations/"), ("post", f"{API}{audience.pk}/build/"),
                         ("post", f"{API}{audience.pk}/sync/"), ("delete", f"{API}{audience.pk}/")):
        assert getattr(client, method)(path).status_code == 403, (method, path)


def test_schema_documents_the_audience_actions_as_they_answer(client: Any) -> None:
    schema = client.get("/socialshop/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert paths["/audiences/{id}/builds/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/AudienceBuild"}}
    assert paths["/audiences/{id}/destinations/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/Destination"}}
    for action in ("build", "sync"):
        responses = paths[f"/audiences/{{id}}/{action}/"]["post"]["responses"]
        assert "202" in responses and "200" not in responses and "403" in responses
    assert schema["components"]["schemas"]["Audience"]["properties"]["last_build"]["nullable"] is True
