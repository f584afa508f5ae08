"""`omnirecon bench`: the whole pipeline on a sandbox of a chosen size, measured stage by stage.

Each part of the pipeline runs in a process of its own, so its wall time and peak memory are its own:
the sandbox (generate, then webhook delivery; it then serves the vendor APIs until the end), the ingest
(inbox loads and per-day API pulls through the real Dagster jobs) and the close (the real
`reconciliation_build` job over the whole range). The close is one `dbt build`, as in production; its
transform / matching / postings / ATS figures are split from dbt's run_results.json and its export figure
from Dagster's step events. See docs/benchmark.md.
"""
