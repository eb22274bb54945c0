"""Shared behaviour of every platform in REGISTRY against the fake server (tests/fakes/platforms.py)."""
from __future__ import annotations

import time

import pytest

from socialshop.exceptions import UnsupportedFeature
from socialshop.platforms import REGISTRY, get_platform
from socialshop.platforms.events import EventsCapability
from socialshop.platforms.http import PlatformAPIError
from tests.fakes.platforms import FakePlatforms
from tests.platforms.conftest import server_event

SLUGS = list(REGISTRY)


def platform_for(slug: str) -> EventsCapability:
    """The platform's server-events capability (what these shared tests exercise)."""
    events = get_platform(slug).events
    assert isinstance(events, EventsCapability)
    return events


def test_registry_lists_the_four_platforms_with_their_facts() -> None:
    assert set(REGISTRY) == {"meta", "google", "pinterest", "tiktok"}
    for slug, cls in REGISTRY.items():
        assert cls.slug == slug
        assert cls.default_api_base.startswith("https://")
        events = cls.capabilities["events"]
        assert events.batch_limit > 0 and events.max_event_age > 0
        assert events.event_names["Purchase"]


@pytest.mark.parametrize("slug", SLUGS)
def test_platform_sends_a_batch_the_fake_accepts(slug: str, fake: FakePlatforms) -> None:
    events = [server_event(), server_event(name="AddToCart", order_id="")]
    result = platform_for(slug).send_events(events)
    assert result.sent == 2
    assert fake.event_ids(slug) == [e.event_id for e in events]


@pytest.mark.parametrize("slug", SLUGS)
def test_platform_reports_revoked_credentials_as_auth_error(slug: str, fake: FakePlatforms, settings) -> None:  # type: ignore[no-untyped-def]
    key = REGISTRY[slug].capabilities["events"].required_settings[-1]
    platforms = fake.settings()
    platforms[slug][key] = "revoked"
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": platforms}
    with pytest.raises(PlatformAPIError) as info:
        platform_for(slug).send_events([server_event()])
    assert info.value.auth and not info.value.retryable
    assert fake.received[slug] == []


@pytest.mark.parametrize("slug", SLUGS)
def test_platform_401_is_an_auth_error(slug: str, fake: FakePlatforms) -> None:
    fake.fail(slug, 401)
    with pytest.raises(PlatformAPIError) as info:
        platform_for(slug).send_events([server_event()])
    assert info.value.auth and info.value.status == 401


@pytest.mark.parametrize("slug", SLUGS)
def test_platform_429_is_retryable_with_retry_after(slug: str, fake: FakePlatforms) -> None:
    fake.fail(slug, 429, retry_after="17")
    with pytest.raises(PlatformAPIError) as info:
        platform_for(slug).send_events([server_event()])
    assert info.value.retryable and info.value.retry_after == 17.0 and info.value.status == 429


@pytest.mark.parametrize("slug", SLUGS)
def test_platform_500_is_retryable(slug: str, fake: FakePlatforms) -> None:
    fake.fail(slug, 500)
    with pytest.raises(PlatformAPIError) as info:
        platform_for(slug).send_events([server_event()])
    assert info.value.retryable and not info.value.auth


@pytest.mark.parametrize("slug", SLUGS)
def test_platform_400_is_final_and_carries_the_platform_message(slug: str, fake: FakePlatforms) -> None:
    fake.fail(slug, 400, body={"error": {"message": "Invalid parameter: event_name", "code": 100}}
              if slug == "meta" else {"code": 2, "message": "Invalid parameter: event_name", "error": "Invalid parameter: event_name"})
    with pytest.raises(PlatformAPIError) as info:
        platform_for(slug).send_events([server_event()])
    assert not info.value.retryable and not info.value.auth
    assert "Invalid parameter: event_name" in info.value.message


@pytest.mark.parametrize("slug", SLUGS)
def test_platform_that_never_answers_times_out_as_retryable(slug: str, fake: FakePlatforms, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings(timeout=0.5)}
    fake.hang(slug, seconds=3)
    started = time.monotonic()
    with pytest.raises(PlatformAPIError) as info:
        platform_for(slug).send_events([server_event()])
    assert info.value.retryable and info.value.status is None
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("slug", SLUGS)
def test_unreachable_api_base_is_retryable(slug: str, fake: FakePlatforms, settings) -> None:  # type: ignore[no-untyped-def]
    platforms = fake.settings()
    platforms[slug]["api_base"] = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": platforms}
    with pytest.raises(PlatformAPIError) as info:
        platform_for(slug).send_events([server_event()])
    assert info.value.retryable


@pytest.mark.parametrize("slug", SLUGS)
def test_batches_never_exceed_the_api_limit(slug: str, fake: FakePlatforms) -> None:
    platform = platform_for(slug)
    events = [server_event(browser_ids={"ga": "1.1"}) for _ in range(platform.batch_limit + 3)]
    batches = platform.batches(events)
    assert all(len(b) <= platform.batch_limit for b in batches)
    assert sum(len(b) for b in batches) == len(events)
    for batch in batches[-2:]:
        platform.send_events(batch)
    assert all(status < 300 for _, _, status in fake.requests)


@pytest.mark.parametrize("slug", SLUGS)
def test_event_older_than_the_platform_accepts_is_skipped(slug: str, fake: FakePlatforms) -> None:
    platform = platform_for(slug)
    stale = server_event(time=int(time.time()) - platform.max_event_age - 3600)
    assert platform.skip_reason(stale, now=time.time()).startswith("outside time window")
    assert platform.skip_reason(server_event(), now=time.time()) is None


@pytest.mark.parametrize("slug", SLUGS)
def test_unmapped_event_is_skipped_with_a_reason(slug: str, fake: FakePlatforms) -> None:
    reason = platform_for(slug).skip_reason(server_event(name="PostLike"), now=time.time())
    assert reason.startswith("not mapped") and "PostLike" in reason


@pytest.mark.parametrize("slug", SLUGS)
def test_missing_capability_names_platform_and_feature(slug: str, fake: FakePlatforms) -> None:
    platform = get_platform(slug)
    assert platform.supports("events") and platform.supports("browser_tag")
    assert platform.capability("events") is platform.events
    with pytest.raises(UnsupportedFeature, match=f"{platform.name} does not support offline conversions"):
        platform.capability("offline conversions")


@pytest.mark.parametrize("slug", SLUGS)
def test_test_mode_reaches_the_platforms_test_channel(slug: str, fake: FakePlatforms, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings(test_codes=True)}
    platform_for(slug).send_events([server_event()], test=True)
    assert len(fake.test_events[slug]) == 1 and fake.received[slug] == []


@pytest.mark.parametrize("slug", SLUGS)
def test_browser_config_uses_the_configured_script_url(slug: str, fake: FakePlatforms, settings) -> None:  # type: ignore[no-untyped-def]
    from socialshop.platforms import browser_config

    assert browser_config()[slug]["script_url"] == REGISTRY[slug].capabilities["browser_tag"].default_script_url
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings(script_url="http://127.0.0.1:8399/x.js")}
    config = browser_config()[slug]
    assert config["script_url"] == "http://127.0.0.1:8399/x.js"
    assert config["events"]["Purchase"]
