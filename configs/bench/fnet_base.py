"""Bench config: FNet-Base / BERT-Base sized encoders (12 layers, d 768, d_ff 3072, 12 heads).

The FNet paper's Base dimensions with its 32k SentencePiece vocabulary and 4 token types, and
the GLUE fine-tuning optimiser of configs/glue.py; `attention` here is the BERT-Base-sized encoder in FNet's layout (the paper
reports FNet 1.8x faster than BERT at N=512 on V100 GPUs). Launch on a GPU (bf16):

  fnetlab bench --config=configs/bench/fnet_base.py:bf16 --mixers=fourier,attention,linear \
    --seq_lens=128,512 --batch=64 --peer=hf --peak_tflops=989 --out=reports/bench/fnet_base_gpu

and on this 2-core CPU (float32, small batch; see reports/bench/fnet_base/bench.md):

  fnetlab bench --config=configs/bench/fnet_base.py --mixers=fourier,attention \
    --seq_lens=128,512 --batch=1 --repeats=3 --warmup=1 --out=reports/bench/fnet_base

Args (`:bf16`): bf16 sets dtype=bfloat16.
"""

import ml_collections

from fnetlab.config import base


def get_config(arg=None):
  args = set((arg or "").split(","))
  config = ml_collections.ConfigDict()
  config.task = "classify"  # sequence classification (GLUE-style head)
  config.model = ml_collections.ConfigDict(
    dict(
      size="base",  # FNet-Base: 12 layers, d 768, d_ff 3072, 12 heads
      vocab_size=32000,  # the paper's SentencePiece vocabulary
      type_vocab_size=4,  # FNet's token types
      positions="learned",  # built for each benchmarked length
      activation="gelu",  # gelu_new (tanh), as FNet
      pooling="cls",  # tanh(Dense(h_cls)) pooler, as FNet / BERT
      pooler_dense=True,
      num_classes=2,  # a binary GLUE task
      dropout_rate=0.1,  # FNet / BERT dropout
      dtype="float32",  # activation dtype; --dtype or :bf16 overrides
    )
  )
  config.mixer_options = ml_collections.ConfigDict(
    dict(fourier=dict(impl="fft"))  # the real-input FFT path (TPU users would pick dft)
  )
  config.variants = ml_collections.ConfigDict(
    dict(
      fourier_dft=dict(mixer="fourier", impl="dft"),  # the official TPU matmul path
      fnet_hybrid=dict(mixer="fourier", hybrid="top", hybrid_layers=2),  # FNet-Hybrid
    )
  )
  config.mixers = "fourier,attention,linear,ff_only"  # --mixers
  config.seq_lens = "128,512"  # --seq_lens: GLUE and pretraining lengths
  config.batch = 8  # --batch
  config.warmup = 2  # untimed steps after compiling
  config.repeats = 10  # timed steps; the median is reported
  config.max_seconds_per_row = 120.0  # fewer repeats for rows slower than this
  config.dtype = "bfloat16" if "bf16" in args else "float32"  # --dtype
  config.notes = ()  # extra lines for the bench.md header
  config.seed = 0  # init, dropout and the random ids

  # The train step's settings, as configs/glue.py (the skeleton's keys, fnetlab/config.py).
  skeleton = base("synthetic", {}, {})
  config.optim = skeleton.optim
  config.optim.lr = 1e-5  # f_net classification default
  config.optim.schedule = "linear"  # linear warmup, then linear decay
  config.optim.warmup_steps = 100
  config.optim.weight_decay = 0.01  # f_net AdamW
  config.optim.b1, config.optim.b2, config.optim.eps = 0.9, 0.999, 1e-6  # f_net AdamW
  config.optim.clip_norm = 0.0  # f_net fine-tuning does not clip
  config.train = skeleton.train  # train.batch_size is replaced by --batch / config.batch
  config.train.steps = 1000  # the schedule's horizon
  config.train.grad_accum = 1  # micro-batches per step
  config.mesh = skeleton.mesh  # data x fsdp device mesh
  return config
