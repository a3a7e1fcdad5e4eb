"""The bfloat16 train step: the step `fnetlab train` runs, with `model.dtype = "bfloat16"`.

Parameters stay float32 and the compute runs in bfloat16, so against the same model in float32
the logits and gradients must differ (the dtype is really in effect) but only by bfloat16
rounding, the optimiser state must stay float32, and a few steps must fit a fixed batch. Run
on a GPU (experiments/accelerator_check.py) this is where the fused attention kernel meets a
padding mask and the backward pass.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from fnetlab.models import Classifier
from fnetlab.tasks.base import classification_loss
from fnetlab.train.trainer import train_step

BATCH, LENGTH, CLASSES = 8, 32, 4


def rel_err(a, b) -> float:
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def flat(tree) -> np.ndarray:
  return np.concatenate([np.ravel(np.asarray(x, np.float64)) for x in jax.tree.leaves(tree)])


def make_batch(spec, seed=0) -> dict:
  rng = np.random.default_rng(seed)
  ids = rng.integers(1, spec.vocab_size, (BATCH, LENGTH)).astype(np.int32)
  lengths = rng.integers(LENGTH // 2, LENGTH + 1, BATCH)
  mask = np.arange(LENGTH)[None, :] < lengths[:, None]  # padded tails: the mask path runs
  return {
    "inputs": np.where(mask, ids, 0).astype(np.int32),
    "mask": mask,
    "label": rng.integers(0, CLASSES, BATCH).astype(np.int32),
  }


@pytest.mark.parametrize("mixer", ["fourier", "attention", "spectral", "ff_only"])
def test_bf16_train_step_matches_float32_and_fits_a_batch(mixer, tiny_spec, random_init):
  spec32 = tiny_spec(mixer=mixer, num_classes=CLASSES, max_len=LENGTH)
  spec16 = dataclasses.replace(spec32, dtype="bfloat16")
  batch = make_batch(spec32)
  params = random_init(Classifier(spec32), batch, scale=0.1)["params"]

  def loss_and_grads(spec, p):
    def loss(p):
      return classification_loss(Classifier(spec).apply({"params": p}, batch), batch)[0]

    return jax.jit(jax.value_and_grad(loss))(p)

  loss32, grads32 = loss_and_grads(spec32, params)
  loss16, grads16 = loss_and_grads(spec16, params)
  assert all(g.dtype == jnp.float32 for g in jax.tree.leaves(grads16))  # params stay float32
  err_loss = abs(float(loss16) - float(loss32)) / abs(float(loss32))
  err_grad = rel_err(flat(grads16), flat(grads32))
  # bfloat16 keeps 8 mantissa bits (rounding 2^-9 ~ 2e-3 per op). Measured on CPU: gradient
  # error 0.5-1%, loss 1e-4..2e-4. The lower bound shows the compute dtype is in effect; the
  # upper bounds (5x, 10x the measurement) catch a layer computed or cast in the wrong place.
  assert 1e-3 < err_grad < 5e-2, err_grad
  assert err_loss < 2e-3, err_loss

  tx = optax.adam(1e-2)
  step = jax.jit(
    functools.partial(
      train_step,
      model=Classifier(spec16),
      tx=tx,
      schedule=optax.constant_schedule(1e-2),
      loss_fn=classification_loss,
      accum=1,
    ),
    donate_argnums=0,
  )
  state = {
    "step": jnp.asarray(0, jnp.int32),
    "params": params,
    "opt_state": tx.init(params),
    "rng": jax.random.PRNGKey(0),
  }
  losses = []
  for _ in range(30):
    state, metrics = step(state, batch)
    losses.append(float(metrics["train_loss"]))
  assert np.all(np.isfinite(losses))
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(state["params"]))
  assert all(
    x.dtype == jnp.float32 for x in jax.tree.leaves(state["opt_state"]) if x.dtype != jnp.int32
  )
  assert losses[0] == pytest.approx(float(loss16), rel=1e-2)  # the step's loss is the model's
  assert losses[-1] < 0.5 * losses[0], losses
