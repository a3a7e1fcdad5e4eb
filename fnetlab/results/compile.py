"""The table of `fnetlab compile` records (compile.json files): one row per compiled config."""

from __future__ import annotations

from fnetlab.results.tables import fmt, markdown_table

COLUMNS = (
  "row",
  "topology",
  "mixer",
  "kernel",
  "mesh",
  "params_gib",
  "opt_gib",
  "temp_gib",
  "total_gib",
  "hbm_gib",
  "fits",
  "gflop",
  "step_ms",
  "tok_s",
  "fft_dft",
)
HEADERS = {
  "params_gib": "params GiB",
  "opt_gib": "opt GiB",
  "temp_gib": "temp GiB",
  "total_gib": "total GiB",
  "hbm_gib": "HBM GiB",
  "gflop": "GFLOP/step",
  "step_ms": "step ms (est.)",
  "tok_s": "tokens/s (est.)",
  "fft_dft": "FNet fft / dft step ms (est.)",
}
_GIB = 2**30


def _mesh(mesh) -> str:
  return "x".join(f"{k}{v}" for k, v in (mesh or {}).items())


def row(record: dict) -> dict:
  """One table row of a compile record (all sizes per device)."""
  if "error" in record:
    return {"row": record.get("row"), "topology": record.get("topology"), "fits": record["error"]}
  per = record["per_device"]
  step = record.get("step_time_lower_bound_s")
  impls = record.get("fourier_impls") or {}
  fft_dft = " / ".join(
    fmt(impls[k].get("step_time_lower_bound_s"), ".2f", 1e3, "-")
    for k in ("fft", "dft")
    if k in impls
  )
  gflop = fmt(record.get("flops_per_step"), ".1f", 1e-9, "-")
  return {
    "row": record.get("row"),
    "topology": record["topology"],
    "mixer": record.get("mixer"),
    "kernel": record.get("kernel") or "-",
    "mesh": _mesh(record.get("mesh")),
    "params_gib": fmt(per["params_bytes"] / _GIB, ".3f"),
    "opt_gib": fmt(per["opt_state_bytes"] / _GIB, ".3f"),
    "temp_gib": fmt(per["temp_bytes"] / _GIB, ".3f"),
    "total_gib": fmt(max(per["total_bytes"], per.get("eval_total_bytes", 0)) / _GIB, ".3f"),
    "hbm_gib": fmt(per["hbm_bytes"] / _GIB, ".1f"),
    "fits": "yes" if record["fits"] else "**no**",
    "gflop": gflop + ("" if record.get("cost_complete", True) else "*"),
    "step_ms": fmt(step, ".2f", 1e3, "-"),
    "tok_s": fmt(record.get("tokens_per_s_estimate"), ",.0f", None, "-"),
    "fft_dft": fft_dft or "",
  }


def table(records) -> str:
  right = [c for c in COLUMNS if c.endswith(("gib", "gflop", "ms", "tok_s"))]
  return markdown_table([row(r) for r in records], COLUMNS, HEADERS, right)
