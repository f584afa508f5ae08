import os
import shutil

from orchestration.defs.dbt.artifacts import prune_build_artifacts

DAY = 24 * 3600


def _build_folder(target, name, age_days, now):
    folder = target / name
    (folder / "compiled").mkdir(parents=True)
    (folder / "run_results.json").write_text("{}")
    os.utime(folder, (now - age_days * DAY, now - age_days * DAY))
    return folder


def test_old_build_folders_beyond_the_newest_go_and_recent_ones_stay(tmp_path):
    now = 1_800_000_000.0
    folders = [_build_folder(tmp_path, f"omnirecon_dbt_models-{i:07x}-abc", age_days=i, now=now) for i in range(6)]
    manifest = tmp_path / "manifest.json"
    manifest.write_text("{}")
    other = _build_folder(tmp_path, "something_else-1", age_days=30, now=now)

    removed = prune_build_artifacts(tmp_path, keep=2, now=now)

    # the two newest stay whatever their age; of the rest, only those older than a day go
    assert sorted(removed) == sorted(folders[2:])
    assert [folder.exists() for folder in folders] == [True, True, False, False, False, False]
    assert manifest.exists() and other.exists()


def test_a_build_running_elsewhere_keeps_its_folder(tmp_path):
    now = 1_800_000_000.0
    folders = [_build_folder(tmp_path, f"omnirecon_dbt_models-{i}", age_days=0.1 * i, now=now) for i in range(5)]
    assert prune_build_artifacts(tmp_path, keep=1, now=now) == []
    assert all(folder.exists() for folder in folders)


def test_a_folder_another_process_removes_while_pruning_is_no_error(tmp_path, monkeypatch):
    now = 1_800_000_000.0
    folders = [_build_folder(tmp_path, f"omnirecon_dbt_models-{i}", age_days=2 + i, now=now) for i in range(4)]
    vanishing = folders[2]
    listed = sorted(tmp_path.glob("omnirecon_dbt_models-*"))

    def listing_while_another_worker_cleans_up(self, pattern):
        # another worker removes its own run's folder just after the pruning has listed it
        for path in listed:
            yield path
            if path == vanishing:
                shutil.rmtree(vanishing)

    monkeypatch.setattr(type(tmp_path), "glob", listing_while_another_worker_cleans_up)
    removed = prune_build_artifacts(tmp_path, keep=1, now=now)
    assert set(removed) >= {folders[1], folders[3]}
    assert folders[0].exists() and not any(folder.exists() for folder in folders[1:])
