"""Character-level language modelling (the WorkerTransformer seed 003's TinyShakespeare task).

The model is `fnetlab.models.Decoder` with a causal mixer. Its inputs are windows of the
corpus from `fnetlab.data.lm`: random training windows drawn as a pure function of
(seed, step), and the validation (and tfds test) split cut into consecutive windows so that
every character after the first is predicted exactly once.

One loss for every model: cross-entropy in nats over all positions (`loss`, also as
`bits_per_char`). The seed scored its WorkerTransformer on worker positions only (256 of
1024 tokens) against a baseline scored on all positions; with mixer=worker that number is
logged as the extra, clearly separate `worker_positions_loss`, never as the loss.
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np
import optax

from fnetlab import mixers
from fnetlab.common.errors import UserError
from fnetlab.data import lm as data
from fnetlab.models import Decoder, check_causal, spec_from_config
from fnetlab.tasks.base import Task


def causal_spec(model_cfg, **overrides):
  """The ModelSpec of a language model: UserError unless every layer's mixer can run causally
  with the configured options."""
  spec = spec_from_config(model_cfg, **overrides)
  try:
    check_causal(spec)
  except ValueError as e:
    raise UserError(f"config key {e} (the language model needs a causal mixer)") from None
  return spec


def worker_interval(spec) -> int | None:
  """The worker interval k when the model is a WorkerTransformer, else None."""
  if spec.mixer != "worker":
    return None
  return int(mixers.option_value(spec.mixer, spec.mixer_options, "interval"))


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
    return jnp.asarray(mixers.worker_positions(n, interval))

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


def build(config) -> Task:
  block = int(config.data.block_size)
  if block < 1:
    raise UserError(f"config key data.block_size={block} must be >= 1")
  spec = causal_spec(config.model)
  if spec.resolved_positions == "learned" and spec.max_len < block:
    raise UserError(
      f"config key model.max_len={config.model.max_len} is shorter than data.block_size={block}"
    )
  splits, vocab, chars = data.lm_splits(config.data, config.seed)
  spec = dataclasses.replace(spec, vocab_size=vocab.size)
  loss_fn, predict_fn, metrics_fn = make_fns(worker_interval(spec))
  return Task(
    name="lm",
    model=Decoder(spec),
    splits=splits,
    loss_fn=loss_fn,
    predict_fn=predict_fn,
    metrics_fn=metrics_fn,
    info={
      "vocab": vocab.chars,
      "encoding": vocab.encoding,
      "vocab_size": vocab.size,
      "chars": chars,
    },
  )
