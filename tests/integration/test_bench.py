"""`omnirecon bench` at a tiny size: every stage measured, the result equal to the sandbox's truth, the
hand-written matching baseline equal to the mart. Figures are only checked to exist, never against a time."""
from __future__ import annotations

import json

from orchestration.benchmark.report import STAGES
from orchestration.cli import main

# About 30 orders a day across the channels. Two days: the PSPs settle the first day on the second, so matching has lines to match.
TINY = ["--orders-per-day", "30", "--days", "2", "--seed", "3", "--start-date", "2026-11-02"]


def test_bench_measures_every_stage_and_equals_the_truth(tmp_path, capsys):
    report_path = tmp_path / "bench.json"

    exit_code = main(["bench", *TINY, "--matching-at", "100", "--json", str(report_path),
                      "--home", str(tmp_path / "home")])

    printed = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert exit_code == 0, printed
    assert report["truth_equal"] is True and report["truth_differences"] == []
    for name in STAGES:
        figures = report["stages"][name]
        assert figures["rows"] > 0, name
        assert figures["peak_rss_mb"] > 0, name
        assert figures["seconds"] > 0 and figures["rows_per_second"] > 0, name
        assert f"  {name} " in printed, name
    baseline = report["matching_baseline"]
    assert baseline["baseline_matches"] == baseline["mart_matches"] > 0
    assert baseline["equal"] is True
    # the close's matching marts repeated to 100 orders a day: each copy matches as the close did
    (volume,) = report["matching_at_volume"]
    assert volume["copies"] >= 3 and volume["orders_per_day"] >= 100
    assert volume["matches"] == volume["expected_matches"] == volume["copies"] * baseline["mart_matches"]
    assert volume["only_in_baseline"] == volume["only_in_mart"] == 0 and volume["equal"] is True
    assert volume["dbt_seconds"] > 0 and volume["baseline_seconds"] > 0 and "matching at " in printed
    assert report["total"]["peak_rss_mb"] > 0 and report["total"]["cpu_seconds"] > 0
    # what the measuring itself cost is reported, apart from the pipeline's CPU
    assert 0 < report["total"]["bench_process_cpu_seconds"] and "measuring " in printed
    # the close builds and tests the day's data; dbt's unit tests (fixed inputs) are CI's (tests/dbt)
    by_type = report["overheads"]["dbt_nodes_by_type"]
    assert by_type["model"] > 50 and by_type["test"] > 100 and "unit_test" not in by_type, by_type
    # the bench cleans up after dbt: none of its runs leaves a target folder behind
    from orchestration import local_paths

    for run_id in [r["run_id"] for action in ("ingest", "close")
                   for r in json.loads((tmp_path / "home" / f"{action}.json").read_text())["runs"]]:
        assert not list((local_paths.DBT_PROJECT_DIR / "target").glob(f"*-{run_id[:7]}-*"))


def test_bench_on_history_measures_the_new_days_pull_close_and_cycle(tmp_path, capsys):
    report_path = tmp_path / "incremental.json"

    exit_code = main(["bench", "--orders-per-day", "30", "--seed", "3", "--history-days", "1",
                      "--json", str(report_path), "--home", str(tmp_path / "home")])

    printed = capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert exit_code == 0, printed
    (history,) = report["histories"]
    assert history["truth_equal"] is True and history["truth_differences"] == []
    assert history["history"] == [history["history"][0]] * 2 and history["new_day"] > history["history"][1]
    measured = history["measured"]
    assert measured["pull"]["runs"] == [f"{source}_daily_pull {history['new_day']}" for source in
                                        ("amazon", "erp", "shopify", "square", "stripe", "wms")]
    assert measured["close"]["runs"] == [f"reconciliation_build {history['new_day']}"]
    assert measured["cycle"]["runs"] == ["ats_cycle"]
    for action in ("pull", "close", "cycle"):
        assert measured[action]["seconds"] > 0 and measured[action]["cpu_seconds"] > 0, action
        assert report["ratio"][action] == {"seconds": 1.0, "cpu_seconds": 1.0}, action
    assert "  1 days " in printed and "equal" in printed
