"""Results: everything that reads finished runs and writes tables and plots.

- `workdirs`: reading workdirs (results.json, config.json, metrics.jsonl, failed.json,
  eval_*.json) and sweep roots (sweep.json); finding every run under a root.
- `aggregate`: one summary row per run (keyed by point, with its seed), best run per cell.
- `tables`: the one markdown-table writer and the CSV writer/reader.
- `lra`, `glue`: the LRA and GLUE tables beside the FNet paper's rows.
- `bench`: the bench.csv schema and bench.md.
- `plots`: validation curves, accuracy against throughput, bench plots.
- `report`: what `fnetlab report` writes and prints.

This package depends only on fnetlab.common (and numpy/matplotlib), never on models or jax.
"""
