#!/bin/bash
# ynl-test.sh: the netlink spec works with the kernel's YNL generators, those
# of Debian's linux-source-6.12 (tools/ynl.sh src): ynl-gen-c.py validates it
# against the genetlink schema and makes the uapi enums that
# uapi/linux/vhost_shmem.h has (names and values), and the kernel side's
# permissions that kmod/netlink.c has; the C user library it generates
# compiles with -Werror against uapi/linux/vhost_shmem.h, with the ynl
# library of the same source, and tools/tests/ynl-dump.c links with it.
# Host-side, no root needed (tools/check.sh runs it). Prints TAP.
# The checks are functions run through check(): not unreachable.
# shellcheck disable=SC2317
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
spec=$top/Documentation/netlink/specs/vhost_shmem.yaml
hdr=$top/uapi/linux/vhost_shmem.h
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tools/tests/tap.sh
. "$(dirname "$0")/tap.sh"

# ynl-gen-c.py finds the tree's root by its MAINTAINERS and the schema next
# to specs/: the spec goes into a tree of that shape.
setup_tree() {
	"$top/tools/install-deps.sh" --check python3-yaml python3-jsonschema || return 1
	src=$("$top/tools/ynl.sh" src) || return 1
	gen=$src/tools/net/ynl/ynl-gen-c.py
	mkdir -p "$tmp/tree/Documentation/netlink/specs"
	ln -s "$src/MAINTAINERS" "$tmp/tree/"
	ln -s "$src"/Documentation/netlink/genetlink*.yaml "$tmp/tree/Documentation/netlink/"
	cp "$spec" "$tmp/tree/Documentation/netlink/specs/"
}

# gen MODE header|source OUT: ynl-gen-c.py on the spec (validated first).
gen() {
	(cd "$tmp/tree" && "$py" "$gen" --mode "$1" "--$2" \
		--spec Documentation/netlink/specs/vhost_shmem.yaml -o "$3")
}

# The enums of the netlink part, as written (names, values, order).
enums() {
	awk '/^enum vhost_shmem_[a-z_]*(attrs|cmds) \{$/, /^};$/' "$1"
}
defines() {
	grep -E '^#define VHOST_SHMEM_(FAMILY_NAME|FAMILY_VERSION|MCGRP_[A-Z_]*)[[:space:]]' "$1"
}

uapi_matches() {
	gen uapi header "$tmp/uapi.h"
	[ -n "$(enums "$tmp/uapi.h")" ] || { echo "no enums generated"; return 1; }
	diff -u <(enums "$tmp/uapi.h") <(enums "$hdr") &&
		diff -u <(defines "$tmp/uapi.h") <(defines "$hdr")
}

# The old name stays, with the same value, for existing users.
old_name_compiles() {
	printf '%s\n' '#include <linux/vhost_shmem.h>' \
		'_Static_assert(VHOST_SHMEM_A_ERROR_ERRNO == VHOST_SHMEM_A_ERROR_CODE, "alias");' \
		'_Static_assert(VHOST_SHMEM_A_ERROR_CODE == 1, "value");' >"$tmp/old.c"
	gcc -std=gnu11 -Wall -Wextra -Werror -I"$top/uapi" -c "$tmp/old.c" -o "$tmp/old.o"
}

# The module's permissions are the spec's: admin-perm on every operation
# and multicast group as the kernel's YNL library reads the spec (6.12's
# ynl-gen-c does not render group flags), and as many GENL_ADMIN_PERM
# operations and GENL_MCAST_CAP_NET_ADMIN groups in kmod/netlink.c.
perms_match() {
	local ops grps k
	read -r ops grps < <(cd "$tmp/tree" && "$py" - "$src/tools/net/ynl" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from lib import SpecFamily
f = SpecFamily('Documentation/netlink/specs/vhost_shmem.yaml')
ops = [o for o in f.ops.values() if not o.is_async]
grps = list(f.mcast_groups.values())
bad = [e.name for e in ops + grps if 'admin-perm' not in e.yaml.get('flags', [])]
print(-1 if bad else len(ops), -1 if bad else len(grps), *bad)
EOF
	)
	k=$(grep -c 'GENL_ADMIN_PERM' "$top/kmod/netlink.c" || true)
	echo "operations: $ops with admin-perm in the spec (-1: not all), $k GENL_ADMIN_PERM in kmod/netlink.c"
	[ "$ops" -gt 0 ] && [ "$ops" = "$k" ] || return 1
	k=$(grep -c 'GENL_MCAST_CAP_NET_ADMIN' "$top/kmod/netlink.c" || true)
	echo "groups: $grps with admin-perm in the spec (-1: not all), $k GENL_MCAST_CAP_NET_ADMIN in kmod/netlink.c"
	[ "$grps" -gt 0 ] && [ "$grps" = "$k" ]
}

gen_user() {
	gen user header "$tmp/vhost_shmem-user.h" && gen user source "$tmp/vhost_shmem-user.c"
}

# ynl-gen-c 6.12 names the notification table after the family's name,
# not its C name ("vhost-shmem_ntf_info"), which no family with a dash
# and notifications compiles with; renamed here, nowhere else.
fix_ntf_table() {
	sed -i 's/\bvhost-shmem_ntf_info\b/vhost_shmem_ntf_info/g' "$tmp/vhost_shmem-user.c"
}

CFLAGS_YNL=(-std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -Wshadow -Werror)
# The generated library with our header (not the system's), the ynl lib.
# <errno.h> first, as in most programs: a member named after an attribute
# "errno" would be the libc macro then.
compile_lib() {
	gcc "${CFLAGS_YNL[@]}" -I"$src/tools/net/ynl/lib" -I"$top/uapi" -include errno.h \
		-c "$tmp/vhost_shmem-user.c" -o "$tmp/vhost_shmem-user.o" &&
		gcc "${CFLAGS_YNL[@]}" -I"$src/tools/net/ynl/lib" \
			-c "$src/tools/net/ynl/lib/ynl.c" -o "$tmp/ynl.o"
}

link_program() {
	gcc "${CFLAGS_YNL[@]}" -I"$src/tools/net/ynl/lib" -I"$top/uapi" -I"$tmp" \
		"$top/tools/tests/ynl-dump.c" "$tmp/vhost_shmem-user.o" "$tmp/ynl.o" \
		-o "$tmp/ynl-dump"
}

main() {
	echo "TAP version 13"
	if ! setup_tree >"$tmp/setup.log" 2>&1; then
		echo "1..1"
		not_ok "the kernel's YNL tools (tools/ynl.sh src)" "$(cat "$tmp/setup.log")"
		exit 1
	fi
	echo "1..7"
	echo "# ynl-gen-c.py of $pkg_v"
	check "ynl-gen-c: uapi enums and defines from the spec are uapi/linux/vhost_shmem.h's" uapi_matches
	check "uapi: VHOST_SHMEM_A_ERROR_ERRNO is a deprecated alias of VHOST_SHMEM_A_ERROR_CODE (1)" old_name_compiles
	check "spec: admin-perm on every operation and group, as in kmod/netlink.c" perms_match
	check "ynl-gen-c: C user header and source generated" gen_user
	check "ynl-gen-c 6.12: notification table renamed to its C name" fix_ntf_table
	check "generated library (after <errno.h>) and ynl lib compile with -Werror against uapi/linux/vhost_shmem.h" compile_lib
	check "tools/tests/ynl-dump.c links with the generated library" link_program
	exit $rc
}

pkg_v=$(dpkg-query -W -f='linux-source-6.12 ${Version}' linux-source-6.12 2>/dev/null || echo "no linux-source-6.12")
main "$@"
