; boot/isr.asm - interrupt and exception entry stubs.
;
; Register contract: the CPU enters a stub with interrupts off (all IDT
; entries are interrupt gates), having pushed SS, RSP, RFLAGS, CS, RIP and,
; for some exceptions, an error code. Each stub pushes a zero error code where
; the CPU did not, then its vector, then all general registers, and calls
;     trap_dispatch(struct trap_frame *tf)     ; RDI = frame
; with a 16-byte aligned stack. On return it restores everything and IRETQs.
; The frame layout is struct trap_frame in boot/cpu.h.

section .text
bits 64
extern trap_dispatch

; Vectors for which the CPU pushes an error code (SDM Vol. 3A,
; "Exception and Interrupt Reference"): #DF #TS #NP #SS #GP #PF #AC #CP.
%macro STUB 1
isr_stub_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21
%else
	push 0
%endif
	push %1
	jmp isr_common
%endmacro

%assign v 0
%rep 256
STUB v
%assign v v + 1
%endrep

isr_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	mov rbx, rsp                    ; callee-saved: remember the frame
	and rsp, -16
	cld
	call trap_dispatch
	mov rsp, rbx
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16                     ; vector and error code
	iretq

section .rodata
global isr_stub_table
align 8
isr_stub_table:
%assign v 0
%rep 256
	dq isr_stub_ %+ v
%assign v v + 1
%endrep
