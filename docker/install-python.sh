#!/usr/bin/env bash
# Install wyoming-kokoro with all its extras from uv.lock into the project environment
# ($UV_PROJECT_ENVIRONMENT), with CPU-only torch: the lock resolves torch from PyPI, whose Linux wheels (x86_64 and
# aarch64) pull in gigabytes of CUDA (nvidia-*, cuda-*, triton). Those packages are left out,
# and torch itself is installed at the locked version from the PyTorch CPU index.
#
#   install-python.sh deps      locked dependencies (not the project), then CPU torch
#   install-python.sh project   the project itself (non-editable), nothing else changed
#
# DRY_RUN=1 prints the commands instead of running them. TORCH_INDEX overrides the CPU index.
set -euo pipefail

step=${1:-}
torch_index=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
venv=${UV_PROJECT_ENVIRONMENT:-.venv}

run() {
    if [[ -n ${DRY_RUN:-} ]]; then
        echo "$*"
    else
        "$@"
    fi
}

# Every optional part: the torch backend, Japanese, Chinese, Home Assistant's response texts
extras=(--extra all)
locked=$(uv export --frozen "${extras[@]}" --no-dev --no-hashes --no-emit-project --no-annotate --no-header)
torch_version=$(sed -n -E 's/^torch==([^ ;]+).*/\1/p' <<<"$locked")
if [[ -z $torch_version ]]; then
    echo "install-python.sh: uv.lock pins no torch version" >&2
    exit 1
fi
skip=(--no-install-package torch)
while read -r package; do
    skip+=(--no-install-package "$package")
done < <(sed -n -E 's/^((nvidia|cuda)-[A-Za-z0-9._-]+|triton)==.*/\1/p' <<<"$locked")

case $step in
    deps)
        run uv sync --frozen --no-dev --no-install-project "${extras[@]}" "${skip[@]}"
        run uv pip install --python "$venv/bin/python" --no-deps --index-url "$torch_index" \
            "torch==$torch_version"
        ;;
    project)
        run uv sync --frozen --no-dev --no-editable --inexact "${extras[@]}" "${skip[@]}"
        ;;
    *)
        echo "usage: install-python.sh deps|project" >&2
        exit 2
        ;;
esac
