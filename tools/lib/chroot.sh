# shellcheck shell=bash
# chroot.sh: what the debootstrap chroots of the project share (the sid
# lane's tools/sid-kernel.sh, the package test tools/tests/deb-test.sh).
# Sourced; defines functions only. Each returns a status, none exits.

# cache_root
# shellcheck source=tools/lib/cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/cache.sh"

# apt_uri SUITE: the first URI of this machine's apt sources (deb822
# .sources, then one-line .list files) that serves SUITE (e.g. bookworm,
# bookworm-security), without a trailing slash. Prints nothing and
# returns 1 if none does.
apt_uri() {
	local suite=$1 f uri=
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk -v c="$suite" '
		function done() { if (uri != "" && suite && deb && !out) { print uri; out = 1; exit } uri = ""; suite = deb = 0 }
		/^[ \t]*$/ { done(); next }
		tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
		tolower($1) == "uris:" { uri = $2 }
		tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == c) suite = 1 }
		END { done() }' "$f")
		[ -z "$uri" ] || break
	done
	if [ -z "$uri" ]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk -v c="$suite" '$1 == "deb" {
				for (i = 2; i <= NF; i++) if ($i !~ /^\[/) break
				if ($(i + 1) == c) { print $i; exit }
			}')
	fi
	[ -n "$uri" ] || return 1
	echo "${uri%/}"
}

# apt_settings ROOT [LINE...]: the apt settings of every chroot of the
# project (no recommends or suggests, no questions, old conffiles kept),
# after the LINEs given, written before any package is added.
apt_settings() {
	local root=$1
	shift
	{
		[ $# -eq 0 ] || printf '%s\n' "$@"
		cat <<-EOF
			Acquire::Languages "none";
			APT::Install-Recommends "false";
			APT::Install-Suggests "false";
			APT::Get::Assume-Yes "true";
			Dpkg::Options { "--force-confdef"; "--force-confold"; };
		EOF
	} >"$root/etc/apt/apt.conf.d/90vhost-shmem"
}

# umount_below DIR: unmounts whatever is mounted below DIR, deepest first:
# nothing should be (every chroot command and debootstrap run in a mount
# namespace of their own), but rm -rf must never go through a mount.
# Fails if one stays.
umount_below() {
	local root m
	root=$(realpath -m "$1")
	awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	! awk -v r="$root/" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/self/mounts
}

# in_root ROOT CMD...: CMD in the chroot, with a clean environment and
# a /proc of its own: a private mount namespace, gone when CMD ends.
in_root() {
	local root=$1
	shift
	unshare --mount --propagation private --pid --fork --mount-proc="$root/proc" \
		chroot "$root" /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"
}
