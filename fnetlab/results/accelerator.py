"""The accelerator check's report (experiments/accelerator_check.py): accelerator_check.md.

`markdown(check)` renders what the check has so far (it is rewritten after every stage, so a
run cut short still reports what it measured). `check` is a dict: `prov` (provenance.collect),
`smoke`, `budget_s`, `elapsed_s`, `env` (the environment stage's JSON), `tests` (rows: test,
group, outcome), `test_groups`, `test_args`, `tests_collected`, `test_failures`, `bench`
(name -> typed bench.csv rows), `bench_cmds`, `bench_titles`, `peak_tflops`, `listops` (the
ListOps stage's JSON) and `stages` (rows: stage, status, seconds, limit_s).
"""

from __future__ import annotations

from fnetlab.common import provenance
from fnetlab.results.bench import spec_table
from fnetlab.results.tables import fmt, markdown_table

#: The bench tables of the report: (column, header, format spec or None for text, scale).
BENCH_TABLE = (
  ("mixer", "mixer", None, None),
  ("impl", "impl", None, None),
  ("seq_len", "N", "d", None),
  ("batch", "B", "d", None),
  ("step_ms", "step ms", ".2f", None),
  ("tokens_per_s", "tokens/s", ".0f", None),
  ("tflops_per_s", "TFLOP/s", ".1f", None),
  ("mfu", "MFU", ".1%", None),
  ("peak_bytes", "peak MiB", ".0f", 2**-20),
  ("ratio_vs_ff_only", "÷ ff_only", ".2f", None),
  ("speedup_vs_attention", "× vs attention", ".2f", None),
  ("speedup_vs_peer", "× vs peer", ".2f", None),
  ("kernel", "kernel", None, None),
  ("status", "status", None, None),
)
#: listops.csv's columns (the ListOps stage's rows).
LISTOPS_COLUMNS = (
  "model",
  "mixer",
  "steps",
  "official_steps",
  "step_ms",
  "compile_s",
  "train_s",
  "eval_s",
  "params",
  "final_train_loss",
  "final_train_accuracy",
  "validation_accuracy",
  "test_accuracy",
  "paper_test_accuracy",
  "error",
)


def markdown(check: dict) -> str:
  e = check["env"]
  lines = [
    "# Accelerator check" + (" (smoke: tiny sizes, not measurements)" if check["smoke"] else ""),
    "",
    *provenance.markdown(check["prov"]),
    f"- budget {check['budget_s']:.0f} s, elapsed {check['elapsed_s']:.0f} s",
    "",
    "## 1. Environment",
    "",
  ]
  lines += environment_section(e) if e else ["(not read)"]
  lines += ["", "## 2. On-device tests", ""]
  lines += tests_section(check)
  lines += ["", "## 3. Benchmarks (bf16)", ""]
  lines += bench_section(check)
  lines += ["", "## 4. LRA ListOps, official configuration", ""]
  lines += listops_section(check["listops"])
  lines += ["", "## Stages", ""]
  stages = [
    {**s, "seconds": f"{s['seconds']:.1f}", "limit_s": f"{s['limit_s']:.0f}"}
    for s in check["stages"]
  ]
  heads = {"seconds": "seconds", "limit_s": "limit s"}
  lines.append(markdown_table(stages, ["stage", "status", "seconds", "limit_s"], heads))
  return "\n".join(lines)


def environment_section(e: dict) -> list[str]:
  devs = e.get("devices", [])
  kinds = sorted({d.get("kind", "?") for d in devs})
  mem = devs[0].get("memory_gib") if devs else None
  lines = [
    f"- backend `{e.get('backend')}`: {len(devs)} x {', '.join(kinds)}"
    + (f" ({mem} GiB for JAX)" if mem else ""),
    f"- Python {e.get('python')}, {e.get('platform')}, {e.get('cpus')} CPUs",
    "- " + ", ".join(f"{k} {v}" for k, v in e.get("versions", {}).items()),
    f"- default matmul precision: {e.get('matmul_precision')}; env: {e.get('env') or 'none'}",
  ]
  if e.get("nvidia_smi"):
    lines.append(f"- nvidia-smi: {e['nvidia_smi']}")
  if "torch_cuda" in e:
    lines.append(f"- torch sees CUDA: {e['torch_cuda']} {e.get('torch_device', '')}".rstrip())
  return lines


def tests_section(check: dict) -> list[str]:
  tests = check["tests"]
  lines = []
  if tests:
    rows = []
    for name in check["test_groups"]:
      group = [t["outcome"] for t in tests if t["group"] == name]
      rows.append(
        {
          "group": name,
          "passed": sum(o in ("PASSED", "XFAIL") for o in group),
          "failed": sum(o in ("FAILED", "ERROR", "XPASS") for o in group),
          "skipped": sum(o == "SKIPPED" for o in group),
        }
      )
    lines.append(markdown_table(rows, ["group", "passed", "failed", "skipped"]).rstrip("\n"))
    collected = check["tests_collected"]
    if collected is not None and collected > len(tests):
      lines += [
        "",
        f"**{collected - len(tests)} of {collected} "
        "collected tests did not finish (the stage's time limit).**",
      ]
    lines += ["", "Test ids and outcomes: tests.csv. Arguments: `" + check["test_args"] + "`."]
  else:
    ran = any(s["stage"] == "tests" for s in check["stages"])
    lines.append("(no outcome parsed)" if ran else "(not run)")
  if check["test_failures"]:
    lines += ["", "Failures:", ""] + [f"- `{x}`" for x in check["test_failures"][:20]]
  return lines


def bench_section(check: dict) -> list[str]:
  bench, cmds = check["bench"], check["bench_cmds"]
  if not bench and not cmds:
    return ["(not run)"]
  lines = []
  for name, title in check["bench_titles"].items():
    if name not in cmds:
      continue
    rows = bench.get(name, [])
    lines += [f"### {title}", "", f"`{cmds[name]}` ({name}.csv)", ""]
    if not rows:
      status = next((x["status"] for x in check["stages"] if x["stage"] == name), "running")
      lines += [f"(no rows; the run's status: {status}; its output is in check.log)", ""]
      continue
    table = [t for t in BENCH_TABLE if t[0] != "kernel" or any(r.get("kernel") for r in rows)]
    lines += [spec_table(rows, table)]
  peak = check["peak_tflops"]
  lines.append(
    "MFU = XLA's FLOP count of the whole train step / step time / "
    + (f"{peak:.0f} TFLOP/s (the device's dense bf16 datasheet peak)" if peak else "peak (unknown)")
    + ". Peer rows (impl hf-torch) are PyTorch eager under bf16 autocast; × vs peer = the "
    "peer's step time over ours."
  )
  return lines


def listops_section(r: dict) -> list[str]:
  if not r:
    return ["(not run)"]
  lines = [f"Generator settings {r.get('data_settings', {})}."]
  if "data" in r:
    lines[0] += (
      f" Examples {r['data']}, generated in {r.get('data_generate_s', 0):.0f} s and encoded "
      f"in {r.get('data_load_s', 0):.0f} s, in the background."
    )
  if r.get("phase") != "done":
    lines += ["", f"**The stage stopped while {r.get('phase', 'starting')}.**"]
  if "target_steps" in r:
    lines += ["", f"Both models were given {r['target_steps']} steps (what fitted the budget)."]
  rows = [
    {
      "model": f"{m['model']} (`{m['mixer']}`)",
      "steps": f"{m.get('steps', '–')} / {m['official_steps']}",
      "ms/step": fmt(m.get("step_ms"), ".1f", missing="–"),
      "compile s": fmt(m.get("compile_s"), ".1f", missing="–"),
      "train loss": fmt(m.get("final_train_loss"), ".3f", missing="–"),
      "val acc": fmt(m.get("validation_accuracy"), ".2f", 100, missing="–"),
      "test acc": fmt(m.get("test_accuracy"), ".2f", 100, missing="–"),
      "paper test acc": f"{m['paper_test_accuracy']:.2f}",
    }
    for m in r.get("models", [])
  ]
  cols = ["model", "steps", "ms/step", "compile s", "train loss", "val acc", "test acc"]
  lines += ["", markdown_table(rows, [*cols, "paper test acc"]).rstrip("\n")]
  errors = [f"- {m['model']}: `{m['error']}`" for m in r.get("models", []) if m.get("error")]
  lines += ["", *errors] if errors else []
  lines += [
    "",
    "Accuracies in %. The steps are the first steps of the official 5000: the rsqrt schedule "
    "does not depend on the total, so they are exactly a full run's first steps. The paper's "
    "rows are after 5000 steps; a shorter run is not expected to reach them. ms/step is the "
    "mean warm step (compiled ahead of time, compilation excluded); train loss and accuracy "
    "are the means of the last 100 steps.",
  ]
  return lines
