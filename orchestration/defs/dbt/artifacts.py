"""dbt artifacts of past builds: dagster-dbt gives every build its own target folder
(dbt_project/target/<asset>-<run id>-<uuid>: logs, manifest, run results and compiled SQL, ~40 MB), so a
daily close and a 15-minute ATS cycle would fill the disk within months. The newest folders stay for
debugging a recent run; older ones go.

Only folders older than a day are removed, so a build still running in another process (a test worker, a
second code location) never loses its folder.
"""
from __future__ import annotations

import shutil
import stat
import time
import uuid
from pathlib import Path

RUN_FOLDER_PATTERN = "omnirecon_dbt_models-*"
KEEP_NEWEST = 20
MIN_AGE_SECONDS = 24 * 3600


def build_folder(target: Path, asset: str, run_id: str) -> Path:
    """A new build's folder, named as dagster-dbt names its own (the bench finds a run's folders by run id)."""
    return target / f"{asset}-{run_id[:7]}-{uuid.uuid4().hex[:7]}"


def prune_build_artifacts(target: Path, keep: int = KEEP_NEWEST, min_age_seconds: float = MIN_AGE_SECONDS,
                          now: float | None = None) -> list[Path]:
    """Remove the build folders beyond the `keep` newest that are older than `min_age_seconds`; returns them."""
    now = time.time() if now is None else now
    folders = sorted(_build_folders_by_age(target), reverse=True)
    removed = [path for modified, path in folders[keep:] if now - modified > min_age_seconds]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def _build_folders_by_age(target: Path) -> list[tuple[float, Path]]:
    """(modified, folder) of each build folder; one that another process removes meanwhile (a test cleaning up
    its own runs' folders, another build's pruning) is simply not there any more."""
    found = []
    for path in target.glob(RUN_FOLDER_PATTERN):
        try:
            status = path.stat()
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(status.st_mode):
            found.append((status.st_mtime, path))
    return found
