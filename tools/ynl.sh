#!/bin/bash
# ynl.sh src|vm: the kernel's YNL netlink tools, from tools/net/ynl/ of
# Debian's linux-source-6.12, cached outside the clone. Prints a directory:
#   src  the extracted subset, laid out as in the kernel tree:
#        tools/net/ynl/ (ynl-gen-c.py, lib/ with ynl.c and the Python
#        library, cli.py), Documentation/netlink/*.yaml (the spec schemas)
#        and MAINTAINERS (ynl-gen-c.py finds the tree's root by it)
#   vm   what the test VM needs to run the Python CLI, relocatable:
#        usr/bin/python3.11 (Debian's), the stdlib modules the CLI imports
#        with their Debian .pyc, python3-yaml, ynl/cli.py and ynl/lib/,
#        and bin/ynl, the CLI's wrapper ("ynl --spec S --dump dev-get").
#        Its shared libraries are not in it: tools/vm-run.sh copies those
#        of every executable of the payload (the .so files are +x for it).
#
# The cache is $VHOST_SHMEM_CACHE/ynl (tools/lib/cache.sh: cache_root),
# keyed by the linux-source-6.12 package version (src) and by the python3,
# python3-yaml versions and the recipe below (vm). A lock keeps concurrent
# runs from building twice.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/lib/chroot.sh
. "$top/tools/lib/chroot.sh"
pkg=linux-source-6.12
tarball=/usr/src/$pkg.tar.xz
py=/usr/bin/python3.11
# Part of the vm key: bump it when the steps of build_vm change its output.
recipe=1

die() {
	echo "ynl: $*" >&2
	exit 1
}

version() {
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null ||
		die "$1 is not installed (tools/install-deps.sh installs it)"
}

# The kernel tree's root in the tarball, and what is extracted of it.
build_src() {
	local out=$1 t=$1.tmp
	[ -f "$tarball" ] || die "no $tarball (tools/install-deps.sh installs $pkg)"
	rm -rf "$t"
	mkdir -p "$t"
	tar -xJf "$tarball" -C "$t" --strip-components=1 \
		--wildcards "$pkg/tools/net/ynl" "$pkg/MAINTAINERS" \
		"$pkg/Documentation/netlink/*.yaml"
	[ -f "$t/tools/net/ynl/ynl-gen-c.py" ] || die "no tools/net/ynl/ynl-gen-c.py in $tarball"
	mv "$t" "$out"
}

# Prints the files (host paths) Python loads to run the CLI: it runs the
# CLI's dump on the host, where the family is missing, then lists every
# module loaded from a file.
imported_files() {
	local cli=$1 spec=$2
	"$py" -S - "$cli" "$spec" <<'EOF'
import os, runpy, sys
cli, spec = sys.argv[1], sys.argv[2]
sys.path[:0] = [os.path.dirname(cli), '/usr/lib/python3/dist-packages']
sys.argv = [cli, '--no-schema', '--spec', spec, '--dump', 'dev-get', '--output-json']
try:
    with open(os.devnull, 'w') as null:
        sys.stdout = sys.stderr = null
        runpy.run_path(cli, run_name='__main__')
except BaseException:
    pass
sys.stdout = sys.__stdout__
for m in list(sys.modules.values()):
    o = getattr(getattr(m, '__spec__', None), 'origin', None)
    if o and o.startswith('/usr/'):
        print(o)
# The stdlib's landmark: Python finds its prefix by it.
print(os.path.join(os.path.dirname(os.__file__), 'os.py'))
EOF
}

# copy_with_pyc FILE ROOT: FILE at its path below ROOT, with its .pyc
# (valid there: install -p keeps the source's mtime the .pyc records).
copy_with_pyc() {
	local f=$1 root=$2 c
	case "$f" in
	*.so) install -D -p -m 755 "$f" "$root$f" ;;
	*) install -D -p -m 644 "$f" "$root$f" ;;
	esac
	case "$f" in
	*.py)
		c=$(dirname "$f")/__pycache__/$(basename "$f" .py).cpython-311.pyc
		[ ! -f "$c" ] || install -D -p -m 644 "$c" "$root$c"
		;;
	esac
}

build_vm() {
	local out=$1 src=$2 t=$1.tmp f res
	[ -x "$py" ] || die "no $py (python3.11-minimal)"
	"$py" -c 'import yaml' 2>/dev/null || die "no python3-yaml for $py"
	rm -rf "$t"
	mkdir -p "$t/usr/bin" "$t/bin" "$t/ynl/lib"
	cp -p "$py" "$t/usr/bin/"
	cp -p "$src/tools/net/ynl/cli.py" "$t/ynl/"
	cp -p "$src"/tools/net/ynl/lib/*.py "$t/ynl/lib/"
	imported_files "$src/tools/net/ynl/cli.py" "$top/Documentation/netlink/specs/vhost_shmem.yaml" |
		sort -u | while read -r f; do copy_with_pyc "$f" "$t"; done
	"$py" -m compileall -q "$t/ynl" >/dev/null
	cat >"$t/bin/ynl" <<'EOF'
#!/bin/sh
# ynl ARGS: the kernel's YNL CLI (tools/net/ynl/cli.py) with the Python
# of this tree (tools/ynl.sh vm), e.g. ynl --spec S --dump dev-get.
t=$(dirname "$(dirname "$(readlink -f "$0")")")
PYTHONPATH=$t/usr/lib/python3/dist-packages PYTHONNOUSERSITE=1 \
	exec "$t/usr/bin/python3.11" -S -B "$t/ynl/cli.py" --no-schema "$@"
EOF
	chmod 755 "$t/bin/ynl"
	# The tree must run on its own, its stdlib and not the host's, up to
	# asking the kernel for the family (which the host may not have).
	res=$(env -u PYTHONHOME "$t/bin/ynl" --list-ops \
		--spec "$top/Documentation/netlink/specs/vhost_shmem.yaml" 2>&1) ||
		case "$res" in
		*"Family 'vhost-shmem' not supported by the kernel") ;;
		*) die "the CLI does not run from $t: $res" ;;
		esac
	mv "$t" "$out"
}

main() {
	local what=${1:-} root v key dir
	case "$what" in
	src | vm) ;;
	*) die "usage: $0 src|vm" ;;
	esac
	v=$(version $pkg | tr '~:' '__')
	root=$(cache_root)/ynl/$v
	cache_lock "$root" ynl
	[ -d "$root/src" ] || build_src "$root/src"
	dir=$root/src
	if [ "$what" = vm ]; then
		key=$( {
			echo "recipe $recipe"
			version python3.11-minimal
			version libpython3.11-stdlib
			version python3-yaml
		} | sha256sum | cut -c1-16)
		dir=$root/vm-$key
		[ -d "$dir" ] || build_vm "$dir" "$root/src"
	fi
	exec 9>&-
	echo "$dir"
}

main "$@"
