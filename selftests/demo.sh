#!/bin/sh
# Runs inside the VM for "make demo" (/payload/demo.sh; /payload/bin is in PATH).
# vmm_demo narrates every step itself; it is the VMM, with a KVM guest.
echo "demo: kernel $(uname -r), /dev/kvm $( [ -c /dev/kvm ] && echo present || echo MISSING)"
exec vmm_demo
