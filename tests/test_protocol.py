"""The tuning protocol (`fnetlab sweep --tune`): grids, seeds, budgets, selection on
validation only, fresh final seeds tested at the best checkpoint, and self-pretraining that
starts the fine-tune, adds up to the budget and never reads a test input."""

from __future__ import annotations

import importlib.util
import json
import os

import jax
import numpy as np
import pytest

from fnetlab import cli
from fnetlab.commands import protocol, sweep
from fnetlab.common import checkpoints
from fnetlab.common import config as config_lib
from fnetlab.common.errors import UserError
from fnetlab.results import tables, tuning
from fnetlab.train import protocol as proto

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = os.path.join(ROOT, "configs/suite/digits.py")
SPT = os.path.join(ROOT, "configs/spt.py")
TINY = [
  "--set=model.num_layers=1",
  "--set=model.d_model=16",
  "--set=model.d_ff=32",
  "--set=model.num_heads=2",
  "--set=train.batch_size=16",
]
TINY_KEYS = {
  "model.num_layers": 1,
  "model.d_model": 16,
  "model.d_ff": 32,
  "model.num_heads": 2,
  "train.batch_size": 16,
}


# ----------------------------------------------------------------------------- parsing


def test_budgets_tune_and_seeds_parse_or_fail_in_one_line():
  assert proto.parse_budgets("2000,200") == [
    proto.Budget(200, "steps"),
    proto.Budget(2000, "steps"),
  ]
  assert [b.label for b in proto.parse_budgets("60s,1e3s")] == ["seconds-60", "seconds-1000"]
  assert proto.parse_budgets("1e12flops")[0] == proto.Budget(1e12, "flops")
  for bad in ("200,60s", "abc", "0", "2.5", "200,200"):
    with pytest.raises(UserError, match="--budgets"):
      proto.parse_budgets(bad)
  tune = proto.parse_tune(["optim.lr=1e-3,3e-3", "optim.warmup_steps=1,2"])
  assert proto.grid(tune) == [
    {"optim.lr": "1e-3", "optim.warmup_steps": "1"},
    {"optim.lr": "1e-3", "optim.warmup_steps": "2"},
    {"optim.lr": "3e-3", "optim.warmup_steps": "1"},
    {"optim.lr": "3e-3", "optim.warmup_steps": "2"},
  ]
  for bad in (["optim.lr"], ["optim.lr="], ["optim.lr=1,1"], ["optim.lr=1", "optim.lr=2"]):
    with pytest.raises(UserError, match="--tune"):
      proto.parse_tune(bad)
  with pytest.raises(UserError, match="shares seed"):
    proto.check_seeds([0, 1], [1, 2])
  proto.check_seeds([0], [1, 2])


def test_overlapping_final_seeds_exit_2_with_one_line(tmp_path, capsys):
  argv = ["fnetlab", "sweep", f"--config={DIGITS}", f"--workdir={tmp_path}/r"]
  argv += ["--tune=optim.lr=1e-3,3e-3", "--seeds=0,1", "--final_seeds=1,2"]
  assert cli.main(argv) == 2
  err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
  assert len(err) == 1 and "--final_seeds shares seed(s) 1" in err[0]
  assert not os.path.exists(tmp_path / "r")
  assert cli.main(["fnetlab", "sweep", f"--config={DIGITS}", "--workdir=x", "--spt"]) == 2
  assert cli.main(["fnetlab", "sweep", f"--config={DIGITS}", "--workdir=x", "--baselines=a"]) == 2
  assert cli.main([*argv[:5], "--seeds=0", "--final_seeds=1", "--spt_share=0.3"]) == 2
  err = capsys.readouterr().err
  assert "--spt is a flag of the tuning protocol" in err and "give --spt too" in err
  assert not os.path.exists("x") and not os.path.exists(tmp_path / "r")


def test_a_task_without_a_test_split_is_refused_before_any_run(tmp_path, capsys):
  lm = os.path.join(ROOT, "configs/lm/shakespeare.py")
  argv = ["fnetlab", "sweep", f"--config={lm}:runlocal", f"--workdir={tmp_path}/r"]
  argv += [
    "--tune=optim.lr=1e-3,3e-3",
    "--seeds=0",
    "--final_seeds=1",
    "--set=data.max_chars=20000",
  ]
  assert cli.main([*argv, "--set=data.test_fraction=0.0"]) == 2
  err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
  assert len(err) == 1 and "task lm has no test split (it has train, validation)" in err[0]
  assert "data.test_fraction" in err[0]
  assert not os.path.exists(tmp_path / "r")
  assert cli.main([*argv, "--list"]) == 0  # runlocal holds a test split out


def test_step_overrides_scale_the_schedule_and_keep_every_evaluation():
  config = config_lib.load(f"{DIGITS}:steps=200")
  assert (config.train.eval_every, config.optim.warmup_steps, config.train.log_every) == (
    50,
    20,
    10,
  )
  o = proto.step_overrides(config, 2000)
  assert o["train.steps"] == 2000 and o["train.eval_every"] == 500
  assert o["optim.warmup_steps"] == 200 and o["train.log_every"] == 100
  assert o["train.checkpoint_every"] == 500 and o["train.keep_checkpoints"] == 4
  o = proto.step_overrides(config, 8)
  assert o["train.eval_every"] == 2 and o["optim.warmup_steps"] == 1
  assert proto.spt_split(200, 0.5) == (100, 100)
  assert proto.spt_split(7, 0.3) == (2, 5)
  assert sum(proto.spt_split(3, 0.9)) == 3


# ----------------------------------------------------------------------------- selection


def trial(point, lr, seed, value, variant="scratch"):
  return dict(
    budget="config",
    budget_unit="steps",
    budget_value=8,
    steps=8,
    variant=variant,
    point=point,
    mixer=point,
    seed=seed,
    value=value,
    **{"optim.lr": lr},
  )


def test_selection_is_the_best_validation_mean_and_flags_the_edge():
  trials = [
    trial("a", "1e-3", 0, 0.5),
    trial("a", "1e-3", 1, 0.7),  # mean 0.6
    trial("a", "3e-3", 0, 0.9),
    trial("a", "3e-3", 1, 0.4),  # mean 0.65: best for max
    trial("a", "1e-2", 0, 0.6),
    trial("a", "1e-2", 1, None),  # failed: mean of the one finished, 0.6
    trial("b", "1e-3", 0, None),
    trial("b", "1e-3", 1, None),  # every trial failed: cannot win
    trial("b", "3e-3", 0, 0.1),
    trial("b", "3e-3", 1, 0.2),
    trial("b", "1e-2", 0, 0.3),
    trial("b", "1e-2", 1, 0.3),
  ]
  rows = tuning.tuning_rows(trials, ["optim.lr"], "max")
  picked = {r["point"]: r["optim.lr"] for r in rows if r["selected"]}
  assert picked == {"a": "3e-3", "b": "1e-2"}
  assert [r["validation_mean"] for r in rows if r["point"] == "a"] == pytest.approx(
    [0.6, 0.65, 0.6]
  )
  assert [r["trials"] for r in rows if r["point"] == "b"] == [0, 2, 2]
  low = tuning.chosen(trials, ["optim.lr"], "min")
  assert low[("scratch", "a")] == {"optim.lr": "1e-3"} and low[("scratch", "b")] == {
    "optim.lr": "3e-3"
  }
  tune = {"optim.lr": ["1e-3", "3e-3", "1e-2"]}
  assert tuning.edge_of(tune, {"optim.lr": "3e-3"}) == []
  assert tuning.edge_of(tune, {"optim.lr": "1e-2"}) == ["optim.lr"]
  assert tuning.edge_of({"optim.lr": ["1e-2", "1e-4"]}, {"optim.lr": "1e-4"}) == ["optim.lr"]


def test_a_verdict_on_a_loss_calls_the_lower_loss_better():
  def final(mixer, seed, loss):
    return dict(
      budget="b",
      variant="scratch",
      status="ok",
      point=f"p-{mixer}",
      mixer=mixer,
      seed=seed,
      test_loss=loss,
    )

  finals = [final("attention", s, 2.20 + 0.01 * s) for s in range(3)]
  finals += [final("worker", s, 2.50 + 0.01 * s + 0.002 * (s == 1)) for s in range(3)]
  finals += [final("spectral", s, 2.05 + 0.011 * s) for s in range(3)]
  finals += [final("lsra", s, (2.10, 2.40, 2.00)[s]) for s in range(3)]
  diffs = tuning.verdicts(finals, "loss", ["attention"])
  by = {d["mixer"]: d for d in diffs}
  assert by["worker"]["diff_mean"] == pytest.approx(0.3 + 0.002 / 3) and by["worker"]["resolved"]
  assert by["spectral"]["diff_mean"] < 0 and by["spectral"]["resolved"]
  assert not by["lsra"]["resolved"]
  text = "b, scratch, against attention: better: spectral; worse: worker; unresolved: lsra"
  assert tuning.verdict_sentence(diffs, "b", "scratch", "attention", "min") == text
  # the same differences on an accuracy (higher is better) read the other way round
  flipped = "b, scratch, against attention: better: worker; worse: spectral; unresolved: lsra"
  assert tuning.verdict_sentence(diffs, "b", "scratch", "attention", "max") == flipped


def test_two_points_sharing_a_mixer_keep_the_mixer_and_are_told_apart_by_label(tmp_path):
  # Two fourier points (e.g. two filter options) and ff_only: the csv's `mixer` column says
  # what was trained, `label` how the tables and verdicts name each point.
  names = {"p-a": "p-a", "p-b": "p-b", "p-ff": "ff_only"}
  trials, finals = [], []
  for point, label in names.items():
    mixer = "ff_only" if point == "p-ff" else "fourier"
    for lr, value in (("1e-3", 0.5), ("1e-2", 0.6)):
      t = trial(point, lr, 0, value)
      trials.append({**t, "mixer": mixer, "label": label})
    for seed in (1, 2, 3):
      acc = {"p-a": 0.8, "p-b": 0.7, "p-ff": 0.1}[point] + 0.01 * seed * (point != "p-ff")
      finals.append(
        dict(
          budget="config",
          variant="scratch",
          status="ok",
          point=point,
          mixer=mixer,
          label=label,
          seed=seed,
          test_accuracy=acc,
        )
      )
  described = dict(command="fnetlab sweep ...", tuning_seeds=[0], final_seeds=[1, 2, 3])
  text = tuning.write_protocol_report(
    str(tmp_path),
    trials,
    finals,
    {"optim.lr": ["1e-3", "1e-2"]},
    "accuracy",
    "max",
    described,
    ["ff_only"],
  )
  for name in ("tuning.csv", "summary.csv"):
    rows = read_csv(tmp_path / name)
    assert {(r["point"], r["mixer"], r["label"]) for r in rows} == {
      ("p-a", "fourier", "p-a"),
      ("p-b", "fourier", "p-b"),
      ("p-ff", "ff_only", "ff_only"),
    }
  assert "against ff_only: better: p-a, p-b; worse: none" in text
  assert "| p-a |" in text and "| p-b |" in text


# ----------------------------------------------------------------------------- end to end


def read_csv(path):
  return tables.read_csv(str(path))


@pytest.mark.slow
def test_small_protocol_end_to_end_selects_on_validation_and_tests_fresh_seeds(tmp_path, capsys):
  """digits, fourier and ff_only, a 2-point lr grid, 1 tuning seed, 2 final seeds, 4 steps."""
  root = tmp_path / "tuned"
  argv = ["fnetlab sweep", f"--config={DIGITS}:steps=4", f"--workdir={root}", "--only=0,3"]
  argv += [*TINY, "--tune=optim.lr=1e-3,1e-2", "--seeds=0", "--final_seeds=1,2"]
  assert sweep.main([*argv, "--list"]) == 0
  listed = capsys.readouterr().out.strip().splitlines()
  assert len(listed) == 2 * 2 * 1 + 2 * 2  # tuning trials + final runs
  assert sum("<selected>" in ln for ln in listed) == 4
  assert not root.exists()  # --list runs and writes nothing

  assert sweep.main(argv) == 0
  capsys.readouterr()
  rows = read_csv(root / "tuning.csv")
  assert len(rows) == 4 and {r["mixer"] for r in rows} == {"fourier", "ff_only"}
  summary = {r["mixer"]: r for r in read_csv(root / "summary.csv")}
  for mixer in ("fourier", "ff_only"):
    point = f"model.mixer-{mixer}"
    # the oracle: each trial's best.json, read directly
    best = {}
    for lr in ("1e-3", "1e-2"):
      path = root / "scratch/tune" / f"optim.lr-{lr}" / point / "seed-0" / "best.json"
      best[lr] = json.loads(path.read_text())["value"]
    mine = [r for r in rows if r["mixer"] == mixer]
    for r in mine:
      assert float(r["validation_mean"]) == pytest.approx(best[r["optim.lr"]], abs=1e-6)
    selected = [r for r in mine if r["selected"] == "True"]
    assert len(selected) == 1
    assert best[selected[0]["optim.lr"]] == max(best.values())
    assert selected[0]["edge"] == "optim.lr"  # a 2-point grid: always on its edge
    s = summary[mixer]
    assert s["optim.lr"] == selected[0]["optim.lr"]
    assert s["final_seeds"] == "1 2" and s["tuning_seeds"] == "0"
    assert not set(s["final_seeds"].split()) & set(s["tuning_seeds"].split())
    tests = []
    for seed in (1, 2):
      wd = root / "scratch/final" / f"optim.lr-{s['optim.lr']}" / point / f"seed-{seed}"
      config = json.loads((wd / "config.json").read_text())
      assert config["seed"] == seed and config["optim"]["lr"] == float(s["optim.lr"])
      step = json.loads((wd / "best.json").read_text())["step"]
      ev = json.loads((wd / f"eval_test_{step}.json").read_text())
      assert ev["step"] == step and ev["split"] == "test"
      tests.append(ev["metrics"]["accuracy"])
    assert float(s["test_accuracy_mean"]) == pytest.approx(np.mean(tests), abs=1e-5)
  text = (root / "protocol.md").read_text()
  assert "- commit: " in text and "-core" in text and "load average" in text
  assert "fnetlab sweep" in text and "fourier" in text

  # resumable: a second run trains nothing and selects the same
  before = {p: os.path.getmtime(p) for p in root.rglob("results.json")}
  assert sweep.main(argv) == 0
  out = capsys.readouterr().out
  assert out.count("done already; skipped") == 8
  assert {p: os.path.getmtime(p) for p in root.rglob("results.json")} == before
  assert sweep.main([*argv, "--list"]) == 0
  listed = capsys.readouterr().out
  assert "<selected>" not in listed
  assert f"--config.optim.lr={summary['fourier']['optim.lr']}" in listed


# ----------------------------------------------------------------------------- SPT


def test_spt_budgets_add_up_and_the_fine_tune_starts_from_the_best_pretraining():
  p = protocol.Protocol(
    config=f"{DIGITS}:steps=8",
    sweep="mixers",
    root="r",
    tune={"optim.lr": ["1e-3"]},
    seeds=[0],
    final_seeds=[1],
    spt=True,
    spt_share=0.25,
    only={0},
    extra=dict(TINY_KEYS),
    points_of=sweep.points,
    name_of=sweep.point_name,
  )
  (q,) = protocol.points(p)
  runs = protocol.trial_runs(p, None, q, 8, {"optim.lr": "1e-3"}, 0, "tune")
  (scratch,) = runs["scratch"]
  pre, ft = runs["spt"]
  assert scratch[3]["train.steps"] == 8
  assert pre[3]["train.steps"] + ft[3]["train.steps"] == 8 and pre[3]["train.steps"] == 2
  assert ft[3]["init_from"] == f"{pre[1]}@best"
  assert pre[2].endswith("configs/spt.py:" + p.config)


@pytest.mark.slow
def test_spt_pretraining_reads_only_training_inputs_and_seeds_the_fine_tune(tmp_path, monkeypatch):
  from fnetlab.data import digits
  from fnetlab.tasks import spt
  from fnetlab.train.trainer import Trainer, train_and_evaluate

  overrides = {**TINY_KEYS, **proto.step_overrides(config_lib.load(f"{DIGITS}:steps=4"), 4)}
  pre_cfg = config_lib.load(f"{SPT}:{DIGITS}:steps=4", overrides)
  assert pre_cfg.task == "spt" and pre_cfg.spt.mask_rate == 0.5  # images: 50%
  assert pre_cfg.train.best_metric == "loss" and pre_cfg.train.best_mode == "min"

  fed = []  # (source, indices) of every read the pretraining makes
  original = spt.InputsOnly.batch

  def recording(self, indices):
    rows = original(self, indices)
    fed.append((self.source, np.asarray(indices), rows))
    assert set(rows) <= set(spt.INPUT_KEYS)  # no labels
    return rows

  monkeypatch.setattr(spt.InputsOnly, "batch", recording)
  pre_wd = str(tmp_path / "pre")
  train_and_evaluate(pre_cfg, pre_wd)
  monkeypatch.setattr(spt.InputsOnly, "batch", original)

  # the oracle: the digits arrays and their split indices into the 1,797 images
  pixels, labels = digits.load_arrays()
  split = digits.split_indices(labels, 0)
  ids = digits.encode(pixels)
  task_splits = digits.splits(0)
  train_reads = [(i, r) for s, i, r in fed if len(s) == len(split["train"])]
  val_reads = [(i, r) for s, i, r in fed if len(s) == len(split["validation"])]
  assert len(train_reads) + len(val_reads) == len(fed) and len(train_reads) >= 4
  assert "test" not in Trainer(pre_cfg).task.splits
  assert all(s is not task_splits["test"] for s, _, _ in fed)
  for idx, rows in train_reads:  # training reads: images of the train split, by dataset index
    assert idx.max() < len(split["train"])
    np.testing.assert_array_equal(rows["inputs"], ids[split["train"][idx]])
    assert not set(split["train"][idx]) & set(split["test"])
  for idx, rows in val_reads:  # evaluation reads: the validation split's images
    np.testing.assert_array_equal(rows["inputs"], ids[split["validation"][idx]])

  # the fine-tune's initial backbone is the pretraining's best checkpoint
  ft_cfg = config_lib.load(f"{DIGITS}:steps=4", {**overrides, "init_from": f"{pre_wd}@best"})
  best_params, best_step = checkpoints.load_params(pre_wd, "best")
  assert best_step == json.loads(open(os.path.join(pre_wd, "best.json")).read())["step"]
  state = Trainer(ft_cfg).init_state()
  flat_ft = dict(jax.tree_util.tree_flatten_with_path(state["params"])[0])
  flat_pre = {
    jax.tree_util.keystr(k): v for k, v in jax.tree_util.tree_flatten_with_path(best_params)[0]
  }
  backbone = [k for k in flat_ft if "backbone" in jax.tree_util.keystr(k)]
  assert backbone
  for k in backbone:
    name = jax.tree_util.keystr(k)
    src = np.asarray(flat_pre[name])
    if name.endswith("['embedding']") and "word" in name:
      assert src.shape[0] == flat_ft[k].shape[0] + 1  # [MASK] is the pretraining's extra id
      src = src[: flat_ft[k].shape[0]]
    np.testing.assert_array_equal(np.asarray(flat_ft[k]), src)
  scratch = Trainer(config_lib.load(f"{DIGITS}:steps=4", overrides)).init_state()
  flat_scratch = dict(jax.tree_util.tree_flatten_with_path(scratch["params"])[0])
  word = next(k for k in backbone if "word" in jax.tree_util.keystr(k))
  assert not np.allclose(np.asarray(flat_ft[word]), np.asarray(flat_scratch[word]))
  head = [k for k in flat_ft if "backbone" not in jax.tree_util.keystr(k)]
  for k in head:  # the classifier head is not pretrained: it starts as from scratch
    np.testing.assert_array_equal(np.asarray(flat_ft[k]), np.asarray(flat_scratch[k]))


@pytest.mark.slow
def test_flop_budgets_give_a_cheaper_mixer_more_steps_and_are_measured_once(tmp_path, monkeypatch):
  from fnetlab.bench import budgets

  p = protocol.Protocol(
    config=f"{DIGITS}:steps=8",
    sweep="mixers",
    root=str(tmp_path),
    tune={"optim.lr": ["1e-3"]},
    seeds=[0],
    final_seeds=[1],
    budgets=proto.parse_budgets("1e10flops"),
    only={3, 6},  # ff_only, attention
    extra=dict(TINY_KEYS),
    points_of=sweep.points,
    name_of=sweep.point_name,
  )
  pts = protocol.points(p)
  steps = protocol.resolve_steps(p, pts, write=True)
  saved = json.loads((tmp_path / "budgets.json").read_text())
  by_mixer = {}
  for q in pts:
    flops = saved[q.name]["flops_per_step"]
    n = steps[("flops-1e+10", q.name)]
    assert n * flops <= 1e10 < (n + 1) * flops  # the whole steps the budget buys
    by_mixer[q.label] = (n, flops)
  assert by_mixer["ff_only"][1] < by_mixer["attention"][1]
  assert by_mixer["ff_only"][0] > by_mixer["attention"][0]

  def never(*a, **k):
    raise AssertionError("measured again")

  monkeypatch.setattr(budgets, "measure", never)
  assert protocol.resolve_steps(p, pts, write=True) == steps  # read back from budgets.json


def test_make_run_trains_each_mixer_at_its_tuned_rate_and_says_so():
  tuned = os.path.join(ROOT, "configs/suite/digits_tuned.py")
  module = config_lib.load_module(tuned)
  grid = sweep.points(tuned, "mixers")
  plain = sweep.points(DIGITS, "mixers")
  assert [{k: v for k, v in p.items() if k != "optim.lr"} for p in grid] == plain
  assert {p["model.mixer"]: p["optim.lr"] for p in grid} == module.RATES
  assert len(set(module.RATES.values())) > 1  # not one shared rate
  spec = importlib.util.spec_from_file_location(
    "quickstart", os.path.join(ROOT, "experiments/quickstart.py")
  )
  quickstart = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(quickstart)
  text = quickstart.rates_text(200)
  for mixer, rate in module.RATES.items():
    assert f"{mixer:<10} {rate:g}" in text
  assert "at 200 steps" in text and "note" not in text
  assert "tuned at 200 steps" in quickstart.rates_text(400)


def test_make_run_rates_are_the_committed_protocol_selection():
  """configs/suite/digits_tuned.py's rates are the selected steps-200 scratch rows of the
  committed protocol report's tuning.csv, and every one has all its trials."""
  module = config_lib.load_module(os.path.join(ROOT, "configs/suite/digits_tuned.py"))
  rows = read_csv(os.path.join(ROOT, "reports/protocol_digits/tuning.csv"))
  mine = [r for r in rows if r["budget"] == f"steps-{module.STEPS}" and r["variant"] == "scratch"]
  assert {r["mixer"] for r in mine} == set(module.RATES)
  assert all(r["trials"] == r["of_trials"] for r in mine)
  picked = {r["mixer"]: float(r["optim.lr"]) for r in mine if r["selected"] in ("True", True)}
  assert picked == module.RATES
  assert not any(r["edge"] for r in mine if r["selected"] in ("True", True))
