"""Models: the encoder family (classification, retrieval, pretraining) and the causal decoder."""

from fnetlab.models.config import (
  SIZES,
  ModelSpec,
  check_causal,
  layer_mixers,
  spec_from_config,
)
from fnetlab.models.decoder import Decoder, supports_decode
from fnetlab.models.encoder import (
  Classifier,
  Denoiser,
  DualClassifier,
  Encoder,
  EncoderModel,
  Pretrainer,
)

__all__ = [
  "SIZES",
  "Classifier",
  "Decoder",
  "Denoiser",
  "DualClassifier",
  "Encoder",
  "EncoderModel",
  "ModelSpec",
  "Pretrainer",
  "check_causal",
  "layer_mixers",
  "spec_from_config",
  "supports_decode",
]
