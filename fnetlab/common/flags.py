"""The one flag layer every subcommand uses.

A command declares its flags as a tuple of `Flag`s and calls `parse(...)`:

  FLAGS = (Flag("workdir", "Workdir written by `fnetlab train`.", required=True),
           Flag("step", "latest | best | an integer step.", default="latest"))
  args = parse("eval", __doc__, FLAGS, argv)   # args.workdir, args.step

- `--name=value` and `--name value`; booleans also as `--name` / `--noname`.
- `config=True` adds `--config=FILE[:arg]` and any number of `--config.<dotted.key>=<value>`
  overrides, loaded by `fnetlab.common.config.load`; `args.config` is the ConfigDict.
- `--help` / `-h` prints the command's docstring and one line per flag, then raises `HelpShown`
  (the dispatcher exits 0).
- Every mistake (unknown flag, bad value, missing required flag) is a one-line UserError.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from fnetlab.common import config as config_lib
from fnetlab.common.errors import UserError


class HelpShown(Exception):  # noqa: N818  not an error: the dispatcher exits 0
  """Raised after `--help` has been printed."""


@dataclasses.dataclass(frozen=True)
class Flag:
  name: str
  help: str
  default: Any = None
  type: type = str  # str | int | float | bool
  choices: tuple | None = None
  required: bool = False
  multi: bool = False  # may be repeated; the value is a list


def _bool(text: str) -> bool:
  low = str(text).strip().lower()
  if low in ("true", "1", "yes"):
    return True
  if low in ("false", "0", "no"):
    return False
  raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


class _Parser(argparse.ArgumentParser):
  def error(self, message):  # argparse would print usage and exit 2
    raise UserError(f"{self.prog}: {message}")


CONFIG_HELP = (
  "Config file[:arg], e.g. configs/lra/listops.py:mixer=fourier,runlocal; "
  "--config.<dotted.key>=<value> overrides any field (e.g. --config.train.steps=100)."
)


def build_parser(
  command: str, doc: str, flags: Sequence[Flag], *, config=False, positionals=None, prog=None
):
  parser = _Parser(
    prog=prog or f"fnetlab {command}",
    description=(doc or "").strip(),
    formatter_class=argparse.RawDescriptionHelpFormatter,
    allow_abbrev=False,
    add_help=False,
  )
  parser.add_argument("-h", "--help", action="store_true", help="Show this help and exit.")
  if config:
    parser.add_argument(
      "--config", metavar="FILE[:ARG]", required=config == "required", help=CONFIG_HELP
    )
  for name, help_text in positionals or ():
    parser.add_argument(name, help=help_text, nargs="?")
  for f in flags:
    default_note = "" if f.default in (None, "", False) or f.multi else f" (default: {f.default!r})"
    choices_note = f" One of: {', '.join(map(str, f.choices))}." if f.choices else ""
    text = (f.help + choices_note + default_note).replace("%", "%%")  # argparse formats help
    if f.type is bool:
      parser.add_argument(
        f"--{f.name}", nargs="?", const=True, default=f.default, type=_bool, help=text
      )
      parser.add_argument(
        f"--no{f.name}", dest=f.name, action="store_false", help=argparse.SUPPRESS
      )
    else:
      parser.add_argument(
        f"--{f.name}",
        type=f.type,
        default=[] if f.multi else f.default,
        choices=f.choices,
        action="append" if f.multi else "store",
        required=False,
        help=text,
        metavar=f.name.upper(),
      )
  return parser


def parse(
  command: str,
  doc: str,
  flags: Sequence[Flag],
  argv: Sequence[str],
  *,
  config: bool | str = False,
  positionals: Sequence[tuple[str, str]] = (),
  prog: str | None = None,
) -> argparse.Namespace:
  """Parses argv[1:] (argv[0] is the program name). See the module docstring.

  `config`: False (no --config), True (optional) or "required". `prog` replaces
  "fnetlab <command>" in messages (for scripts under experiments/).
  """
  prog = prog or f"fnetlab {command}"
  args_in = list(argv[1:])
  overrides: dict[str, str] = {}
  rest = []
  for a in args_in:
    if a.startswith("--config."):
      key, eq, value = a[len("--config.") :].partition("=")
      if not eq:
        raise UserError(f"{prog}: {a}: write config overrides as --config.KEY=VALUE")
      overrides[key] = value
    else:
      rest.append(a)
  parser = build_parser(command, doc, flags, config=config, positionals=positionals, prog=prog)
  if "-h" in rest or "--help" in rest:
    parser.print_help(sys.stdout)
    raise HelpShown()
  ns = parser.parse_args(rest)
  del ns.help
  missing = [f"--{f.name}" for f in flags if f.required and getattr(ns, f.name) in (None, "")]
  if config == "required" and not ns.config:
    missing.insert(0, "--config")
  if missing:
    raise UserError(f"{prog}: missing required flag(s): {', '.join(missing)}")
  if config:
    if overrides and not ns.config:
      raise UserError(f"{prog}: --config.{next(iter(overrides))} given without --config")
    ns.config_spec = ns.config
    ns.config_overrides = overrides
    ns.config = config_lib.load(ns.config, overrides) if ns.config else None
  return ns


def int_list(text, flag: str, minimum: int | None = None) -> list[int]:
  """'1,2, 3' -> [1, 2, 3]; anything else (or a value below `minimum`) is a one-line UserError."""
  try:
    values = [int(t) for t in str(text).replace(" ", "").split(",") if t]
  except ValueError:
    raise UserError(f"{flag}={text!r}: expected comma-separated integers") from None
  if minimum is not None and (not values or min(values) < minimum):
    raise UserError(f"{flag}={text!r}: expected integers >= {minimum}")
  return values
