"""Import Hugging Face FNet and BERT checkpoints into fnetlab's `EncoderModel`.

Sources: transformers' PyTorch `FNetModel` (its port of google-research `f_net`) and
`BertModel`. A checkpoint directory holds `config.json` plus `model.safetensors` (read with
the `safetensors` numpy loader, so no PyTorch is needed), its sharded form
`model.safetensors.index.json`, or a legacy `pytorch_model.bin` (which needs torch).

Tensor conventions: a torch `Linear.weight` [out, in] is the transpose of a Flax kernel
[in, out]; attention Q/K/V kernels are further split to [d, heads, head_dim] and the attention
output kernel to [heads, head_dim, d]; a LayerNorm `weight` (`gamma` in old BERT files) is
Flax's `scale`. Keys are accepted bare (as `FNetModel`/`BertModel.save_pretrained` writes
them) or under the `fnet.`/`bert.` prefix of the task models (`FNetForPreTraining`,
`bert-base-uncased`). Heads (MLM, NSP, classifier) and buffers are not imported.

How HF's models differ from ours, and how the import bridges it (the parity test checks that
outputs agree to float32 round-off):
- FNet mixing: HF uses `torch.fft.fftn` over (seq, hidden), or DFT matrices under
  `use_tpu_fourier_optimizations` (which also pins the input length to
  `tpu_short_seq_length`). Both compute Re(FFT2), as our `fourier` mixer does at any length.
- FNet embeddings always end in a hidden->hidden projection (`embed_projection=True`); BERT's
  have none (`embed_projection=False`). HF's `gelu` is the exact erf GELU (`gelu_exact`),
  `gelu_new` the tanh approximation (`gelu`).
- Attention masks: HF adds a large negative number to masked logits; we hand a boolean mask
  to `jax.nn.dot_product_attention`. Real tokens get the same output; padded positions are
  don't-cares in both. HF FNet takes no mask, and our Fourier mixer ignores it.
- Position ids are 0..N-1 and missing token-type ids are zeros in both.
- HF options we cannot express raise UserError: BERT as a decoder (`is_decoder`), relative
  position embeddings, and activations other than the GELUs and ReLU.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from flax import traverse_util

from fnetlab.common.errors import UserError
from fnetlab.models import EncoderModel, ModelSpec

CONFIG = "config.json"
SAFETENSORS = "model.safetensors"
TORCH_BIN = "pytorch_model.bin"
INDEX_SUFFIX = ".index.json"  # sharded checkpoints: <weights file>.index.json

# transformers' own config defaults, which apply when config.json leaves a key out.
DEFAULTS = {
  "fnet": dict(
    vocab_size=32000,
    hidden_size=768,
    num_hidden_layers=12,
    intermediate_size=3072,
    hidden_act="gelu_new",
    hidden_dropout_prob=0.1,
    max_position_embeddings=512,
    type_vocab_size=4,
    layer_norm_eps=1e-12,
  ),
  "bert": dict(
    vocab_size=30522,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    max_position_embeddings=512,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
  ),
}

ACTIVATIONS = {
  "gelu": "gelu_exact",  # HF's plain "gelu" is the erf form
  "gelu_python": "gelu_exact",
  "gelu_new": "gelu",  # the tanh approximation, FNet's default
  "gelu_pytorch_tanh": "gelu",
  "gelu_fast": "gelu",
  "relu": "relu",
}


@dataclasses.dataclass
class Imported:
  """A converted checkpoint: the spec, EncoderModel params (numpy) and what was read."""

  spec: ModelSpec
  params: dict  # {'encoder': ..., 'pooler': ...}, the EncoderModel's `params` collection
  model_type: str
  weights_file: str
  converted: list[str]  # the checkpoint keys that became params
  unused: list[str]  # the checkpoint keys left out (heads, buffers)

  @property
  def num_params(self) -> int:
    return int(sum(x.size for x in jax.tree.leaves(self.params)))


def read_config(hf_dir: str) -> dict:
  """config.json of a Hugging Face checkpoint directory."""
  path = os.path.join(hf_dir, CONFIG)
  if not os.path.isfile(path):
    raise UserError(f"{path} not found: is {hf_dir} a Hugging Face checkpoint directory?")
  try:
    with open(path) as f:
      cfg = json.load(f)
  except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
    raise UserError(f"{path}: unreadable JSON ({e})") from None
  if not isinstance(cfg, dict):
    raise UserError(f"{path}: expected a JSON object")
  return cfg


def spec_from_hf(cfg: dict, where: str = CONFIG) -> ModelSpec:
  """The ModelSpec that reproduces the HF FNet/BERT encoder described by config.json."""
  model_type = cfg.get("model_type")
  if model_type not in DEFAULTS:
    raise UserError(f"{where}: model_type={model_type!r} is not supported; valid: fnet, bert")
  c = {**DEFAULTS[model_type], **cfg}
  act = c["hidden_act"]
  if act not in ACTIVATIONS:
    raise UserError(
      f"{where}: hidden_act={act!r} is not supported; valid: {', '.join(ACTIVATIONS)}"
    )
  d = int(c["hidden_size"])
  common = dict(
    num_layers=int(c["num_hidden_layers"]),
    d_model=d,
    d_ff=int(c["intermediate_size"]),
    vocab_size=int(c["vocab_size"]),
    type_vocab_size=int(c["type_vocab_size"]),
    max_len=int(c["max_position_embeddings"]),
    positions="learned",
    norm="post",
    hybrid="none",
    activation=ACTIVATIONS[act],
    dropout_rate=float(c["hidden_dropout_prob"]),
    ln_eps=float(c["layer_norm_eps"]),
    embed_norm=True,
    pooling="cls",
    pooler_dense=True,
    causal=False,
    dtype="float32",
  )
  if model_type == "fnet":
    # Heads only matter if a hybrid layout is chosen later; 64-wide as in BERT and the paper.
    heads = d // 64 if d % 64 == 0 else 1
    return ModelSpec(mixer="fourier", embed_projection=True, num_heads=heads, **common)
  if c.get("is_decoder"):
    raise UserError(f"{where}: is_decoder=true (causal BERT) is not supported; only encoders")
  if c.get("position_embedding_type", "absolute") not in (None, "absolute"):
    raise UserError(
      f"{where}: position_embedding_type={c['position_embedding_type']!r} is not supported; "
      "only 'absolute'"
    )
  heads = int(c["num_attention_heads"])
  if d % heads:
    raise UserError(f"{where}: hidden_size={d} is not divisible by num_attention_heads={heads}")
  return ModelSpec(
    mixer="attention",
    num_heads=heads,
    attention_dropout=float(c["attention_probs_dropout_prob"]),
    embed_projection=False,
    **common,
  )


def _first_line(e: Exception) -> str:
  text = str(e).strip()
  return text.splitlines()[0] if text else type(e).__name__


def _read_safetensors(path: str) -> dict[str, np.ndarray]:
  from safetensors import safe_open

  if not os.path.isfile(path):
    raise UserError(f"{path} not found")
  try:
    out, bf16 = {}, []
    with safe_open(path, framework="numpy") as f:
      for key in f.keys():
        if f.get_slice(key).get_dtype() == "BF16":
          bf16.append(key)  # numpy has no bfloat16: read those through jax below
        else:
          out[key] = f.get_tensor(key)
    if bf16:
      with safe_open(path, framework="flax") as f:
        out.update({k: np.asarray(f.get_tensor(k), np.float32) for k in bf16})
  except Exception as e:  # safetensors raises its own error type for damaged files
    raise UserError(f"{path}: unreadable safetensors file ({_first_line(e)})") from None
  return out


def _read_torch(path: str) -> dict[str, np.ndarray]:
  try:
    import torch
  except ImportError:
    raise UserError(
      f"{path}: reading PyTorch pickles needs torch (pip install torch); "
      f"a {SAFETENSORS} checkpoint needs no torch"
    ) from None
  if not os.path.isfile(path):
    raise UserError(f"{path} not found")
  try:
    state = torch.load(path, map_location="cpu", weights_only=True)
  except Exception as e:  # truncated zips, bad pickles, ...
    raise UserError(f"{path}: unreadable PyTorch checkpoint ({_first_line(e)})") from None
  if not isinstance(state, dict):
    raise UserError(f"{path}: expected a state dict, got {type(state).__name__}")
  out = {}
  for key, value in state.items():
    if isinstance(value, torch.Tensor):
      value = value.detach().cpu()
      out[key] = (value.float() if value.is_floating_point() else value).numpy()
  return out


def _read_index(path: str) -> list[str]:
  try:
    with open(path) as f:
      shards = sorted(set(json.load(f)["weight_map"].values()))
  except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
    raise UserError(f"{path}: unreadable shard index ({_first_line(e)})") from None
  return [os.path.join(os.path.dirname(path), s) for s in shards]


def read_tensors(hf_dir: str) -> tuple[dict[str, np.ndarray], str]:
  """All tensors of the checkpoint in `hf_dir` (safetensors preferred) and the file read."""
  for name, reader in ((SAFETENSORS, _read_safetensors), (TORCH_BIN, _read_torch)):
    path = os.path.join(hf_dir, name)
    if os.path.isfile(path):
      return reader(path), path
    if os.path.isfile(path + INDEX_SUFFIX):
      tensors = {}
      for shard in _read_index(path + INDEX_SUFFIX):
        tensors.update(reader(shard))
      return tensors, path + INDEX_SUFFIX
  raise UserError(f"no weights in {hf_dir}: expected {SAFETENSORS} or {TORCH_BIN}")


def _normalise_key(key: str) -> str:
  # Checkpoints from the original BERT conversion name LayerNorm parameters gamma/beta.
  if key.endswith("LayerNorm.gamma"):
    return key[: -len("gamma")] + "weight"
  if key.endswith("LayerNorm.beta"):
    return key[: -len("beta")] + "bias"
  return key


_EMBEDDINGS = {
  "word": "word_embeddings",
  "position": "position_embeddings",
  "type": "token_type_embeddings",
  "norm": "LayerNorm",
  "projection": "projection",
}
_LEAVES = {"kernel": "weight", "bias": "bias", "scale": "weight", "embedding": "weight"}


def hf_key(path: tuple[str, ...], model_type: str) -> str:
  """The HF state-dict key (without the `fnet.`/`bert.` prefix) of one of our params."""
  *mods, leaf = path
  tail = _LEAVES[leaf]
  if mods == ["pooler", "dense"]:
    return f"pooler.dense.{tail}"
  if mods[:2] == ["encoder", "embeddings"] and len(mods) == 3:
    return f"embeddings.{_EMBEDDINGS[mods[2]]}.{tail}"
  layer = f"encoder.layer.{int(mods[1].removeprefix('layer_'))}"
  sub = tuple(mods[2:])
  names = {
    ("mixer_norm",): "fourier.output.LayerNorm"
    if model_type == "fnet"
    else "attention.output.LayerNorm",
    ("mixer", "query"): "attention.self.query",
    ("mixer", "key"): "attention.self.key",
    ("mixer", "value"): "attention.self.value",
    ("mixer", "out"): "attention.output.dense",
    ("ffn", "intermediate"): "intermediate.dense",
    ("ffn", "output"): "output.dense",
    ("ffn_norm",): "output.LayerNorm",
  }
  if sub not in names:
    raise AssertionError(f"no Hugging Face counterpart for param {'/'.join(path)}")
  return f"{layer}.{names[sub]}.{tail}"


def _hf_shape(path: tuple[str, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
  """The HF shape of a tensor that becomes our param `path` of `shape`."""
  leaf = path[-1]
  if leaf == "kernel":  # torch Linear [out, in]; attention's `out` takes (heads, head_dim) in
    n_in = 2 if path[-2] == "out" else 1
    return (math.prod(shape[n_in:]), math.prod(shape[:n_in]))
  if leaf == "bias":
    return (math.prod(shape),)
  return tuple(shape)


def target_shapes(spec: ModelSpec) -> dict[tuple[str, ...], tuple[int, ...]]:
  """Our EncoderModel's param shapes, flattened, without running init."""
  ids = jnp.zeros((1, 1), jnp.int32)
  shapes = jax.eval_shape(EncoderModel(spec).init, jax.random.key(0), ids)
  flat = traverse_util.flatten_dict(nn.meta.unbox(shapes)["params"])
  return {path: tuple(s.shape) for path, s in flat.items()}


def convert(
  tensors: dict[str, np.ndarray], spec: ModelSpec, model_type: str, where: str
) -> tuple[dict, list[str], list[str]]:
  """HF tensors -> (EncoderModel params, keys converted, keys unused); UserError on mismatch."""
  tensors = {_normalise_key(k): v for k, v in tensors.items()}
  prefix = f"{model_type}."
  bare_probe = "embeddings.word_embeddings.weight"
  if bare_probe in tensors or not any(k.startswith(prefix) for k in tensors):
    prefix = ""
  flat, used, missing = {}, [], []
  for path, shape in target_shapes(spec).items():
    key = prefix + hf_key(path, model_type)
    if key not in tensors:
      missing.append(key)
      continue
    value = tensors[key]
    expected = _hf_shape(path, shape)
    if tuple(value.shape) != expected:
      raise UserError(f"{key}: expected {expected}, got {tuple(value.shape)} in {where}")
    value = np.asarray(value, np.float32)
    if path[-1] == "kernel":
      value = value.T
    flat[path] = np.ascontiguousarray(value.reshape(shape))
    used.append(key)
  if missing:
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    raise UserError(
      f"{missing[0]}: missing from {where}{more}; config.json describes a "
      f"{spec.num_layers}-layer {model_type} with d_model={spec.d_model}"
    )
  unused = sorted(set(tensors) - set(used))
  if unused:
    logging.debug("not imported from %s: %s", where, ", ".join(unused))
  return traverse_util.unflatten_dict(flat), used, unused


def import_checkpoint(hf_dir: str) -> Imported:
  """Reads and converts the FNet/BERT checkpoint in `hf_dir` (no network, no torch needed
  for safetensors)."""
  cfg = read_config(hf_dir)
  spec = spec_from_hf(cfg, os.path.join(hf_dir, CONFIG))
  tensors, where = read_tensors(hf_dir)
  params, used, unused = convert(tensors, spec, cfg["model_type"], where)
  return Imported(spec, params, cfg["model_type"], where, used, unused)


def load(hf_dir: str) -> tuple[EncoderModel, dict]:
  """`(model, variables)` for an HF FNet/BERT checkpoint directory.

  `model.apply(variables, input_ids, type_ids, mask=None, deterministic=True)` returns
  {'sequence_output': [B, N, d], 'pooled_output': [B, d]}, equal to HF's `last_hidden_state`
  and `pooler_output`.
  """
  imported = import_checkpoint(hf_dir)
  variables = {"params": jax.tree.map(jnp.asarray, imported.params)}
  return EncoderModel(imported.spec), variables
