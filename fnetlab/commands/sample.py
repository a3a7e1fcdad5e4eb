"""`fnetlab sample`: autoregressive sampling from a trained character-level decoder.

  fnetlab sample --workdir=runs/lm_attn --prompt="ROMEO:" --max_new_tokens=500 \\
      --temperature=1.0 --top_k=0 --seed=0 [--step=latest|best|N]

Token i of the continuation is drawn with key fold_in(PRNGKey(seed), i), so the output is a
function of (checkpoint, prompt, flags). How the next-token logits are computed for each kind
of model is described in fnetlab/tasks/sampling.py.
"""

from __future__ import annotations

import sys

from fnetlab.common.errors import UserError
from fnetlab.common.flags import Flag, parse

FLAGS = (
  Flag("workdir", "Workdir of a trained LM (`fnetlab train` on configs/lm/*).", required=True),
  Flag("prompt", "Text to continue.", "\n"),
  Flag("max_new_tokens", "Characters to generate.", 500, int),
  Flag("temperature", "Softmax temperature; 0 = greedy.", 1.0, float),
  Flag("top_k", "Sample among the k likeliest tokens; 0 = all.", 0, int),
  Flag("seed", "Sampling seed.", 0, int),
  Flag("step", "Checkpoint: latest | best | an integer step.", "latest"),
  Flag(
    "cache",
    "KV cache: auto = whenever the model supports it.",
    "auto",
    choices=("auto", "on", "off"),
  ),
)


def main(argv) -> int:
  args = parse("sample", __doc__, FLAGS, argv)
  if args.max_new_tokens < 0 or args.top_k < 0 or args.temperature < 0:
    raise UserError("--max_new_tokens, --top_k and --temperature must be >= 0")
  from fnetlab.data.data_error import DataError
  from fnetlab.tasks.sampling import load_sampler

  sampler, vocab, _ = load_sampler(
    args.workdir, args.step, temperature=args.temperature, top_k=args.top_k, cache=args.cache
  )
  try:
    prompt = vocab.encode(args.prompt, what="--prompt")
  except DataError as e:
    raise UserError(str(e)) from None
  new = sampler.generate(prompt, args.max_new_tokens, args.seed)
  sys.stdout.write(args.prompt + vocab.decode(new) + "\n")
  return 0
