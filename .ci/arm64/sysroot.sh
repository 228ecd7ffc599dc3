#!/usr/bin/env bash
# Installs user-mode emulation for linux-arm64 and builds a minimal arm64 sysroot (the C runtime, libgcc
# and libstdc++: what a self-contained .NET application or a native AOT binary loads), so that an arm64
# program runs here as `qemu-aarch64-static -L <sysroot> <program>`.
#
#   .ci/arm64/sysroot.sh [sysroot] [--dev]   (default: artifacts/arm64/sysroot; prints the sysroot's path last)
#
# --dev adds the C library's development files and installs clang and lld, to link native AOT binaries for
# linux-arm64 on this machine (bench/aot.sh).
#
# The arm64 packages are fetched with `apt-get download` through a private apt configuration (its own
# sources, lists, cache and an empty status file) and unpacked with `dpkg -x`: the machine's dpkg
# architectures and package database are not touched. Rerunning is cheap: a complete sysroot is kept.
set -euo pipefail

cd "$(dirname "$0")/../.."

SYSROOT=$(realpath -m "${1:-artifacts/arm64/sysroot}")
WORK=$(realpath -m "$SYSROOT/../apt")
PACKAGES=(libc6 libgcc-s1 libstdc++6)
MARKER=.complete
HOST_TOOLS=(qemu-user-static)
if [[ "${2:-}" == "--dev" ]]; then
  PACKAGES+=(libc6-dev linux-libc-dev libgcc-12-dev libstdc++-12-dev zlib1g zlib1g-dev)
  MARKER=.complete-dev
  HOST_TOOLS+=(clang lld)
fi

sudo_if_needed() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# 1. The emulator (and for --dev the cross linker), from the machine's own sources.
missing=()
for tool in "${HOST_TOOLS[@]}"; do
  dpkg-query -W -f='${Status}' "$tool" 2>/dev/null | grep -q 'install ok installed' || missing+=("$tool")
done
if (( ${#missing[@]} > 0 )); then
  echo "--- installing ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v qemu-aarch64-static >/dev/null

# 2. The sysroot. The marker is written last, so an interrupted run starts over.
if [[ -f "$SYSROOT/$MARKER" ]]; then
  echo "--- arm64 sysroot present: $SYSROOT"
  echo "$SYSROOT"
  exit 0
fi

echo "--- arm64 sysroot: ${PACKAGES[*]} into $SYSROOT"
rm -rf "$SYSROOT" "$WORK"
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/sources.list.d" "$WORK/preferences.d" "$WORK/debs" "$SYSROOT"
: > "$WORK/status"

# The machine's Debian suite, mirror and keyring, with arm64 as the only architecture.
. /etc/os-release
SUITE=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$WORK/sources.list" <<SOURCES
deb [arch=arm64 signed-by=$KEYRING] $MIRROR $SUITE main
deb [arch=arm64 signed-by=$KEYRING] $MIRROR $SUITE-updates main
deb [arch=arm64 signed-by=$KEYRING] $SECURITY_MIRROR $SUITE-security main
SOURCES

cat > "$WORK/apt.conf" <<CONF
Dir::Etc::SourceList "$WORK/sources.list";
Dir::Etc::SourceParts "$WORK/sources.list.d";
Dir::Etc::Preferences "$WORK/preferences";
Dir::Etc::PreferencesParts "$WORK/preferences.d";
Dir::State "$WORK";
Dir::State::Lists "$WORK/lists";
Dir::State::status "$WORK/status";
Dir::Cache "$WORK/cache";
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
APT::Sandbox::User "root";
CONF

export APT_CONFIG="$WORK/apt.conf"
apt-get update -qq
(cd "$WORK/debs" && apt-get download -qq "${PACKAGES[@]/%/:arm64}")
for deb in "$WORK"/debs/*.deb; do
  echo "    $(basename "$deb")"
  dpkg -x "$deb" "$SYSROOT"
done

# The loader must be where arm64 programs ask for it.
test -e "$SYSROOT/lib/ld-linux-aarch64.so.1"
touch "$SYSROOT/.complete" "$SYSROOT/$MARKER"
echo "$SYSROOT"
