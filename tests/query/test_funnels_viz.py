"""FunnelsQuery time_to_convert and trends vizzes over TV-5 (and TV-6), worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from tests.query.funnel_helpers import TV5, at, load, post, results, step, tv5


@pytest.mark.clickhouse
def test_time_to_convert_bins(project: Any) -> None:
    load(project.team.pk, TV5)
    # converters a (600 s) and d (180 s): 2 samples → ceil(cbrt 2) = 2 bins of ceil(420 / 2) = 210 s, 3 rows
    body = results(project, tv5(funnelVizType="time_to_convert"))
    assert body == {
        "bins": [[180, 1], [390, 0], [600, 1]],
        "average_conversion_time": 390.0,
        "median_conversion_time": 390.0,
    }


@pytest.mark.clickhouse
def test_time_to_convert_step_range_and_bin_count(project: Any) -> None:
    load(project.team.pk, TV5)
    # signup → view_item: a 300, b 86 400, d 120; binCount 3 → width ceil(86 280 / 3) = 28 760
    body = results(project, tv5(funnelVizType="time_to_convert", funnelFromStep=0, funnelToStep=1, binCount=3))
    assert body["bins"] == [[120, 2], [28880, 0], [57640, 0], [86400, 1]]
    assert body["average_conversion_time"] == 28940.0 and body["median_conversion_time"] == 300.0


@pytest.mark.clickhouse
def test_time_to_convert_same_times_use_60_second_bins(project: Any) -> None:
    rows = [
        ("p1", "A", at("2024-03-01", "10:00"), {}), ("p1", "B", at("2024-03-01", "13:00"), {}),
        ("p2", "A", at("2024-03-01", "11:00"), {}), ("p2", "B", at("2024-03-01", "14:00"), {}),
    ]  # fmt: skip
    load(project.team.pk, rows)
    node = {
        "kind": "FunnelsQuery",
        "series": [step("A"), step("B")],
        "funnelsFilter": {"funnelVizType": "time_to_convert"},
        "dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-02"},
    }
    assert results(project, node)["bins"] == [[10800, 2], [10860, 0], [10920, 0]]


@pytest.mark.clickhouse
def test_no_converters(project: Any) -> None:
    assert results(project, tv5(funnelVizType="time_to_convert")) == {
        "bins": [], "average_conversion_time": None, "median_conversion_time": None,
    }  # fmt: skip


@pytest.mark.clickhouse
def test_trends_conversion_rate_per_entry_day(project: Any) -> None:
    load(project.team.pk, TV5)
    # entries: 1 Feb a (converts) and b (2 steps) → 50; 3 Feb c → 0; 4 Feb d → 100; 5 Feb e → 0
    [item] = results(project, {**tv5(funnelVizType="trends"), "interval": "day"})
    assert item == {
        "count": 7,
        "data": [50.0, 0.0, 0.0, 100.0, 0.0, 0.0, 0.0],
        "days": ["2024-02-01", "2024-02-02", "2024-02-03", "2024-02-04", "2024-02-05", "2024-02-06", "2024-02-07"],
        "labels": ["1-Feb-2024", "2-Feb-2024", "3-Feb-2024", "4-Feb-2024", "5-Feb-2024", "6-Feb-2024", "7-Feb-2024"],
    }
    # to step 1 only: b reached view_item too → 1 Feb 100
    [item] = results(project, {**tv5(funnelVizType="trends", funnelToStep=1), "interval": "day"})
    assert item["data"] == [100.0, 0.0, 0.0, 100.0, 0.0, 0.0, 0.0]


@pytest.mark.clickhouse
def test_trends_counts_each_entry_interval(project: Any) -> None:
    rows = [
        ("r", "A", at("2024-03-01", "10:00"), {}),  # 1 Mar: an entry that never converts
        ("r", "A", at("2024-03-03", "10:00"), {}),
        ("r", "B", at("2024-03-03", "10:30"), {}),  # 3 Mar: converts
        ("r2", "A", at("2024-03-01", "12:00"), {}),
        ("r2", "B", at("2024-03-01", "12:10"), {}),  # 1 Mar: converts
    ]
    load(project.team.pk, rows)
    node = {
        "kind": "FunnelsQuery",
        "series": [step("A"), step("B")],
        "funnelsFilter": {"funnelVizType": "trends", "funnelWindowInterval": 1, "funnelWindowIntervalUnit": "hour"},
        "interval": "day",
        "dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-03"},
    }
    [item] = results(project, node)
    # 1 Mar: r's entry counts there (not converted) beside r2's → 50; 3 Mar: r converts → 100
    assert item["data"] == [50.0, 0.0, 100.0]


def test_trends_breakdown_is_refused_for_now(project: Any) -> None:
    node = {**tv5(funnelVizType="trends"), "breakdownFilter": {"breakdown": "$browser"}}
    response = post(project, node)
    assert response.status_code == 400 and "not supported yet" in response.json()["detail"]
