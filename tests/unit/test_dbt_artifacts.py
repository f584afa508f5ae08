import os

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
