#!/usr/bin/env bash
# Installs what tests/golden/make_golden.py needs: Debian's PyTorch and NumPy, importable only by Debian's
# own /usr/bin/python3 (not by another python3 earlier on PATH). Idempotent: does nothing when they import.
# Only regenerating the golden files needs this; the C# tests read the committed files.
set -euo pipefail

PYTHON=/usr/bin/python3
PACKAGES=(python3-torch python3-numpy libopenblas0-openmp)

if [ -x "$PYTHON" ] && "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
    echo "PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') is already importable by $PYTHON"
    exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi

$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${PACKAGES[@]}"
"$PYTHON" -c 'import torch, numpy; print("PyTorch", torch.__version__, "NumPy", numpy.__version__)'
