from django.core.cache import cache


def test_burst_limit_returns_429_with_retry_after(api_client, settings):
    cache.clear()
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "burst": "3/minute"}
    codes = [api_client.get("/api/users/@me/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    res = api_client.get("/api/users/@me/")
    assert res.status_code == 429
    wait = int(res["Retry-After"])
    assert 1 <= wait <= 60
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
