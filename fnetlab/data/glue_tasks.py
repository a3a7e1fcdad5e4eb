"""The GLUE tasks and the GLUE-style offline tasks: text features, classes, train split size,
metric and splits. Plain data (no jax), which the GLUE task (fnetlab/tasks/glue.py) and the
config files (configs/glue.py, configs/glue_cpu/) both read.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class GlueTask:
  keys: tuple[str, ...]  # text features: one sentence or a pair
  num_classes: int  # 1: regression
  train_size: int  # tfds glue 2.0.0 train split; configs/glue.py derives steps from it
  best_metric: str
  splits: tuple[tuple[str, str], ...] = (("validation", "validation"),)  # ours -> tfds
  offline: bool = False  # read from files by fnetlab.data.glue.OFFLINE (labelled test split)


PAIR = ("sentence1", "sentence2")
GLUE = {
  "cola": GlueTask(("sentence",), 2, 8551, "mcc"),
  "sst2": GlueTask(("sentence",), 2, 67349, "accuracy"),
  "mrpc": GlueTask(PAIR, 2, 3668, "f1_accuracy_mean"),
  "qqp": GlueTask(("question1", "question2"), 2, 363846, "f1_accuracy_mean"),
  "stsb": GlueTask(PAIR, 1, 5749, "spearman"),
  "mnli": GlueTask(
    ("premise", "hypothesis"),
    3,
    392702,
    "accuracy",
    (("validation", "validation_matched"), ("validation_mismatched", "validation_mismatched")),
  ),
  "qnli": GlueTask(("question", "sentence"), 2, 104743, "accuracy"),
  "rte": GlueTask(PAIR, 2, 2490, "accuracy"),
  "wnli": GlueTask(PAIR, 2, 635, "accuracy"),
}


# Real labelled data that travels as registry packages (fnetlab.data.packages), in GLUE's
# form: SNLI as MNLI, the movie snippets as SST-2 (binary) and STS-B (score), TREC as a
# 6-way single-sentence task. Train sizes are those of the default splits (data.split_seed 0,
# SNLI data.dev_size 10000), from which configs derive train.steps.
OFFLINE = {
  "snli": GlueTask(("premise", "hypothesis"), 3, 89890, "accuracy", offline=True),
  "sentiment": GlueTask(("sentence",), 2, 8457, "accuracy", offline=True),
  "sentiment_score": GlueTask(("sentence",), 1, 8484, "spearman", offline=True),
  "trec": GlueTask(("question",), 6, 4306, "accuracy", offline=True),
}
TASKS = {**GLUE, **OFFLINE}
