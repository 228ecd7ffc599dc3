#!/usr/bin/env bash
# Native AOT: publishes samples/MnistAot (the MNIST inference path) for x86-64-v3 (AVX2), x86-64-v4 (AVX-512) and
# linux-arm64 (run under qemu on the sysroot of .ci/arm64/sysroot.sh), with warnings as errors, and reports each
# binary's size and the time from process start to the first prediction (median of several launches, measured from
# outside: fork to exit of `--first-only`), beside the same program on ONNX Runtime (bench/MnistOrt, managed,
# framework-dependent, the CNN exported by GraphCompiler.Onnx). Then the test accuracy of each.
#
#   bash bench/aot.sh [launches]        (default 11 launches; writes artifacts/aot/, prints a Markdown table)
#
# Weights: artifacts/aot/mnist-cnn.safetensors, trained first with samples/Mnist (1 epoch) when missing.
set -euo pipefail

cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

LAUNCHES=${1:-11}
OUT=artifacts/aot
CHECKPOINT=$OUT/mnist-cnn.safetensors
SYSROOT=artifacts/arm64/sysroot
mkdir -p "$OUT"

if [[ ! -f "$CHECKPOINT" ]]; then
  echo "--- training the weights: samples/Mnist, 1 epoch"
  dotnet run -c Release --project samples/Mnist -- --epochs 1 --quiet --checkpoint "$CHECKPOINT"
fi

publish_x64() { # flavour instruction-set
  dotnet publish samples/MnistAot -c Release -r linux-x64 -p:IlcInstructionSet="$2" -o "$OUT/$1" -nologo -v quiet
}

# Cross-compiled: the arm64 ILCompiler package links with clang and lld against the arm64 sysroot (with the C
# library's development files).
publish_arm64() {
  bash .ci/arm64/sysroot.sh "$SYSROOT" --dev >/dev/null
  dotnet publish samples/MnistAot -c Release -r linux-arm64 -p:SysRoot="$(realpath "$SYSROOT")" -p:LinkerFlavor=lld \
    -o "$OUT/linux-arm64" -nologo -v quiet
}

# Median wall time in ms of LAUNCHES runs of a command (one warm-up run first, not counted).
median_ms() {
  local times=() t0 t1
  "$@" >/dev/null
  for ((i = 0; i < LAUNCHES; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
}

size_mb() { du -b "$1" | awk '{ printf "%.2f", $1 / 1048576 }'; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); }

for flavour in x86-64-v3 x86-64-v4; do
  echo "--- publish: PublishAot linux-x64, IlcInstructionSet=$flavour"
  publish_x64 "$flavour" "$flavour"
  app=$OUT/$flavour/MnistAot
  "$app" --checkpoint "$CHECKPOINT" --first-only # fetches MNIST on the first run
  full=$("$app" --checkpoint "$CHECKPOINT" | tail -n 2 | tr '\n' ' ')
  echo "$full"
  row "GraphCompiler, native AOT, $flavour" "$(size_mb "$app") MB (one file)" "$(median_ms "$app" --checkpoint "$CHECKPOINT" --first-only)" \
    "$(sed -n 's/.*after process start; \([^;]*\);.*/\1/p' <<<"$full")" "$(sed -n 's/.*test accuracy: \([0-9.]*\).*/\1/p' <<<"$full")"
done

echo "--- ONNX Runtime: bench/MnistOrt (managed, framework-dependent)"
dotnet publish bench/MnistOrt -c Release -r linux-x64 --self-contained false -o "$OUT/ort" -nologo -v quiet
"$OUT/ort/MnistOrt" --export "$OUT/mnist-cnn.onnx" --checkpoint "$CHECKPOINT"
full=$("$OUT/ort/MnistOrt" --model "$OUT/mnist-cnn.onnx" | tail -n 2 | tr '\n' ' ')
echo "$full"
ort_size=$(du -cb "$OUT"/ort/*.dll "$OUT"/ort/MnistOrt "$OUT"/ort/libonnxruntime.so* 2>/dev/null | tail -n 1 | awk '{ printf "%.2f", $1 / 1048576 }')
row "ONNX Runtime 1.31.1 (managed, JIT), CNN exported by GraphCompiler.Onnx" "$ort_size MB + .NET runtime" \
  "$(median_ms "$OUT/ort/MnistOrt" --model "$OUT/mnist-cnn.onnx" --first-only)" "ORT CPU, 1 thread" \
  "$(sed -n 's/.*test accuracy: \([0-9.]*\).*/\1/p' <<<"$full")"

echo "--- publish: PublishAot linux-arm64 (cross), run under qemu-aarch64-static"
if publish_arm64; then
  app=$OUT/linux-arm64/MnistAot
  # Emulation runs the whole test set in about 7 minutes: the first 1,000 images are enough here.
  full=$(qemu-aarch64-static -L "$SYSROOT" "$app" --checkpoint "$CHECKPOINT" --limit 1000 | tail -n 2 | tr '\n' ' ')
  echo "$full"
  row "GraphCompiler, native AOT, linux-arm64 under qemu (3 launches; first 1,000 test images)" "$(size_mb "$app") MB (one file)" \
    "$(LAUNCHES=3 median_ms qemu-aarch64-static -L "$SYSROOT" "$app" --checkpoint "$CHECKPOINT" --first-only)" \
    "$(sed -n 's/.*after process start; \([^;]*\);.*/\1/p' <<<"$full")" "$(sed -n 's/.*test accuracy: \([0-9.]*\).*/\1/p' <<<"$full")"
else
  row "GraphCompiler, native AOT, linux-arm64" "publish failed" "-" "-" "-"
fi

echo
echo "| program | binary | start to first prediction, median of $LAUNCHES launches (ms) | kernels | test accuracy |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
