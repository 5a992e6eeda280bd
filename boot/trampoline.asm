; boot/trampoline.asm - where an application processor starts.
;
; Register contract: the AP begins in real mode at TRAMP_BASE (the SIPI vector
; is TRAMP_BASE >> 12) with CS = TRAMP_BASE >> 4, IP = 0. boot/smp.c copies
; this code to TRAMP_BASE and fills tramp_cr3/stack/entry/arg before each
; SIPI. The code switches to protected mode, then to long mode with the boot
; page tables, and calls entry(arg) (RDI = arg) on the given stack. It runs
; at TRAMP_BASE, not where it is linked, so every address is T(label).

%define TRAMP_BASE      0x8000
%define T(x)            (TRAMP_BASE + (x) - tramp_start)
%define CR0_PE          (1 << 0)
%define CR0_PG          (1 << 31)
%define CR4_PAE         (1 << 5)
%define MSR_EFER        0xc0000080
%define EFER_LME        (1 << 8)

section .trampoline
bits 16
global tramp_start
tramp_start:
	cli
	cld
	xor ax, ax
	mov ds, ax
	o32 lgdt [T(tramp_gdt_ptr)]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword 0x08:T(tramp_pm)

bits 32
tramp_pm:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, [T(tramp_cr3)]
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PG
	mov cr0, eax
	jmp 0x18:T(tramp_lm)

bits 64
tramp_lm:
	mov rsp, [T(tramp_stack)]
	mov rdi, [T(tramp_arg)]
	mov rax, [T(tramp_entry)]
	xor ebp, ebp
	call rax
.hang:
	cli
	hlt
	jmp .hang

align 8
tramp_gdt:
	dq 0
	dq 0x00cf9a000000ffff           ; 0x08: 32-bit code
	dq 0x00cf92000000ffff           ; 0x10: data
	dq 0x00af9a000000ffff           ; 0x18: 64-bit code
tramp_gdt_end:
tramp_gdt_ptr:
	dw tramp_gdt_end - tramp_gdt - 1
	dd T(tramp_gdt)

align 8
global tramp_cr3, tramp_stack, tramp_entry, tramp_arg
tramp_cr3:   dq 0
tramp_stack: dq 0
tramp_entry: dq 0
tramp_arg:   dq 0
