"""MLM + NSP pretraining (BERT, Devlin et al. 2019) as FNet does it (f_net `run_pretraining`).

Examples (`[CLS] A [SEP] B [SEP]`, f_net's order-swap next-sentence task, BERT masking) come
from fnetlab.data.pretrain, which documents how they are drawn and where they depart from
f_net; the encoder and tokenizer are set up by fnetlab.tasks.encoder_setup.

Model: fnetlab.models.Pretrainer (MLM head dense -> gelu -> LN -> decoder tied to the word
embedding with its own bias; NSP on the pooled output). Loss = MLM cross-entropy averaged over
the predicted positions + NSP cross-entropy, as in f_net.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax

from fnetlab.common.errors import UserError
from fnetlab.data import pretrain as data
from fnetlab.models import Pretrainer
from fnetlab.tasks.base import Task, weighted_mean
from fnetlab.tasks.encoder_setup import check_length, encoder_setup

# ----------------------------------------------------------------------------- loss


def pretrain_loss(outputs, batch):
  mlm_logits, nsp_logits = outputs
  ex_w = batch.get("weight", jnp.ones(batch["nsp_label"].shape, jnp.float32))
  w = batch["mlm_weights"] * ex_w[:, None]
  ce = optax.softmax_cross_entropy_with_integer_labels(mlm_logits, batch["mlm_targets"])
  mlm_loss = jnp.sum(ce * w) / jnp.maximum(jnp.sum(w), 1.0)
  mlm_acc = jnp.sum((jnp.argmax(mlm_logits, -1) == batch["mlm_targets"]) * w) / jnp.maximum(
    jnp.sum(w), 1.0
  )
  nsp_ce = optax.softmax_cross_entropy_with_integer_labels(nsp_logits, batch["nsp_label"])
  nsp_loss = weighted_mean(nsp_ce, ex_w)
  nsp_acc = weighted_mean(
    (jnp.argmax(nsp_logits, -1) == batch["nsp_label"]).astype(jnp.float32), ex_w
  )
  metrics = {
    "mlm_loss": mlm_loss,
    "mlm_accuracy": mlm_acc,
    "nsp_loss": nsp_loss,
    "nsp_accuracy": nsp_acc,
  }
  return mlm_loss + nsp_loss, metrics


def pretrain_predict(outputs, batch):
  mlm_logits, nsp_logits = outputs
  w = batch["mlm_weights"]
  ce = optax.softmax_cross_entropy_with_integer_labels(mlm_logits, batch["mlm_targets"])
  return {
    "mlm_loss_sum": jnp.sum(ce * w, -1),
    "mlm_correct": jnp.sum((jnp.argmax(mlm_logits, -1) == batch["mlm_targets"]) * w, -1),
    "mlm_count": jnp.sum(w, -1),
    "nsp_loss": optax.softmax_cross_entropy_with_integer_labels(nsp_logits, batch["nsp_label"]),
    "nsp_correct": (jnp.argmax(nsp_logits, -1) == batch["nsp_label"]).astype(jnp.float32),
  }


def pretrain_metrics(arrays):
  count = max(float(np.sum(arrays["mlm_count"])), 1.0)
  mlm_loss = float(np.sum(arrays["mlm_loss_sum"])) / count
  nsp_loss = float(np.mean(arrays["nsp_loss"]))
  return {
    "loss": mlm_loss + nsp_loss,
    "mlm_loss": mlm_loss,
    "mlm_accuracy": float(np.sum(arrays["mlm_correct"])) / count,
    "nsp_loss": nsp_loss,
    "nsp_accuracy": float(np.mean(arrays["nsp_correct"])),
  }


# ----------------------------------------------------------------------------- task


def build(config) -> Task:
  data_cfg = config.data
  if data_cfg.source not in data.SOURCES:
    raise UserError(f"config key data.source={data_cfg.source!r}; valid: {', '.join(data.SOURCES)}")
  if not 0 < data_cfg.max_predictions:
    raise UserError(f"config key data.max_predictions={data_cfg.max_predictions} must be >= 1")
  if not (0 <= data_cfg.mask_token_prob and 0 <= data_cfg.random_token_prob) or (
    data_cfg.mask_token_prob + data_cfg.random_token_prob > 1
  ):
    raise UserError("config keys data.mask_token_prob + data.random_token_prob must lie in [0, 1]")
  tok, spec = encoder_setup(config, num_classes=2)
  max_len = check_length(config, spec)
  if max_len < 5:
    raise UserError(f"config key data.max_len={max_len}: needs [CLS] a [SEP] b [SEP]")
  splits = data.pretrain_splits(data_cfg, tok, max_len, config.seed)
  return Task(
    name="pretrain",
    model=Pretrainer(spec),
    splits=splits,
    loss_fn=pretrain_loss,
    predict_fn=pretrain_predict,
    metrics_fn=pretrain_metrics,
    info={"tokenizer": tok.name, "vocab_size": tok.vocab_size, "max_len": max_len},
  )
