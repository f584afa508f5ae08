"""A warehouse's second dbt build starts from the parse of its first, not from the whole project again."""
import json
import subprocess
import sys
from pathlib import Path

from orchestration.defs.dbt.artifacts import build_folder
from orchestration.defs.dbt.partial_parse import keep_warehouse_parse, start_from_warehouse_parse, warehouse_parse_file
from orchestration.local_paths import DBT_PROJECT_DIR


def _dbt_parse(build_target: Path) -> dict:
    """`dbt parse` into build_target, as dagster-dbt runs a build there; returns dbt's perf_info.json."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    subprocess.run([dbt, "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                    str(DBT_PROJECT_DIR), "--target-path", str(build_target), "--log-path", str(build_target)],
                   check=True, cwd=DBT_PROJECT_DIR)
    return json.loads((build_target / "perf_info.json").read_text())


def test_each_warehouse_keeps_its_parse_and_its_next_build_reads_no_file_again(tmp_path, monkeypatch):
    first_warehouse, other_warehouse = tmp_path / "first" / "warehouse.duckdb", tmp_path / "other" / "warehouse.duckdb"
    monkeypatch.setenv("OMNIRECON_DUCKDB_PATH", str(first_warehouse))
    assert warehouse_parse_file() == tmp_path / "first" / "warehouse.dbt_partial_parse.msgpack"

    first_build = build_folder(tmp_path / "target", "omnirecon_dbt_models", "0123456789")
    assert not start_from_warehouse_parse(first_build)
    assert _dbt_parse(first_build)["parsed_path_count"] > 100  # every file of the project
    keep_warehouse_parse(first_build)

    second_build = build_folder(tmp_path / "target", "omnirecon_dbt_models", "0123456789")
    assert second_build != first_build
    assert start_from_warehouse_parse(second_build)
    assert _dbt_parse(second_build)["parsed_path_count"] == 0

    # another warehouse has a connection of its own: it does not get the first one's parse
    monkeypatch.setenv("OMNIRECON_DUCKDB_PATH", str(other_warehouse))
    assert not start_from_warehouse_parse(build_folder(tmp_path / "target", "omnirecon_dbt_models", "abcdef0"))
