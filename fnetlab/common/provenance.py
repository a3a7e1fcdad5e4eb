"""Where a result came from: the command, the commit, the date, the machine and its load.

Every report fnetlab writes (bench.md, the experiments' reports) names these, so that a number
can be traced to the code and the conditions that produced it:

  p = provenance.collect()            # {command, commit, date, machine, load}
  lines = provenance.markdown(p)      # "- command: `...`", "- commit: ...", ...

On a shared machine the load average says how noisy wall-clock numbers are.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
from collections.abc import Sequence

from fnetlab.common.io import git_commit

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def command(argv: Sequence[str] | None = None) -> str:
  """The command line as a user would type it: `python experiments/x.py --flag=...` for a
  script (its path relative to the repository when inside it), else argv as given."""
  argv = list(sys.argv if argv is None else argv)
  if not argv:
    return ""
  head = argv[0]
  if head.endswith(".py"):
    path = os.path.abspath(head)
    rel = os.path.relpath(path, REPO)
    return shlex.join(["python", path if rel.startswith("..") else rel, *argv[1:]])
  return shlex.join([*shlex.split(head), *argv[1:]])


def cpu_model() -> str:
  """The CPU's model name (/proc/cpuinfo on Linux), or the platform's processor string."""
  model = platform.processor() or platform.machine()
  try:
    with open("/proc/cpuinfo") as f:
      return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), model)
  except OSError:
    return model


def machine() -> str:
  """`<n>-core <cpu model> host`, and where jax is already imported, its version and device."""
  text = f"{os.cpu_count()}-core {cpu_model()} host"
  jax = sys.modules.get("jax")
  if jax is not None:
    dev = jax.devices()[0]
    text += f", jax {jax.__version__} on {len(jax.devices())} x {dev.platform} ({dev.device_kind})"
  return text


def load_average() -> list[float] | None:
  """The host's 1, 5 and 15-minute load averages, rounded to 0.1; None where unknown."""
  try:
    return [round(x, 1) for x in os.getloadavg()]
  except OSError:
    return None


def load_text(load: Sequence[float] | None) -> str:
  return " / ".join(f"{x:.1f}" for x in load) if load else "unknown"


def date() -> str:
  """Now, in UTC, to the minute: `2026-12-02 05:10 UTC`."""
  return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def collect(argv: Sequence[str] | None = None) -> dict:
  """{command, commit, date (UTC), machine, load}: the header of every report."""
  return {
    "command": command(argv),
    "commit": git_commit() or "unknown",
    "date": date(),
    "machine": machine(),
    "load": load_average(),
  }


def markdown(p: dict) -> list[str]:
  """A report header's bullet lines from `collect()`'s dict."""
  return [
    f"- command: `{p['command']}`",
    f"- commit: {p['commit']}"
    + (
      " (uncommitted changes under fnetlab/, configs/ or experiments/)"
      if str(p["commit"]).endswith("+dirty")
      else ""
    )
    + "; date: "
    + p["date"],
    f"- machine: {p['machine']}; load average (1/5/15 min): {load_text(p.get('load'))}",
  ]
