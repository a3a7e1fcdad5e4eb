"""The shared model and budget of the offline CPU suite's configs (configs/suite/*.py).

One block, one size and one optimiser for every mixer of a task, so that within a task the
mixers differ in the mixing sublayer alone:
- `block='fnet'` (the default): the FNet paper's encoder, which `fnetlab.config.base` sets
  up (post-LayerNorm blocks, embeddings with LayerNorm and projection, N(0, 0.02²) token and
  position tables, tanh pooler), at the `tiny` size (2 layers, d 64, d_ff 128, 2 heads);
  `block='lra'` puts every mixer in the official LRA Transformer block instead
  (`fnetlab.models.LRA_ENCODER`: pre-LayerNorm, N(0, 1) token table, LRA head). At these
  budgets the LRA block learns much more slowly on every task we tried (its N(0, 1) token
  embedding swamps the N(0, 0.02²) positions, and the unnormalised FFT of the Fourier mixer
  adds O(sqrt(N·d)) to a pre-LN residual stream), so the suite uses the FNet block;
- no dropout (budgets of a few hundred steps);
- AdamW (0.9, 0.98, 1e-9), linear warmup over 10% of the steps then linear decay, weight
  decay 0.01, global-norm clipping 1.0, and one peak learning rate per task for every mixer,
  not tuned per mixer (a mixer that would prefer another rate is disadvantaged);
- evaluation on the whole validation and test splits (`max_eval_examples=-1`).

These are CPU-scale settings chosen to fit this 2-core machine; results on them are a
CPU-scale suite, not LRA numbers.
"""

from __future__ import annotations

import ml_collections

BLOCKS = ("fnet", "lra")


def apply_cpu_suite(
  c: ml_collections.ConfigDict, steps: int, lr: float, batch: int = 32, block: str = "fnet"
) -> None:
  """Sets the suite's block, size, optimiser, budget and evaluation on config `c` in place."""
  if block not in BLOCKS:
    raise ValueError(f"config arg block={block!r}; valid: {', '.join(BLOCKS)}")
  if block == "lra":
    from fnetlab.models import LRA_ENCODER

    c.model.update(LRA_ENCODER)
    c.model.attention_dropout = 0.0
  c.model.size = "tiny"
  for key in ("num_layers", "d_model", "d_ff", "num_heads"):
    c.model[key] = None  # dimensions come from the tiny size
  c.model.dropout_rate = 0.0
  c.train.steps = steps
  c.train.batch_size = batch
  c.train.eval_batch_size = 128
  c.train.log_every = max(steps // 20, 1)  # 20 points per learning curve
  c.train.eval_every = max(steps // 4, 1)
  c.train.checkpoint_every = steps  # one checkpoint, at the end
  c.train.max_eval_examples = -1  # the whole split
  c.train.async_checkpoints = False
  c.optim.lr = lr
  c.optim.schedule = "linear"
  c.optim.warmup_steps = max(steps // 10, 1)
  c.optim.weight_decay = 0.01
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.98, 1e-9
  c.optim.clip_norm = 1.0
