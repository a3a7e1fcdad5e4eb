"""The encoder set-up that GLUE fine-tuning and MLM + NSP pretraining share: a tokenizer and
a `ModelSpec`, optionally continued from another workdir.

Continuation (`init_from`): with `init_inherit` (the default) the encoder architecture is
taken from the `init_from` workdir's config.json (written by `fnetlab train` or `fnetlab
import-hf`) and written back into `config.model`, so the fine-tuning workdir's config.json
records the model that was trained; only the head fields (`dropout_rate`, `dtype`,
`head_hidden`, `num_classes`, and the pooling: `pooling`, `pool_masked`, `pooler_dense`)
stay ours. Empty `data.sentencepiece` and `data.wordpiece` likewise inherit the tokenizer:
the pretraining run's, or `spiece.model` (SentencePiece) or `vocab.txt` (BERT WordPiece,
with `do_lower_case` from tokenizer_config.json) in the directory `import-hf` read.
"""

from __future__ import annotations

import dataclasses
import logging
import os

from fnetlab.common.errors import UserError
from fnetlab.data import tokenizer as tokenization
from fnetlab.models import ModelSpec, spec_from_config

# The fine-tune's own choices: the head, and how it pools (a sentence encoder such as
# all-MiniLM-L6-v2 was trained for mean pooling; its checkpoint's CLS pooler is untrained).
HEAD_FIELDS = (
  "dropout_rate",
  "dtype",
  "head_hidden",
  "num_classes",
  "pooling",
  "pool_masked",
  "pooler_dense",
)


def _init_config(config) -> dict | None:
  """The init_from workdir's config.json, or None (no init_from, or the file is gone: the
  architecture written back into config.model at training time then stands). A config.json
  that is there but unreadable is a UserError naming it, never a silent fall-back to the
  run's own model keys."""
  if not config.get("init_from"):
    return None
  from fnetlab.common import workdir as files

  where = files.split_at(config.init_from)[0]  # WORKDIR[@best|@step]
  return files.read_config(where, required=False) or None


def _inherited_tokenizer(init: dict, init_from: str) -> dict:
  """The data keys of the init_from workdir's tokenizer: `sentencepiece` ('' = byte-level) or
  `wordpiece`, and `lower_case` where known."""
  if "source" in init:  # written by `fnetlab import-hf`
    hf_dir = init["source"].get("hf_dir", "")
    path = os.path.join(hf_dir, "spiece.model")
    if os.path.isfile(path):
      return {"sentencepiece": path}
    vocab = os.path.join(hf_dir, "vocab.txt")
    if os.path.isfile(vocab):
      return {"wordpiece": vocab, "lower_case": _hf_lower_case(hf_dir)}
    raise UserError(
      f"init_from {init_from}: its Hugging Face directory {hf_dir} has neither spiece.model "
      "nor vocab.txt; set data.sentencepiece or data.wordpiece"
    )
  data = init.get("data", {})
  out = {"sentencepiece": data.get("sentencepiece", ""), "lower_case": data.get("lower_case")}
  if data.get("wordpiece"):
    out["wordpiece"] = data["wordpiece"]
  return {k: v for k, v in out.items() if v is not None}


def _hf_lower_case(hf_dir: str) -> bool:
  """`do_lower_case` of the directory's tokenizer_config.json (BERT's default: true)."""
  import json

  try:
    with open(os.path.join(hf_dir, "tokenizer_config.json")) as f:
      return bool(json.load(f).get("do_lower_case", True))
  except (OSError, ValueError, AttributeError):
    return True


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
  if inherit and not data.sentencepiece and not data.get("wordpiece"):
    with config.unlocked():
      data.update(_inherited_tokenizer(init, config.init_from))
  tok = tokenization.from_config(data)
  model = config.model.to_dict()
  if inherit:
    src = init.get("model") or {}
    if not src:
      raise UserError(f"init_from {config.init_from}: its config.json has no model block")
    if "vocab_size" in src and int(src["vocab_size"]) != tok.vocab_size:
      raise UserError(
        f"init_from {config.init_from}: its vocabulary has {src['vocab_size']} ids but the "
        f"tokenizer ({getattr(tok, 'path', 'byte-level')}) has {tok.vocab_size}; set "
        "data.sentencepiece to the checkpoint's SentencePiece model"
      )
    try:
      arch = spec_dict(spec_from_config({**src, "vocab_size": tok.vocab_size}))
    except UserError as e:
      raise UserError(f"init_from {config.init_from}/config.json: {e}") from None
    model.update({k: v for k, v in arch.items() if k not in HEAD_FIELDS})
    logging.info("model architecture from init_from %s: %s", config.init_from, arch)
  elif model.get("vocab_size") not in (None, tok.vocab_size):
    raise UserError(
      f"config key model.vocab_size={model['vocab_size']} does not match the tokenizer's "
      f"{tok.vocab_size} ids ({getattr(tok, 'path', 'byte-level')})"
    )
  model["vocab_size"] = tok.vocab_size
  spec = spec_from_config(model, **overrides)
  with config.unlocked():
    for key, value in spec_dict(spec).items():
      config.model[key] = value
  return tok, spec


def check_length(config, spec: ModelSpec) -> int:
  max_len = int(config.data.max_len)
  if spec.resolved_positions == "learned" and max_len > spec.max_len:
    raise UserError(
      f"config key data.max_len={max_len} exceeds model.max_len={spec.max_len} "
      "(the learned position table)"
    )
  return max_len
