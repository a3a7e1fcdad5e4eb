"""Autoregressive sampling from a trained character-level decoder (`fnetlab sample`).

The model and vocabulary are rebuilt from the workdir's config.json: the vocabulary is a
pure function of the corpus (fnetlab/data/shakespeare.py), so it is recomputed, not stored.
Token i of the continuation is drawn with key fold_in(PRNGKey(seed), i); the output is a
function of (checkpoint, prompt, flags).

Three exact ways to get the next-token logits, picked from the model:
- Pure attention decoders keep a KV cache (`Decoder(spec, decode=True)`), one token per jitted
  step. When the block_size slots are full, the cache is rebuilt from the last block_size/2
  tokens, so past block_size tokens it conditions on between block_size/2 and block_size
  tokens (the recompute path always uses the last block_size).
- Other causal mixers recompute the whole window (the last block_size tokens), right-padded to
  block_size so one compiled program serves every length: outputs at a position never depend
  on later ones, and nothing else in these models depends on the length.
- The WorkerTransformer's worker layout does depend on the length (the last position is
  always a worker, and only workers see context), so as in the seed the next token is read
  from the last position of a run at the prefix's exact length. That run is the padded one
  when the prefix length is a multiple of the interval (its last position is a worker there
  too) or a full window, and a program compiled for that length otherwise: expect one
  compilation per new prefix length until the window is full.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from fnetlab.common.errors import UserError


def pick_token(logits, key, temperature: float, top_k: int):
  """One token id from logits [vocab]: greedy at temperature 0 or top_k 1, else sampled."""
  logits = logits.astype(jnp.float32)
  if temperature <= 0 or top_k == 1:
    return jnp.argmax(logits).astype(jnp.int32)
  logits = logits / temperature
  if 0 < top_k < logits.shape[-1]:
    kth = jax.lax.top_k(logits, top_k)[0][-1]
    logits = jnp.where(logits < kth, -jnp.inf, logits)
  return jax.random.categorical(key, logits).astype(jnp.int32)


class Sampler:
  """Generates token ids from a Decoder's params; see the module docstring for the three paths."""

  def __init__(self, spec, params, block_size: int, *, temperature=1.0, top_k=0, cache="auto"):
    from fnetlab.models import Decoder, layer_mixers, supports_decode
    from fnetlab.tasks.lm import worker_interval

    can_cache = supports_decode(spec)
    if cache == "on" and not can_cache:
      raise UserError(
        f"--cache=on: mixer {spec.mixer!r} has no KV cache (only pure attention decoders do)"
      )
    self.use_cache = can_cache and cache != "off"
    self.block = int(block_size)
    self.params = params
    self.interval = worker_interval(spec) if "worker" in layer_mixers(spec) else None
    pick = functools.partial(pick_token, temperature=float(temperature), top_k=int(top_k))
    model = Decoder(spec)

    def padded(params, window, n, key):
      logits = model.apply({"params": params}, {"inputs": window})
      return pick(logits[0, n - 1], key)

    def exact(params, window, key):
      return pick(model.apply({"params": params}, {"inputs": window})[0, -1], key)

    self._padded, self._exact = jax.jit(padded), jax.jit(exact)
    if self.use_cache:
      decoder = Decoder(spec, decode=True)
      dummy = {"inputs": jnp.zeros((1, self.block), jnp.int32)}
      # The init call only shapes the cache (full length); its params are discarded.
      self._cache0 = jax.eval_shape(lambda: decoder.init(jax.random.PRNGKey(0), dummy))["cache"]
      self._cache0 = jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), self._cache0)

      def step(params, cache, token, key):
        logits, mut = decoder.apply(
          {"params": params, "cache": cache}, {"inputs": token.reshape(1, 1)}, mutable=["cache"]
        )
        return pick(logits[0, -1], key), mut["cache"]

      self._step = jax.jit(step)

  def generate(self, prompt_ids, max_new_tokens: int, seed: int = 0) -> np.ndarray:
    """The `max_new_tokens` ids that follow `prompt_ids` (a non-empty sequence of ids)."""
    tokens = [int(t) for t in np.asarray(prompt_ids).reshape(-1)]
    if not tokens:
      raise UserError("--prompt is empty; give at least one character")
    base = jax.random.PRNGKey(seed)
    keys = [jax.random.fold_in(base, i) for i in range(max_new_tokens)]
    if self.use_cache:
      new = self._generate_cached(tokens, keys)
    else:
      new = self._generate_recompute(tokens, keys)
    return np.asarray(new, np.int32)

  def _generate_recompute(self, tokens, keys):
    b = self.block
    out = []
    for key in keys:
      ctx = tokens[-b:]
      n = len(ctx)
      if self.interval is None or n == b or n % self.interval == 0:
        window = np.zeros((1, b), np.int32)
        window[0, :n] = ctx
        nxt = self._padded(self.params, window, n, key)
      else:
        nxt = self._exact(self.params, np.asarray([ctx], np.int32), key)
      tokens.append(int(nxt))
      out.append(tokens[-1])
    return out

  def _generate_cached(self, tokens, keys):
    b = self.block
    dummy_key = jax.random.PRNGKey(0)

    def prime(ctx):
      cache = self._cache0
      for t in ctx:
        _, cache = self._step(self.params, cache, jnp.int32(t), dummy_key)
      return cache

    start = max(0, len(tokens) - b)
    cache, filled = prime(tokens[start:-1]), len(tokens) - 1 - start
    out = []
    for key in keys:
      if filled == b:  # no slot left for the newest token: restart from the last b/2
        keep = max(b // 2, 1)
        cache, filled = prime(tokens[-keep:-1]), keep - 1
      nxt, cache = self._step(self.params, cache, jnp.int32(tokens[-1]), key)
      filled += 1
      tokens.append(int(nxt))
      out.append(tokens[-1])
    return out


def load_sampler(workdir: str, step="latest", **sampler_kwargs):
  """(Sampler, vocab, restored step) for a workdir written by `fnetlab train` on the lm task."""
  from fnetlab.common import checkpoints
  from fnetlab.common import workdir as files
  from fnetlab.data import lm
  from fnetlab.models import spec_from_config

  config = files.read_config(workdir)
  if config.get("task") != "lm":
    raise UserError(f"{workdir}/config.json: task={config.get('task')!r}; sampling needs task 'lm'")
  data = ml_collections.ConfigDict(config["data"])
  vocab = lm.load_vocab(data)
  spec = spec_from_config(config["model"], vocab_size=vocab.size)
  params, restored = checkpoints.load_params(workdir, step)
  sampler = Sampler(spec, params, int(data.block_size), **sampler_kwargs)
  return sampler, vocab, restored
