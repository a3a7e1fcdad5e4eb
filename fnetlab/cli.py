"""The `fnetlab` console script: a thin dispatcher to the subcommands' modules.

Each subcommand lives in an importable module with `main(argv)`; only the chosen one is
imported, so its absl flags do not collide with the others'. User mistakes (UserError,
ValueError, missing files) are printed as one line and exit with status 2; set
FNETLAB_DEBUG=1 to see the traceback.
"""

from __future__ import annotations

import importlib
import os
import sys

from absl import flags

COMMANDS = {
  "train": ("fnetlab.train.main", "Train (or resume) from a config into a workdir."),
  "eval": ("fnetlab.train.evaluate", "Restore a checkpoint from a workdir and evaluate it."),
  "data": ("fnetlab.data.cli", "Generate offline data sets (listops, pathfinder)."),
  "sample": ("fnetlab.lm.sample", "Sample text from a trained language model."),
  "bench": ("fnetlab.bench.cli", "Benchmark mixers: speed, memory, FLOPs against length."),
  "sweep": ("fnetlab.sweep", "Run a sweep defined in a config file."),
  "report": ("fnetlab.report", "Aggregate the workdirs under a root into tables and plots."),
  "import-hf": ("fnetlab.convert.cli", "Convert a Hugging Face FNet/BERT checkpoint."),
}


def parse_flags(flag_values, argv, required=()) -> list[str]:
  """Parses `argv` into `flag_values`; a bad or missing flag is a one-line UserError.

  Returns the positional arguments (argv[0] first), as absl does.
  """
  from fnetlab.errors import UserError

  try:
    rest = flag_values(argv)
  except flags.Error as e:
    raise UserError(str(e).splitlines()[0]) from None
  missing = [f"--{name}" for name in required if not flag_values[name].value]
  if missing:
    raise UserError(f"missing required flag(s): {', '.join(missing)}")
  return rest


def usage() -> str:
  lines = ["usage: fnetlab <command> [flags]", "", "commands:"]
  lines += [f"  {name:<10} {doc}" for name, (_, doc) in COMMANDS.items()]
  return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
  argv = list(sys.argv if argv is None else argv)
  if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
    print(usage())
    return 0 if len(argv) >= 2 else 2
  command = argv[1]
  if command not in COMMANDS:
    print(f"fnetlab: unknown command {command!r}\n{usage()}", file=sys.stderr)
    return 2
  module = importlib.import_module(COMMANDS[command][0])
  try:
    result = module.main([f"fnetlab {command}"] + argv[2:])
  except (ValueError, FileNotFoundError, KeyError, flags.Error) as e:
    if os.environ.get("FNETLAB_DEBUG"):
      raise
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    print(f"fnetlab {command}: error: {msg}", file=sys.stderr)
    return 2
  return int(result or 0)


if __name__ == "__main__":
  sys.exit(main())
