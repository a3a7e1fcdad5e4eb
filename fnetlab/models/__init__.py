"""Models: the encoder family (classification, retrieval, pretraining) and the causal decoder."""

from fnetlab.models.config import LRA_ENCODER, SIZES, ModelSpec, layer_mixers, spec_from_config
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
  "LRA_ENCODER",
  "SIZES",
  "Classifier",
  "Decoder",
  "Denoiser",
  "DualClassifier",
  "Encoder",
  "EncoderModel",
  "ModelSpec",
  "Pretrainer",
  "layer_mixers",
  "spec_from_config",
  "supports_decode",
]
