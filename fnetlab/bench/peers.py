"""The Hugging Face PyTorch peer of `fnetlab bench --peer=hf`.

Times one train step (forward, backward, AdamW) of `transformers.FNetForSequenceClassification`
(for our `fourier` rows) and `BertForSequenceClassification` (for `attention`) built at the
same config as ours: layers, width, FFN width, vocabulary, max length = N, type vocabulary,
LayerNorm epsilon, hidden dropout, the same batch of token ids, and torch AdamW with the
bench config's `optim` settings (peak learning rate, betas, epsilon, decoupled weight decay)
and its global-norm gradient clipping when `optim.clip_norm > 0`. The learning rate stays at
its peak (a schedule changes a value, not the work of a step). Eager PyTorch, as users run it.

Known differences, all small next to a step: HF FNet computes `fftn(x).real` on the complex
spectrum (we use the real-input half spectrum); HF heads are `pooler -> dropout -> Dense`, ours
may add LRA's `Dense(d_ff)-ReLU` (one B x d x d_ff matmul); HF BERT has no embedding projection
and uses exact GELU (our encoder's attention rows keep the FNet embedding projection and the
config's activation). Attention dropout is 0 on both sides. torch is an optional extra
(`pip install -e '.[peer]'`); without it the command stops with a one-line error.
"""

from __future__ import annotations

from collections.abc import Callable

from fnetlab.bench.jobs import Job, classify_error, warm_up
from fnetlab.common.errors import UserError
from fnetlab.models import ModelSpec
from fnetlab.results.bench import empty_row

PEERS = ("hf",)


def require_torch():
  """(torch, transformers), or a UserError naming the missing package and the extra."""
  try:
    import torch
    import transformers
  except ImportError as e:
    missing = getattr(e, "name", None) or "torch/transformers"
    raise UserError(
      f"--peer=hf needs torch and transformers ({missing} is not installed): "
      "pip install -e '.[peer]'"
    ) from None
  return torch, transformers


def hf_model(spec: ModelSpec, kind: str, transformers):
  """An HF sequence classifier matching `spec`: FNet for kind='fourier', BERT for 'attention'."""
  common = dict(
    vocab_size=spec.vocab_size,
    hidden_size=spec.d_model,
    num_hidden_layers=spec.num_layers,
    intermediate_size=spec.d_ff,
    hidden_dropout_prob=spec.dropout_rate,
    max_position_embeddings=spec.max_len,
    type_vocab_size=max(spec.type_vocab_size, 1),
    layer_norm_eps=spec.ln_eps,
    num_labels=max(spec.num_classes, 2),
  )
  if kind == "fourier":
    config = transformers.FNetConfig(
      **common, hidden_act="gelu_new", use_tpu_fourier_optimizations=False
    )
    return transformers.FNetForSequenceClassification(config)
  config = transformers.BertConfig(
    **common,
    num_attention_heads=spec.num_heads,
    hidden_act="gelu",
    attention_probs_dropout_prob=0.0,
    attn_implementation="sdpa",
  )
  return transformers.BertForSequenceClassification(config)


def prepare_hf(label: str, spec: ModelSpec, batch: dict, config, *, warmup: int = 2) -> Job:
  """Builds the HF peer of `spec.mixer` for host `batch` ({inputs, label}) under the train
  config `config` (its `optim` section) and warms it up; `jobs.time_jobs` times it."""
  torch, transformers = require_torch()
  row = empty_row(
    mixer=label,
    impl="hf-torch",
    seq_len=batch["inputs"].shape[1],
    batch=batch["inputs"].shape[0],
    dtype=spec.dtype,
    repeats=0,
  )
  job = Job(row)
  try:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    model = hf_model(spec, spec.mixer, transformers).to(device).train()
    row["params"] = sum(p.numel() for p in model.parameters())
    optim = config.optim
    opt = torch.optim.AdamW(
      model.parameters(),
      lr=optim.lr,
      betas=(optim.b1, optim.b2),
      eps=optim.eps,
      weight_decay=optim.weight_decay,
    )
    clip = float(optim.clip_norm or 0)
    ids = torch.from_numpy(batch["inputs"]).long().to(device)
    labels = torch.from_numpy(batch["label"]).long().to(device)
    bf16 = spec.dtype == "bfloat16"
  except Exception as e:  # a failing peer is a row, not a crash
    row["status"] = classify_error(e)
    return job

  def run():
    with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
      loss = model(input_ids=ids, labels=labels).loss
    loss.backward()
    if clip > 0:
      torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    opt.zero_grad(set_to_none=True)
    if device == "cuda":
      torch.cuda.synchronize()

  job.run = run
  if device == "cuda":
    torch.cuda.reset_peak_memory_stats()
  warm_up(job, warmup)
  if device == "cuda":
    row["peak_bytes"] = torch.cuda.max_memory_allocated()
  return job


def runner(name: str, task: str) -> Callable[..., Job]:
  """The prepare function of peer `name`; checks that torch is importable up front."""
  if name not in PEERS:
    raise UserError(f"--peer={name!r}; valid: {', '.join(PEERS)}")
  if task != "classify":
    raise UserError(f"--peer=hf compares encoder classifiers; this config has task={task!r}")
  require_torch()
  return prepare_hf
