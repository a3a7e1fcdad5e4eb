"""`fnetlab import-hf`: a Hugging Face FNet/BERT checkpoint -> an fnetlab workdir.

    fnetlab import-hf --hf_dir=path/to/google-fnet-base --workdir=runs/fnet-base-hf

The workdir gets a params-only checkpoint at step 0 holding `{'backbone': <EncoderModel
params>}` (the `backbone` subtree of our Classifier/Pretrainer) and a config.json whose `model`
block rebuilds the same encoder with `spec_from_config`, so `--config.init_from=WORKDIR`
fine-tunes it. Conversion details and the differences from HF's models are in
`fnetlab.convert.hf`.
"""

from __future__ import annotations

import os
import shutil

from fnetlab.common.errors import UserError
from fnetlab.common.flags import Flag, parse

FLAGS = (
  Flag("hf_dir", "Hugging Face checkpoint directory (config.json + weights).", required=True),
  Flag("workdir", "Output fnetlab workdir.", required=True),
  Flag("overwrite", "Replace the checkpoints already in --workdir.", False, bool),
)


def main(argv: list[str]) -> int:
  args = parse("import-hf", __doc__, FLAGS, argv)
  from fnetlab.common import checkpoints
  from fnetlab.convert import hf
  from fnetlab.tasks.encoder_setup import spec_dict

  ckpt_dir = checkpoints.checkpoint_dir(args.workdir)
  if os.path.isdir(ckpt_dir) and os.listdir(ckpt_dir) and not args.overwrite:
    raise UserError(f"{ckpt_dir} already has checkpoints; pass --overwrite or another --workdir")
  imported = hf.import_checkpoint(args.hf_dir)
  if args.overwrite and os.path.isdir(ckpt_dir):
    shutil.rmtree(ckpt_dir)
  config = {
    "model": spec_dict(imported.spec),
    "source": {
      "hf_dir": os.path.abspath(args.hf_dir),
      "model_type": imported.model_type,
      "weights_file": os.path.abspath(imported.weights_file),
    },
  }
  checkpoints.save_params_only(args.workdir, {"backbone": imported.params}, config)
  spec = imported.spec
  print(
    f"import-hf: {imported.model_type} ({spec.num_layers} layers, d_model={spec.d_model}): "
    f"{len(imported.converted)} tensors converted, {imported.num_params:,} params, "
    f"{len(imported.unused)} unused tensors skipped -> {checkpoints.checkpoint_dir(args.workdir)}"
  )
  return 0
