"""Converters from other frameworks' checkpoints into fnetlab parameter trees.

`fnetlab.convert.hf` reads Hugging Face FNet and BERT checkpoints (`fnetlab import-hf`).
"""
