"""GLUE fine-tuning (Wang et al. 2018) as FNet does it (google-research f_net `run_classifier`).

Data: tfds `glue/<task>` read with `tfds.data_source` (array_record files; no TensorFlow at
read time). The data is never downloaded here: prepare it once on a machine with internet and
TensorFlow (`pip install -e '.[tf]'`), then point `data.dir` at it:

  tfds build glue/sst2 --file_format=array_record --data_dir=DIR

Inputs are `[CLS] a [SEP] b [SEP]` with type ids 0/1, padded to `data.max_len` (see
fnetlab.data.tokenizer.pack_pair for the truncation rule). The tokenizer is the SentencePiece
model in `data.sentencepiece`, else the byte-level fallback.

Metrics, computed on the host with scikit-learn / scipy (as GLUE defines them):
- CoLA: Matthews correlation `mcc` (and accuracy).
- MRPC, QQP: `f1` (positive class 1), `accuracy` and their mean `f1_accuracy_mean`.
- STS-B: regression (one output, MSE loss); `pearson` and `spearman`.
- MNLI: `validation` is validation_matched; validation_mismatched is the extra split
  `validation_mismatched` (`fnetlab eval --workdir=W --split=validation_mismatched`).
- Others: accuracy.
Every task also reports its mean `loss`. `train.best_metric` must be one of the task's metrics.

Departures from f_net:
- No `test` split: GLUE's test labels are hidden (-1), so the loop's final test evaluation
  is skipped and the validation numbers are the results (as in the FNet paper's Table 3).
- MNLI's pair is (premise, hypothesis), BERT's and HF run_glue's order; f_net feeds
  (hypothesis, premise).
- Truncation cuts the longer segment first (BERT), not the concatenation's tail (f_net).
- A correlation that is undefined (constant predictions, early in training) is reported as
  0.0 rather than NaN, so best-checkpoint tracking keeps working.

Continuation (`init_from`): with `init_inherit` (the default) the encoder architecture is
taken from the `init_from` workdir's config.json (written by `fnetlab train` or `fnetlab
import-hf`) and written back into `config.model`, so the fine-tuning workdir's config.json
records the model that was trained; only the head fields (`dropout_rate`, `dtype`,
`head_hidden`, `num_classes`) stay ours. An empty `data.sentencepiece` likewise inherits the
tokenizer: the pretraining run's, or `spiece.model` in the directory `import-hf` read.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings

import jax.numpy as jnp
import numpy as np
from sklearn import metrics as skm

from fnetlab.data import tokenizer as tokenization
from fnetlab.errors import UserError
from fnetlab.models import Classifier, ModelSpec, spec_from_config
from fnetlab.tasks.base import Task, classification_loss, classification_predict, weighted_mean


@dataclasses.dataclass(frozen=True)
class GlueTask:
  keys: tuple[str, ...]  # text features: one sentence or a pair
  num_classes: int  # 1: regression
  train_size: int  # tfds glue 2.0.0 train split; configs/glue.py derives steps from it
  best_metric: str
  splits: tuple[tuple[str, str], ...] = (("validation", "validation"),)  # ours -> tfds


PAIR = ("sentence1", "sentence2")
GLUE = {
  "cola": GlueTask(("sentence",), 2, 8551, "mcc"),
  "sst2": GlueTask(("sentence",), 2, 67349, "accuracy"),
  "mrpc": GlueTask(PAIR, 2, 3668, "f1_accuracy_mean"),
  "qqp": GlueTask(("question1", "question2"), 2, 363846, "f1_accuracy_mean"),
  "stsb": GlueTask(PAIR, 1, 5749, "spearman"),
  "mnli": GlueTask(
    ("premise", "hypothesis"),
    3,
    392702,
    "accuracy",
    (("validation", "validation_matched"), ("validation_mismatched", "validation_mismatched")),
  ),
  "qnli": GlueTask(("question", "sentence"), 2, 104743, "accuracy"),
  "rte": GlueTask(PAIR, 2, 2490, "accuracy"),
  "wnli": GlueTask(PAIR, 2, 635, "accuracy"),
}
HEAD_FIELDS = ("dropout_rate", "dtype", "head_hidden", "num_classes")


def metric_names(task: str) -> tuple[str, ...]:
  if task == "stsb":
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
  }


def regression_loss(logits, batch):
  err = (logits[..., 0].astype(jnp.float32) - batch["label"]) ** 2
  weight = batch.get("weight", jnp.ones(err.shape, jnp.float32))
  return weighted_mean(err, weight), {"mse": weighted_mean(err, weight)}


def regression_predict(logits, batch):
  pred = logits[..., 0].astype(jnp.float32)
  return {"pred": pred, "label": batch["label"], "loss": (pred - batch["label"]) ** 2}


# ----------------------------------------------------------------------------- data


class GlueSource:
  """A GLUE split tokenised on the fly: `batch(indices)` reads and packs those examples."""

  def __init__(self, examples, keys, tok, max_len: int, regression: bool):
    self.examples, self.keys, self.tok = examples, keys, tok
    self.max_len, self.regression = max_len, regression

  def __len__(self) -> int:
    return len(self.examples)

  def batch(self, indices) -> dict[str, np.ndarray]:
    rows = [self.examples[int(i)] for i in indices]
    segments = [self.tok.encode_batch([_text(r[k]) for r in rows]) for k in self.keys]
    packed = [
      tokenization.pack_pair(
        self.tok, segments[0][j], segments[1][j] if len(segments) > 1 else None, self.max_len
      )
      for j in range(len(rows))
    ]
    ids = np.stack([p[0] for p in packed])
    labels = np.asarray([r["label"] for r in rows])
    return {
      "inputs": ids,
      "type_ids": np.stack([p[1] for p in packed]),
      "mask": ids != self.tok.pad_id,
      "label": labels.astype(np.float32 if self.regression else np.int32),
    }


def _text(value) -> str:
  if isinstance(value, bytes):
    return value.decode("utf-8")
  return str(value.item() if isinstance(value, np.ndarray) else value)


def load_splits(task: str, data_cfg) -> dict:
  """Our split name -> random-access examples, from tfds `glue/<task>` (never downloads).

  `data.mock_examples > 0` reads `tfds.testing.mock_data` random examples instead: smoke
  tests without GLUE (random text, random labels)."""
  import tensorflow_datasets as tfds
  import tensorflow_datasets.text.glue  # noqa: F401  registers glue/* (REFERENCE.md)

  name, spec = f"glue/{task}", GLUE[task]
  wanted = (("train", "train"), *spec.splits)
  if data_cfg.get("mock_examples", 0) > 0:
    with tfds.testing.mock_data(num_examples=int(data_cfg.mock_examples)):
      out = {}
      for ours, theirs in wanted:
        src = tfds.data_source(name, split=theirs)
        out[ours] = [src[i] for i in range(len(src))]
      return out
  out = {}
  for ours, theirs in wanted:
    try:
      out[ours] = tfds.data_source(
        name, split=theirs, data_dir=data_cfg.dir or None, download=False
      )
    except Exception as e:  # tfds raises several types for absent / non-array_record data
      raise UserError(not_readable(tfds, name, theirs, data_cfg.dir, e)) from None
  return out


def not_readable(tfds, name: str, split: str, data_dir: str, error: Exception) -> str:
  """The one-line message for a tfds dataset that `data_source` cannot open."""
  where = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
  try:
    prepared = tfds.builder(name, data_dir=data_dir or None).is_prepared()
  except Exception:  # an unknown or broken builder reads as not prepared
    prepared = False
  if prepared:
    first = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
    why = f"is prepared under {where} but not readable ({first}); it must be array_record"
  else:
    why = f"is not prepared under {where}"
  return (
    f"tfds dataset {name} split {split!r} {why}: prepare it once on a machine with internet "
    f"and TensorFlow with `tfds build {name} --file_format=array_record --data_dir=DIR`, "
    "then pass --config.data.dir=DIR"
  )


# ----------------------------------------------------------------------------- model


def _init_config(config) -> dict | None:
  """The init_from workdir's config.json, or None (no init_from, or it is gone: the
  architecture written back into config.model at training time then stands)."""
  if not config.get("init_from"):
    return None
  from fnetlab.train import checkpoints

  try:
    return checkpoints.read_config(config.init_from)
  except UserError:
    return None


def _inherited_tokenizer(init: dict, init_from: str) -> tuple[str, bool | None]:
  """(sentencepiece path, lower_case) of the init_from workdir; path '' = byte-level."""
  if "source" in init:  # written by `fnetlab import-hf`
    hf_dir = init["source"].get("hf_dir", "")
    path = os.path.join(hf_dir, "spiece.model")
    if os.path.isfile(path):
      return path, None
    raise UserError(
      f"init_from {init_from}: its Hugging Face directory {hf_dir} has no spiece.model "
      "(BERT's WordPiece vocab.txt is not supported); set data.sentencepiece"
    )
  data = init.get("data", {})
  return data.get("sentencepiece", ""), data.get("lower_case")


def spec_dict(spec: ModelSpec) -> dict:
  out = dataclasses.asdict(spec)
  out["mixer_options"] = dict(spec.mixer_options)
  return out


def encoder_setup(config, **overrides) -> tuple[object, ModelSpec]:
  """(tokenizer, ModelSpec) for an encoder task; see the module doc on `init_inherit`.

  The resolved spec is written back into `config.model` (and the inherited tokenizer into
  `config.data`), so the workdir's config.json says what was trained."""
  init = _init_config(config)
  inherit = init is not None and config.get("init_inherit", True)
  data = config.data
  if inherit and not data.sentencepiece:
    path, lower = _inherited_tokenizer(init, config.init_from)
    data.sentencepiece = path
    if lower is not None:
      data.lower_case = lower
  tok = tokenization.from_config(data)
  model = config.model.to_dict()
  if inherit:
    src = init.get("model") or {}
    if not src:
      raise UserError(f"init_from {config.init_from}: its config.json has no model block")
    if "vocab_size" in src and int(src["vocab_size"]) != tok.vocab_size:
      raise UserError(
        f"init_from {config.init_from}: its vocabulary has {src['vocab_size']} ids but the "
        f"tokenizer ({data.sentencepiece or 'byte-level'}) has {tok.vocab_size}; set "
        "data.sentencepiece to the checkpoint's SentencePiece model"
      )
    try:
      arch = spec_dict(spec_from_config({**src, "vocab_size": tok.vocab_size}))
    except ValueError as e:
      raise UserError(f"init_from {config.init_from}/config.json: {e}") from None
    model.update({k: v for k, v in arch.items() if k not in HEAD_FIELDS})
    logging.info("model architecture from init_from %s: %s", config.init_from, arch)
  elif model.get("vocab_size") not in (None, tok.vocab_size):
    raise UserError(
      f"config key model.vocab_size={model['vocab_size']} does not match the tokenizer's "
      f"{tok.vocab_size} ids ({data.sentencepiece or 'byte-level'})"
    )
  model["vocab_size"] = tok.vocab_size
  try:
    spec = spec_from_config(model, **overrides)
  except ValueError as e:
    raise UserError(str(e)) from None
  with config.unlocked():
    for key, value in spec_dict(spec).items():
      config.model[key] = value
  return tok, spec


def check_length(config, spec: ModelSpec) -> int:
  max_len = int(config.data.max_len)
  if spec.positions == "learned" and max_len > spec.max_len:
    raise UserError(
      f"config key data.max_len={max_len} exceeds model.max_len={spec.max_len} "
      "(the learned position table)"
    )
  return max_len


# ----------------------------------------------------------------------------- task


def build(config) -> Task:
  task = config.data.task
  if task not in GLUE:
    raise UserError(f"config key data.task={task!r}; valid GLUE tasks: {', '.join(GLUE)}")
  spec = GLUE[task]
  names = metric_names(task)
  if config.train.best_metric not in names:
    raise UserError(
      f"config key train.best_metric={config.train.best_metric!r} is not a metric of "
      f"glue/{task} (its metrics: {', '.join(names)})"
    )
  tok, model_spec = encoder_setup(config, num_classes=spec.num_classes)
  max_len = check_length(config, model_spec)
  raw = load_splits(task, config.data)
  regression = spec.num_classes == 1
  splits = {k: GlueSource(v, spec.keys, tok, max_len, regression) for k, v in raw.items()}
  for name, src in splits.items():
    if len(src) == 0:
      raise UserError(f"glue/{task}: the {name} split is empty")
  t, n = config.train, len(splits["train"])
  size = int(config.data.get("train_size", 0) or 0)
  if (
    size
    and n != size
    and t.get("epochs", 0) > 0
    and t.steps == int(t.epochs * size // t.batch_size)
  ):
    logging.warning(
      "glue/%s: train.steps=%d was derived from data.train_size=%d, but the train split has "
      "%d examples; pass --config.data.train_size=%d for %s epochs",
      task,
      t.steps,
      size,
      n,
      n,
      t.epochs,
    )
  return Task(
    name=f"glue/{task}",
    model=Classifier(model_spec),
    splits=splits,
    loss_fn=regression_loss if regression else classification_loss,
    predict_fn=regression_predict if regression else classification_predict,
    metrics_fn=regression_metrics if regression else classification_metrics(task),
    best_metric=spec.best_metric,
    info={"tokenizer": tok.name, "vocab_size": tok.vocab_size, "max_len": max_len},
  )
