"""`fnetlab import-hf`: a Hugging Face FNet/BERT checkpoint -> an fnetlab workdir.

    fnetlab import-hf --hf_dir=path/to/google-fnet-base --workdir=runs/fnet-base-hf

The workdir gets a params-only checkpoint at step 0 holding `{'backbone': <EncoderModel
params>}` (the `backbone` subtree of our Classifier/Pretrainer) and a config.json whose `model`
block rebuilds the same encoder with `spec_from_config`, so `--config.init_from=WORKDIR`
fine-tunes it. Conversion details and the differences from HF's models are in
`fnetlab.convert.hf`.

The flags live in a module-private FlagValues so that importing this module next to other
subcommands (in one test process, say) cannot clash over shared names such as `workdir`.
"""

from __future__ import annotations

import dataclasses
import os
import shutil

from absl import flags

from fnetlab.errors import UserError

FLAGS = flags.FlagValues()
flags.DEFINE_string("hf_dir", None, "Hugging Face checkpoint directory.", flag_values=FLAGS)
flags.DEFINE_string("workdir", None, "Output fnetlab workdir.", flag_values=FLAGS)
flags.DEFINE_bool(
  "overwrite", False, "Replace the checkpoints already in --workdir.", flag_values=FLAGS
)


def spec_dict(spec) -> dict:
  """ModelSpec as the JSON `model` block that `spec_from_config` reads back."""
  model = dataclasses.asdict(spec)
  model["mixer_options"] = dict(spec.mixer_options)
  return model


def main(argv: list[str]) -> int:
  FLAGS.unparse_flags()  # a second call in one process must not inherit the first's values
  FLAGS(argv)
  if not FLAGS.hf_dir or not FLAGS.workdir:
    raise UserError("import-hf needs --hf_dir=DIR and --workdir=OUT")
  from fnetlab.convert import hf
  from fnetlab.train import checkpoints

  ckpt_dir = checkpoints.checkpoint_dir(FLAGS.workdir)
  if os.path.isdir(ckpt_dir) and os.listdir(ckpt_dir) and not FLAGS.overwrite:
    raise UserError(f"{ckpt_dir} already has checkpoints; pass --overwrite or another --workdir")
  imported = hf.import_checkpoint(FLAGS.hf_dir)
  if FLAGS.overwrite and os.path.isdir(ckpt_dir):
    shutil.rmtree(ckpt_dir)
  config = {
    "model": spec_dict(imported.spec),
    "source": {
      "hf_dir": os.path.abspath(FLAGS.hf_dir),
      "model_type": imported.model_type,
      "weights_file": os.path.abspath(imported.weights_file),
    },
  }
  checkpoints.save_params_only(FLAGS.workdir, {"backbone": imported.params}, config)
  spec = imported.spec
  print(
    f"import-hf: {imported.model_type} ({spec.num_layers} layers, d_model={spec.d_model}): "
    f"{len(imported.converted)} tensors converted, {imported.num_params:,} params, "
    f"{len(imported.unused)} unused tensors skipped -> {checkpoints.checkpoint_dir(FLAGS.workdir)}"
  )
  return 0
