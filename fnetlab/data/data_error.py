"""User-facing data errors.

Every problem with input data (a missing file, a malformed line, an image of the wrong size)
is raised as :class:`DataError`, a ``ValueError`` whose message is a single line that names
the file (``file:line`` for malformed lines) and, for missing data, says how to get it.
"""

from __future__ import annotations

import os

from fnetlab.common.errors import UserError


class DataError(UserError):
  """A one-line, user-facing error about input data.

  Args:
      message: what is wrong.
      path: the file or folder concerned; prefixed to the message.
      line: 1-based line number inside ``path``; gives a ``path:line:`` prefix.
      hint: how to fix it (e.g. the command that generates the data); appended.
  """

  def __init__(
    self,
    message: str,
    *,
    path: str | os.PathLike[str] | None = None,
    line: int | None = None,
    hint: str | None = None,
  ) -> None:
    self.path = None if path is None else os.fspath(path)
    self.line = line
    self.hint = hint
    text = message
    if self.path is not None:
      where = self.path if line is None else f"{self.path}:{line}"
      text = f"{where}: {text}"
    if hint:
      text = f"{text}; {hint}"
    # Keep the message on one line whatever the caller passed in.
    super().__init__(" ".join(part.strip() for part in text.splitlines()))
