"""Code every layer may use: errors, the config loader, the flag layer, file helpers, checkpoints."""
