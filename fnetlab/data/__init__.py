"""Dataset generators and loaders (pure NumPy; no JAX)."""
