"""GLUE fine-tuning (Wang et al. 2018) as FNet does it (google-research f_net `run_classifier`).

Data (fnetlab.data.glue): tfds `glue/<task>` read with `tfds.data_source` (array_record
files; no TensorFlow at read time). The data is never downloaded here: prepare it once on a
machine with internet and TensorFlow (`pip install -e '.[tf]'`), then point `data.dir` at it:

  tfds build glue/sst2 --file_format=array_record --data_dir=DIR

Inputs are `[CLS] a [SEP] b [SEP]` with type ids 0/1, padded to `data.max_len` (see
fnetlab.data.tokenizer.pack_pair for the truncation rule). The tokenizer is the SentencePiece
model in `data.sentencepiece`, else the byte-level fallback. The encoder and tokenizer are
set up by fnetlab.tasks.encoder_setup, which pretraining shares (including `init_from`).

Metrics, computed on the host with scikit-learn / scipy (as GLUE defines them):
- CoLA: Matthews correlation `mcc` (and accuracy).
- MRPC, QQP: `f1` (positive class 1), `accuracy` and their mean `f1_accuracy_mean`.
- STS-B: regression (one output, MSE loss); `pearson` and `spearman`.
- MNLI: `validation` is validation_matched; validation_mismatched is the extra split
  `validation_mismatched` (`fnetlab eval --workdir=W --split=validation_mismatched`).
- Others: accuracy.
- The offline tasks (`OFFLINE`, read from files by fnetlab.data.glue.OFFLINE): `snli` (3-way,
  accuracy, as MNLI), `sentiment` (binary, accuracy, as SST-2), `sentiment_score`
  (regression, Pearson / Spearman, as STS-B), `trec` (6-way, accuracy). Their files hold
  test labels, so these tasks also report the test split.
Every task also reports its mean `loss` and `examples`, the count scored. `train.best_metric` must be one of the task's metrics.

Departures from f_net:
- No `test` split for GLUE itself: its test labels are hidden (-1), so the loop's final test
  evaluation is skipped and the validation numbers are the results (as in the FNet paper's Table 3).
- MNLI's pair is (premise, hypothesis), BERT's and HF run_glue's order; f_net feeds
  (hypothesis, premise).
- Truncation cuts the longer segment first (BERT), not the concatenation's tail (f_net).
- A correlation that is undefined (constant predictions, early in training) is reported as
  0.0 rather than NaN, so best-checkpoint tracking keeps working.
"""

from __future__ import annotations

import logging
import warnings

import jax.numpy as jnp
import numpy as np
from sklearn import metrics as skm

from fnetlab.common.errors import UserError
from fnetlab.data import glue as data
from fnetlab.data.glue_tasks import GLUE, OFFLINE, PAIR, TASKS, GlueTask  # noqa: F401
from fnetlab.models import Classifier
from fnetlab.tasks.base import Task, classification_loss, classification_predict, weighted_mean
from fnetlab.tasks.encoder_setup import check_length, encoder_setup


def metric_names(task: str) -> tuple[str, ...]:
  if TASKS[task].num_classes == 1:
    return ("pearson", "spearman", "loss")
  extra = {"cola": ("mcc",), "mrpc": ("f1", "f1_accuracy_mean"), "qqp": ("f1", "f1_accuracy_mean")}
  return ("accuracy", *extra.get(task, ()), "loss")


# ----------------------------------------------------------------------------- metrics


def _finite(x) -> float:
  x = float(x)
  return x if np.isfinite(x) else 0.0


def classification_metrics(task: str):
  """Host metrics over a whole split: arrays `pred`, `label`, `loss` (per example)."""

  def fn(arrays):
    pred, label = np.asarray(arrays["pred"]), np.asarray(arrays["label"])
    out = {
      "accuracy": float(skm.accuracy_score(label, pred)),
      "loss": float(np.mean(arrays["loss"])),
      "examples": float(len(label)),
    }
    if task == "cola":
      out["mcc"] = _finite(skm.matthews_corrcoef(label, pred))
    if task in ("mrpc", "qqp"):
      out["f1"] = float(skm.f1_score(label, pred, pos_label=1, zero_division=0.0))
      out["f1_accuracy_mean"] = (out["f1"] + out["accuracy"]) / 2
    return out

  return fn


def regression_metrics(arrays):
  from scipy import stats

  pred, label = np.asarray(arrays["pred"], np.float64), np.asarray(arrays["label"], np.float64)
  with warnings.catch_warnings():  # constant predictions: undefined correlation -> 0.0
    warnings.simplefilter("ignore")
    pearson = stats.pearsonr(pred, label)[0] if len(pred) > 1 else np.nan
    spearman = stats.spearmanr(pred, label)[0] if len(pred) > 1 else np.nan
  return {
    "pearson": _finite(pearson),
    "spearman": _finite(spearman),
    "loss": float(np.mean(arrays["loss"])),
    "examples": float(len(label)),
  }


def regression_loss(logits, batch):
  err = (logits[..., 0].astype(jnp.float32) - batch["label"]) ** 2
  weight = batch.get("weight", jnp.ones(err.shape, jnp.float32))
  return weighted_mean(err, weight), {"mse": weighted_mean(err, weight)}


def regression_predict(logits, batch):
  pred = logits[..., 0].astype(jnp.float32)
  return {"pred": pred, "label": batch["label"], "loss": (pred - batch["label"]) ** 2}


# ----------------------------------------------------------------------------- task


def build(config) -> Task:
  task = config.data.task
  if task not in TASKS:
    raise UserError(f"config key data.task={task!r}; valid tasks: {', '.join(TASKS)}")
  spec = TASKS[task]
  names = metric_names(task)
  if config.train.best_metric not in names:
    raise UserError(
      f"config key train.best_metric={config.train.best_metric!r} is not a metric of "
      f"glue/{task} (its metrics: {', '.join(names)})"
    )
  tok, model_spec = encoder_setup(config, num_classes=spec.num_classes)
  max_len = check_length(config, model_spec)
  regression = spec.num_classes == 1
  name = task if spec.offline else f"glue/{task}"
  if spec.offline:
    splits = data.offline_splits(task, spec.keys, tok, max_len, regression, config.data)
  else:
    splits = data.glue_splits(task, spec.splits, spec.keys, tok, max_len, regression, config.data)
  for split, src in splits.items():
    if len(src) == 0:
      raise UserError(f"{name}: the {split} split is empty")
  t, n = config.train, len(splits["train"])
  size = int(config.data.get("train_size", 0) or 0)
  if (
    size
    and n != size
    and t.get("epochs", 0) > 0
    and t.steps == int(t.epochs * size // t.batch_size)
  ):
    logging.warning(
      "%s: train.steps=%d was derived from data.train_size=%d, but the train split has "
      "%d examples; pass --config.data.train_size=%d for %s epochs",
      name,
      t.steps,
      size,
      n,
      n,
      t.epochs,
    )
  return Task(
    name=name,
    model=Classifier(model_spec),
    splits=splits,
    loss_fn=regression_loss if regression else classification_loss,
    predict_fn=regression_predict if regression else classification_predict,
    metrics_fn=regression_metrics if regression else classification_metrics(task),
    info={"tokenizer": tok.name, "vocab_size": tok.vocab_size, "max_len": max_len},
  )
