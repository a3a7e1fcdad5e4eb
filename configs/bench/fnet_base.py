"""Bench config: FNet-Base / BERT-Base sized encoders (12 layers, d 768, d_ff 3072, 12 heads).

An ordinary train config of the `synthetic` task with a `bench` section (see
configs/bench/lra_text.py). The FNet paper's Base dimensions with its 32k SentencePiece
vocabulary and 4 token types, and the GLUE fine-tuning optimiser of configs/glue.py;
`attention` here is the BERT-Base-sized encoder in FNet's layout (the paper reports FNet 1.8x
faster than BERT at N=512 on V100 GPUs). Launch on a GPU (bf16):

  fnetlab bench --config=configs/bench/fnet_base.py:bf16 --mixers=fourier,attention,linear \
    --seq_lens=128,512 --batch=64 --peer=hf --peak_tflops=989 --out=reports/bench/fnet_base_gpu

and on this 2-core CPU (float32, small batch; see reports/bench/fnet_base/bench.md):

  fnetlab bench --config=configs/bench/fnet_base.py --mixers=fourier,attention \
    --seq_lens=128,512 --batch=1 --repeats=3 --warmup=1 --out=reports/bench/fnet_base

`fourier` is the real-input FFT path (its default; TPU users would pick `fourier_dft`).

Args (`:bf16`): bf16 sets model.dtype=bfloat16; mixer= and size= as in every config.
"""

from fnetlab.config import base, parse_arg


def get_config(arg=None):
  values, mixer_options = parse_arg(arg, {"mixer": "fourier", "size": "base", "bf16": False})
  c = base("synthetic", values, mixer_options)
  c.data.kind = "classify"  # sequence classification (GLUE-style head)
  c.data.num_examples = 0  # rows per split; 0: train.batch_size (the bench sets it)
  c.data.seq_len = 0  # ids per row; 0: model.max_len (the bench sets both to N)

  # size base = FNet-Base: 12 layers, d 768, d_ff 3072, 12 heads; the rest is f_net's
  # encoder as the skeleton sets it (gelu_new, tanh(Dense(h_cls)) pooler, dropout 0.1).
  c.model.vocab_size = 32000  # the paper's SentencePiece vocabulary
  c.model.type_vocab_size = 4  # FNet's token types
  c.model.num_classes = 2  # a binary GLUE task
  c.model.dtype = "bfloat16" if values["bf16"] else "float32"  # --dtype overrides

  # The train step's settings, as configs/glue.py.
  c.optim.lr = 1e-5  # f_net classification default
  c.optim.schedule = "linear"  # linear warmup, then linear decay
  c.optim.warmup_steps = 100
  c.optim.weight_decay = 0.01  # f_net AdamW
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.999, 1e-6  # f_net AdamW
  c.optim.clip_norm = 0.0  # f_net fine-tuning does not clip
  c.train.steps = 1000  # the schedule's horizon (train.batch_size is the bench's --batch)

  c.bench = dict(
    mixers="fourier,attention,linear,ff_only",  # --mixers
    seq_lens="128,512",  # --seq_lens: GLUE and pretraining lengths
    batch=8,  # --batch
    warmup=2,  # untimed steps after compiling
    repeats=10,  # timed steps; the median is reported
    max_seconds_per_row=120.0,  # fewer repeats for rows slower than this
    notes=(),  # extra lines for the bench.md header
    # Extra labels for --mixers: config overrides, nested by key.
    variants=dict(
      fourier_dft=dict(model=dict(mixer="fourier", mixer_options=dict(impl="dft"))),  # TPU path
      fnet_hybrid=dict(model=dict(mixer="fourier", hybrid="top", hybrid_layers=2)),
    ),
  )
  return c
