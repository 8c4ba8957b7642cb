#!/bin/bash
# Installs the Debian packages the project needs, only those that are missing.
# Runs as root on Debian 12 (bookworm, with bookworm-security for 6.12).
#
# install-deps.sh --check [PKG...]: installs nothing; lists what is missing
# of PKG... (default: everything below) and exits 1 if anything is. Every
# make target but "make demo" and "make check" uses this mode.
set -euo pipefail

check_only=
if [ "${1:-}" = --check ]; then
	check_only=1
	shift
fi

pkgs=(
	build-essential bc bison flex libelf-dev pkg-config
	linux-headers-amd64 linux-headers-6.12-amd64
	linux-image-amd64 linux-image-6.12-amd64
	linux-source-6.1 linux-source-6.12
	qemu-system-x86 busybox-static cpio kmod xz-utils e2fsprogs
	sparse libnl-3-dev libnl-genl-3-dev dkms gnuplot-nox
	python3-docutils man-db python3-sphinx python3-yaml python3-jsonschema
	debootstrap zstd
	dpkg-dev debhelper dh-dkms lintian
	clang libclang-rt-14-dev
)
[ $# -eq 0 ] || pkgs=("$@")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ -n "$check_only" ]; then
	echo "install-deps: missing Debian packages: ${missing[*]}" >&2
	echo "install-deps: apt-get install ${missing[*]} (as root), or run" \
		"\"make check\" or \"make demo\", which install them" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages and not root; run as root or install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
