"""The incremental bench's comparison: each measured run on the longest history against the shortest."""
from orchestration.benchmark.incremental import incremental_report, render_incremental


def _history(days: int, pull: float, close: float, cycle: float, truth_equal: bool = True) -> dict:
    def run(seconds: float) -> dict:
        return {"seconds": seconds, "cpu_seconds": seconds * 2, "peak_rss_mb": 100.0, "runs": []}

    return {"history_days": days, "measured": {"pull": run(pull), "close": run(close), "cycle": run(cycle)},
            "truth_equal": truth_equal}


def test_ratio_is_the_longest_history_against_the_shortest_whatever_the_order():
    report = incremental_report(100, [_history(30, 12.0, 45.0, 9.0), _history(7, 99.0, 99.0, 99.0),
                                      _history(1, 10.0, 30.0, 9.0)])

    assert report["ratio"]["of"] == "30 days against 1"
    assert report["ratio"]["pull"] == {"seconds": 1.2, "cpu_seconds": 1.2}
    assert report["ratio"]["close"] == {"seconds": 1.5, "cpu_seconds": 1.5}
    assert report["ratio"]["cycle"] == {"seconds": 1.0, "cpu_seconds": 1.0}
    assert report["truth_equal"] is True
    printed = render_incremental(report)
    assert "pull 1.2x wall" in printed and "close 1.5x wall" in printed and "within 1.5x" in printed


def test_one_history_differing_from_the_truth_marks_the_report():
    report = incremental_report(100, [_history(1, 1.0, 1.0, 1.0), _history(30, 1.0, 1.0, 1.0, truth_equal=False)])

    assert report["truth_equal"] is False
    assert "DIFFERS" in render_incremental(report)
