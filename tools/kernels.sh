#!/bin/bash
# Lists the supported kernels that are installed (image + headers), one per
# line, or with --kdir prints the default KDIR for "make module".
set -euo pipefail

supported() {
	local v
	for v in /lib/modules/*; do
		v=${v##*/}
		case "$v" in
		6.1.0-*-amd64 | 6.12.*-amd64) ;;
		*) continue ;;
		esac
		[ -f "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/build" ] && echo "$v"
	done | sort -V
}

if [ "${1:-}" = --kdir ]; then
	if [ -d "/lib/modules/$(uname -r)/build" ]; then
		echo "/lib/modules/$(uname -r)/build"
	else
		v=$(supported | tail -n1)
		[ -n "$v" ] && echo "/lib/modules/$v/build"
	fi
	exit 0
fi
supported
