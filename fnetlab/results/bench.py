"""`fnetlab bench` results: the bench.csv schema, reading and writing it, and bench.md.

A bench row is one (implementation, label, length, batch, dtype) measurement. `COLUMNS` is the
CSV schema (column -> type); `TABLE` lists the bench.md columns (column, header, format spec,
scale). A new measured quantity is one entry in each. How the numbers are measured is in
fnetlab/bench/timing.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fnetlab.results.tables import fmt, markdown_table, read_csv, write_csv

#: The CSV schema: column -> type (None cells are written empty).
COLUMNS: dict[str, type] = {
  "mixer": str,
  "impl": str,
  "seq_len": int,
  "batch": int,
  "dtype": str,
  "kernel": str,  # attention kernel(s) the step traced, '+'-joined (fnetlab/nn/attention/)
  "params": int,
  "step_ms": float,
  "cpu_ms": float,
  "tokens_per_s": float,
  "compile_s": float,
  "peak_bytes": int,
  "flops": float,
  "tflops_per_s": float,
  "mfu": float,
  "ratio_vs_ff_only": float,
  "speedup_vs_attention": float,
  "memory_vs_attention": float,
  "speedup_vs_peer": float,
  "repeats": int,
  "status": str,
}

#: bench.md's main table: (column, header, format spec or None for text, scale).
TABLE = (
  ("mixer", "mixer", None, None),
  ("impl", "impl", None, None),
  ("seq_len", "N", "d", None),
  ("batch", "B", "d", None),
  ("kernel", "kernel", None, None),
  ("params", "params", ",", None),
  ("step_ms", "step ms", ".1f", None),
  ("cpu_ms", "cpu ms", ".1f", None),
  ("tokens_per_s", "tokens/s", ",.0f", None),
  ("compile_s", "compile s", ".1f", None),
  ("peak_bytes", "peak MiB", ",.0f", 2**-20),
  ("flops", "GFLOP", ",.1f", 1e-9),
  ("ratio_vs_ff_only", "÷ ff_only", ".3f", None),
  ("speedup_vs_attention", "× vs attention", ".2f", None),
  ("memory_vs_attention", "mem ÷ attention", ".3f", None),
  ("speedup_vs_peer", "× vs peer", ".2f", None),
  ("status", "status", None, None),
)
#: The plots `fnetlab.results.plots.bench_plots` draws, and their captions.
PLOTS = {"step_time.png": "step time", "memory.png": "peak memory", "params.png": "parameters"}


def empty_row(**fields) -> dict:
  """A row with every column None, then `fields`."""
  row = dict.fromkeys(COLUMNS)
  row.update(fields)
  return row


def write_bench_csv(rows: Iterable[dict], path: str) -> None:
  write_csv(path, rows, list(COLUMNS))


def read_bench_csv(path: str) -> list[dict]:
  """bench.csv back as typed rows (empty cells are None)."""
  return read_csv(path, COLUMNS)


def _formatted(rows: Iterable[dict], table) -> list[dict]:
  out = []
  for r in rows:
    out.append({col: fmt(r.get(col), spec or "", scale) for col, _, spec, scale in table})
  return out


def spec_table(rows: Sequence[dict], table) -> str:
  """A markdown table of `rows` by a spec like `TABLE`: (column, header, format spec, scale)."""
  return markdown_table(
    _formatted(rows, table),
    [col for col, *_ in table],
    {col: header for col, header, *_ in table},
    right=[col for col, _, spec, _ in table if spec],
  )


def markdown(rows: list[dict], *, title: str, command: str, env: dict, notes: Sequence[str]) -> str:
  """bench.md: the header (command, date, device, versions), notes, the results table, the
  throughput table where MFU is known, and the plots."""
  lines = [
    f"# {title}",
    "",
    f"- command: `{command}`",
    f"- date: {env['date']}" + (f", commit {env['commit']}" if env.get("commit") else ""),
    f"- device: {env['device']} ({env['num_devices']} device(s))",
    "- versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
    f"- XLA_FLAGS: `{env['xla_flags'] or '(none)'}`",
    f"- host load average (1/5/15 min) at start: {env.get('load_start', 'unknown')}; "
    f"at end: {env['load']}",
  ]
  lines += [f"- {n}" for n in notes]
  lines += ["", spec_table(rows, TABLE).rstrip("\n")]
  mfu_rows = [r for r in rows if r.get("mfu")]
  if mfu_rows:
    mfu = (
      ("mixer", "mixer", None, None),
      ("seq_len", "N", "d", None),
      ("tflops_per_s", "TFLOP/s", ".2f", None),
      ("mfu", "MFU", ".1%", None),
    )
    lines += ["", spec_table(mfu_rows, mfu).rstrip("\n")]
  lines += ["", " ".join(f"![{caption}]({path})" for path, caption in PLOTS.items()), ""]
  return "\n".join(lines)
