"""The one flag layer every subcommand uses.

A command declares its flags as a tuple of `Flag`s and calls `parse(...)`:

  FLAGS = (Flag("workdir", "Workdir written by `fnetlab train`.", required=True),
           Flag("step", "latest | best | an integer step.", default="latest"))
  args = parse("eval", __doc__, FLAGS, argv)   # args.workdir, args.step

- `--name=value` and `--name value`; booleans also as `--name` / `--noname`.
- `config=True` adds `--config=FILE[:arg]` and any number of `--config.<dotted.key>=<value>`
  overrides, loaded by `fnetlab.common.config.load`; `args.config` is the ConfigDict.
- `--help` / `-h` prints the command's docstring and one line per flag (its default, `(required)`,
  booleans as `--name, --noname`), then raises `HelpShown` (the dispatcher exits 0).
- Every mistake (unknown flag, bad value, missing required flag, `--config.*` on a command that
  takes no config) is a one-line UserError.
- `args.given` is the set of flag names the command line set explicitly.
- `run_main(prog, main, argv)` calls a command's `main(argv)` the way the dispatcher does
  (`--help` exits 0, a user mistake is one line and exit 2, Ctrl-C one line and exit 130);
  `run_script(main)` does the same for a script under experiments/:

    if __name__ == "__main__":
      sys.exit(flags.run_script(main))
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any

from fnetlab.common import config as config_lib
from fnetlab.common.errors import Interrupted, UserError


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


class _BoolAction(argparse.Action):
  """`--name`, `--name=true|false`; `--noname` is registered beside it."""

  def __init__(self, option_strings, dest, **kwargs):
    super().__init__(option_strings, dest, nargs="?", const=True, type=_bool, **kwargs)

  def __call__(self, parser, namespace, values, option_string=None):
    setattr(namespace, self.dest, values)


class _Help(argparse.RawDescriptionHelpFormatter):
  """Booleans as `--name, --noname` (not `--name [NAME]`); other flags as `--name NAME`."""

  def _format_action_invocation(self, action):
    if isinstance(action, _BoolAction):
      name = action.option_strings[0][2:]
      return f"--{name}, --no{name}"
    return super()._format_action_invocation(action)


def _usage(prog: str, flags: Sequence[Flag], config, positionals) -> str:
  parts = [prog] + [name for name, _ in positionals or ()]
  if config == "required":
    parts.append("--config=FILE[:ARG]")
  parts += [f"--{f.name}={f.name.upper()}" for f in flags if f.required]
  return " ".join(parts + ["[flags]"])


CONFIG_HELP = (
  "Config file[:arg], e.g. configs/lra/listops.py:mixer=fourier,runlocal; "
  "--config.<dotted.key>=<value> overrides any field (e.g. --config.train.steps=100)."
)


def build_parser(
  command: str, doc: str, flags: Sequence[Flag], *, config=False, positionals=None, prog=None
):
  prog = prog or f"fnetlab {command}"
  parser = _Parser(
    prog=prog,
    usage=_usage(prog, flags, config, positionals),
    description=(doc or "").strip(),
    formatter_class=_Help,
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
    choices_note = f" One of: {', '.join(map(str, f.choices))}." if f.choices else ""
    text = (f.help + choices_note + _default_note(f)).replace("%", "%%")  # argparse formats help
    if f.type is bool:
      parser.add_argument(f"--{f.name}", action=_BoolAction, default=f.default, help=text)
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


def _default_note(f: Flag) -> str:
  if f.required:
    return " (required)"
  if f.multi or f.default is None or f.default == "":
    return ""
  if f.type is bool:
    return f" (default: {'true' if f.default else 'false'})"
  return f" (default: {f.default!r})" if isinstance(f.default, str) else f" (default: {f.default})"


def _given(flags: Sequence[Flag], args: Sequence[str]) -> set[str]:
  names = {f.name for f in flags}
  out = set()
  for a in args:
    if a.startswith("--"):
      name = a[2:].partition("=")[0]
      if name in names:
        out.add(name)
      elif name.startswith("no") and name[2:] in names:
        out.add(name[2:])
  return out


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
  if overrides and not config:
    key = next(iter(overrides))
    raise UserError(
      f"{prog}: --config.{key}: this command takes no config (it reads the workdir's)"
    )
  ns = parser.parse_args(rest)
  del ns.help
  ns.given = _given(flags, rest)
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


def name_list(text, flag: str, valid: Sequence[str] | None = None) -> list[str]:
  """'a,b, c' -> ['a', 'b', 'c']; with `valid`, an unknown name is a one-line UserError."""
  names = [t for t in str(text).replace(" ", "").split(",") if t]
  bad = [n for n in names if valid is not None and n not in valid]
  if bad:
    raise UserError(f"{flag}: unknown {', '.join(bad)}; valid: {', '.join(valid)}")
  return names


def key_values(items: Sequence[str], flag: str) -> dict[str, str]:
  """['a.b=1', 'c=x'] (a repeatable KEY=VALUE flag) -> {'a.b': '1', 'c': 'x'}; an item
  without '=' is a one-line UserError. Values stay text: the config loader types them."""
  out = {}
  for item in items:
    key, eq, value = item.partition("=")
    if not eq or not key:
      raise UserError(f"{flag}={item!r}: expected KEY=VALUE")
    out[key] = value
  return out


def run_main(prog: str, main: Callable, argv: Sequence[str], verbose: bool = False) -> int:
  """`main(argv)` as a command: its return value (None: 0) is the exit status; `--help`
  (HelpShown) exits 0; a user mistake (UserError, and the file and value errors a mistake
  produces) prints `PROG: error: <first line>` on stderr and exits 2; Ctrl-C prints one line
  (for `Interrupted`, what was kept and the command that resumes) and exits 130. `verbose`
  re-raises instead, for the traceback."""
  try:
    return int(main(list(argv)) or 0)
  except HelpShown:
    return 0
  except (UserError, ValueError, FileNotFoundError, KeyError) as e:
    if verbose:
      raise
    text = str(e.args[0] if isinstance(e, KeyError) and e.args else e).strip()
    msg = text.splitlines()[0] if text else type(e).__name__
    prefix = f"{prog}: "
    msg = msg[len(prefix) :] if msg.startswith(prefix) else msg
    print(f"{prefix}error: {msg}", file=sys.stderr)
    return 2
  except Interrupted as e:
    if verbose:
      raise
    again = shlex.join([*prog.split(), *list(argv)[1:]])
    print(f"{prog}: {e}; to resume, run the same command: {again}", file=sys.stderr)
    return 130
  except KeyboardInterrupt:
    if verbose:
      raise
    print(f"{prog}: interrupted", file=sys.stderr)
    return 130


def run_script(main: Callable, argv: Sequence[str] | None = None) -> int:
  """`run_main` for a script: `main(argv)` with sys.argv, `--verbose` (or FNETLAB_DEBUG=1)
  taken out of argv and turned into tracebacks; the program name is the script's file name."""
  argv = list(sys.argv if argv is None else argv)
  verbose = "--verbose" in argv or bool(os.environ.get("FNETLAB_DEBUG"))
  argv = [a for a in argv if a != "--verbose"]
  return run_main(os.path.basename(argv[0]), main, argv, verbose)


def script_flags(doc: str, flags: Sequence[Flag], argv: Sequence[str]) -> argparse.Namespace:
  """`parse` for a script under experiments/: its docstring is the help, its file name the
  program name in messages."""
  prog = os.path.basename(argv[0])
  return parse(prog, doc, flags, argv, prog=prog)
