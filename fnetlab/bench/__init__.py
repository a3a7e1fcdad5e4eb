"""`fnetlab bench`: speed, memory, FLOPs and parameters of every mixer against sequence length.

`core` measures one full train step per (mixer, length) and writes bench.csv / bench.md / plots;
`peer` times the Hugging Face PyTorch FNet / BERT at the same config (optional `[peer]` extra);
`cli` is the command.
"""
