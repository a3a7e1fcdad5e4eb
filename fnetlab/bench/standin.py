"""Stand-in data for compiling a task's steps without its data set (`fnetlab compile`).

Compiling needs the task's model, loss and the shapes and dtypes of one batch, not the data.
`standin(config)` yields a copy of the config whose task builds from a few examples of the
same format, produced by the task's own input pipeline, so the batch the step is compiled
for has exactly the shapes and dtypes of a real one:
- tfds tasks (LRA text, image; the LM corpora): `tfds.testing.mock_data` examples;
- GLUE: its own `data.mock_examples`;
- generated tasks (ListOps, Pathfinder, Path-X): a handful of generated examples, written to
  a temporary cache (`$FNETLAB_CACHE`);
- LRA retrieval: a tiny AAN-format TSV in a temporary folder;
- everything else (the offline suite, pretraining on local text, synthetic) builds as is.
Only the number of examples differs; `first_batch` wraps around to fill a batch.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

MOCK_EXAMPLES = 4
_RETRIEVAL_ROW = "\t".join(["1", "paper_a", "paper_b", "a short document", "another document"])


def _retrieval_dir(root: str) -> str:
  folder = os.path.join(root, "aan")
  os.makedirs(folder)
  for split in ("train", "eval", "test"):
    with open(os.path.join(folder, f"new_aan_pairs.{split}.tsv"), "w") as f:
      f.write(_RETRIEVAL_ROW + "\n" + _RETRIEVAL_ROW.replace("1", "0", 1) + "\n")
  return folder


@contextlib.contextmanager
def standin(config):
  """Yields a copy of `config` whose task builds from stand-in data (module docstring)."""
  c = config.copy_and_resolve_references()
  task = c.task
  with contextlib.ExitStack() as stack:
    root = stack.enter_context(tempfile.TemporaryDirectory(prefix="fnetlab-standin-"))
    old_cache = os.environ.get("FNETLAB_CACHE")
    os.environ["FNETLAB_CACHE"] = root
    stack.callback(
      lambda: (
        os.environ.pop("FNETLAB_CACHE")
        if old_cache is None
        else os.environ.__setitem__("FNETLAB_CACHE", old_cache)
      )
    )
    with c.unlocked():
      if task == "glue":
        c.data.mock_examples = MOCK_EXAMPLES
      elif task == "retrieval":
        c.data.dir = _retrieval_dir(root)
      elif task in ("pathfinder", "pathx"):
        c.data.dir = ""
        c.data.generate.num = 20  # an 80/10/10 split keeps every split non-empty
        c.data.generate.workers = 1
      elif task == "listops":
        c.data.dir = ""
        c.data.generate.update(num_train=MOCK_EXAMPLES, num_val=2, num_test=2)
      elif task in ("text", "image", "lm"):
        import tensorflow_datasets as tfds

        stack.enter_context(tfds.testing.mock_data(num_examples=MOCK_EXAMPLES))
    yield c
