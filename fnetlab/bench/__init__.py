"""`fnetlab bench`: speed, memory, FLOPs and parameters of every mixer against sequence length.

`timing` builds a Trainer per (mixer, length) on the synthetic task and times its train step,
the one `fnetlab train` runs; `peers` times the Hugging Face PyTorch FNet / BERT at the same
config (optional `[peer]` extra); `jobs` warms up and times both alike. bench.csv, bench.md and
the plots are written by fnetlab/results (bench.py, plots.py); the command is
fnetlab/commands/bench.py.
"""
