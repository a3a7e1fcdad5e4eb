"""Bench config: char-level causal LMs at the WorkerTransformer reference settings (seed 003).

4 layers, d 256, 4 heads, FFN 1024, dropout 0.1, vocabulary 65, block 1024, batch 16, and
the optimiser of configs/lm/shakespeare.py (AdamW 3e-4 constant, clip 1.0). Every model is a `Decoder` with the same next-token loss over all positions;
positions come from RoPE inside `attention` and `worker` (model positions 'none'). The
goal compares `worker` (k=4) with causal attention (fused `jax.nn.dot_product_attention`)
at block 1024. Launch:

  fnetlab bench --config=configs/bench/worker_shakespeare.py \
    --mixers=worker,attention,spectral,lsra,ff_only --seq_lens=256,512,1024 --batch=16 \
    --out=reports/bench/worker_shakespeare

Args (`:bf16`): bf16 sets dtype=bfloat16.
"""

import ml_collections

from fnetlab.config import base


def get_config(arg=None):
  args = set((arg or "").split(","))
  config = ml_collections.ConfigDict()
  config.task = "lm"  # Decoder + next-token cross-entropy at every position
  config.model = ml_collections.ConfigDict(
    dict(
      num_layers=4,  # reference: 4 layers
      d_model=256,  # reference: d 256
      d_ff=1024,  # reference: FFN 1024 (the worker block's own FFN too)
      num_heads=4,  # reference: 4 heads
      vocab_size=65,  # TinyShakespeare characters
      type_vocab_size=0,  # a decoder has no token types
      positions="none",  # RoPE inside attention / worker; the rest get no positions
      norm="pre",  # pre-LN, as decoders usually are (the worker block has its own norms)
      dropout_rate=0.1,  # reference dropout
      dtype="float32",  # activation dtype; --dtype or :bf16 overrides
    )
  )
  config.mixer_options = ml_collections.ConfigDict(
    dict(
      worker=dict(interval=4, gate="elementwise"),  # k=4, gated attention, as the seed
      attention=dict(rope=True),  # the baseline: causal, fused SDPA, RoPE, no gate
      spectral=dict(mode="causal"),  # Hyena-style causal filter
      lsra=dict(kernel_size=7),  # Lite Transformer, causal (left padded)
    )
  )
  config.variants = ml_collections.ConfigDict(
    dict(
      worker_k8=dict(mixer="worker", interval=8),  # sparser workers
      attention_gated=dict(mixer="attention", rope=True, gate="elementwise"),
    )
  )
  config.mixers = "worker,attention,spectral,lsra,ff_only"  # --mixers
  config.seq_lens = "256,512,1024"  # --seq_lens; 1024 is the reference block
  config.batch = 16  # --batch: the reference batch
  config.warmup = 2  # untimed steps after compiling
  config.repeats = 10  # timed steps; the median is reported
  config.max_seconds_per_row = 60.0  # fewer repeats for rows slower than this
  config.dtype = "bfloat16" if "bf16" in args else "float32"  # --dtype
  config.notes = ()  # extra lines for the bench.md header
  config.seed = 0  # init, dropout and the random ids

  # The train step's settings, as configs/lm/shakespeare.py (the skeleton's keys).
  skeleton = base("synthetic", {}, {})
  config.optim = skeleton.optim
  config.optim.lr = 3e-4  # reference AdamW
  config.optim.schedule = "constant"  # reference: no schedule
  config.optim.warmup_steps = 0
  config.optim.weight_decay = 0.01  # torch AdamW default (the reference does not set it)
  config.optim.clip_norm = 1.0  # reference
  config.train = skeleton.train  # train.batch_size is replaced by --batch / config.batch
  config.train.steps = 2000  # the schedule's horizon
  config.train.grad_accum = 1  # micro-batches per step
  config.mesh = skeleton.mesh  # data x fsdp device mesh
  return config
