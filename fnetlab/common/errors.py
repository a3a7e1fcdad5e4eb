"""User-facing errors: the CLI prints them as one line (no traceback) and exits non-zero."""


class UserError(ValueError):
  """A mistake in the user's input (config key, data file, checkpoint, shape).

  The message must name the key, file (file:line where it applies) or checkpoint involved.
  """


class Interrupted(Exception):  # noqa: N818  an ordinary event, not an error
  """Ctrl-C (SIGINT) stopped a command; the message says what was kept. The CLI prints it as
  one line and exits 130, the shell's code for SIGINT."""
