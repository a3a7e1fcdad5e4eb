"""Bench config: the LRA Text dimensions (4 layers, d 256, d_ff 1024, 4 heads, byte vocabulary).

An ordinary train config of the `synthetic` task (random ids, fnetlab/tasks/synthetic.py)
with a `bench` section: `fnetlab bench` sets each row's mixer (or variant), length and batch as
overrides and times this config's own train step. The dimensions (size `small`) and optimiser
are LRA's official Text config (as configs/lra/text.py); every mixer is benchmarked in this
same classifier. Launch (the full grid; CPU runs use shorter lists, see
reports/bench/lra_text/bench.md for the exact command each report came from):

  fnetlab bench --config=configs/bench/lra_text.py \
    --mixers=fourier,attention,spectral,spectral_elastic,lsra,ff_only,linear \
    --seq_lens=256,512,1024,2048,4096,8192 --batch=8 --out=reports/bench/lra_text

Every mixer runs in its defaults: `spectral` is the seeds' fixed SpectralMixer (parameters grow
with N) and `fourier` the real-input FFT path (the CPU/GPU default).

Args (`configs/bench/lra_text.py:bf16`): `bf16` sets model.dtype=bfloat16 (the GPU setting);
mixer= and size= as in every config, plus any option of the chosen mixer.
"""

import os

from fnetlab.common.config import load_module
from fnetlab.config import base, parse_arg

LRA_TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "lra", "text.py")


def get_config(arg=None):
  values, mixer_options = parse_arg(arg, {"mixer": "fourier", "size": "small", "bf16": False})
  c = base("synthetic", values, mixer_options)
  c.data.kind = "classify"  # Classifier + cross-entropy; 'lm' benches a causal Decoder
  c.data.num_examples = 0  # rows per split; 0: train.batch_size (the bench sets it)
  c.data.seq_len = 0  # ids per row; 0: model.max_len (the bench sets both to N)

  # size small = LRA Text: 4 layers, d 256 (qkv 256), FFN 1024, 4 heads
  c.model.vocab_size = 257  # bytes + 1 (0 is padding)
  c.model.type_vocab_size = 0  # LRA has no token types
  c.model.positions = "learned"  # the table grows with N: each model is built for its length
  c.model.pooling = "cls"  # LRA pools the first token
  c.model.pooler_dense = False  # LRA has no tanh pooler ...
  c.model.head_hidden = 1024  # ... but a Dense(d_ff)-ReLU head before the logits
  c.model.num_classes = 2  # IMDB sentiment
  c.model.dropout_rate = 0.1  # LRA Text dropout
  c.model.dtype = "bfloat16" if values["bf16"] else "float32"  # --dtype overrides

  # The train step's settings: configs/lra/text.py's own optimiser (official LRA Text).
  c.optim = load_module(LRA_TEXT).get_config().optim
  c.train.steps = 20000  # the schedule's horizon (train.batch_size is the bench's --batch)

  c.bench = dict(
    mixers="fourier,attention,spectral,spectral_elastic,lsra,ff_only,linear",  # --mixers
    seq_lens="256,512,1024,2048,4096,8192",  # --seq_lens
    batch=8,  # --batch: the performance goals are stated at B=8, N=512
    warmup=2,  # untimed steps after compiling
    repeats=10,  # timed steps; the median is reported
    max_seconds_per_row=60.0,  # fewer repeats for rows slower than this
    notes=(),  # extra lines for the bench.md header
    # Extra labels for --mixers: config overrides, nested by key.
    variants=dict(
      spectral_elastic=dict(model=dict(mixer="spectral", mixer_options=dict(mode="elastic"))),
      fourier_dft=dict(model=dict(mixer="fourier", mixer_options=dict(impl="dft"))),  # TPU path
      fnet_hybrid=dict(model=dict(mixer="fourier", hybrid="top", hybrid_layers=2)),
      # flax's threefry dropout masks instead of the counter hash (docs/performance.md)
      fourier_threefry=dict(model=dict(mixer="fourier", dropout_impl="threefry")),
      ff_only_threefry=dict(model=dict(mixer="ff_only", dropout_impl="threefry")),
      # the explicit N x N attention instead of the platform's default kernel (docs/attention.md)
      attention_explicit=dict(model=dict(mixer="attention", mixer_options=dict(kernel="explicit"))),
    ),
  )
  return c
