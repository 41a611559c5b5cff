#!/usr/bin/env bash
# Boot a kernel under QEMU's virt machine, as the grader does, on this terminal.
# Usage: scripts/qemu.sh build/chN/kernel.elf [extra QEMU args]
#   MEM=256M SMP=2 APPEND='ktest=ch1.*' scripts/qemu.sh build/ch1/kernel.elf
# Quit QEMU with Ctrl-A then x.
set -euo pipefail
kernel=${1:?usage: scripts/qemu.sh KERNEL [QEMU args]}
shift
exec qemu-system-riscv64 -machine virt -bios default -no-reboot -nographic -seed 1 \
	-m "${MEM:-256M}" -smp "${SMP:-2}" -kernel "$kernel" -append "${APPEND:-}" "$@"
