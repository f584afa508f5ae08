"""The close's one run split into the bench's stages.

dbt builds everything in one invocation (threads: 1, so nodes run one after another); run_results.json gives
each node's time and the manifest says what each node is. A node belongs to its model's stage (a test or a
unit test to the model it tests, a source test to transform), by the same groups the Dagster UI shows:

    transform  seeds, staging, intermediate and canonical marts   (groups: configuration, <channel>, canonical)
    matching   settlement lines, counterparts, match passes, settlement_matches, reconciliation_exceptions,
               payouts                                            (group: finance)
    postings   settlement/sales/COGS postings, posting_batches, journal_lines, journal_line_sources
                                                                  (group: posting)
    ats        inventory models, available to sell                (group: inventory)

A stage's seconds are the sum of its nodes' execution times; what the dbt step took beyond all nodes
(parse, start-up, per-node bookkeeping and event streaming to Dagster) is reported as dbt overhead. The
close's other steps (posting gate, ERP export, exception queue, summary, ATS publication, daily close) are
the `export` stage.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

DBT_STEP = "omnirecon_dbt_models"
GROUP_STAGE = {"finance": "matching", "posting": "postings", "inventory": "ats"}  # anything else: transform
DBT_STAGES = ("transform", "matching", "postings", "ats")


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def node_stage(node_id: str, nodes: dict) -> str:
    from orchestration.defs.dbt.assets import translator

    node = nodes.get(node_id)
    if node is None:
        return "transform"
    if node["resource_type"] in ("test", "unit_test"):
        tested = node.get("attached_node") or next(
            (n for n in node.get("depends_on", {}).get("nodes", []) if n.startswith(("model.", "seed."))), None)
        return node_stage(tested, nodes) if tested else "transform"
    return GROUP_STAGE.get(translator.get_group_name(node), "transform")


def dbt_nodes(target_dir: Path) -> list[dict]:
    """Each node dbt ran: unique id, stage, seconds, (start, end) wall-clock window, and its relation when it
    is a model built as a table (views cost nothing to create: their work runs where they are read)."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    out = []
    for result in json.loads((target_dir / "run_results.json").read_text())["results"]:
        node = nodes.get(result["unique_id"], {})
        times = [t for t in result.get("timing", []) if t.get("started_at") and t.get("completed_at")]
        table = (f'{node["schema"]}.{node["alias"]}'
                 if node.get("resource_type") in ("model", "seed")
                 and node.get("config", {}).get("materialized") in ("table", "incremental", "seed") else None)
        out.append({"unique_id": result["unique_id"], "name": node.get("name", result["unique_id"]),
                    "stage": node_stage(result["unique_id"], nodes), "status": result["status"],
                    "seconds": result["execution_time"], "table": table,
                    "window": (_epoch(times[0]["started_at"]), _epoch(times[-1]["completed_at"])) if times else None})
    return out


def close_target_dir(project_target: Path, run_id: str) -> Path:
    """dagster-dbt's folder for this run's dbt invocation: target/<asset>-<run id[:7]>-<hash>."""
    found = sorted(project_target.glob(f"*-{run_id[:7]}-*"))
    if not found:
        raise FileNotFoundError(f"no dbt target folder for run {run_id} under {project_target}")
    return found[0]


def table_rows(duckdb_path: str, tables: set[str]) -> dict[str, int]:
    import duckdb

    with duckdb.connect(duckdb_path, read_only=True) as connection:
        return {table: connection.execute(f"select count(*) from {table}").fetchone()[0] for table in sorted(tables)}
