; guest/lib/stubs64.asm - the assembly the 64-bit guest library needs: the
; exception entry stubs (SDM Vol. 3A, "64-Bit Mode Exception and Interrupt
; Handling") and guest_vmcall_regs(), a VMCALL with every register set and
; read back.
;
; Exception stub contract: the CPU enters with SS, RSP, RFLAGS, CS, RIP (and
; for some vectors an error code) on a 16-byte-aligned stack. Each stub pushes
; a dummy error code where the CPU pushes none, then the vector, then RAX,
; RCX, RDX, RBX, a placeholder, RBP, RSI, RDI (PUSHA order) and R8-R15, and
; calls guest_exception(struct guest_frame *) (RDI) on an aligned stack. On
; return it restores every register from the frame (guest_exception may have
; moved RIP to a fixup) and IRETQs. Guests build with -mno-red-zone, so an
; exception on the current stack overwrites nothing live.

%define ERRCODE_VECTORS ((1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | \
                         (1 << 13) | (1 << 14) | (1 << 17) | (1 << 21) | \
                         (1 << 29) | (1 << 30))

extern guest_exception
extern guest_fault_vector

section .text
bits 64

%macro ISR 1
isr%1:
%if (ERRCODE_VECTORS >> %1) & 1 == 0
	push 0                          ; dummy error code
%endif
	push %1
	jmp isr_common
%endmacro

%assign v 0
%rep 32
ISR v
%assign v v + 1
%endrep

isr_common:
	push rax
	push rcx
	push rdx
	push rbx
	push 0                          ; where PUSHA would store ESP
	push rbp
	push rsi
	push rdi
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp                    ; struct guest_frame *
	mov rbx, rsp                    ; callee-saved: the frame, for after
	and rsp, -16                    ; the ABI wants RSP % 16 == 0 at CALL
	cld
	call guest_exception
	mov rsp, rbx
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rdi
	pop rsi
	pop rbp
	add rsp, 8                      ; placeholder
	pop rbx
	pop rdx
	pop rcx
	pop rax
	add rsp, 16                     ; vector, error code
	iretq

; ---------------------------------------------------------------------------
; void guest_vmcall_regs(struct guest_regs *r)     (SysV: r in RDI)
; Field offsets: see struct guest_regs in guest.h (static-asserted there).
%define R_AX        0
%define R_BX        8
%define R_CX        16
%define R_DX        24
%define R_SI        32
%define R_DI        40
%define R_BP        48
%define R_FLAGS     56
%define R_SP_BEFORE 64
%define R_SP_AFTER  72
%define R_R8        80
%define FLAGS_STATUS 0x8d5              ; CF PF AF ZF SF OF
%define FLAGS_FIXED  0x2

global guest_vmcall_regs
guest_vmcall_regs:
	push rbp                        ; callee-saved by the SysV ABI
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov [rel vmcall_regs], rdi
	mov dword [rel guest_fault_vector], -1  ; GUEST_NO_FAULT
	mov rax, rdi

	mov rcx, [rax + R_FLAGS]        ; only the status flags: TF, IF, DF
	and rcx, FLAGS_STATUS           ; stay as they are
	or rcx, FLAGS_FIXED
	push rcx
	mov rbx, [rax + R_BX]
	mov rcx, [rax + R_CX]
	mov rdx, [rax + R_DX]
	mov rsi, [rax + R_SI]
	mov rdi, [rax + R_DI]
	mov rbp, [rax + R_BP]
	mov r8,  [rax + R_R8 + 0 * 8]
	mov r9,  [rax + R_R8 + 1 * 8]
	mov r10, [rax + R_R8 + 2 * 8]
	mov r11, [rax + R_R8 + 3 * 8]
	mov r12, [rax + R_R8 + 4 * 8]
	mov r13, [rax + R_R8 + 5 * 8]
	mov r14, [rax + R_R8 + 6 * 8]
	mov r15, [rax + R_R8 + 7 * 8]
	mov rax, [rax + R_AX]
	popfq                           ; last: nothing below changes flags
	mov [rel vmcall_sp_before], rsp
.vmcall:
	vmcall
.after:
	mov [rel vmcall_sp_after], rsp  ; MOV changes no flags
	mov rsp, [rel vmcall_sp_before] ; a broken RSP must not crash us
	pushfq
	push rax
	mov rax, [rel vmcall_regs]
	pop qword [rax + R_AX]
	pop qword [rax + R_FLAGS]
	mov [rax + R_BX], rbx
	mov [rax + R_CX], rcx
	mov [rax + R_DX], rdx
	mov [rax + R_SI], rsi
	mov [rax + R_DI], rdi
	mov [rax + R_BP], rbp
	mov [rax + R_R8 + 0 * 8], r8
	mov [rax + R_R8 + 1 * 8], r9
	mov [rax + R_R8 + 2 * 8], r10
	mov [rax + R_R8 + 3 * 8], r11
	mov [rax + R_R8 + 4 * 8], r12
	mov [rax + R_R8 + 5 * 8], r13
	mov [rax + R_R8 + 6 * 8], r14
	mov [rax + R_R8 + 7 * 8], r15
	mov rcx, [rel vmcall_sp_before]
	mov [rax + R_SP_BEFORE], rcx
	mov rcx, [rel vmcall_sp_after]
	mov [rax + R_SP_AFTER], rcx
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; Without a hypervisor VMCALL raises #UD: resume after it, registers intact.
section .guest_fixup progbits alloc noexec nowrite align=8
	dq guest_vmcall_regs.vmcall, guest_vmcall_regs.after

; ---------------------------------------------------------------------------
section .rodata
align 8
global guest_isr_table
guest_isr_table:
%assign v 0
%rep 32
	dq isr %+ v
%assign v v + 1
%endrep

section .bss
align 8
vmcall_regs:        resq 1
vmcall_sp_before:   resq 1
vmcall_sp_after:    resq 1

section .note.GNU-stack noalloc noexec nowrite progbits
