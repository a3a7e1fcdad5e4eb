"""`fnetlab.convert.hf` / `fnetlab import-hf` against transformers' FNetModel and BertModel.

The oracle is transformers' own PyTorch implementation: small random models are saved to disk,
imported, and must reproduce HF's sequence and pooled outputs to 1e-4. Every HF parameter is
re-drawn at random first, so a swapped, untransposed or mis-reshaped tensor cannot hide behind
HF's ones/zeros initialisation of LayerNorms and biases.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: tests never download

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

from fnetlab import cli  # noqa: E402
from fnetlab.common import checkpoints  # noqa: E402
from fnetlab.common import workdir as files  # noqa: E402
from fnetlab.common.errors import UserError  # noqa: E402
from fnetlab.convert import hf  # noqa: E402
from fnetlab.models import EncoderModel, spec_from_config  # noqa: E402

VOCAB, LENGTH, BATCH = 100, 16, 3
SMALL = dict(
  vocab_size=VOCAB,
  hidden_size=32,
  num_hidden_layers=2,
  intermediate_size=64,
  max_position_embeddings=64,
)


def hf_model(arch: str, pretraining: bool = False, **extra):
  """A random small HF model in eval mode; `pretraining` adds the `fnet.`/`bert.` prefix."""
  if arch == "fnet":
    config = transformers.FNetConfig(type_vocab_size=4, **SMALL, **extra)
    cls = transformers.FNetForPreTraining if pretraining else transformers.FNetModel
  else:
    config = transformers.BertConfig(type_vocab_size=2, num_attention_heads=4, **SMALL, **extra)
    cls = transformers.BertForPreTraining if pretraining else transformers.BertModel
  torch.manual_seed(0)
  model = cls(config).eval()
  with torch.no_grad():
    for name, p in model.named_parameters():
      p.copy_(0.2 * torch.randn_like(p) + (1.0 if name.endswith("LayerNorm.weight") else 0.0))
  return model


def save(model, path, fmt: str, legacy_names: bool = False) -> str:
  os.makedirs(path, exist_ok=True)
  if fmt == "bin":
    # transformers 5 writes safetensors even with safe_serialization=False; a pickled state
    # dict is what transformers 4 (and bert-base-uncased's pytorch_model.bin) holds.
    model.config.save_pretrained(path)
    state = model.state_dict()
    if legacy_names:  # the original BERT conversion's LayerNorm names
      rename = {"LayerNorm.weight": "LayerNorm.gamma", "LayerNorm.bias": "LayerNorm.beta"}
      state = {
        next((k.replace(a, b) for a, b in rename.items() if k.endswith(a)), k): v
        for k, v in state.items()
      }
    torch.save(state, os.path.join(path, "pytorch_model.bin"))
  elif fmt == "sharded":
    model.save_pretrained(path, max_shard_size="20KB")
    assert os.path.exists(os.path.join(path, "model.safetensors.index.json"))
  else:
    model.save_pretrained(path)
  return str(path)


def inputs(type_vocab: int, seed: int = 0):
  rng = np.random.default_rng(seed)
  ids = rng.integers(0, VOCAB, (BATCH, LENGTH))
  type_ids = rng.integers(0, type_vocab, (BATCH, LENGTH))
  mask = np.arange(LENGTH)[None, :] < np.array([LENGTH, 11, 5])[:, None]  # padded on the right
  return ids, type_ids, mask


def reference(model, ids, type_ids=None, mask=None):
  base = getattr(model, model.base_model_prefix, model)
  kwargs = {"input_ids": torch.tensor(ids)}
  if type_ids is not None:
    kwargs["token_type_ids"] = torch.tensor(type_ids)
  if mask is not None:
    kwargs["attention_mask"] = torch.tensor(mask.astype(np.int64))
  with torch.no_grad():
    out = base(**kwargs)
  return out.last_hidden_state.numpy(), out.pooler_output.numpy()


def max_diffs(ours, ref, mask=None):
  seq = np.abs(np.asarray(ours["sequence_output"]) - ref[0])
  seq = seq[mask] if mask is not None else seq  # padded positions are don't-cares
  return float(seq.max()), float(np.abs(np.asarray(ours["pooled_output"]) - ref[1]).max())


CASES = {
  "fnet-safetensors": dict(arch="fnet", fmt="safetensors"),
  # Prefixed keys, MLM/NSP heads and HF's DFT-matrix buffers (complex) to skip.
  "fnet-bin-pretraining-dft": dict(
    arch="fnet",
    fmt="bin",
    pretraining=True,
    extra=dict(use_tpu_fourier_optimizations=True, tpu_short_seq_length=LENGTH),
  ),
  "bert-safetensors-sharded": dict(arch="bert", fmt="sharded"),
  "bert-bin-pretraining-gamma-beta": dict(
    arch="bert", fmt="bin", pretraining=True, legacy_names=True
  ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_parity_with_transformers(case, tmp_path):
  c = CASES[case]
  model = hf_model(c["arch"], c.get("pretraining", False), **c.get("extra", {}))
  path = save(model, tmp_path / "hf", c["fmt"], c.get("legacy_names", False))
  ours, variables = hf.load(path)
  ids, type_ids, mask = inputs(model.config.type_vocab_size)

  # A user's call, with random token types; BERT also with right padding.
  mask = mask if c["arch"] == "bert" else None
  if mask is None:
    out = ours.apply(variables, ids, type_ids, deterministic=True)
  else:
    out = ours.apply(variables, ids, type_ids, mask=mask, deterministic=True)
  seq, pooled = max_diffs(out, reference(model, ids, type_ids, mask), mask)
  assert out["sequence_output"].shape == (BATCH, LENGTH, 32)
  assert out["pooled_output"].shape == (BATCH, 32)
  assert seq < 1e-4 and pooled < 1e-4, (seq, pooled)

  # Defaults on both sides: no token types (zeros), no mask.
  out = ours.apply(variables, ids, deterministic=True)
  seq, pooled = max_diffs(out, reference(model, ids))
  assert seq < 1e-4 and pooled < 1e-4, (seq, pooled)


def test_spec_mirrors_the_hf_architecture(tmp_path):
  fnet = hf.spec_from_hf(hf_model("fnet").config.to_dict())
  assert (fnet.mixer, fnet.activation, fnet.embed_projection, fnet.type_vocab_size) == (
    "fourier",
    "gelu",
    True,
    4,
  )
  bert = hf.spec_from_hf(hf_model("bert").config.to_dict())
  assert (bert.mixer, bert.activation, bert.embed_projection, bert.type_vocab_size) == (
    "attention",
    "gelu_exact",
    False,
    2,
  )
  assert bert.num_heads == 4 and bert.mixer_options == ()  # heads are a model field
  assert (bert.num_layers, bert.d_model, bert.d_ff, bert.max_len) == (2, 32, 64, 64)


def test_cli_checkpoint_rebuilds_the_encoder(tmp_path, capsys):
  model = hf_model("bert")
  src = save(model, tmp_path / "hf", "safetensors")
  out_dir = str(tmp_path / "out")
  argv = ["fnetlab", "import-hf", f"--hf_dir={src}", f"--workdir={out_dir}"]
  assert cli.main(argv) == 0
  summary = capsys.readouterr().out.strip()
  assert len(summary.splitlines()) == 1 and "tensors converted" in summary

  params, step = checkpoints.load_params(out_dir)
  config = files.read_config(out_dir)
  assert step == 0 and config["source"]["model_type"] == "bert"
  spec = spec_from_config(config["model"])
  assert spec == hf.spec_from_hf(model.config.to_dict())
  assert set(params) == {"backbone"}
  assert checkpoints.tree_size(params) == int(sum(p.numel() for p in model.parameters()))

  ids, type_ids, mask = inputs(2, seed=1)
  out = EncoderModel(spec).apply({"params": params["backbone"]}, ids, type_ids, mask=mask)
  seq, pooled = max_diffs(out, reference(model, ids, type_ids, mask), mask)
  assert seq < 1e-4 and pooled < 1e-4, (seq, pooled)

  # A second import into the same workdir is refused unless asked for.
  assert cli.main(argv) == 2
  assert "--overwrite" in capsys.readouterr().err
  assert cli.main(argv + ["--overwrite"]) == 0


@pytest.fixture(scope="module")
def fnet_dir(tmp_path_factory):
  return save(hf_model("fnet"), tmp_path_factory.mktemp("fnet"), "safetensors")


def edited_copy(src, dst, edit) -> str:
  """A copy of the checkpoint in `src` with its safetensors tensors passed through `edit`."""
  os.makedirs(dst)
  shutil.copy(os.path.join(src, "config.json"), dst)
  tensors = safetensors_numpy.load_file(os.path.join(src, "model.safetensors"))
  edit(tensors)
  safetensors_numpy.save_file(tensors, os.path.join(dst, "model.safetensors"))
  return str(dst)


KEY = "encoder.layer.1.output.dense.weight"


def test_missing_tensor_is_named(fnet_dir, tmp_path):
  path = edited_copy(fnet_dir, tmp_path / "bad", lambda t: t.pop(KEY))
  with pytest.raises(UserError, match=rf"^{KEY}: missing from .*model\.safetensors"):
    hf.load(path)


def test_misshaped_tensor_is_named(fnet_dir, tmp_path):
  def shrink(t):
    t[KEY] = np.ascontiguousarray(t[KEY][:, :60])

  path = edited_copy(fnet_dir, tmp_path / "bad", shrink)
  with pytest.raises(UserError, match=rf"^{KEY}: expected \(32, 64\), got \(32, 60\)"):
    hf.load(path)


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
def test_truncated_file_is_named_and_cli_exits_2(fmt, fnet_dir, tmp_path, capsys):
  path = tmp_path / "bad"
  if fmt == "bin":
    save(hf_model("fnet"), path, "bin")
    name = "pytorch_model.bin"
  else:
    shutil.copytree(fnet_dir, path)
    name = "model.safetensors"
  data = (path / name).read_bytes()
  (path / name).write_bytes(data[: len(data) // 2])
  with pytest.raises(UserError, match=rf"{name}: unreadable"):
    hf.load(str(path))
  argv = ["fnetlab", "import-hf", f"--hf_dir={path}", f"--workdir={tmp_path / 'out'}"]
  assert cli.main(argv) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and name in err
  assert not os.path.exists(tmp_path / "out")


def test_unsupported_config_is_named(fnet_dir, tmp_path):
  path = tmp_path / "roberta"
  shutil.copytree(fnet_dir, path)
  config = json.loads((path / "config.json").read_text())
  (path / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
  with pytest.raises(UserError, match=r"config\.json: model_type='roberta'"):
    hf.load(str(path))
  with pytest.raises(UserError, match=r"config\.json not found"):
    hf.load(str(tmp_path / "nowhere"))


def test_bfloat16_safetensors_are_read_as_float32(fnet_dir, tmp_path):
  from safetensors.torch import load_file, save_file

  path = tmp_path / "bf16"
  shutil.copytree(fnet_dir, path)
  state = load_file(str(path / "model.safetensors"))
  state = {k: v.to(torch.bfloat16) for k, v in state.items()}
  save_file(state, str(path / "model.safetensors"))
  _, variables = hf.load(str(path))
  got = variables["params"]["encoder"]["embeddings"]["word"]["embedding"]
  want = state["embeddings.word_embeddings.weight"].float().numpy()
  assert got.dtype == np.float32
  np.testing.assert_array_equal(np.asarray(got), want)
