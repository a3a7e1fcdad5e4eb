"""The FNet paper's GLUE protocol at CPU scale, stage 1: MLM + NSP pretraining of a small
encoder on training-split text only (docs/data.md, "The GLUE protocol at CPU scale").

The corpus (`data.source=train_text`, fnetlab/data/pretrain.py) is the Shakespeare works, the
SNLI training pairs and the movie-snippet sentiment training split, with the same split
settings as the fine-tuning configs (configs/glue_cpu/finetune.py), so no validation or test
sentence of the fine-tuning tasks is ever seen in pretraining. Byte-level tokens, sequences of
128, MLM on 15% (at most 20 predictions) plus the NSP order task, as configs/pretrain.py.

Every model gets the same encoder shape (4 layers, d 64, d_ff 256, 2 heads), the same steps,
batch and optimiser; only the mixing sublayer differs. The six models of the paper's GLUE
table: BERT-style attention, FNet, Linear, Random, FF-only and FNet-Hybrid (attention in the
top layer of 4; the paper's hybrid has it in the top 2 of 12).

  fnetlab data all
  fnetlab sweep --config=configs/glue_cpu/pretrain.py --sweep=models --workdir=runs/glue_cpu/pt

Args: mixer=<registry name>, steps=<int> (default 2000), lr=<peak rate> (default 1e-3), plus
any option of the chosen mixer. CPU-scale: a small model and a few thousand steps.
"""

from fnetlab.config import base, parse_arg

MODELS = {  # the paper's names -> model overrides
  "bert": {"model.mixer": "attention"},
  "fnet": {"model.mixer": "fourier"},
  "linear": {"model.mixer": "linear"},
  "random": {"model.mixer": "random"},
  "ff_only": {"model.mixer": "ff_only"},
  "hybrid": {"model.mixer": "fourier", "model.hybrid": "top"},
}


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg, {"mixer": "fourier", "size": "tiny", "steps": 2000, "lr": 1e-3}
  )
  c = base("pretrain", values, mixer_options)
  steps = int(values["steps"])
  c.model.num_layers = 4  # deep enough for a hybrid layout to differ from all-attention
  c.model.d_model = 64
  c.model.d_ff = 256
  c.model.num_heads = 2
  c.model.max_len = 128  # learned position table
  c.model.type_vocab_size = 4  # as f_net
  c.model.dropout_rate = 0.0  # short CPU budgets
  c.model.attention_dropout = 0.0
  c.model.hybrid_layers = 1  # with model.hybrid=top: attention in the top layer of 4

  c.data.source = "train_text"  # training-split text only (fnetlab/data/pretrain.py)
  c.data.parts = "shakespeare,snli,sentiment"  # the corpus' parts
  c.data.snli = dict(dir="", dev_size=2000, split_seed=0)  # = configs/glue_cpu/finetune.py's
  c.data.sentiment = dict(dir="", split_seed=0)  # = configs/glue_cpu/finetune.py's
  c.data.text_dir = ""  # unused by train_text
  c.data.val_fraction = 0.02  # the last 2% of each document's lines validate the MLM loss
  c.data.max_chars = 0  # >0: only the first max_chars characters (quick checks)
  c.data.dupe_factor = 10  # differently masked copies per epoch (BERT's default)
  c.data.sentencepiece = ""  # byte-level tokens
  c.data.wordpiece = ""
  c.data.lower_case = False  # bytes keep case
  c.data.max_len = 128  # [CLS] A [SEP] B [SEP]
  c.data.mask_rate = 0.15  # BERT / f_net
  c.data.max_predictions = 20  # BERT's value for length 128
  c.data.mask_token_prob = 0.8
  c.data.random_token_prob = 0.1

  c.train.steps = steps
  c.train.batch_size = 32
  c.train.eval_batch_size = 64
  c.train.max_eval_examples = 1024
  c.train.log_every = max(steps // 50, 1)
  c.train.eval_every = max(steps // 4, 1)
  c.train.checkpoint_every = max(steps // 4, 1)
  c.train.best_metric = "loss"  # validation MLM + NSP loss; the fine-tunes start from the best
  c.train.best_mode = "min"
  c.train.async_checkpoints = False

  c.optim.lr = float(values["lr"])  # one rate for every model (pretraining is not tuned)
  c.optim.schedule = "linear"
  c.optim.warmup_steps = max(steps // 10, 1)
  c.optim.weight_decay = 0.01
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.999, 1e-6  # f_net AdamW
  c.optim.clip_norm = 1.0  # small-batch CPU runs benefit from it
  return c


def sweep_models(add, arg=None):
  """The paper's six GLUE models, one pretraining run each."""
  for overrides in MODELS.values():
    add(**overrides)
