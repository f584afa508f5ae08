"""A worker process of the raw load: `python -m connectors.raw_load_worker SOURCE JOB RESULT`.

A big batch of landed files is read by one worker a core (connectors/raw_load.py). A worker is a fresh
interpreter started on this module, not a fork (the caller may hold threads and an open warehouse) and not a
multiprocessing spawn (which would import the caller's main module first: Dagster's, seconds of imports).
It reads its share of the batch's new files (path, content hash) from the pickled JOB file, renders each as the
loader does in its own process, and pickles the rendered files, in the order of its share, to RESULT.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from connectors import raw_load
from connectors.gc_pause import cyclic_gc_paused

# A worker imports this checkout's connectors however its caller found them: Dagster puts a code location's
# working directory on sys.path itself, and a child process inherits only the environment.
_CHECKOUT = str(Path(__file__).resolve().parents[1])


def render_in_workers(source: str, shares: list[list[tuple[Path, str]]]) -> list[list]:
    """Each share of paths rendered by a worker process of its own, all at once; the shares' results in order."""
    with tempfile.TemporaryDirectory(prefix="raw-load-") as scratch:
        started = []
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_CHECKOUT, os.environ.get("PYTHONPATH")]))}
        for number, share in enumerate(shares):
            job, result = Path(scratch, f"job-{number}"), Path(scratch, f"result-{number}")
            job.write_bytes(pickle.dumps(share, protocol=pickle.HIGHEST_PROTOCOL))
            started.append((subprocess.Popen([sys.executable, "-m", __name__, source, str(job), str(result)],
                                             env=env, stderr=subprocess.PIPE), result))
        for worker, _ in started:
            _, stderr = worker.communicate()
            if worker.returncode:
                raise RuntimeError(f"a raw load worker for {source} failed (exit code {worker.returncode}): "
                                   f"{stderr.decode(errors='replace').strip()[-2000:]}")
        return [pickle.loads(result.read_bytes()) for _, result in started]


def main(argv: list[str]) -> int:
    source, job, result = argv
    files = pickle.loads(Path(job).read_bytes())
    with cyclic_gc_paused():
        rendered = [raw_load._render_file(source, path, sha256) for path, sha256 in files]
    Path(result).write_bytes(pickle.dumps(rendered, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
