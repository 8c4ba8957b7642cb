# shellcheck shell=bash
# cache.sh: where the project keeps what it builds or fetches outside the
# clone (debug kernel, chroots, kernel-doc, YNL). Sourced; defines
# functions only.

# The cache's top: $VHOST_SHMEM_CACHE, else /var/cache/vhost-shmem when
# writable, else ~/.cache/vhost-shmem. Entries below it are keyed by their
# inputs (<name>/<key>).
cache_root() {
	if [ -n "${VHOST_SHMEM_CACHE:-}" ]; then
		echo "$VHOST_SHMEM_CACHE"
	elif mkdir -p /var/cache/vhost-shmem 2>/dev/null && [ -w /var/cache/vhost-shmem ]; then
		echo /var/cache/vhost-shmem
	else
		echo "${XDG_CACHE_HOME:-$HOME/.cache}/vhost-shmem"
	fi
}

# cache_lock DIR WHO: creates DIR and takes DIR/.lock on fd 9, saying so
# (as WHO) while another run holds it: one build per cache entry, the
# others wait for it. Release with "exec 9>&-".
cache_lock() {
	mkdir -p "$1"
	exec 9>"$1/.lock"
	if ! flock -n 9; then
		echo "$2: waiting for the run holding $1/.lock" >&2
		flock 9
	fi
}
