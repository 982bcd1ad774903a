#!/bin/sh
# Ray for `--executor ray` and tests/test_ray_*.py (they skip without it). Idempotent; PyPI only.
# Ray has no torch dependency, so this cannot pull a CUDA torch.
set -eu
python3 -c "import ray, sys; sys.exit(0 if ray.__version__ == '2.60.0' else 1)" 2>/dev/null && exit 0
python3 -m pip install --no-input 'ray==2.60.0'
