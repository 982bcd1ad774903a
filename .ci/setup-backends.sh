#!/bin/sh
# Python packages for the backend and lm-eval tests (tests/test_backend_openai.py,
# tests/test_lmeval_tasks.py): the openai client, `transformers serve` (FastAPI/uvicorn), lm-eval.
# Idempotent; PyPI only. torch and transformers are pinned to what is installed so pip never
# swaps in another torch (an unpinned one would be a multi-GB CUDA build).
set -eu
PY=${PYTHON:-python3}
if $PY -c "import openai, fastapi, uvicorn, lm_eval" >/dev/null 2>&1; then
    echo "backend test packages already installed"
    exit 0
fi
torch_version=$($PY -c "import torch; print(torch.__version__.split('+')[0])")
transformers_version=$($PY -c "import transformers; print(transformers.__version__)")
$PY -m pip install -q "openai>=1.40" "transformers[serving]==$transformers_version" "lm-eval==0.4.13" \
    "torch==$torch_version" "transformers==$transformers_version"
$PY -c "import torch, openai, lm_eval; print('torch', torch.__version__, '| openai', openai.__version__, '| lm-eval', lm_eval.__version__)"
