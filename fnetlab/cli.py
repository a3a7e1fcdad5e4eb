"""The `fnetlab` console script: a thin dispatcher to the subcommands in `fnetlab.commands`.

Each subcommand is a module with `main(argv)`; only the chosen one is imported. Every
subcommand answers `--help` (exit 0). User mistakes (UserError and the file/value errors a
mistake produces) are printed as one line and exit with status 2; Ctrl-C is one line saying
what was kept and how to resume, exit 130; `--verbose` (or FNETLAB_DEBUG=1) shows the
traceback instead. Without `--verbose`, what libraries print on stderr once the command has
finished (Orbax's and TensorStore's threads at interpreter exit) is dropped. Only `fnetlab/__main__.py` and the console-script
entry point import this module.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import warnings

COMMANDS = {
  "train": ("fnetlab.commands.train", "Train (or resume) from a config into a workdir."),
  "eval": ("fnetlab.commands.eval", "Restore a checkpoint from a workdir and evaluate it."),
  "data": ("fnetlab.commands.data", "Generate offline data sets (listops, pathfinder)."),
  "sample": ("fnetlab.commands.sample", "Sample text from a trained language model."),
  "bench": ("fnetlab.commands.bench", "Benchmark mixers: speed, memory, FLOPs against length."),
  "sweep": ("fnetlab.commands.sweep", "Run a sweep defined in a config file, per seed."),
  "report": ("fnetlab.commands.report", "Aggregate the workdirs under a root: tables and plots."),
  "compile": (
    "fnetlab.commands.compile",
    "Compile a config's steps for a TPU slice: memory, FLOPs.",
  ),
  "import-hf": ("fnetlab.commands.import_hf", "Convert a Hugging Face FNet/BERT checkpoint."),
}


def usage() -> str:
  lines = ["usage: fnetlab <command> [flags]   (fnetlab <command> --help lists its flags)", ""]
  lines += ["commands:"] + [f"  {name:<10} {doc}" for name, (_, doc) in COMMANDS.items()]
  lines += ["", "global flag: --verbose  show tracebacks and library logs on errors"]
  return "\n".join(lines)


def _quiet_libraries() -> None:
  """Library noise (absl/orbax/tensorstore warnings) is not for a user who made a typo."""
  logging.getLogger("absl").setLevel(logging.ERROR)
  warnings.filterwarnings("ignore", category=DeprecationWarning)


def _drop_exit_noise() -> None:
  """Points stderr at /dev/null once the command's own output is flushed: Orbax/TensorStore
  threads that outlive a failed restore print 'RuntimeError: Event loop is closed'
  tracebacks at interpreter exit, after the one line the user should see."""
  sys.stdout.flush()
  sys.stderr.flush()
  devnull = os.open(os.devnull, os.O_WRONLY)
  os.dup2(devnull, 2)
  os.close(devnull)


def main(argv: list[str] | None = None) -> int:
  """Runs `argv` (default: sys.argv, as the console script does; only then is the exit-time
  library noise dropped, so a caller's own stderr is never touched)."""
  as_program = argv is None
  argv = list(sys.argv if argv is None else argv)
  verbose = "--verbose" in argv or bool(os.environ.get("FNETLAB_DEBUG"))
  argv = [a for a in argv if a != "--verbose"]
  if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
    print(usage())
    return 0 if len(argv) >= 2 else 2
  command = argv[1]
  if command not in COMMANDS:
    print(f"fnetlab: unknown command {command!r}\n{usage()}", file=sys.stderr)
    return 2
  from fnetlab.common.flags import run_main
  from fnetlab.common.platforms import default_platforms

  default_platforms()  # no TPU start-up attempt on a host without one (libtpu installed)

  if not verbose:
    _quiet_libraries()

  def call(args):
    return importlib.import_module(COMMANDS[command][0]).main(args)

  code = run_main(f"fnetlab {command}", call, [f"fnetlab {command}"] + argv[2:], verbose)
  if as_program and not verbose:
    _drop_exit_noise()
  return code


if __name__ == "__main__":
  sys.exit(main())
