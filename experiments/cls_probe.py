"""How much of an encoder's [CLS] state depends on its input, layer by layer.

A sentence-level head (NSP in pretraining, the classifier in fine-tuning) reads the pooled
[CLS] state, so an encoder whose [CLS] state barely changes from one input to the next cannot
classify, however well it predicts masked tokens elsewhere. This probe runs a batch of
real inputs through a pretrained (or freshly initialised) encoder and prints, for the
embeddings, every mixing sublayer's output and every block's output:

- `spread`: the standard deviation over the inputs of each feature, averaged over features;
- `norm`: the mean L2 norm of the state;
- `varying`: spread x sqrt(d) / norm, the share of the state that moves with the input
  (0: the same vector for every input; about 1: no shared part),

at the [CLS] position (position 0) and, for comparison, over all other positions; then the
pooled output's spread. FF-only has no token mixing, so its [CLS] state is exactly the same
for every input (spread 0): the probe's check on itself.

  python experiments/cls_probe.py --workdir=runs/glue_cpu/pt/model.mixer-fourier
  python experiments/cls_probe.py --config=configs/glue_cpu/pretrain.py:mixer=random  # at init

`--workdir` takes the run's own config.json and its `--at` checkpoint (`best`, `latest` or a
step); `--config` builds the model from a config file and initialises it with `--seed`.
"""

from __future__ import annotations

import re
import sys

import numpy as np

from fnetlab.common import flags
from fnetlab.common.errors import UserError
from fnetlab.common.flags import Flag

FLAGS = (
  Flag("workdir", "A trained run's workdir (its config.json and checkpoint)."),
  Flag("config", "Or: a config file[:args], initialised fresh (no training)."),
  Flag("at", "With --workdir: the checkpoint, best, latest or a step.", "best"),
  Flag("split", "The split the inputs come from.", "validation"),
  Flag("examples", "How many inputs (its first N).", 64, int),
  Flag("seed", "With --config: the initialisation seed.", 0, int),
)
SITES = re.compile(r"^encoder/(embeddings|layer_\d+)(/mixer)?/__call__$")


def load(args):
  """(task, backbone params) for --workdir or --config."""
  import jax
  import jax.numpy as jnp
  import ml_collections

  from fnetlab import tasks
  from fnetlab.common import checkpoints
  from fnetlab.common import config as config_lib
  from fnetlab.common import workdir as files

  if bool(args.workdir) == bool(args.config):
    raise UserError("give one of --workdir and --config")
  if args.workdir:
    task = tasks.build(ml_collections.ConfigDict(files.read_config(args.workdir)))
    params, _ = checkpoints.load_params(args.workdir, args.at)
  else:
    task = tasks.build(config_lib.load(args.config))
    example = {k: jnp.asarray(v) for k, v in task.example_batch(2).items()}
    params = task.model.init(jax.random.PRNGKey(args.seed), example)
  params = params.get("params", params)
  if "backbone" not in params:
    raise UserError(f"{args.workdir or args.config}: the model has no encoder backbone to probe")
  return task, params["backbone"]


def stats(h: np.ndarray) -> dict:
  """Spread, norm and varying share of states h [inputs, ..., d] (position axes flattened)."""
  h = h.reshape(h.shape[0], -1, h.shape[-1]).astype(np.float64)
  spread = float(h.std(0).mean())
  norm = float(np.linalg.norm(h, axis=-1).mean())
  return {
    "spread": spread,
    "norm": norm,
    "varying": float(spread * np.sqrt(h.shape[-1]) / max(norm, 1e-30)),
  }


def probe(task, backbone, split: str = "validation", examples: int = 64) -> dict:
  """{'rows': [(site, cls stats, other-positions stats)], 'pooled': pooled stats, 'arrays':
  {site: states [inputs, length, d]}}."""
  import jax.numpy as jnp
  from flax import traverse_util

  from fnetlab.models.encoder import EncoderModel

  if split not in task.splits:
    raise UserError(f"--split={split}: the task has splits {', '.join(task.splits)}")
  source = task.splits[split]
  batch = source.batch(np.arange(min(examples, len(source))))
  if len(batch["inputs"]) < 2:
    raise UserError(f"--examples={examples}: need at least 2 inputs to measure a spread")
  get = {k: jnp.asarray(batch[k]) if k in batch else None for k in ("inputs", "type_ids", "mask")}
  out, state = EncoderModel(task.model.spec).apply(
    {"params": backbone},
    get["inputs"],
    get["type_ids"],
    get["mask"],
    capture_intermediates=True,
    mutable=["intermediates"],
  )
  rows, arrays = [], {}
  # Captured in call order: the embeddings, then each block's mixing before its output.
  for path, values in traverse_util.flatten_dict(state["intermediates"], sep="/").items():
    match = SITES.match(path)
    if match:
      h = np.asarray(values[0])
      site = match.group(1) + (" mixing" if match.group(2) else " output")
      rows.append((site, stats(h[:, :1]), stats(h[:, 1:])))
      arrays[site] = h
  pooled = stats(np.asarray(out["pooled_output"])[:, None])
  return {"rows": rows, "pooled": pooled, "arrays": arrays}


def markdown(result: dict) -> str:
  lines = [
    "| site | [CLS] spread | [CLS] norm | [CLS] varying | others' spread | others' norm | others' varying |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ]
  for site, cls, other in result["rows"]:
    cells = [f"{s['spread']:.4g} | {s['norm']:.4g} | {s['varying']:.3f}" for s in (cls, other)]
    lines.append(f"| {site} | {cells[0]} | {cells[1]} |")
  pooled = result["pooled"]
  lines.append(f"\npooled output: spread {pooled['spread']:.4g}, varying {pooled['varying']:.3f}")
  return "\n".join(lines)


def main(argv) -> int:
  args = flags.script_flags(__doc__, FLAGS, argv)
  if args.examples < 2:
    raise UserError(f"--examples={args.examples}: need at least 2 inputs to measure a spread")
  task, backbone = load(args)
  print(markdown(probe(task, backbone, args.split, args.examples)))
  return 0


if __name__ == "__main__":
  sys.exit(flags.run_script(main))
