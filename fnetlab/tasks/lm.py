"""Character-level language modelling (the WorkerTransformer seed 003's TinyShakespeare task).

The model is `fnetlab.models.Decoder` with a causal mixer. Training items are random windows
of block_size + 1 characters; item i starts at a position drawn from a generator seeded by
(seed, i), so the training data is a pure function of (seed, step) like every other task.
Validation (and tfds test) is the whole split cut into consecutive non-overlapping windows;
the last, partial window is padded and its padding gets token weight 0, so every character
of the split after the first is predicted exactly once.

One loss for every model: cross-entropy in nats over all positions (`loss`, also as
`bits_per_char`). The seed scored its WorkerTransformer on worker positions only (256 of
1024 tokens) against a baseline scored on all positions; with mixer=worker that number is
logged as the extra, clearly separate `worker_positions_loss`, never as the loss.

Departures from the seed: the training windows come from a pool of `data.train_windows`
distinct random starts (default 16 nominal epochs' worth) rather than a fresh draw per
step, which the step-indexed data order of the training loop requires; the pool is large
enough that a run at the reference settings never repeats a window.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import optax

from fnetlab import mixers
from fnetlab.data import shakespeare
from fnetlab.data.errors import DataError
from fnetlab.errors import UserError
from fnetlab.mixers.worker import WorkerBlock, worker_positions
from fnetlab.models import Decoder, layer_mixers, spec_from_config
from fnetlab.tasks.base import ArraySource, Task

WINDOW_POOL_EPOCHS = 16


class RandomWindows:
  """Training split: item i is the window ids[s : s + block + 1], s ~ U[0, n - block - 1]
  drawn from a generator seeded by (seed, i)."""

  def __init__(self, ids: np.ndarray, block_size: int, seed: int, num_windows: int = 0):
    if len(ids) < block_size + 2:
      raise UserError(
        f"training split has {len(ids)} tokens; data.block_size={block_size} needs at least "
        f"{block_size + 2}"
      )
    self.ids, self.block, self.seed = ids, block_size, seed
    self._n = num_windows or WINDOW_POOL_EPOCHS * max(1, len(ids) // block_size)

  def __len__(self) -> int:
    return self._n

  def starts(self, indices) -> np.ndarray:
    high = len(self.ids) - self.block  # exclusive: the window needs block + 1 tokens
    return np.array(
      [np.random.default_rng([self.seed, int(i)]).integers(0, high) for i in indices], np.int64
    )

  def batch(self, indices) -> dict[str, np.ndarray]:
    starts = self.starts(indices)
    windows = self.ids[starts[:, None] + np.arange(self.block + 1)[None, :]]
    return {
      "inputs": windows[:, :-1],
      "targets": windows[:, 1:],
      "token_weight": np.ones(windows[:, 1:].shape, np.float32),
    }


def sequential_windows(ids: np.ndarray, block_size: int) -> ArraySource:
  """The whole split as consecutive non-overlapping windows; padding has token_weight 0."""
  if len(ids) < 2:
    raise UserError(f"evaluation split has {len(ids)} tokens; it needs at least 2")
  num_targets = len(ids) - 1
  count = -(-num_targets // block_size)
  padded = np.zeros(count * block_size + 1, np.int32)
  padded[: len(ids)] = ids
  grid = np.arange(count)[:, None] * block_size + np.arange(block_size)[None, :]
  return ArraySource(
    {
      "inputs": padded[grid],
      "targets": padded[grid + 1],
      "token_weight": (grid < num_targets).astype(np.float32),
    }
  )


def check_causal(model_cfg) -> None:
  """UserError unless every layer's mixer can run causally with the configured options."""
  options = dict(model_cfg.mixer_options or {})
  for name in sorted(set(layer_mixers(spec_from_config(model_cfg)))):
    if name not in mixers.causal_names():
      raise UserError(
        f"config key model.mixer={name!r}: the language model needs a causal mixer; "
        f"causal mixers: {', '.join(mixers.causal_names())}"
      )
    try:
      mixers.get(name, causal=True, **(options if name == model_cfg.mixer else {}))
    except ValueError as e:
      raise UserError(f"config key model.mixer_options: {e}") from None


def worker_interval(spec) -> int | None:
  """The worker interval k when the model is a WorkerTransformer, else None."""
  if spec.mixer != "worker":
    return None
  return int(dict(spec.mixer_options).get("interval", WorkerBlock.interval))


def token_losses(logits, batch):
  """Per-token cross-entropy [b, n] (nats) and the per-token weight (padding and rows)."""
  ce = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), batch["targets"])
  weight = batch.get("token_weight", jnp.ones(ce.shape, jnp.float32))
  if "weight" in batch:
    weight = weight * batch["weight"][:, None]
  return ce, weight


def make_fns(interval: int | None):
  """loss_fn, predict_fn and metrics_fn; `interval` adds the worker-positions extra metric."""

  def positions(n):
    return jnp.asarray(worker_positions(n, interval))

  def loss_fn(logits, batch):
    ce, w = token_losses(logits, batch)
    loss = jnp.sum(ce * w) / jnp.maximum(jnp.sum(w), 1.0)
    metrics = {"bits_per_char": loss / math.log(2)}
    if interval is not None:
      pos = positions(ce.shape[1])
      cw, ww = ce[:, pos], w[:, pos]
      metrics["worker_positions_loss"] = jnp.sum(cw * ww) / jnp.maximum(jnp.sum(ww), 1.0)
    return loss, metrics

  def predict_fn(logits, batch):
    ce, w = token_losses(logits, batch)
    out = {"ce_sum": jnp.sum(ce * w, axis=1), "tokens": jnp.sum(w, axis=1)}
    if interval is not None:
      pos = positions(ce.shape[1])
      out["worker_ce_sum"] = jnp.sum(ce[:, pos] * w[:, pos], axis=1)
      out["worker_tokens"] = jnp.sum(w[:, pos], axis=1)
    return out

  def metrics_fn(arrays):
    tokens = float(np.sum(arrays["tokens"], dtype=np.float64))
    loss = float(np.sum(arrays["ce_sum"], dtype=np.float64)) / max(tokens, 1.0)
    out = {"loss": loss, "bits_per_char": loss / math.log(2), "tokens": tokens}
    if "worker_ce_sum" in arrays:
      wt = float(np.sum(arrays["worker_tokens"], dtype=np.float64))
      out["worker_positions_loss"] = float(np.sum(arrays["worker_ce_sum"], dtype=np.float64)) / max(
        wt, 1.0
      )
      out["worker_tokens"] = wt
    return out

  return loss_fn, predict_fn, metrics_fn


def load_texts(data_cfg) -> dict[str, str]:
  """The splits as strings, rebuilt deterministically from a `data` config (dict or ConfigDict)."""
  get = data_cfg.get
  try:
    return shakespeare.load_texts(
      source=get("source", "package"),
      data_dir=get("dir", "") or "",
      val_fraction=float(get("val_fraction", 0.1)),
      max_chars=int(get("max_chars", 0) or 0),
      pattern=get("pattern", shakespeare.PATTERN),
    )
  except DataError as e:
    raise UserError(str(e)) from None


def load_vocab(data_cfg, texts: dict[str, str] | None = None) -> shakespeare.Vocab:
  """The vocabulary a run with this `data` config used (the sampler rebuilds it this way)."""
  texts = load_texts(data_cfg) if texts is None else texts
  try:
    return shakespeare.Vocab.from_texts(data_cfg.get("encoding", "char"), texts.values())
  except DataError as e:
    raise UserError(str(e)) from None


def build(config) -> Task:
  block = int(config.data.block_size)
  if block < 1:
    raise UserError(f"config key data.block_size={block} must be >= 1")
  if config.model.positions == "learned" and int(config.model.max_len) < block:
    raise UserError(
      f"config key model.max_len={config.model.max_len} is shorter than data.block_size={block}"
    )
  check_causal(config.model)
  texts = load_texts(config.data)
  vocab = load_vocab(config.data, texts)
  ids = {k: vocab.encode(v, what=f"split {k}") for k, v in texts.items()}
  spec = spec_from_config(config.model, vocab_size=vocab.size)
  splits = {
    "train": RandomWindows(
      ids["train"], block, config.seed, int(config.data.get("train_windows", 0) or 0)
    ),
    "validation": sequential_windows(ids["validation"], block),
  }
  if "test" in ids:
    splits["test"] = sequential_windows(ids["test"], block)
  loss_fn, predict_fn, metrics_fn = make_fns(worker_interval(spec))
  return Task(
    name="lm",
    model=Decoder(spec),
    splits=splits,
    loss_fn=loss_fn,
    predict_fn=predict_fn,
    metrics_fn=metrics_fn,
    best_metric="loss",
    info={
      "vocab": vocab.chars,
      "encoding": vocab.encoding,
      "vocab_size": vocab.size,
      "chars": {k: int(len(v)) for k, v in ids.items()},
    },
  )
