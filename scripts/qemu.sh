#!/usr/bin/env bash
# Boot a kernel under QEMU's virt machine, as the grader does, on this terminal.
# Usage: scripts/qemu.sh build/chN/kernel.elf [extra QEMU args]
#   MEM=256M SMP=2 APPEND='ktest=ch1.*' scripts/qemu.sh build/ch1/kernel.elf
#   DISK=build/ch5/disk.img scripts/qemu.sh build/ch5/kernel.elf
# DISK attaches a raw disk image as a virtio-blk device, as the grader does
# from chapter 5 on (make one with `make disk CH=5` or scripts/mmfs.py mkfs;
# the kernel writes to it: copy it first to keep a fresh one).
# Quit QEMU with Ctrl-A then x.
set -euo pipefail
kernel=${1:?usage: scripts/qemu.sh KERNEL [QEMU args]}
shift
disk=()
if [ -n "${DISK:-}" ]; then
	disk=(-drive "file=${DISK//,/,,},if=none,format=raw,id=d0" -device virtio-blk-device,drive=d0)
fi
exec qemu-system-riscv64 -machine virt -bios default -no-reboot -nographic -seed 1 \
	-m "${MEM:-256M}" -smp "${SMP:-2}" -kernel "$kernel" ${disk[@]+"${disk[@]}"} -append "${APPEND:-}" "$@"
