"""Dropout with a counter-based hash mask: flax's `nn.Dropout` semantics, a cheaper PRNG.

Flax's `nn.Dropout` draws its mask with `jax.random.bernoulli`, i.e. threefry2x32 random bits
for every element. On a CPU that is the dearest part of dropout by far: the bits for a
[4096, 1024] mask take ~40 ms, longer than the matmul that produced the activations, and XLA
keeps them as two uint32 arrays alive from the forward to the backward pass
(docs/performance.md has the profile).

`impl='hash'` (the default) draws one 64-bit seed per call from the module's rng stream
(`make_rng('dropout')`, as flax does) and gives every element the 32-bit hash

    h = fmix32(fmix32(lo + k0) ^ k1 ^ golden * hi)

of its position (`lo`, `hi`: the linear index over the GLOBAL shape, split so that `lo`
stays below 2^32; `k0`, `k1`: the seed; `fmix32`: MurmurHash3's finaliser, a bijection of
uint32 with full avalanche). An element is kept when h >= round(rate * 2^32). Everything is
integer arithmetic on an iota, so XLA fuses the mask into the multiply that applies it and
recomputes it in the backward pass instead of storing it.

What it keeps from flax's dropout (tests/test_dropout.py checks each):
- the keep probability: for a fixed seed the map lo -> h is a bijection of uint32, so over
  any 2^32 consecutive positions exactly 2^32 - round(rate * 2^32) are kept; the expectation
  is 1 - rate to within 2^-32, and kept values are scaled by 1 / (1 - rate);
- independence across positions (two mixing rounds), across calls, layers and steps (each
  gets its own seed from `make_rng`, which flax folds with the module path and call count,
  and the trainer folds the step into the rng);
- device independence: the counter is the position in the global array, so under `jax.jit`
  with shardings every device computes its own slice of the one global mask (XLA partitions
  the iota), and 1 device and 8 devices draw the same mask;
- determinism: the mask is a pure function of (rng, position), so a resumed run redraws it.

It is not bit-compatible with `nn.Dropout`'s masks: the same rng gives a different (equally
distributed) mask. `impl='threefry'` is flax's own draw (`jax.random.bernoulli`, with the
key's PRNG implementation, threefry by default), kept for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from jax import lax

IMPLS = ("hash", "threefry")
_GOLDEN = np.uint32(0x9E3779B9)
_COUNTER_LIMIT = 2**32  # positions one uint32 counter can index (tests lower it)


def _fmix32(x: jax.Array) -> jax.Array:
  """MurmurHash3's 32-bit finaliser: a bijection of uint32 in which every input bit flips
  every output bit with probability ~1/2."""
  x = x ^ (x >> 16)
  x = x * np.uint32(0x85EBCA6B)
  x = x ^ (x >> 13)
  x = x * np.uint32(0xC2B2AE35)
  return x ^ (x >> 16)


def _linear_index(shape: Sequence[int], dims: Sequence[int]) -> jax.Array | None:
  """uint32 row-major index over the sub-array `dims` of `shape` (broadcast to `shape`)."""
  if not dims:
    return None
  idx = None
  stride = 1
  for d in reversed(dims):
    term = lax.broadcasted_iota(jnp.uint32, tuple(shape), d)
    if stride != 1:
      term = term * np.uint32(stride)
    idx = term if idx is None else idx + term
    stride *= shape[d]
  return idx


def counter_hash(seed: jax.Array, lo: jax.Array, hi: jax.Array | None = None) -> jax.Array:
  """The 32-bit hash of the counter (hi, lo), keyed by `seed` (uint32[2]):
  fmix32(fmix32(lo + k0) ^ k1 ^ golden * hi). For a fixed (seed, hi) the map lo -> hash is a
  bijection of uint32. Every hash mask in fnetlab (this module's dropout and attention's
  probability dropout, fnetlab/nn/attention/) is this function of a position counter."""
  u32 = lambda a: jnp.asarray(a).astype(jnp.uint32)
  seed, lo = u32(seed), u32(lo)
  h = _fmix32(lo + seed[0])
  h = h ^ seed[1] if hi is None else h ^ (seed[1] ^ u32(hi) * _GOLDEN)
  return _fmix32(h)


def keep_threshold(rate: float) -> np.uint32:
  """A hash h is kept when h >= keep_threshold(rate): probability 1 - rate to within 2^-32."""
  return np.uint32(min(round(rate * 2**32), 2**32 - 1))


def hash_bits(seed: jax.Array, shape: Sequence[int]) -> jax.Array:
  """uint32 hash of every position of an array of `shape`, keyed by `seed` (uint32[2])."""
  shape = tuple(int(s) for s in shape)
  # lo indexes the trailing dimensions whose product stays below 2^32; hi the rest.
  split, size = len(shape), 1
  while split > 0 and size * shape[split - 1] <= _COUNTER_LIMIT:
    split -= 1
    size *= shape[split]
  if split > 0 and int(np.prod(shape[:split])) > 2**32:
    raise ValueError(f"dropout: array of shape {shape} has too many positions to index")
  lo = _linear_index(shape, range(split, len(shape)))
  hi = _linear_index(shape, range(split))
  if lo is None:
    lo = jnp.zeros(shape, jnp.uint32)
  return counter_hash(seed, lo, hi)


def keep_mask(rng: jax.Array, shape: Sequence[int], rate: float, impl: str = "hash") -> jax.Array:
  """Boolean mask of `shape`, True with probability 1 - rate, drawn from `rng` (a PRNG key)."""
  if impl == "threefry":
    return jax.random.bernoulli(rng, 1.0 - rate, tuple(shape))
  if impl != "hash":
    raise ValueError(f"dropout impl must be one of {', '.join(IMPLS)}; got {impl!r}")
  seed = jax.random.bits(rng, (2,), jnp.uint32)
  return hash_bits(seed, shape) >= keep_threshold(rate)


class Dropout(nn.Module):
  """Drop-in for `flax.linen.Dropout` (same fields and call) with a choice of mask PRNG.

  Attributes:
    rate: probability of zeroing an element; kept elements are scaled by 1 / (1 - rate).
    broadcast_dims: dimensions along which the mask is shared (as flax's).
    deterministic: if true, the identity; may also be passed to `__call__`.
    rng_collection: the rng stream the per-call seed comes from.
    impl: 'hash' (counter-based hash, the default) or 'threefry' (`jax.random.bernoulli`).
  """

  rate: float
  broadcast_dims: Sequence[int] = ()
  deterministic: bool | None = None
  rng_collection: str = "dropout"
  impl: str = "hash"

  @nn.compact
  def __call__(self, inputs, deterministic: bool | None = None, rng=None):
    deterministic = nn.merge_param("deterministic", self.deterministic, deterministic)
    if self.rate == 0.0 or deterministic:
      return inputs
    if self.rate == 1.0:  # 1 / (1 - rate) would be inf
      return jnp.zeros_like(inputs)
    if rng is None:
      rng = self.make_rng(self.rng_collection)
    keep_prob = 1.0 - self.rate
    shape = list(inputs.shape)
    for d in self.broadcast_dims:
      shape[d] = 1
    mask = jnp.broadcast_to(keep_mask(rng, shape, self.rate, self.impl), inputs.shape)
    return lax.select(mask, inputs / keep_prob, jnp.zeros_like(inputs))
