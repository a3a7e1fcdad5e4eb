"""User-facing errors: the CLI prints them as one line (no traceback) and exits non-zero."""


class UserError(ValueError):
  """A mistake in the user's input (config key, data file, checkpoint, shape).

  The message must name the key, file (file:line where it applies) or checkpoint involved.
  """
