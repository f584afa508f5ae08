"""The environment the bench's child processes run in."""
from orchestration.benchmark.processes import bench_env


def test_the_bench_keeps_the_machines_duckdb_memory_limit_and_drops_the_users_other_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIRECON_DUCKDB_MEMORY_LIMIT", "6GB")
    monkeypatch.setenv("OMNIRECON_DUCKDB_PATH", "/srv/omnirecon/production.duckdb")
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_users_own")
    env = bench_env(tmp_path)
    assert env["OMNIRECON_DUCKDB_MEMORY_LIMIT"] == "6GB"
    assert env["OMNIRECON_DUCKDB_PATH"] == str(tmp_path / "warehouse.duckdb")
    assert "SHOPIFY_ACCESS_TOKEN" not in env
