"""Input pipelines: every task's splits come from here (NumPy, PIL and tfds; no models).

- `sources`: random-access splits (`len`, `batch(indices)`) and the batch order, a pure
  function of (seed, step); `cache`: the folder generated data sets live in.
- `tfds_source`: tfds data sets read offline (array_record, never downloaded).
- `listops`, `pathfinder/`: the offline generators and official-format files of LRA ListOps
  and Pathfinder; `lra`: the other LRA inputs (IMDB bytes, AAN pairs, grayscale CIFAR-10).
- `glue`, `pretrain`, `tokenizer`: GLUE pairs, MLM + NSP examples and their tokenizers.
- `snli`, `snippets`, `trec`, `fashion_mnist`: real labelled data in its official formats
  (SNLI jsonl, the movie-snippet sentiment file, TREC label files, Fashion-MNIST IDX), and
  `packages`: the pinned registry packages `fnetlab data <name>` copies them from.
- `shakespeare`, `lm`: the Shakespeare corpus and its language-model windows.
- `errors`: `DataError`, the one-line user error naming `file:line`.

This package imports only `fnetlab.common` from fnetlab.
"""
