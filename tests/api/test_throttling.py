"""Per-key rate limits: PostHog's 429 body and Retry-After, counted atomically in the shared cache with a
sliding window (the two-process server: tests/ops/test_shared_state.py)."""

import threading
from types import SimpleNamespace

from django.core.cache import cache

from posthog_clone.api.throttling import BurstRateThrottle


def test_burst_limit_returns_429_with_retry_after(api_client, settings):
    cache.clear()
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "burst": "3/minute"}
    codes = [api_client.get("/api/users/@me/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    res = api_client.get("/api/users/@me/")
    assert res.status_code == 429
    wait = int(res["Retry-After"])
    assert 1 <= wait <= 60 + 20  # the rest of this window, and the slide into the next (60 s / 3)
    unit = "second" if wait == 1 else "seconds"
    assert res.json() == {
        "type": "throttled_error",
        "code": "throttled",
        "detail": f"Request was throttled. Expected available in {wait} {unit}.",
        "attr": None,
    }
    cache.clear()


def test_session_users_are_not_throttled(project, client, settings):
    cache.clear()
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "burst": "1/minute"}
    client.force_login(project.user)
    assert [client.get("/api/users/@me/").status_code for _ in range(3)] == [200, 200, 200]


def test_rate_limiting_can_be_disabled(api_client, settings):
    cache.clear()
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "burst": "1/minute"}
    settings.RATE_LIMIT_ENABLED = False
    assert [api_client.get("/api/users/@me/").status_code for _ in range(3)] == [200, 200, 200]


def _throttle(scope_rate: str, settings, now: float | None = None) -> BurstRateThrottle:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "burst": scope_rate}
    throttle = BurstRateThrottle()
    if now is not None:
        throttle.timer = lambda: now  # the clock is the edge: DRF's throttles read it through `timer`
    return throttle


def test_concurrent_requests_are_counted_atomically(project, settings):
    """Every admission is one atomic increment of the shared counter: 8 threads × 10 requests at a rate of
    20 admit exactly 20 (a read-then-write count admits more when requests overlap)."""
    cache.clear()
    request = SimpleNamespace(auth=project.key)
    start = threading.Barrier(8)
    admitted: list[bool] = []

    def hammer() -> None:
        start.wait()
        mine = [_throttle("20/minute", settings).allow_request(request, None) for _ in range(10)]
        admitted.extend(mine)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (admitted.count(True), admitted.count(False)) == (20, 60)
    cache.clear()


def test_the_window_slides_and_a_refused_request_costs_nothing(project, settings):
    """4/minute from the start of a window: 4 admitted, then refused until the previous window's 4 weigh
    3 (a quarter into the next window), however often the caller retries meanwhile."""
    cache.clear()
    request = SimpleNamespace(auth=project.key)
    start = 29_000_000 * 60.0  # a window boundary
    allow = lambda at: _throttle("4/minute", settings, start + at).allow_request(request, None)  # noqa: E731
    assert [allow(at) for at in (0, 1, 2, 3, 4)] == [True, True, True, True, False]
    refused = _throttle("4/minute", settings, start + 5)
    assert not refused.allow_request(request, None) and refused.wait() == 55 + 15
    assert not any(allow(at) for at in range(6, 75))  # retried every second
    later = _throttle("4/minute", settings, start + 60)
    assert not later.allow_request(request, None) and later.wait() == 15
    assert [allow(75), allow(75.5), allow(90), allow(90.5)] == [True, False, True, False]
    cache.clear()
