/*
 * Where every hart enters the kernel, and the boot page table.
 *
 * OpenSBI starts one hart at KERNEL_LOAD_PA in S-mode with the MMU off,
 * a0 = hart id and a1 = physical address of the device tree. Before the first
 * C instruction we turn on Sv39 with boot_pagetable, jump to the kernel's
 * link address in the higher half, clear .bss, set up tp (hart id) and the
 * stack, and call kmain(). Other harts are started later, from C, through SBI
 * HSM at _secondary_start with a1 = the satp to use.
 *
 * The boot-hart lottery. OpenSBI v1.1 (QEMU 7.2's) can let a hart that SBI
 * HSM is starting run before its start address is stored: it then enters
 * here, at _start, with the stale address and arguments of the boot hart
 * (fixed upstream in OpenSBI v1.3, commit e8e9ed37). Left alone it would
 * clear .bss under the running kernel and run kmain() a second time. So, as
 * Linux's head.S does, the first hart to arrive takes the boot path and every
 * later one loses the lottery: it waits, MMU off, until the boot hart has
 * published the satp secondaries use, then takes the secondary path.
 */
#include "asmdefs.h"

	.section .text.boot, "ax"
	.globl _start
_start:
	/* Park a hart whose id has no stack (ids must be < MAX_HARTS). */
	li	t0, MAX_HARTS
	bgeu	a0, t0, park

	/* hart_lottery is in .data, not .bss: the winner clears .bss. `la` is
	 * pc-relative, so with the MMU off it yields the physical address. */
	la	t0, hart_lottery
	li	t1, 1
	amoadd.w t1, t1, (t0)
	bnez	t1, lost_lottery

	/* satp = Sv39 | ppn(boot_pagetable). `la` is pc-relative, so while the
	 * MMU is off it yields the physical address. */
	la	t0, boot_pagetable
	srli	t0, t0, 12
	li	t1, SATP_SV39
	or	t0, t0, t1
	sfence.vma
	csrw	satp, t0
	sfence.vma

	/* Still executing at the physical address (identity-mapped by entry 2
	 * of the boot table); jump to the same code at its link address. */
	li	t1, KERNEL_VA_OFFSET
	la	t2, 1f
	add	t2, t2, t1
	jr	t2
1:
	/* From here on `la` yields link (virtual) addresses. */
	la	t0, _bss_start
	la	t1, _bss_end
2:	bgeu	t0, t1, 3f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	2b
3:
	mv	tp, a0
	call	set_hart_stack
	call	kmain		/* kmain(hartid, dtb_pa): never returns */
	j	park

/* A hart that entered at _start after the boot hart: wait for the satp that
 * smp_boot_secondaries() publishes, then start as every secondary does. */
lost_lottery:
	la	t0, secondary_satp
1:	ld	a1, 0(t0)
	beqz	a1, 1b
	fence	r, rw			/* acquire: what was published before it */
	la	t0, lottery_losers
	li	t1, 1
	amoadd.w zero, t1, (t0)
	j	_secondary_start

	.globl _secondary_start
_secondary_start:
	/* a0 = hart id, a1 = satp (from smp_boot_secondaries), MMU off. */
	sfence.vma
	csrw	satp, a1
	sfence.vma
	li	t1, KERNEL_VA_OFFSET
	la	t2, 1f
	add	t2, t2, t1
	jr	t2
1:	mv	tp, a0
	call	set_hart_stack
	call	secondary_main	/* never returns */
	j	park

/* sp = top of hart_stacks[tp].stack; clobbers t0, t1 only (a0/a1 survive). */
set_hart_stack:
	la	t0, hart_stacks
	addi	t1, tp, 1
	li	sp, HART_STACK_STRIDE
	mul	t1, t1, sp
	add	sp, t0, t1
	ret

park:
	wfi
	j	park

	.section .data
	.balign 8
	.globl hart_lottery, lottery_losers, secondary_satp
hart_lottery:
	.word	0		/* harts that entered at _start */
lottery_losers:
	.word	0		/* of which lost the lottery (and went the secondary way) */
secondary_satp:
	.dword	0		/* the satp secondaries switch to; 0 until published */

/*
 * The boot page table: 512 Sv39 root entries, all gigapages (RISC-V
 * privileged spec 4.4: a leaf at level 2 maps 1 GiB).
 *   entry 2         0x80000000 -> 0x80000000  identity, only for the jump above
 *   entries 256-383 DIRECT_MAP_BASE + x -> x  for x < 128 GiB (RAM and MMIO)
 *   entry 510       0xffffffff80000000 -> 0x80000000  the kernel image
 * ch3 replaces it with a finer table; smp.c drops the identity entry once
 * every hart runs in the higher half.
 */
	.section .data.boot_pagetable, "aw"
	.balign 4096
	.globl boot_pagetable
boot_pagetable:
	.quad	0
	.quad	0
	.quad	(0x80000 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
	.fill	253, 8, 0
	.set	gib, 0
	.rept	128
	.quad	((gib << 18) << 10) | PTE_V | PTE_R | PTE_W | PTE_G | PTE_A | PTE_D
	.set	gib, gib + 1
	.endr
	.fill	126, 8, 0
	.quad	(0x80000 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D
	.quad	0
