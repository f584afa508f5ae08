"""The bench's memory sampler: it measures a child's tree, and it stays light on a big one (memory.py)."""
import sys

from orchestration.benchmark import memory


def test_a_sampler_rests_in_proportion_to_how_long_a_sample_took():
    assert memory.rest_after(0.001) == memory.SAMPLE_SECONDS
    took = 0.43  # the 11 GB sandbox's PSS read: the sampler then rests 8.2 s, 5% of a core at most
    assert memory.rest_after(took) == memory.SAMPLER_REST * took
    assert took / (took + memory.rest_after(took)) <= 0.05


def test_a_child_that_holds_memory_is_measured_by_the_tree_samples(tmp_path):
    holds_mb = 300
    child = (f"import time; held = bytearray({holds_mb} * 1024 * 1024); held[::4096] = b'x' * len(held[::4096]); "
             "time.sleep(1.5)")
    measured = memory.run_measured([sys.executable, "-c", child], {}, str(tmp_path), tmp_path / "child.log")

    assert measured.returncode == 0
    assert len(measured.samples) >= 2
    assert holds_mb * 1024 <= measured.peak_tree_kb() < (holds_mb + 200) * 1024
    assert measured.max_rss_kb >= holds_mb * 1024
