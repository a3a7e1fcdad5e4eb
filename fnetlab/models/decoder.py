"""A causal language model built from any causal-capable mixer.

Token embedding + positions (`model.positions`; with `auto` none where the mixer brings its
own, RoPE attention or the WorkerTransformer, else a learned table) -> N blocks made causal ->
final norm -> logits. The final norm is LayerNorm, or RMSNorm for the WorkerTransformer (its
reference ends with one; `model.final_norm` overrides).
The blocks follow `model.norm` like the encoder's (the ModelSpec default is post-LN; the LM
configs set `norm='pre'`, as is usual for decoders). Non-causal mixers (FNet, linear,
random) are refused by the mixer registry with a clear error.

`decode=True` builds the incremental form for sampling: attention layers keep a KV cache and
the positions start at a cached offset. Other mixers do not support it; the sampler
recomputes the whole prefix for them.
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import linen as nn

from fnetlab import mixers
from fnetlab.models.config import ModelSpec, layer_mixers
from fnetlab.models.layers import Positions, build_blocks, final_norm
from fnetlab.nn import add_positions, logical
from fnetlab.nn.dropout import Dropout
from fnetlab.nn.inits import dense_init


def supports_decode(spec: ModelSpec) -> bool:
  """True when every layer keeps a KV cache (pure attention decoders)."""
  return all("decode" in mixers.field_names(n) for n in layer_mixers(spec))


class Decoder(nn.Module):
  """Causal LM: batch {'inputs': [b, n] int} -> logits [b, n, vocab] (float32)."""

  spec: ModelSpec
  decode: bool = False

  @nn.compact
  def __call__(self, batch, deterministic=True):
    spec = self.spec
    ids = batch["inputs"] if isinstance(batch, dict) else batch
    offset = 0
    if self.decode:
      # Not named "position": that name belongs to the position-encoding submodule.
      index = self.variable("cache", "offset", lambda: jnp.array(0, jnp.int32))
      offset = index.value
      if self.is_initializing():
        offset = 0
      else:
        index.value = offset + ids.shape[1]
    emb = nn.Embed(
      spec.vocab_size,
      spec.d_model,
      embedding_init=logical(nn.initializers.normal(0.02), "vocab", "embed"),
      name="embed",
    )
    positions = Positions(spec.resolved_positions, spec.max_len, spec.d_model, name="position")
    x = add_positions(emb(ids), positions(ids.shape[1], offset))
    drop = Dropout(spec.dropout_rate, impl=spec.dropout_impl)
    x = drop(x, deterministic=deterministic).astype(spec.compute_dtype)
    for block in build_blocks(spec, causal=True, decode=self.decode):
      x = block(x, None, deterministic)
    x = final_norm(spec)(x)
    kernel_init, bias_init = dense_init(spec.init_scheme, "logits")
    return nn.Dense(
      spec.vocab_size,
      name="logits",
      kernel_init=logical(kernel_init, "embed", "vocab"),
      bias_init=logical(bias_init, "vocab"),
    )(x.astype(jnp.float32))
