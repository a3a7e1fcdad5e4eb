"""Language-model utilities: sampling from trained decoders (`fnetlab sample`)."""

from fnetlab.lm.sample import Sampler, load_sampler, pick_token

__all__ = ["Sampler", "load_sampler", "pick_token"]
