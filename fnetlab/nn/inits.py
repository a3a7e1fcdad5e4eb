"""Initialisation schemes: which initialiser each kind of dense layer gets in a published model.

A scheme names a source model; `dense_init(scheme, site)` returns the (kernel, bias) initialisers
that source uses at that site. Sites:

- `mix`: the dense layers inside a mixer (attention Q/K/V/gate/out, LSRA's branch projections,
  the worker layer's projections) and the learned matrices of the linear baseline;
- `ffn_in`, `ffn_out`: the feed-forward sublayer's two dense layers;
- `projection`: the embedding projection to the model width (f_net's `hidden_mapping_in`);
- `pooler`: the tanh(Dense) pooler; `head_hidden` and `logits`: the classifier head;
- `mlm`: the dense layer of the masked-LM head.

Schemes (docs/fidelity.md lists the sources):

- `fnet`: google-research f_net. Kernels N(0, 0.02²); biases N(0, 0.02²) where f_net passes its
  `default_bias_init` (attention, FFN input, classifier) and flax's zeros where it does not (FFN
  output, pooler, MLM dense). The embedding projection keeps flax's defaults (LeCun normal,
  zeros), as f_net's does.
- `lra`: the Long Range Arena Transformer. Attention and MLP kernels Xavier-uniform with biases
  N(0, 1e-6²); the classifier head keeps flax's Dense defaults (LeCun normal, zeros).
- `xavier`: Xavier-uniform kernels and zero biases everywhere (fnetlab's earlier default).
"""

from __future__ import annotations

from flax import linen as nn

SCHEMES = ("fnet", "lra", "xavier")
SITES = ("mix", "ffn_in", "ffn_out", "projection", "pooler", "head_hidden", "logits", "mlm")

_n02 = nn.initializers.normal(0.02)
_zeros = nn.initializers.zeros
_xavier = nn.initializers.xavier_uniform()
_lecun = nn.initializers.lecun_normal()
_tiny = nn.initializers.normal(1e-6)

_TABLE = {
  "fnet": {
    "mix": (_n02, _n02),
    "ffn_in": (_n02, _n02),
    "ffn_out": (_n02, _zeros),
    "projection": (_lecun, _zeros),
    "pooler": (_n02, _zeros),
    "head_hidden": (_n02, _n02),
    "logits": (_n02, _n02),
    "mlm": (_n02, _zeros),
  },
  "lra": {
    "mix": (_xavier, _tiny),
    "ffn_in": (_xavier, _tiny),
    "ffn_out": (_xavier, _tiny),
    "projection": (_lecun, _zeros),
    "pooler": (_lecun, _zeros),
    "head_hidden": (_lecun, _zeros),
    "logits": (_lecun, _zeros),
    "mlm": (_lecun, _zeros),
  },
  "xavier": {site: (_xavier, _zeros) for site in SITES},
}


def check_scheme(scheme: str) -> str:
  """The scheme name, or ValueError naming the valid ones."""
  if scheme not in _TABLE:
    raise ValueError(f"init scheme {scheme!r}; valid: {', '.join(SCHEMES)}")
  return scheme


def dense_init(scheme: str, site: str):
  """(kernel_init, bias_init) that `scheme`'s source model uses for a dense layer at `site`."""
  if site not in SITES:
    raise ValueError(f"init site {site!r}; valid: {', '.join(SITES)}")
  return _TABLE[check_scheme(scheme)][site]
