#!/usr/bin/env bash
# Neon under emulation: the numerics checks (tests/GraphCompiler.NeonCheck: every PyTorch golden case, forward and
# gradients; the SIMD nonlinearities; a small training run with a checkpoint round trip) published self-contained for
# linux-arm64 and run with qemu-aarch64-static on a minimal arm64 sysroot, where the generated kernels take their
# Vector128 (AdvSimd) path. The program fails a check if AdvSimd is not hardware-accelerated.
#
#   bash .ci/neon.sh            (needs root or sudo the first time, to install qemu-user-static)
#
# The last line printed is always "N passed, M failed"; a failure of the setup (apt, qemu, sysroot), of the publish
# or of the emulated process counts as a failed check. The exit code is 0 only when every check passed.
set -euo pipefail

cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

ARM64_DIR="${ARM64_DIR:-artifacts/arm64}"
SYSROOT="$ARM64_DIR/sysroot"
APP_DIR="$ARM64_DIR/neon-check"
LOG="$ARM64_DIR/neon-check.log"
start=$SECONDS

# Reports a step that failed before the checks could count themselves, as one failed check.
failed_step() {
  echo "=== neon: $1 FAILED ($((SECONDS - start)) s)"
  echo "0 passed, 1 failed"
  exit 1
}

mkdir -p "$ARM64_DIR"

echo "=== neon: qemu-user-static and the arm64 sysroot (.ci/arm64/sysroot.sh)"
bash .ci/arm64/sysroot.sh "$SYSROOT" || failed_step "setup of qemu-user-static and the arm64 sysroot"
echo "=== neon: setup took $((SECONDS - start)) s"

echo "=== neon: dotnet publish tests/GraphCompiler.NeonCheck -r linux-arm64 --self-contained"
rm -rf "$APP_DIR"
dotnet publish tests/GraphCompiler.NeonCheck -c Release -r linux-arm64 --self-contained -o "$APP_DIR" -v quiet -nologo \
  || failed_step "dotnet publish for linux-arm64"
echo "=== neon: setup and publish took $((SECONDS - start)) s"

echo "=== neon: qemu-aarch64-static -L $SYSROOT $APP_DIR/GraphCompiler.NeonCheck --require-advsimd --all"
rc=0
# User-mode emulation does not see code written through a second mapping of the same memory, which is how the
# runtime patches code under its default write-xor-execute policy; one crash in a run under heavy load pointed
# there. Single mappings and no tiering (every method compiled once, fully optimized) give it nothing to miss.
DOTNET_EnableWriteXorExecute=0 DOTNET_TieredCompilation=0 \
  timeout 20m qemu-aarch64-static -L "$SYSROOT" "$APP_DIR/GraphCompiler.NeonCheck" --require-advsimd --all 2>&1 | tee "$LOG" || rc=$?

# The program's own count, when it got that far; else its PASS/FAIL lines and one failure for the crash.
last=$(tail -n 1 "$LOG")
if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  passed=${BASH_REMATCH[1]}
  failed=${BASH_REMATCH[2]}
  if (( rc != 0 && failed == 0 )); then
    failed=1
  fi
else
  passed=$(grep -c '^PASS ' "$LOG" || true)
  failed=$(( $(grep -c '^FAIL ' "$LOG" || true) + 1 ))
  echo "=== neon: the emulated process ended without its count (exit code $rc)"
fi

echo "=== neon: took $((SECONDS - start)) s in all"
echo "${passed} passed, ${failed} failed"
if (( failed > 0 || passed == 0 )); then
  exit 1
fi
