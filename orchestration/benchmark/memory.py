"""Wall time, CPU time and peak memory of a child process and everything it starts (dbt runs in a
grandchild), read from /proc.

Two figures, because neither alone tells the whole story: the kernel's exact peak RSS of the largest single
process in the tree (os.wait4's ru_maxrss covers the child and its waited-for descendants, as a max), and
the peak of the whole tree's summed PSS (see _pss_kb), sampled every SAMPLE_SECONDS (a shorter spike can be
missed). The samples carry wall-clock times, so a stage that is only part of a child's run (a dbt model)
gets the peak of the samples taken while it ran.

Reading a process's PSS walks its page tables under its memory-map lock: ~0.1 s for the 5 GB sandbox of
100,000 orders a day, ~0.4 s at 11 GB. Resting 0.1 s between samples whatever they took, the samplers took two
thirds of one of the machine's two cores from the run being measured and stalled the sandbox's allocations,
so a sampler rests SAMPLER_REST times as long as its last sample took (never less than SAMPLE_SECONDS): at
most a twentieth of a core, whatever the size.
"""
from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

SAMPLE_SECONDS = 0.1
SAMPLER_REST = 19


def rest_after(sample_seconds: float) -> float:
    """How long a sampler waits after a sample that took `sample_seconds`."""
    return max(SAMPLE_SECONDS, SAMPLER_REST * sample_seconds)


def _parents() -> dict[int, int]:
    """{pid: parent pid} of every process we can read."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                text = stat.read().decode(errors="replace")
        except OSError:  # gone since the listing
            continue
        table[int(entry.name)] = int(text[text.rfind(")") + 2:].split()[1])  # after the name, which may hold spaces
    return table


def _pss_kb(pid: int) -> int:
    """A process's proportional set size: its private pages plus its share of pages it shares. Unlike RSS,
    it adds up across processes: a child forked from a 500 MB Python (Dagster starts a `tail` per step that
    way) does not count those 500 MB twice, nor do dbt and Dagster count their shared libraries twice."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
    except (OSError, ValueError):  # gone, or a kernel thread
        return 0


def tree_rss_kb(root: int) -> int:
    """The memory of `root` and all its descendants, in KB: the sum of their proportional set sizes."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _pss_kb(pid)
        todo += children.get(pid, [])
    return total


@dataclass
class Measured:
    """One child process run: wall time, exit code, exact peak of its largest process, tree RSS samples."""
    seconds: float
    returncode: int
    max_rss_kb: int
    cpu_seconds: float = 0.0  # user + system, the child and its waited-for descendants (dbt)
    samples: list[tuple[float, int]] = field(default_factory=list)  # (time.time(), tree RSS KB)

    def peak_tree_kb(self, windows: list[tuple[float, float]] | None = None) -> int:
        """The highest tree sample, over the whole run or within the given (start, end) wall-clock windows;
        a window shorter than a sample period takes the nearest sample before it."""
        if windows is None:
            return max((kb for _, kb in self.samples), default=0)
        peak = 0
        for start, end in windows:
            inside = [kb for t, kb in self.samples if start - SAMPLE_SECONDS <= t <= end + SAMPLE_SECONDS]
            before = [kb for t, kb in self.samples if t <= start]
            peak = max(peak, *(inside or before[-1:] or [0]))
        return peak


class TreeSampler:
    """Samples a process tree's RSS on a thread until stopped."""

    def __init__(self, pid: int):
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            self.samples.append((time.time(), tree_rss_kb(self.pid)))
            self._stop.wait(rest_after(time.monotonic() - began))

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, int]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def run_measured(command: list[str], env: dict[str, str], cwd: str, log_path) -> Measured:
    """Run a command to its end, its output to log_path, and measure it."""
    started = time.monotonic()
    with open(log_path, "w") as log:
        child = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        sampler = TreeSampler(child.pid).start()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    samples = sampler.stop()
    return Measured(time.monotonic() - started, child.returncode, usage.ru_maxrss,
                    usage.ru_utime + usage.ru_stime, samples)
