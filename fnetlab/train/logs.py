"""Metric logging: metrics.jsonl, TensorBoard events (tensorboardX, no TensorFlow), a progress bar."""

from __future__ import annotations

import json
import os
import sys

from tqdm import tqdm


class MetricLogger:
  """Writes one JSON object per log call to metrics.jsonl and scalars to `tb/`; drives tqdm."""

  def __init__(self, workdir: str, total: int, initial: int = 0, enabled: bool = True):
    self.enabled = enabled
    if not enabled:
      return
    from tensorboardX import SummaryWriter

    self.file = open(os.path.join(workdir, "metrics.jsonl"), "a")
    self.tb = SummaryWriter(os.path.join(workdir, "tb"))
    self.bar = tqdm(
      total=total,
      initial=initial,
      desc="train",
      file=sys.stderr,
      dynamic_ncols=True,
      mininterval=1.0,
    )
    self.step = initial

  def log(self, step: int, metrics: dict, progress: bool = True) -> None:
    if not self.enabled:
      return
    self.file.write(json.dumps({"step": step, **metrics}) + "\n")
    self.file.flush()
    for k, v in metrics.items():
      self.tb.add_scalar(k, v, step)
    if progress:
      self.bar.update(step - self.step)
      self.step = step
      shown = {k: metrics[k] for k in ("train_loss", "steps_per_sec") if k in metrics}
      self.bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items()})
    else:
      self.bar.write(f"step {step}: " + " ".join(f"{k}={v:.4g}" for k, v in metrics.items()))

  def close(self) -> None:
    if self.enabled:
      self.bar.close()
      self.tb.close()
      self.file.close()
