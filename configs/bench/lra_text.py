"""Bench config: the LRA Text encoder (4 layers, d 256, d_ff 1024, 4 heads, byte vocabulary).

The dimensions and optimiser are LRA's official Text config (as configs/lra/text.py); every
mixer is benchmarked in this same classifier, with `fnetlab train`'s own train step. Launch (the issue's full grid; CPU runs use shorter lists, see
reports/bench/lra_text/bench.md for the exact command each report came from):

  fnetlab bench --config=configs/bench/lra_text.py \
    --mixers=fourier,attention,spectral,spectral_elastic,lsra,ff_only,linear \
    --seq_lens=256,512,1024,2048,4096,8192 --batch=8 --out=reports/bench/lra_text

Args (`configs/bench/lra_text.py:bf16`): `bf16` sets dtype=bfloat16 (the GPU setting).
"""

import ml_collections

from fnetlab.config import base


def get_config(arg=None):
  args = set((arg or "").split(","))
  config = ml_collections.ConfigDict()
  config.task = "classify"  # Classifier + cross-entropy; 'lm' benches a causal Decoder
  config.model = ml_collections.ConfigDict(
    dict(
      size="small",  # fills any dimension left 0 below
      num_layers=4,  # LRA Text: 4 layers
      d_model=256,  # LRA Text: d 256 (qkv 256)
      d_ff=1024,  # LRA Text: FFN 1024
      num_heads=4,  # LRA Text: 4 heads (used by attention / lsra)
      vocab_size=257,  # bytes + 1 (0 is padding)
      type_vocab_size=0,  # LRA has no token types
      positions="learned",  # the table grows with N: each model is built for its length
      pooling="cls",  # LRA pools the first token
      pooler_dense=False,  # LRA has no tanh pooler ...
      head_hidden=1024,  # ... but a Dense(d_ff)-ReLU head before the logits
      num_classes=2,  # IMDB sentiment
      dropout_rate=0.1,  # LRA Text dropout
      dtype="float32",  # activation dtype; --dtype overrides
    )
  )
  # Options per mixer name, applied to every label that uses that mixer.
  config.mixer_options = ml_collections.ConfigDict(
    dict(
      spectral=dict(mode="fixed"),  # the seeds' SpectralMixer (params grow with N)
      fourier=dict(impl="fft"),  # the real-input FFT path (the CPU/GPU default)
    )
  )
  # Extra labels for --mixers: a mixer name plus its options / model-field overrides.
  config.variants = ml_collections.ConfigDict(
    dict(
      spectral_elastic=dict(mixer="spectral", mode="elastic"),  # params constant in N
      fourier_dft=dict(mixer="fourier", impl="dft"),  # the official TPU matmul path
      fnet_hybrid=dict(mixer="fourier", hybrid="top", hybrid_layers=2),  # attention on top 2
      # flax's threefry dropout masks instead of the counter hash (docs/performance.md)
      fourier_threefry=dict(mixer="fourier", dropout_impl="threefry"),
      ff_only_threefry=dict(mixer="ff_only", dropout_impl="threefry"),
      # the explicit N x N attention instead of the platform's default kernel (docs/attention.md)
      attention_explicit=dict(mixer="attention", kernel="explicit"),
    )
  )
  config.mixers = "fourier,attention,spectral,spectral_elastic,lsra,ff_only,linear"  # --mixers
  config.seq_lens = "256,512,1024,2048,4096,8192"  # --seq_lens
  config.batch = 8  # --batch: the goal table uses B=8 at N=512
  config.warmup = 2  # untimed steps after compiling
  config.repeats = 10  # timed steps; the median is reported
  config.max_seconds_per_row = 60.0  # fewer repeats for rows slower than this
  config.dtype = "bfloat16" if "bf16" in args else "float32"  # --dtype
  config.notes = ()  # extra lines for the bench.md header
  config.seed = 0  # init, dropout and the random ids

  # The train step's settings, as configs/lra/text.py (the skeleton's keys, fnetlab/config.py).
  skeleton = base("synthetic", {}, {})
  config.optim = skeleton.optim
  config.optim.lr = 0.05 / 8000**0.5  # LRA: 0.05 * rsqrt(warmup) at the end of warmup
  config.optim.schedule = "rsqrt"
  config.optim.warmup_steps = 8000
  config.optim.weight_decay = 0.1
  config.optim.b1, config.optim.b2, config.optim.eps = 0.9, 0.98, 1e-9
  config.optim.clip_norm = 0.0  # the official text trainer does not clip
  config.train = skeleton.train  # train.batch_size is replaced by --batch / config.batch
  config.train.steps = 20000  # the schedule's horizon
  config.train.grad_accum = 1  # micro-batches per step
  config.mesh = skeleton.mesh  # data x fsdp device mesh
  return config
