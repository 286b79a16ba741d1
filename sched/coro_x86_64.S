/* sched/coro_x86_64.S — the x86_64 (System V) context switch of sched/coro.h.
 *
 * A suspended context is one saved stack pointer. Below it lie, from low to
 * high: MXCSR (4 bytes), x87 control word (2), padding (2), r15, r14, r13,
 * r12, rbx, rbp, and the return address. coro_make() builds the same frame
 * by hand for a new coroutine, with uffdlab_coro_boot as return address,
 * the entry function in r12 and its argument in r13.
 */

	.text

/* void uffdlab_coro_swap(void **save_sp, void *load_sp) */
	.globl	uffdlab_coro_swap
	.hidden	uffdlab_coro_swap
	.type	uffdlab_coro_swap, @function
	.p2align 4
uffdlab_coro_swap:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	/* The control bits of MXCSR and the x87 control word are callee-saved
	 * in the ABI: a coroutine that changes its rounding mode keeps it. */
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	uffdlab_coro_swap, .-uffdlab_coro_swap

/* The first frame of every coroutine: entry(arg) with entry in r12 and arg
 * in r13; rsp is 16-byte aligned here, as a call requires. The entry never
 * returns; ud2 makes a broken promise fail loudly. */
	.globl	uffdlab_coro_boot
	.hidden	uffdlab_coro_boot
	.type	uffdlab_coro_boot, @function
	.p2align 4
uffdlab_coro_boot:
	.cfi_startproc
	/* Outermost frame: debuggers and unwinders stop here. */
	.cfi_undefined rip
	movq	%r13, %rdi
	callq	*%r12
	ud2
	.cfi_endproc
	.size	uffdlab_coro_boot, .-uffdlab_coro_boot

	.section .note.GNU-stack,"",@progbits
