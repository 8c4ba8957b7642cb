#!/bin/bash
# deb-test.sh: the Debian packages, built and installed as a user would.
# "make deb" builds vhost-shmem-dkms, -tools and -dev from the work tree;
# lintian finds nothing (errors, warnings, info; overrides say why); each
# package holds exactly the expected files; the packages' version, VERSION
# and dkms.conf agree; dkms.conf's BUILD_EXCLUSIVE_KERNEL takes 6.1 and
# later only. Then in a clean Debian bookworm chroot (debootstrap, with
# dkms, build-essential, man-db and the headers of the kernels the project
# tests, tools/kernels.sh): "apt-get install ./*.deb" makes DKMS build and
# install the module for both kernels (dkms status, the .ko, its modinfo
# version), "vhost-shmem --help" exits 0, "vhost-shmem-helper --version"
# is VERSION, "man vhost-shmem-helper" renders; "apt-get purge
# --autoremove" (the packages and the libraries they pulled in) leaves no
# file behind (the chroot's file list before and after).
#
# The chroot's base is cached in $VHOST_SHMEM_CACHE/bookworm/<key>
# (tools/lib/cache.sh's cache_root; <key> hashes the mirrors, the package
# list and the recipe): cold, debootstrap and the packages take minutes;
# each run then works on an overlay of it (a copy if overlayfs is not
# there), thrown away at the end. Needs root. Logs in build/deb-test/.
# Prints TAP (tools/check.sh runs it).
#
# Environment: VHOST_SHMEM_CACHE, BOOKWORM_MIRROR, BOOKWORM_SECURITY_MIRROR
# (default: the archives this machine's apt sources name for bookworm and
# bookworm-security).
# The checks are functions run through check(): not unreachable.
# shellcheck disable=SC2317
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# cache_root, cache_lock, apt_uri, apt_settings, umount_below, in_root
# shellcheck source=tools/lib/chroot.sh
. "$top/tools/lib/chroot.sh"

# Overlay mounts live in a mount namespace of this run only: they go
# with it, however the run ends.
if [ "$(id -u)" = 0 ] && [ -z "${DEB_TEST_NS:-}" ]; then
	DEB_TEST_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

suite=bookworm
# Part of the key: bump it when the setup below changes what it produces.
recipe=2
work=$top/build/deb-test
version=$(cat "$top/VERSION")
# shellcheck source=tools/tests/tap.sh
. "$(dirname "$0")/tap.sh"
# same NAME EXPECTED GOT: one TAP line, the diff on failure.
same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "$(diff <(echo "$2") <(echo "$3") || true)"
	fi
}

# ---- host side: the packages ------------------------------------------------

# The files (not directories) each package holds.
expected_dkms="/usr/share/doc/vhost-shmem-dkms/changelog.Debian.gz
/usr/share/doc/vhost-shmem-dkms/copyright
/usr/share/lintian/overrides/vhost-shmem-dkms
/usr/src/vhost-shmem-$version/Kbuild
/usr/src/vhost-shmem-$version/VERSION
/usr/src/vhost-shmem-$version/dkms.conf
$(cd "$top" && for f in kmod/*.[ch]; do echo "/usr/src/vhost-shmem-$version/$f"; done)
/usr/src/vhost-shmem-$version/uapi/linux/vhost_shmem.h"
expected_tools='/lib/systemd/system/vhost-shmem-helper@.service
/lib/udev/rules.d/60-vhost-shmem.rules
/usr/sbin/vhost-shmem
/usr/sbin/vhost-shmem-helper
/usr/share/doc/vhost-shmem-tools/changelog.Debian.gz
/usr/share/doc/vhost-shmem-tools/copyright
/usr/share/doc/vhost-shmem-tools/examples/modules-load.d/vhost-shmem.conf
/usr/share/lintian/overrides/vhost-shmem-tools
/usr/share/man/man4/vhost-shmem.4.gz
/usr/share/man/man8/vhost-shmem-helper.8.gz
/usr/share/man/man8/vhost-shmem.8.gz'
expected_dev='/usr/include/vhost-shmem/linux/vhost_shmem.h
/usr/share/doc/vhost-shmem-dev/changelog.Debian.gz
/usr/share/doc/vhost-shmem-dev/copyright
/usr/share/lintian/overrides/vhost-shmem-dev
/usr/share/pkgconfig/vhost-shmem.pc'

# contents DEB: its files, sorted, without the leading "."
contents() {
	dpkg-deb --fsys-tarfile "$1" | tar -t | grep -v '/$' | sed 's|^\./|/|' | sort
}

# One version: debian/changelog's upstream version, VERSION, dkms.conf.
version_ok() {
	local deb
	deb=$(dpkg-parsechangelog -l "$top/debian/changelog" -SVersion)
	[ "${deb%-*}" = "$version" ] ||
		{ echo "debian/changelog: $deb, VERSION: $version"; return 1; }
	grep -qx "PACKAGE_VERSION=\"$version\"" "$top/dkms.conf" ||
		{ echo "dkms.conf's PACKAGE_VERSION is not $version"; return 1; }
}

# DKMS's test (dkms: [[ $kernelver =~ $BUILD_EXCLUSIVE_KERNEL ]]) on
# releases in and out of the supported range.
exclusive_ok() {
	local re k bad=0
	# shellcheck disable=SC2034 # dkms.conf's MAKE names these
	re=$(kernel_source_dir=/k dkms_tree=/t && . "$top/dkms.conf" && echo "$BUILD_EXCLUSIVE_KERNEL")
	[ -n "$re" ] || { echo "no BUILD_EXCLUSIVE_KERNEL in dkms.conf"; return 1; }
	for k in 6.1.0-57-amd64 6.12.117+deb12-amd64 6.19.2-amd64 7.2.13+deb14-amd64 10.0.1; do
		[[ $k =~ $re ]] || { echo "$k is refused"; bad=1; }
	done
	for k in 6.0.12-1-amd64 5.10.0-30-amd64 4.19.0-27-amd64 3.16.0; do
		[[ ! $k =~ $re ]] || { echo "$k is accepted"; bad=1; }
	done
	return "$bad"
}

lintian_ok() {
	local st=0
	lintian -I --fail-on error,warning,info "$1" >"$work/lintian.log" 2>&1 || st=$?
	grep -v '^running with root' "$work/lintian.log" || true
	return "$st"
}

# ---- the bookworm chroot ----------------------------------------------------

# The kernels whose headers go in: those the project tests.
kernels() {
	"$top/tools/kernels.sh"
}

mirrors() {
	local m s
	m=${BOOKWORM_MIRROR:-$(apt_uri "$suite" || echo http://deb.debian.org/debian)}
	s=${BOOKWORM_SECURITY_MIRROR:-$(apt_uri "$suite-security" || echo http://deb.debian.org/debian-security)}
	echo "${m%/} ${s%/}"
}

base_pkgs() {
	local k
	echo dkms build-essential man-db
	for k in $(kernels); do echo "linux-headers-$k"; done
}
# Downloaded, not installed: what the tools package depends on, so that a
# warm run needs no network (apt still installs them from Depends).
prefetch=(libnl-3-200 libnl-genl-3-200)

key() {
	{
		echo "recipe $recipe"
		echo "suite $suite"
		echo "mirrors $(mirrors)"
		echo "packages $(base_pkgs | tr '\n' ' ')"
		echo "prefetch ${prefetch[*]}"
	} | sha256sum | cut -c1-16
}

# setup DIR: debootstrap and the packages into DIR/root; DIR/ok last.
setup() {
	local dir=$1 root=$1/root m s t0
	t0=$(date +%s)
	read -r m s <<<"$(mirrors)"
	command -v debootstrap >/dev/null || { echo "no debootstrap (tools/install-deps.sh)"; return 1; }
	if [ -d "$root" ]; then
		umount_below "$root" || { echo "something stays mounted below $root"; return 1; }
		rm -rf --one-file-system "$root"
	fi
	rm -f "$dir/ok"
	mkdir -p "$dir"
	echo "debootstrap $suite from $m into $root" >"$dir/setup.log"
	unshare --mount --propagation private \
		debootstrap --variant=minbase "$suite" "$root" "$m" >>"$dir/setup.log" 2>&1 ||
		{ umount_below "$root" || true; tail -n 20 "$dir/setup.log"; return 1; }
	umount_below "$root" || return 1
	apt_settings "$root"
	printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
		"$m" "$suite" "$m" "$suite" "$s" "$suite" >"$root/etc/apt/sources.list"
	# No service starts in the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	{
		# shellcheck disable=SC2046 # one package a word
		in_root "$root" apt-get -q update &&
			in_root "$root" apt-get -q dist-upgrade &&
			in_root "$root" apt-get -q install $(base_pkgs) &&
			in_root "$root" apt-get -q clean &&
			in_root "$root" apt-get -q install --download-only "${prefetch[@]}"
	} >>"$dir/setup.log" 2>&1 || { tail -n 20 "$dir/setup.log"; return 1; }
	# The module index files depmod writes once DKMS installs a module
	# exist before, so that purge leaves the file list as it was.
	for k in $(kernels); do
		in_root "$root" depmod "$k" >>"$dir/setup.log" 2>&1 || return 1
	done
	echo $(($(date +%s) - t0)) >"$dir/setup-time"
	touch "$dir/ok"
}

# base: the cached chroot's directory, set up if it is not (under a lock).
base() {
	local top_dir dir
	top_dir=$(cache_root)/bookworm
	dir=$top_dir/$(key)
	if [ ! -f "$dir/ok" ]; then
		cache_lock "$top_dir" deb-test
		[ -f "$dir/ok" ] || setup "$dir" >&2 || { exec 9>&-; return 1; }
		exec 9>&-
	fi
	echo "$dir"
}

# The chroot's files, for the purge check: everything but what apt, dpkg,
# man-db and the kernel keep for themselves, and the key DKMS makes to
# sign modules (/var/lib/dkms/mok.*, dkms's own, made by the first build).
root_files() {
	(cd "$1" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \
		-o -path ./tmp -o -path ./var/tmp -o -path ./var/cache -o -path ./var/log \
		-o -path ./var/lib/apt -o -path ./var/lib/dpkg -o -path ./var/lib/dkms/mok.key \
		-o -path ./var/lib/dkms/mok.pub \) -prune -o -print | sort)
}

# ---- the run ----------------------------------------------------------------

debs=$work/deb
rm -rf "$work"
mkdir -p "$work"
echo "TAP version 13"
echo "1..15"

check "version: debian/changelog, VERSION and dkms.conf agree" version_ok
check "dkms.conf: BUILD_EXCLUSIVE_KERNEL takes Linux 6.1 and later only" exclusive_ok
if out=$(make -s -C "$top" deb BUILD="$work" 2>&1); then
	ok "build: make deb"
else
	not_ok "build: make deb" "$(tail -n 40 <<<"$out")"
fi
deb_dkms=$(ls "$debs"/vhost-shmem-dkms_"$version"-*_all.deb 2>/dev/null || true)
deb_tools=$(ls "$debs"/vhost-shmem-tools_"$version"-*_amd64.deb 2>/dev/null || true)
deb_dev=$(ls "$debs"/vhost-shmem-dev_"$version"-*_all.deb 2>/dev/null || true)
if [ -n "$deb_dkms" ] && [ -n "$deb_tools" ] && [ -n "$deb_dev" ]; then
	# Info tags too: hardening (fortify, bindnow) is reported at that level.
	check "lintian: no error, warning or info" lintian_ok "$debs"/*.changes
	same "contents: vhost-shmem-dkms" "$expected_dkms" "$(contents "$deb_dkms")"
	same "contents: vhost-shmem-tools" "$expected_tools" "$(contents "$deb_tools")"
	same "contents: vhost-shmem-dev" "$expected_dev" "$(contents "$deb_dev")"
else
	for t in "lintian: no error, warning or info" "contents: vhost-shmem-dkms" \
		"contents: vhost-shmem-tools" "contents: vhost-shmem-dev"; do
		not_ok "$t" "no packages for $version in ${debs#"$top"/}/"
	done
fi

# The chroot part: each check needs the one before.
chroot_tests=("chroot: clean bookworm with dkms and the kernels' headers"
	"install: apt-get install the three packages"
	"dkms: the module built and installed for each kernel"
	"dkms: modinfo of each kernel's module gives $version"
	"tools: vhost-shmem --help exits 0"
	"tools: vhost-shmem-helper --version is $version"
	"man: man vhost-shmem-helper renders"
	"purge: apt-get purge leaves no file and no DKMS module")
skip_rest() {
	local i
	for ((i = $1; i < ${#chroot_tests[@]}; i++)); do
		not_ok "${chroot_tests[$i]}" "$2"
	done
	exit 1
}
[ -n "$deb_tools" ] || skip_rest 0 "no packages were built"
[ "$(id -u)" = 0 ] || skip_rest 0 "needs root (debootstrap, chroot, overlay)"
for c in debootstrap unshare chroot; do
	command -v "$c" >/dev/null || skip_rest 0 "no $c (tools/install-deps.sh)"
done
if ! dir=$(base 2>"$work/base.err"); then
	skip_rest 0 "the bookworm chroot could not be set up: $(tail -n 20 "$work/base.err")"
fi
ok "${chroot_tests[0]} ($(cat "$dir/setup-time") s to set up, ${dir})"

# A throwaway root: an overlay of the cached one, or a copy.
root=$work/root
mkdir -p "$root" "$work/upper" "$work/ovl"
if ! mount -t overlay overlay -o "lowerdir=$dir/root,upperdir=$work/upper,workdir=$work/ovl" "$root" 2>/dev/null; then
	cp -a "$dir/root/." "$root/"
fi
trap 'umount "$root" 2>/dev/null || true' EXIT
mkdir -p "$root/tmp/debs"
cp "$deb_dkms" "$deb_tools" "$deb_dev" "$root/tmp/debs/"
before=$(root_files "$root")
in_chroot() {
	in_root "$root" "$@"
}

pkgs=(/tmp/debs/"${deb_dkms##*/}" /tmp/debs/"${deb_tools##*/}" /tmp/debs/"${deb_dev##*/}")
if in_chroot apt-get -q install "${pkgs[@]}" >"$work/install.log" 2>&1; then
	ok "${chroot_tests[1]}"
else
	not_ok "${chroot_tests[1]}" "$(tail -n 30 "$work/install.log")"
fi

mapfile -t kvers < <(kernels)
dkms_ok() {
	local k st bad=0
	st=$(in_chroot dkms status -m vhost-shmem -v "$version")
	for k in "${kvers[@]}"; do
		grep -q "^vhost-shmem/$version, $k, x86_64: installed" <<<"$st" ||
			{ echo "not installed for $k"; bad=1; }
		ls "$root/lib/modules/$k/updates/dkms/"vhost_shmem.ko* >/dev/null 2>&1 ||
			{ echo "no $root/lib/modules/$k/updates/dkms/vhost_shmem.ko*"; bad=1; }
	done
	[ "${#kvers[@]}" -ge 2 ] || { echo "fewer than two kernels: ${kvers[*]}"; bad=1; }
	[ "$bad" = 0 ] || { echo "dkms status:"; echo "$st"; grep -B2 -A10 -i error "$work/install.log" | head -40; }
	return "$bad"
}
check "${chroot_tests[2]}" dkms_ok
modinfo_ok() {
	local k v bad=0
	for k in "${kvers[@]}"; do
		v=$(in_chroot modinfo -k "$k" -F version vhost_shmem 2>&1) || true
		[ "$v" = "$version" ] || { echo "$k: $v"; bad=1; }
	done
	return "$bad"
}
check "${chroot_tests[3]}" modinfo_ok
check "${chroot_tests[4]}" in_chroot vhost-shmem --help
helper_version() {
	local v
	v=$(in_chroot vhost-shmem-helper --version 2>&1)
	[ "$v" = "vhost-shmem-helper $version" ] || { echo "got: $v"; return 1; }
}
check "${chroot_tests[5]}" helper_version
man_ok() {
	local out
	out=$(in_chroot env MANWIDTH=80 MAN_DISABLE_SECCOMP=1 man vhost-shmem-helper 2>&1) ||
		{ echo "$out"; return 1; }
	grep -A1 '^NAME' <<<"$out" | grep -Eq '^ +vhost-shmem-helper +- ' ||
		{ echo "no NAME section:"; head -20 <<<"$out"; return 1; }
}
check "${chroot_tests[6]}" man_ok

purge_ok() {
	local after st
	in_chroot apt-get -q purge --autoremove vhost-shmem-dkms vhost-shmem-tools vhost-shmem-dev \
		>"$work/purge.log" 2>&1 || { tail -n 20 "$work/purge.log"; return 1; }
	st=$(in_chroot dkms status -m vhost-shmem)
	[ -z "$st" ] || { echo "dkms status: $st"; return 1; }
	after=$(root_files "$root")
	[ "$after" = "$before" ] || { diff <(echo "$before") <(echo "$after"); return 1; }
}
check "${chroot_tests[7]}" purge_ok
exit "$rc"
