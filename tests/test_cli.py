"""The command line and the architecture: every command explains itself, every user mistake is
one line with exit 2, sweep workdirs are unique, and imports run in one direction."""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys

import pytest

from fnetlab import cli
from fnetlab.commands import sweep
from fnetlab.common import config as config_lib
from fnetlab.common.errors import UserError

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "fnetlab"
LISTOPS = str(ROOT / "configs/lra/listops.py")


def run_cli(*args, env=None, cwd=ROOT):
  return subprocess.run(
    [sys.executable, "-m", "fnetlab", *args],
    capture_output=True,
    text=True,
    cwd=cwd,
    env={**os.environ, **(env or {})},
    timeout=300,
  )


# ----------------------------------------------------------------------------- --help


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_answers_help_with_its_flags(command, capsys):
  assert cli.main(["fnetlab", command, "--help"]) == 0
  out = capsys.readouterr().out
  module = __import__(cli.COMMANDS[command][0], fromlist=["FLAGS"])
  assert out.startswith(f"usage: fnetlab {command}")
  for flag in module.FLAGS:
    assert f"--{flag.name}" in out, f"{command} --help does not list --{flag.name}"
    assert flag.help.split()[0] in out  # with its description


def test_help_shows_defaults_booleans_and_required_flags(capsys):
  assert cli.main(["fnetlab", "sample", "--help"]) == 0
  out = " ".join(capsys.readouterr().out.split())
  assert "--top_k TOP_K Sample among the k likeliest tokens; 0 = all. (default: 0)" in out
  assert cli.main(["fnetlab", "sweep", "--help"]) == 0
  out = capsys.readouterr().out
  assert out.startswith("usage: fnetlab sweep --config=FILE[:ARG] --workdir=WORKDIR [flags]")
  flat = " ".join(out.split())
  assert "--list, --nolist Print the runs" in flat and "[LIST]" not in out
  assert "one subdirectory per point (and seed). (required)" in flat


def test_config_override_on_a_command_without_config_is_an_error(capsys):
  for command in ("eval", "sample", "report"):
    argv = ["fnetlab", command, "--workdir=w", "--config.train.max_eval_examples=-1"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "takes no config" in err


def test_help_in_a_fresh_process_exits_zero():
  r = run_cli("train", "--help")
  assert r.returncode == 0 and "--workdir" in r.stdout and "--config" in r.stdout


# ----------------------------------------------------------------------------- user mistakes


def one_line_error(result, *needles):
  assert result.returncode == 2, result.stderr
  lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
  assert len(lines) == 1, result.stderr
  assert "Traceback" not in result.stderr
  for needle in needles:
    assert needle in lines[0], lines[0]


def test_missing_config_file_is_one_line(tmp_path):
  r = run_cli("train", "--config=configs/nonexist.py", f"--workdir={tmp_path / 'w'}")
  one_line_error(r, "configs/nonexist.py", "not found")
  assert not (tmp_path / "w").exists()


def test_broken_config_file_names_file_and_line(tmp_path):
  bad = tmp_path / "bad.py"
  bad.write_text("def get_config(arg=None):\n  x = 1\n  return x / 0\n")
  r = run_cli("train", f"--config={bad}", f"--workdir={tmp_path / 'w'}")
  one_line_error(r, f"{bad}:3", "ZeroDivisionError")
  assert not (tmp_path / "w").exists()


@pytest.mark.parametrize(
  "override, needle",
  [
    ("--config.train.stepz=3", "train.stepz"),
    ("--config.train.steps=abc", "train.steps"),
    ("--config.train=3", "group"),
  ],
)
def test_bad_override_is_a_user_error(override, needle):
  key, _, value = override[len("--config.") :].partition("=")
  with pytest.raises(UserError, match=needle):
    config_lib.load(f"{LISTOPS}:runlocal", {key: value})


def test_override_takes_the_field_type():
  c = config_lib.load(f"{LISTOPS}:runlocal", {"train.steps": "7", "optim.lr": "2e-3"})
  assert c.train.steps == 7 and isinstance(c.train.steps, int)
  assert c.optim.lr == pytest.approx(2e-3)
  c = config_lib.load(f"{LISTOPS}:runlocal", {"train.async_checkpoints": "false"})
  assert c.train.async_checkpoints is False


def test_unknown_flag_and_missing_flag(capsys):
  assert cli.main(["fnetlab", "eval", "--bogus=1"]) == 2
  assert cli.main(["fnetlab", "eval"]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 2 and "--bogus" in err[0] and "--workdir" in err[1]


# ----------------------------------------------------------------------------- sweep names


def test_points_differing_only_in_a_nested_key_get_two_workdirs(tmp_path):
  a = {"model.dropout_rate": 0.1}
  b = {"attention.dropout_rate": 0.1}
  assert sweep.point_name(a) != sweep.point_name(b)
  assert sweep.run_dir(str(tmp_path), sweep.point_name(a), None) != sweep.run_dir(
    str(tmp_path), sweep.point_name(b), None
  )
  # Values that are not file-name safe still give distinct, safe names.
  c, d = {"data.dir": "a/b"}, {"data.dir": "a-b"}
  assert sweep.point_name(c) != sweep.point_name(d)
  assert "/" not in sweep.point_name(c)


def test_seeds_give_one_workdir_per_point_and_seed(tmp_path):
  grid, runs = sweep.runs(
    f"{LISTOPS}:runlocal", "mixers", str(tmp_path), only={0, 1}, seeds=[0, 1, 2]
  )
  assert len(runs) == 6
  assert len({r[3] for r in runs}) == 6
  assert {r[4]["seed"] for r in runs} == {0, 1, 2}
  assert all(r[3].endswith(f"seed-{r[2]}") for r in runs)


# ----------------------------------------------------------------------------- import direction

# Lower layers never import higher ones. Within a layer, imports are allowed but must not cycle.
LAYERS = {
  "common": 0,
  "results": 1,
  "data": 1,
  "nn": 1,
  "mixers": 2,
  "models": 3,
  "config": 1,  # the config skeleton for configs/*.py: plain data, imports only common
  "convert": 4,
  "tasks": 4,
  "train": 5,
  "bench": 6,
  "commands": 7,
  "cli": 8,
  "__main__": 9,
}


def module_name(path: pathlib.Path) -> str:
  rel = path.relative_to(ROOT).with_suffix("")
  parts = list(rel.parts)
  if parts[-1] == "__init__":
    parts = parts[:-1]
  return ".".join(parts)


def all_modules() -> dict[str, pathlib.Path]:
  return {module_name(p): p for p in PKG.rglob("*.py")}


def imports_of(path: pathlib.Path, modules) -> set[str]:
  """Every fnetlab module `path` imports, at top level or inside functions."""
  out = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
      names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
    else:
      continue
    for name in names:
      if name.startswith("fnetlab"):
        while name and name not in modules:
          name = name.rpartition(".")[0]
        if name and name != "fnetlab":
          out.add(name)
  return out


def layer(module: str) -> int:
  part = module.split(".")[1]
  return LAYERS[part]


def test_import_graph_has_one_direction_and_no_cycles():
  modules = all_modules()
  graph = {m: imports_of(p, modules) - {m} for m, p in modules.items() if m != "fnetlab"}
  unknown = {m for m in graph if m.split(".")[1] not in LAYERS}
  assert not unknown, f"modules outside the layer map: {unknown}"
  upward = [(a, b) for a, deps in graph.items() for b in deps if layer(b) > layer(a)]
  assert not upward, f"imports against the layer order: {upward}"
  importers_of_cli = [a for a, deps in graph.items() if "fnetlab.cli" in deps]
  assert importers_of_cli == ["fnetlab.__main__"]

  # Cycle check (Tarjan-free: DFS with colours), package __init__ edges included.
  colour, stack = {}, []

  def visit(m):
    colour[m] = 1
    stack.append(m)
    for d in graph.get(m, ()):
      if colour.get(d) == 1:
        cycle = stack[stack.index(d) :] + [d]
        if not (len(cycle) == 3 and cycle[0].startswith(cycle[1] + ".")):
          pytest.fail("import cycle: " + " -> ".join(cycle))
      elif d not in colour:
        visit(d)
    stack.pop()
    colour[m] = 2

  for m in sorted(graph):
    if m not in colour:
      visit(m)


def imported_names(path: pathlib.Path) -> set[str]:
  """Every module and name `path` imports (dotted, `from a import b` as `a.b`), anywhere."""
  out = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      out |= {a.name for a in node.names}
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
      out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
  return out


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.py")), ids=lambda p: p.name)
def test_experiments_use_only_public_pieces_and_the_one_flag_layer(path):
  names = imported_names(path)
  private = sorted(n for n in names if n.startswith("fnetlab") and "._" in n)
  assert not private, f"{path.name} imports private names: {private}"
  assert "fnetlab.cli" not in names  # the dispatcher is for `fnetlab` alone
  modules = all_modules()
  for n in names:
    if n.startswith("fnetlab."):
      assert n in modules or n.rpartition(".")[0] in modules, f"{path.name}: {n} does not exist"
  # One flag layer (fnetlab.common.flags) for every command and script.
  assert not {n for n in names if n.split(".")[0] in ("absl", "argparse")}, path.name


@pytest.mark.parametrize("path", sorted((ROOT / "configs").rglob("*.py")), ids=str)
def test_config_files_import_no_jax(path):
  names = imported_names(path)
  heavy = sorted(n for n in names if n.split(".")[0] in ("jax", "jaxlib", "flax", "optax", "orbax"))
  assert not heavy, f"{path.relative_to(ROOT)} imports {heavy}"


def test_no_reference_to_files_outside_the_repository():
  offenders = []
  for base in ("fnetlab", "configs", "experiments", "tests", "docs"):
    for p in (ROOT / base).rglob("*"):
      if p.suffix in (".py", ".md") and p.name != "test_cli.py":
        text = p.read_text()
        if "REFERENCE.md" in text or "shared/" in text:
          offenders.append(str(p.relative_to(ROOT)))
  readme = (ROOT / "README.md").read_text()
  if "REFERENCE.md" in readme:
    offenders.append("README.md")
  assert not offenders, offenders
