"""Attention kernels against a float64 numpy oracle; the per-platform selection rule; memory.

Every kernel that runs on this backend is checked for values and gradients (q, k, v) with
padding, causal, padding + causal and a general mask, and with probability dropout for the
kernels that fuse it. Comparisons run at full float32 matmul precision so they also hold on a
GPU, whose default float32 matmul is TF32.
"""

from __future__ import annotations

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fnetlab.mixers.attention import Attention
from fnetlab.nn import attention as ak
from fnetlab.nn.attention import fused as fused_kernels

B, N, H, D = 2, 40, 3, 8
BLOCK = 16  # 40 keys = 2 full blocks + 8 padded keys: the padding path runs too
ON_GPU = jax.default_backend() == "gpu"


def _oracle(q, k, v, g, allowed, keep=None, rate=0.0):
  """Output and (dq, dk, dv) of sum(out * g) in float64; allowed/keep: bool [b|1, h|1, q, k]."""
  q, k, v, g = (np.asarray(x, np.float64) for x in (q, k, v, g))
  scale = q.shape[-1] ** -0.5
  s = np.einsum("bqhd,bkhd->bhqk", q, k) * scale
  s = np.where(allowed, s, -np.inf)
  p = np.exp(s - s.max(-1, keepdims=True))
  p /= p.sum(-1, keepdims=True)
  drop = np.ones_like(p) if keep is None else keep / (1.0 - rate)
  out = np.einsum("bhqk,bkhd->bqhd", p * drop, v)
  dv = np.einsum("bhqk,bqhd->bkhd", p * drop, g)
  dp = np.einsum("bqhd,bkhd->bhqk", g, v) * drop
  ds = p * (dp - (dp * p).sum(-1, keepdims=True))
  dq = np.einsum("bhqk,bkhd->bqhd", ds, k) * scale
  dk = np.einsum("bhqk,bqhd->bkhd", ds, q) * scale
  return out, (dq, dk, dv)


def _inputs(seed=0, n=N):
  rng = np.random.default_rng(seed)
  q, k, v, g = (rng.normal(size=(B, n, H, D)).astype(np.float32) for _ in range(4))
  key_mask = np.ones((B, n), bool)
  key_mask[1, n - 13 :] = False  # example 1 is padded
  return q, k, v, g, key_mask


def _run(fn, q, k, v, g):
  """fn's output and gradients of sum(fn(q, k, v) * g), at full float32 precision."""
  with jax.default_matmul_precision("highest"):
    out, vjp = jax.vjp(fn, jnp.asarray(q), jnp.asarray(k), jnp.asarray(v))
    return np.asarray(out), [np.asarray(x) for x in vjp(jnp.asarray(g))]


def _kernel(name, **kw):
  if name == "blocked":
    return lambda q, k, v: ak.blocked_attention(q, k, v, block_k=BLOCK, **kw)
  return lambda q, k, v: ak.attend(q, k, v, kw.pop("mask", None), kernel=name, **kw)


CPU_KERNELS = ["explicit", "blocked", "xla"]
MASKS = ["padding", "causal", "padding_causal", "general"]


def _mask_case(case, key_mask):
  """(kernel kwargs, oracle `allowed` [b|1, 1, q, k]) for a mask case."""
  tri = np.tril(np.ones((N, N), bool))[None, None]
  pad = key_mask[:, None, None, :]
  if case == "padding":
    return dict(key_mask=key_mask), pad
  if case == "causal":
    return dict(causal=True), tri
  if case == "padding_causal":
    return dict(key_mask=key_mask, causal=True), pad & tri
  # A general pattern: a band of width 5 around the diagonal (not expressible as lengths).
  band = np.abs(np.arange(N)[:, None] - np.arange(N)[None, :]) <= 5
  return dict(mask=band[None, None]), band[None, None]


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("case", MASKS)
def test_kernel_matches_oracle(kernel, case):
  q, k, v, g, key_mask = _inputs()
  kw, allowed = _mask_case(case, key_mask)
  out, grads = _run(_kernel(kernel, **kw), q, k, v, g)
  want, want_grads = _oracle(q, k, v, g, allowed)
  np.testing.assert_allclose(out, want, atol=2e-5, rtol=1e-5)
  for got, ref, name in zip(grads, want_grads, "qkv", strict=True):
    np.testing.assert_allclose(got, ref, atol=5e-5, rtol=1e-4, err_msg=f"d{name}")


@pytest.mark.parametrize("kernel", ["explicit", "blocked"])
def test_fused_dropout_matches_oracle_with_the_same_mask(kernel):
  q, k, v, g, key_mask = _inputs(1)
  seed, rate = np.array([11, 12], np.uint32), 0.3
  kw = dict(key_mask=key_mask, causal=True, dropout_rate=rate, dropout_seed=seed)
  out, grads = _run(_kernel(kernel, **kw), q, k, v, g)
  idx = np.ix_(range(B), range(H), range(N), range(N))
  keep = np.asarray(ak.dropout_keep(seed, rate, *idx))
  allowed = key_mask[:, None, None, :] & np.tril(np.ones((N, N), bool))[None, None]
  want, want_grads = _oracle(q, k, v, g, allowed, keep, rate)
  np.testing.assert_allclose(out, want, atol=2e-5, rtol=1e-5)
  for got, ref, name in zip(grads, want_grads, "qkv", strict=True):
    np.testing.assert_allclose(got, ref, atol=5e-5, rtol=1e-4, err_msg=f"d{name}")


def test_dropout_mask_statistics():
  rate, shape = 0.1, (4, 4, 256, 256)
  idx = np.ix_(*(range(s) for s in shape))
  a = np.asarray(ak.dropout_keep(np.array([1, 2], np.uint32), rate, *idx))
  b = np.asarray(ak.dropout_keep(np.array([1, 3], np.uint32), rate, *idx))
  again = np.asarray(ak.dropout_keep(np.array([1, 2], np.uint32), rate, *idx))
  np.testing.assert_array_equal(a, again)  # a pure function of (seed, position)
  # Within one (batch, head) row the (query, key) -> bits map is a bijection: exact up to
  # threshold rounding over all 2^32 positions; 4.2M samples give ~1.5e-4 standard error.
  assert abs(a.mean() - (1 - rate)) < 1e-3
  x = a.astype(np.float64) - a.mean()
  corr = lambda u, w: float((u * w).mean() / np.sqrt((u * u).mean() * (w * w).mean()))
  pairs = {
    "next key": (x[..., 1:], x[..., :-1]),
    "next query": (x[:, :, 1:], x[:, :, :-1]),
    "next head": (x[:, 1:], x[:, :-1]),
    "next example": (x[1:], x[:-1]),
    "other seed": (x, b.astype(np.float64) - b.mean()),
    "key/query transposed": (x, np.swapaxes(x, -1, -2)),
  }
  for name, (u, w) in pairs.items():
    assert abs(corr(u, w)) < 5e-3, name


def test_blocked_memory_is_linear_in_length():
  """Compiled temp bytes of forward + backward: blocked doubles with N, explicit quadruples;
  and no [N, N] array appears in the blocked program."""

  def temp_and_hlo(fn, n):
    x = jax.ShapeDtypeStruct((1, n, 1, 16), jnp.float32)
    step = jax.jit(jax.grad(lambda q, k, v: jnp.sum(fn(q, k, v)), argnums=(0, 1, 2)))
    compiled = step.lower(x, x, x).compile()
    return compiled.memory_analysis().temp_size_in_bytes, compiled.as_text()

  blocked = lambda q, k, v: ak.blocked_attention(q, k, v, causal=True, block_k=128)
  explicit = lambda q, k, v: ak.explicit_attention(q, k, v, causal=True)
  b1, _ = temp_and_hlo(blocked, 1024)
  b2, hlo = temp_and_hlo(blocked, 2048)
  e1, _ = temp_and_hlo(explicit, 1024)
  e2, _ = temp_and_hlo(explicit, 2048)
  assert b2 / b1 < 2.5, (b1, b2)
  assert e2 / e1 > 3.5, (e1, e2)
  assert b2 < e2 / 8
  assert "2048,2048]" not in hlo and "2048,2048}" not in hlo


@pytest.mark.parametrize(
  "kw, want",
  [
    (dict(mask_kind="keys", causal=True), "cudnn"),  # bf16, padding as lengths, causal
    (dict(mask_kind="none"), "cudnn"),
    (dict(mask_kind="keys", dtype=jnp.float16), "cudnn"),
    (dict(mask_kind="keys", dtype=jnp.float32), "xla"),  # cuDNN takes no float32
    (dict(mask_kind="full"), "xla"),  # a general mask is not key lengths
    (dict(mask_kind="keys", head_dim=12), "xla"),  # not a multiple of 8
    (dict(mask_kind="keys", head_dim=264), "xla"),  # over 256
    (dict(mask_kind="keys", head_dim=192), "cudnn"),  # Hopper: up to 256
    (dict(mask_kind="keys", head_dim=192, compute_capability=(8, 0)), "xla"),  # A100: 128
    (dict(mask_kind="keys", has_dropout=True), "explicit"),  # dropout: not through the op
    (dict(mask_kind="keys", backend="rocm"), "xla"),
    (dict(mask_kind="keys", backend="tpu"), "splash"),  # Pallas: padding as segment ids
    (dict(mask_kind="none", backend="tpu", dtype=jnp.float32, causal=True), "splash"),
    (dict(mask_kind="keys", backend="tpu", head_dim=512), "flash"),  # over splash's 256
    (dict(mask_kind="full", backend="tpu"), "xla"),  # no Pallas kernel takes a general mask
    (dict(mask_kind="keys", backend="tpu", q_len=1), "xla"),  # decoding: under one tile
    (dict(mask_kind="keys", backend="tpu", k_len=64, q_len=64), "xla"),
    (dict(mask_kind="keys", backend="tpu", has_dropout=True), "explicit"),
    (dict(mask_kind="keys", backend="cpu", dtype=jnp.float32), "blocked"),
    (dict(mask_kind="keys", backend="cpu", has_dropout=True), "blocked"),
    (dict(mask_kind="keys", backend="cpu", k_len=128, q_len=128), "explicit"),  # one block
    (dict(mask_kind="full", backend="cpu", q_len=1), "explicit"),  # one decoding step
  ],
)
def test_select_kernel(kw, want):
  args = dict(backend="gpu", dtype=jnp.bfloat16, head_dim=64, q_len=1024, k_len=1024)
  args.update(kw)
  backend, dtype, head_dim = args.pop("backend"), args.pop("dtype"), args.pop("head_dim")
  assert ak.select_kernel(backend, dtype, head_dim, **args) == want


def test_select_kernel_rejects_unknown_mask_kind():
  with pytest.raises(ValueError, match="mask_kind"):
    ak.select_kernel("cpu", jnp.float32, 64, q_len=8, k_len=8, mask_kind="lengths")


def _bf16_model_call(dropout):
  model = Attention(num_heads=4, causal=True, dtype=jnp.bfloat16, attention_dropout=0.1)
  x = jnp.ones((2, 256, 64), jnp.float32)
  mask = jnp.arange(256)[None] < jnp.array([[256], [200]])
  params = jax.eval_shape(model.init, jax.random.key(0), x, mask)
  return model, params, x, mask


def test_model_kernel_choice_per_backend():
  """The mixer's own record of its kernel, read back as a value for each target platform."""
  model, params, x, mask = _bf16_model_call(dropout=False)
  used = lambda platform, train=False: ak.kernels_used(
    model, params, x, mask, train=train, platform=platform
  )
  assert used("gpu") == "cudnn"
  assert used("tpu") == "splash"
  assert used("cpu") == "blocked"
  assert used(None) == "blocked"  # this CPU process, no mesh
  assert used("gpu", train=True) == "explicit"  # probability dropout: no fused kernel
  assert used("tpu", train=True) == "explicit"
  assert "kernels" not in params  # init records nothing


def test_lengths_path_only_for_prefix_masks():
  """cuDNN gets padding as key lengths; a mask that lengths cannot express (a hole, or a row
  with no real key) must take the general kernel. A stand-in for cuDNN marks which ran."""
  q, k, v, _, key_mask = _inputs(5)

  def by_lengths(lengths):  # exact for prefix masks; marked by +100
    prefix = jnp.arange(N)[None, :] < lengths[:, None]
    return ak.explicit_attention(q, k, v, key_mask=prefix) + 100.0

  general = lambda mask: lambda: ak.explicit_attention(q, k, v, key_mask=mask)
  holes = key_mask.copy()
  holes[0, 3] = False  # not a prefix
  empty = key_mask.copy()
  empty[1] = False  # a row with no real key
  for mask, fused in ((key_mask, True), (holes, False), (empty, False)):
    out = fused_kernels._prefix_or_fallback(jnp.asarray(mask), by_lengths, general(mask))
    want = ak.explicit_attention(q, k, v, key_mask=mask) + (100.0 if fused else 0.0)
    np.testing.assert_allclose(out, want, atol=1e-5)


@pytest.mark.skipif(ON_GPU, reason="checks the CPU lowering")
def test_cpu_program_has_no_cudnn_call():
  model, params, x, mask = _bf16_model_call(dropout=False)
  text = jax.jit(lambda p, x: model.apply(p, x, mask)).lower(params, x).as_text()
  assert "cudnn" not in text.lower()
  assert "custom_call" not in text or "cudnn" not in text


def test_attention_module_kernels_agree():
  x = jnp.asarray(np.random.default_rng(2).normal(size=(2, 48, 24)), jnp.float32)
  mask = jnp.arange(48)[None] < jnp.array([[48], [30]])
  params = Attention(num_heads=3).init(jax.random.key(0), x, mask)
  rngs = {"dropout": jax.random.key(3)}
  outs = {}
  with jax.default_matmul_precision("highest"):
    for kernel in ("explicit", "blocked", "xla", "auto"):
      outs[kernel] = Attention(num_heads=3, causal=True, kernel=kernel).apply(params, x, mask)
    for kernel in ("explicit", "blocked"):  # the same fused dropout mask on both paths
      m = Attention(num_heads=3, attention_dropout=0.2, kernel=kernel)
      outs[f"{kernel}_drop"] = m.apply(params, x, mask, deterministic=False, rngs=rngs)
  for kernel in ("blocked", "xla", "auto"):
    np.testing.assert_allclose(outs[kernel], outs["explicit"], atol=1e-5, err_msg=kernel)
  np.testing.assert_allclose(outs["blocked_drop"], outs["explicit_drop"], atol=1e-5)
  assert not np.allclose(outs["explicit_drop"], outs["explicit"], atol=1e-3)
  with pytest.raises(ValueError, match="kernel must be one of"):
    Attention(num_heads=3, kernel="pallas").apply(params, x, mask)


def test_choice_logged_once_per_distinct_choice(caplog):
  q, k, v, _, key_mask = _inputs()
  ak._logged.clear()
  with caplog.at_level(logging.INFO, logger=ak.__name__):
    for _ in range(3):
      jax.eval_shape(lambda q, k, v: ak.attend(q, k, v, key_mask=key_mask), q, k, v)
    jax.eval_shape(lambda q, k, v: ak.attend(q, k, v, causal=True), q, k, v)
  lines = [r.getMessage() for r in caplog.records if r.name == ak.__name__]
  assert len(lines) == 2, lines  # one per distinct (kernel, reason): mask=keys, mask=none
  want = ak.kernel_for(jnp.float32, D, q_len=N, k_len=N, mask_kind="keys")
  assert lines[0].startswith(f"attention kernel: {want} (") and "mask=keys" in lines[0]


@pytest.mark.skipif(not ON_GPU, reason="needs a CUDA GPU with cuDNN")
@pytest.mark.parametrize("causal", [False, True])
def test_cudnn_matches_oracle(causal):
  q, k, v, g, key_mask = _inputs(4, n=64)
  bf = lambda x: jnp.asarray(x, jnp.bfloat16)
  fn = lambda q, k, v: ak.attend(q, k, v, None, causal, key_mask=key_mask, kernel="cudnn")
  out, grads = jax.vjp(fn, bf(q), bf(k), bf(v))
  grads = grads(bf(g))
  allowed = key_mask[:, None, None, :]
  if causal:
    allowed = allowed & np.tril(np.ones((64, 64), bool))[None, None]
  rounded = [np.asarray(bf(x), np.float32) for x in (q, k, v, g)]
  want, want_grads = _oracle(*rounded, allowed)
  np.testing.assert_allclose(np.asarray(out, np.float32), want, atol=3e-2, rtol=3e-2)
  for got, ref in zip(grads, want_grads, strict=True):
    np.testing.assert_allclose(np.asarray(got, np.float32), ref, atol=6e-2, rtol=6e-2)
  assert "cudnn" in jax.jit(fn).lower(bf(q), bf(k), bf(v)).as_text().lower()
