#!/bin/bash
# cache-root.sh: prints the root of the caches kept outside the clone:
# $VHOST_SHMEM_CACHE, else /var/cache/vhost-shmem when it can be written,
# else ~/.cache/vhost-shmem (the rule of tools/debug-kernel.sh and
# tools/sid-kernel.sh). Each cache is a directory below it, keyed by its
# inputs.
set -euo pipefail
if [ -n "${VHOST_SHMEM_CACHE:-}" ]; then
	echo "$VHOST_SHMEM_CACHE"
elif mkdir -p /var/cache/vhost-shmem 2>/dev/null && [ -w /var/cache/vhost-shmem ]; then
	echo /var/cache/vhost-shmem
else
	echo "${XDG_CACHE_HOME:-$HOME/.cache}/vhost-shmem"
fi
