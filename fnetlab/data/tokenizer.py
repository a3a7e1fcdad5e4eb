"""Tokenizers for GLUE fine-tuning and MLM+NSP pretraining, and the BERT pair-input builder.

Three tokenizers, one interface (`vocab_size`, `pad_id`, `cls_id`, `sep_id`, `mask_id`,
`normal_ids`, `encode_batch(texts)`):

- `SentencePieceTokenizer(path)`: a SentencePiece model file, as the published FNet
  checkpoints ship (`google/fnet-base/spiece.model`). The special ids are read from the file,
  as the official f_net input pipeline does: `[CLS]`, `[SEP]` and `[MASK]` by piece name,
  padding from the model's pad id (else the piece `<pad>`). For google/fnet-base this gives
  pad 3, [CLS] 4, [SEP] 5 (HF FNetConfig's pad_token_id=3, and transformers' FNet tokenizer
  integration test, which encodes a pair as `4 ... 5` padded with 3), and [MASK] 6; bos/eos
  are 1/2. Because the ids come from the file, an imported checkpoint sees exactly the ids it
  was trained with. `lower_case` lowercases text first, as HF's FNetTokenizer does by default
  (the FNet checkpoints are uncased).
- `WordPieceTokenizer(path)`: a BERT `vocab.txt` (one piece a line, the line number is the
  id), as BERT-family checkpoints ship. It reproduces BERT's `BasicTokenizer` +
  `WordpieceTokenizer` (and transformers' `BertTokenizer`): drop control characters, map
  whitespace to spaces, put spaces around CJK ideographs, split on whitespace, with
  `lower_case` lowercase and strip accents (NFD without combining marks), split off every
  punctuation character, then cut each word greedily into the longest pieces in the vocabulary
  (continuations prefixed `##`); a word with no such cut, or longer than 100 characters, is
  `[UNK]`. Special ids are the lines `[PAD]`, `[CLS]`, `[SEP]`, `[MASK]`.
- `ByteTokenizer()`: the offline fallback with no vocabulary file: [PAD] 0, [CLS] 1, [SEP] 2,
  [MASK] 3, and UTF-8 byte b as id b + 4 (vocabulary 260).

`pack_pair` builds BERT's `[CLS] a [SEP] b [SEP]` with type ids 0 for `[CLS] a [SEP]` and 1
for `b [SEP]`, padded to `max_len`. Too-long pairs are cut as BERT's `_truncate_seq_pair`
does: one token at a time from the end of the longer segment (of `b` on a tie). The official
f_net pipeline instead cuts the concatenation at max_len, which can drop `b` and the final
`[SEP]`; we follow BERT (and HF's `longest_first`), so both segments survive.
"""

from __future__ import annotations

import os
import unicodedata

import numpy as np

from fnetlab.common.errors import UserError

SPECIAL_PIECES = {"cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"}


class ByteTokenizer:
  """UTF-8 bytes shifted past four special ids; needs no vocabulary file."""

  name = "byte"
  pad_id, cls_id, sep_id, mask_id = 0, 1, 2, 3
  offset = 4
  vocab_size = 256 + offset

  def __init__(self, lower_case: bool = False):
    self.lower_case = lower_case

  @property
  def normal_ids(self) -> np.ndarray:
    """Ids an MLM random replacement may draw: every byte, no special."""
    return np.arange(self.offset, self.vocab_size, dtype=np.int32)

  def encode_batch(self, texts) -> list[np.ndarray]:
    out = []
    for text in texts:
      text = text.lower() if self.lower_case else text
      out.append(np.frombuffer(text.encode("utf-8"), np.uint8).astype(np.int32) + self.offset)
    return out

  def decode(self, ids) -> str:
    ids = np.asarray(ids, np.int64).reshape(-1)
    return (
      (ids[ids >= self.offset] - self.offset)
      .astype(np.uint8)
      .tobytes()
      .decode("utf-8", errors="replace")
    )


class SentencePieceTokenizer:
  """A SentencePiece model file; special ids looked up by piece name (see the module doc)."""

  name = "sentencepiece"

  def __init__(self, path: str, lower_case: bool = True):
    import sentencepiece as spm

    if not os.path.isfile(path):
      raise UserError(f"config key data.sentencepiece: {path} does not exist")
    self.path, self.lower_case = path, lower_case
    self.sp = spm.SentencePieceProcessor()
    try:
      self.sp.Load(path)
    except (OSError, RuntimeError) as e:
      raise UserError(f"{path}: not a SentencePiece model ({str(e).splitlines()[0]})") from None
    self.vocab_size = int(self.sp.GetPieceSize())
    for key, piece in SPECIAL_PIECES.items():
      setattr(self, f"{key}_id", self._piece_id(piece))
    pad = int(self.sp.pad_id())
    self.pad_id = pad if pad >= 0 else self._piece_id("<pad>")

  def _piece_id(self, piece: str) -> int:
    i = int(self.sp.PieceToId(piece))
    if self.sp.IdToPiece(i) != piece:  # PieceToId answers unk_id for a missing piece
      raise UserError(
        f"{self.path}: SentencePiece model has no {piece} piece "
        f"(BERT-style inputs need [CLS], [SEP], [MASK] and a pad id)"
      )
    return i

  @property
  def normal_ids(self) -> np.ndarray:
    """Every id except the specials, control pieces (bos/eos/pad) and unk, as in f_net."""
    specials = {self.pad_id, self.cls_id, self.sep_id, self.mask_id}
    ids = [
      i
      for i in range(self.vocab_size)
      if i not in specials and not (self.sp.IsControl(i) or self.sp.IsUnknown(i))
    ]
    return np.asarray(ids, np.int32)

  def encode_batch(self, texts) -> list[np.ndarray]:
    texts = [t.lower() if self.lower_case else t for t in texts]
    return [np.asarray(ids, np.int32) for ids in self.sp.Encode(texts, out_type=int)]

  def decode(self, ids) -> str:
    return self.sp.Decode([int(i) for i in np.asarray(ids).reshape(-1)])


def _is_punctuation(ch: str) -> bool:
  cp = ord(ch)  # BERT counts every non-alphanumeric ASCII character as punctuation
  if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
    return True
  return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
  return any(lo <= cp <= hi for lo, hi in _CJK)


_CJK = (
  (0x4E00, 0x9FFF),
  (0x3400, 0x4DBF),
  (0x20000, 0x2A6DF),
  (0x2A700, 0x2B73F),
  (0x2B740, 0x2B81F),
  (0x2B820, 0x2CEAF),
  (0xF900, 0xFAFF),
  (0x2F800, 0x2FA1F),
)


class WordPieceTokenizer:
  """A BERT vocab.txt with BERT's basic + WordPiece tokenization (see the module doc)."""

  name = "wordpiece"
  max_word_chars = 100

  def __init__(self, path: str, lower_case: bool = True):
    if not os.path.isfile(path):
      raise UserError(f"config key data.wordpiece: {path} does not exist")
    self.path, self.lower_case = path, lower_case
    with open(path, encoding="utf-8") as f:
      pieces = [line.rstrip("\r\n") for line in f]
    self.vocab = {p: i for i, p in reversed(list(enumerate(pieces)))}  # first line wins
    self.vocab_size = len(pieces)
    self.pieces = pieces
    for attr, piece in (("pad", "[PAD]"), *SPECIAL_PIECES.items(), ("unk", "[UNK]")):
      if piece not in self.vocab:
        raise UserError(f"{path}: WordPiece vocabulary has no {piece} line")
      setattr(self, f"{attr}_id", self.vocab[piece])

  @property
  def normal_ids(self) -> np.ndarray:
    """Every id except [PAD], [CLS], [SEP], [MASK], [UNK] and other bracketed specials."""
    ids = [
      i for p, i in self.vocab.items() if not (p.startswith("[") and p.endswith("]") and len(p) > 2)
    ]
    return np.asarray(sorted(ids), np.int32)

  def basic_tokens(self, text: str) -> list[str]:
    """BERT's BasicTokenizer: cleaned, optionally lowercased and accent-stripped words."""
    chars = []
    for ch in text:
      cp = ord(ch)
      if (
        cp == 0 or cp == 0xFFFD or (ch not in "\t\n\r" and unicodedata.category(ch).startswith("C"))
      ):
        continue
      if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
        chars.append(" ")
      elif _is_cjk(cp):
        chars.append(f" {ch} ")
      else:
        chars.append(ch)
    out = []
    for word in "".join(chars).split():
      if self.lower_case:
        word = word.lower()
        word = "".join(
          c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn"
        )
      start = 0
      for i, ch in enumerate(word):
        if _is_punctuation(ch):
          if i > start:
            out.append(word[start:i])
          out.append(ch)
          start = i + 1
      if start < len(word):
        out.append(word[start:])
    return out

  def word_ids(self, word: str) -> list[int]:
    """Greedy longest-match-first WordPiece ids of one word ([UNK] if it cannot be cut)."""
    if len(word) > self.max_word_chars:
      return [self.unk_id]
    ids, start = [], 0
    while start < len(word):
      end = len(word)
      while end > start:
        piece = word[start:end] if start == 0 else "##" + word[start:end]
        if piece in self.vocab:
          ids.append(self.vocab[piece])
          break
        end -= 1
      if end == start:
        return [self.unk_id]
      start = end
    return ids

  def decode(self, ids) -> str:
    words = [self.pieces[int(i)] for i in np.asarray(ids).reshape(-1)]
    return " ".join(words).replace(" ##", "")

  def encode_batch(self, texts) -> list[np.ndarray]:
    return [
      np.asarray([i for w in self.basic_tokens(t) for i in self.word_ids(w)], np.int32)
      for t in texts
    ]


def from_config(data_cfg) -> ByteTokenizer | SentencePieceTokenizer | WordPieceTokenizer:
  """`data.sentencepiece` (a model file), `data.wordpiece` (a BERT vocab.txt) or, when both
  are empty, the byte-level tokenizer."""
  path = data_cfg.get("sentencepiece", "")
  wordpiece = data_cfg.get("wordpiece", "")
  lower = bool(data_cfg.get("lower_case", True))
  if path and wordpiece:
    raise UserError("config keys data.sentencepiece and data.wordpiece: set one, not both")
  if wordpiece:
    return WordPieceTokenizer(wordpiece, lower)
  return SentencePieceTokenizer(path, lower) if path else ByteTokenizer(lower)


def truncate_pair(len_a: int, len_b: int, budget: int) -> tuple[int, int]:
  """Segment lengths after BERT's `_truncate_seq_pair`: pop from the longer, `b` on ties."""
  while len_a + len_b > budget:
    if len_a > len_b:
      len_a -= 1
    else:
      len_b -= 1
  return len_a, len_b


def pack_pair(tok, a: np.ndarray, b: np.ndarray | None, max_len: int):
  """`[CLS] a [SEP] (b [SEP])` -> (ids, type_ids) of length max_len, pad-filled."""
  budget = max_len - (3 if b is not None else 2)
  if budget < 0:
    raise UserError(f"config key data.max_len={max_len} is too short for [CLS] a [SEP] b [SEP]")
  la, lb = truncate_pair(len(a), 0 if b is None else len(b), budget)
  parts = [[tok.cls_id], a[:la], [tok.sep_id]]
  types = [np.zeros(la + 2, np.int32)]
  if b is not None:
    parts += [b[:lb], [tok.sep_id]]
    types.append(np.ones(lb + 1, np.int32))
  seq = np.concatenate([np.asarray(p, np.int32) for p in parts])
  ids = np.full(max_len, tok.pad_id, np.int32)
  type_ids = np.zeros(max_len, np.int32)
  ids[: len(seq)] = seq
  type_ids[: len(seq)] = np.concatenate(types)
  return ids, type_ids
