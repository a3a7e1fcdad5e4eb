#!/usr/bin/env bash
# experiments/accelerator_check.py on an accelerator node whose image already has jax (with its
# CUDA or TPU plugin), flax, optax, orbax, torch and transformers, with no package index:
#
#   bash experiments/accelerator_check.sh --out=DIR [--budget_s=480] [--workdir=SCRATCH]
#
# If wheelhouse/ exists (`make wheelhouse`), the packages wheelhouse.txt lists are installed
# from it with --no-deps into a separate folder ($FNETLAB_SITE, default /tmp/fnetlab-site) that
# goes on PYTHONPATH: the image's own packages, its jax above all, are never replaced or
# upgraded. The repository itself is used in place (PYTHONPATH), not installed.
# $PYTHON picks the interpreter (default python3, the image's).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
export PYTHONNOUSERSITE=1 PYTHONUNBUFFERED=1
pythonpath=$PWD
if [ -d wheelhouse ]; then
  site=${FNETLAB_SITE:-/tmp/fnetlab-site}
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --disable-pip-version-check --upgrade --target "$site" --find-links wheelhouse -r wheelhouse.txt
  pythonpath=$pythonpath:$site
fi
export PYTHONPATH=$pythonpath${PYTHONPATH:+:$PYTHONPATH}
"$py" -c 'import jax, sys; print("jax", jax.__version__, "from", jax.__file__, file=sys.stderr)'
exec "$py" experiments/accelerator_check.py "$@"
