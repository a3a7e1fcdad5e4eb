"""Metric logging: metrics.jsonl, TensorBoard events (tensorboardX, no TensorFlow), progress.

On a terminal, progress is a tqdm bar; when stderr is a file or a pipe (a log file, a batch
job), it is one plain line per log step instead, so the log holds no carriage-return frames.
"""

from __future__ import annotations

import json
import sys

from tqdm import tqdm

from fnetlab.common import workdir as files


def _text(metrics: dict) -> str:
  return " ".join(f"{k}={v:.4g}" for k, v in metrics.items())


class MetricLogger:
  """Writes one JSON object per log call to metrics.jsonl and scalars to `tb/`; shows progress."""

  def __init__(self, workdir: str, total: int, initial: int = 0, enabled: bool = True):
    self.enabled = enabled
    if not enabled:
      return
    from tensorboardX import SummaryWriter

    self.file = open(files.metrics_file(workdir), "a")
    self.tb = SummaryWriter(files.path(workdir, files.TENSORBOARD))
    self.total = total
    self.bar = None
    if sys.stderr.isatty():
      self.bar = tqdm(
        total=total,
        initial=initial,
        desc="train",
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=1.0,
      )
    self.step = initial

  def _say(self, text: str) -> None:
    if self.bar is not None:
      self.bar.write(text)
    else:
      print(text, file=sys.stderr, flush=True)

  def log(self, step: int, metrics: dict, progress: bool = True) -> None:
    if not self.enabled:
      return
    self.file.write(json.dumps({"step": step, **metrics}) + "\n")
    self.file.flush()
    for k, v in metrics.items():
      self.tb.add_scalar(k, v, step)
    if not progress:
      self._say(f"step {step}: {_text(metrics)}")
      return
    shown = {k: metrics[k] for k in ("train_loss", "steps_per_sec") if k in metrics}
    if self.bar is not None:
      self.bar.update(step - self.step)
      self.bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items()})
    else:
      self._say(f"step {step}/{self.total}: {_text(shown)}")
    self.step = step

  def close(self) -> None:
    if self.enabled:
      if self.bar is not None:
        self.bar.close()
      self.tb.close()
      self.file.close()
