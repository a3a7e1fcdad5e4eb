"""Bench config: char-level causal LMs at the WorkerTransformer reference settings (seed 003).

An ordinary train config of the `synthetic` task with a `bench` section (see
configs/bench/lra_text.py). 4 layers, d 256, 4 heads, FFN 1024 (size small), dropout 0.1,
vocabulary 65, block 1024, batch 16, and the optimiser of configs/lm/shakespeare.py (AdamW 3e-4
constant, clip 1.0). Every model is a `Decoder` with the same next-token loss over all
positions; positions come from RoPE inside `attention` (model.rope) and `worker` (model
positions 'none' for every mixer). Each mixer runs in its declared causal form: the worker at
k=4 with the elementwise gate (its defaults, the seed's), the spectral mixer in its causal
mode, LSRA left-padded (kernel 7). The goal compares `worker` (k=4) with causal attention
(fused `jax.nn.dot_product_attention`) at block 1024. Launch:

  fnetlab bench --config=configs/bench/worker_shakespeare.py \
    --mixers=worker,attention,spectral,lsra,ff_only --seq_lens=256,512,1024 --batch=16 \
    --out=reports/bench/worker_shakespeare

Args (`:bf16`): bf16 sets model.dtype=bfloat16; mixer= and size= as in every config.
"""

from fnetlab.config import base, parse_arg


def get_config(arg=None):
  values, mixer_options = parse_arg(arg, {"mixer": "worker", "size": "small", "bf16": False})
  c = base("synthetic", values, mixer_options)
  c.data.kind = "lm"  # Decoder + next-token cross-entropy at every position
  c.data.num_examples = 0  # rows per split; 0: train.batch_size (the bench sets it)
  c.data.seq_len = 0  # ids per row; 0: model.max_len (the bench sets both to N)

  # size small = the reference: 4 layers, d 256, FFN 1024 (the worker block's own too), 4 heads
  c.model.vocab_size = 65  # TinyShakespeare characters
  c.model.type_vocab_size = 0  # a decoder has no token types
  c.model.positions = "none"  # RoPE inside attention / worker; the rest get no positions
  c.model.rope = True  # the attention baseline: causal, fused SDPA, RoPE, no gate
  c.model.norm = "pre"  # pre-LN, as decoders usually are (the worker block has its own norms)
  c.model.dropout_rate = 0.1  # reference dropout
  c.model.dtype = "bfloat16" if values["bf16"] else "float32"  # --dtype overrides

  # The train step's settings, as configs/lm/shakespeare.py.
  c.optim.lr = 3e-4  # reference AdamW
  c.optim.schedule = "constant"  # reference: no schedule
  c.optim.warmup_steps = 0
  c.optim.weight_decay = 0.01  # torch AdamW default (the reference does not set it)
  c.optim.clip_norm = 1.0  # reference
  c.train.steps = 2000  # the schedule's horizon (train.batch_size is the bench's --batch)

  c.bench = dict(
    mixers="worker,attention,spectral,lsra,ff_only",  # --mixers
    seq_lens="256,512,1024",  # --seq_lens; 1024 is the reference block
    batch=16,  # --batch: the reference batch
    warmup=2,  # untimed steps after compiling
    repeats=10,  # timed steps; the median is reported
    max_seconds_per_row=60.0,  # fewer repeats for rows slower than this
    notes=(),  # extra lines for the bench.md header
    # Extra labels for --mixers: config overrides, nested by key.
    variants=dict(
      worker_k8=dict(model=dict(mixer="worker", mixer_options=dict(interval=8))),  # sparser
      attention_gated=dict(model=dict(mixer="attention", mixer_options=dict(gate="elementwise"))),
    ),
  )
  return c
