"""Fashion-MNIST as 784-pixel sequences with any mixer: CPU suite, in the style of LRA Image.

Real images in LRA Image's form: CLS + 784 pixel ids (grey values 0-255) of the 28x28
Fashion-MNIST articles, 10 classes, 54,000 / 6,000 / 10,000 images (train[:90%] /
train[90%:] / the official test set; fnetlab/data/fashion_mnist.py). The data comes from the
Debian package dataset-fashion-mnist (`fnetlab data fashion_mnist` or `make data`), or from the
official IDX files or tfds `fashion_mnist` through `data.dir` / `data.source`. The suite's
shared block and budget (fnetlab.config.apply_cpu_suite); evaluation on the whole validation and test
splits. CPU-scale: a tiny model and a few hundred steps, not a Fashion-MNIST benchmark entry.

  fnetlab data fashion_mnist
  fnetlab train --config=configs/suite/fashion_mnist.py:mixer=fourier --workdir=runs/fmnist_fnet
  fnetlab sweep --config=configs/suite/fashion_mnist.py --sweep=mixers --seeds=0,1,2 \\
      --workdir=runs/fmnist

Args: mixer=<registry name>, lr=<peak rate>, block=fnet|lra (fnetlab.config.apply_cpu_suite),
steps=<int> (default 300), plus any option of the chosen mixer.
"""

from fnetlab.config import apply_cpu_suite, base, every_mixer, parse_arg

LR = 1e-3  # peak learning rate, the same for every mixer


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg, {"mixer": "fourier", "size": "tiny", "steps": 300, "lr": LR, "block": "fnet"}
  )
  c = base("fashion_mnist", values, mixer_options)
  apply_cpu_suite(c, int(values["steps"]), float(values["lr"]), block=values["block"])
  c.model.max_len = 785  # CLS + 28 * 28 pixels
  c.model.positions = "learned"  # as LRA Image
  c.model.pooling = "auto"  # CLS (a worker layer pools by mean), as LRA Image
  c.train.best_metric = "accuracy"
  c.data.dir = ""  # folder with the four IDX files (tfds: its data_dir); empty: the data cache
  c.data.source = "files"  # files (official IDX) | tfds (fashion_mnist, array_record)
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
