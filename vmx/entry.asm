; vmx/entry.asm - entering the guest and coming back from it.
;
; Register contract:
;   int vmx_enter(struct guest_regs *regs, int launched)   ; RDI, ESI
; saves the host's callee-saved registers and the regs pointer on the stack,
; writes that stack pointer to VMCS_HOST_RSP, loads the guest's general
; registers and CR2 from *regs (struct guest_regs in vmx/vmx.h: RAX, RCX,
; RDX, RBX, -, RBP, RSI, RDI, R8-R15 at 8-byte steps, then CR2), and executes
; VMRESUME (launched != 0) or VMLAUNCH.
;   - If that instruction fails, execution falls through with the guest's
;     values in the registers: we restore the host's and return
;     1 (VMfailInvalid, CF) or 2 (VMfailValid, ZF).
;   - On a VM exit the CPU loads RSP = VMCS_HOST_RSP and RIP = vmx_exit_entry
;     (with RFLAGS = 0x2, interrupts off): we store the guest's registers and
;     CR2 back into *regs and return 0 from vmx_enter.
; Guest RSP, RIP and RFLAGS live in the VMCS, not here.

%define VMCS_HOST_RSP   0x6c14
%define R_RAX   0
%define R_RCX   8
%define R_RDX   16
%define R_RBX   24
%define R_RBP   40
%define R_RSI   48
%define R_RDI   56
%define R_R8    64
%define R_R9    72
%define R_R10   80
%define R_R11   88
%define R_R12   96
%define R_R13   104
%define R_R14   112
%define R_R15   120
%define R_CR2   128

section .text
bits 64
global vmx_enter, vmx_exit_entry

vmx_enter:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                        ; regs, found at [HOST_RSP] on exit
	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
	jbe .failed_before_entry        ; CF or ZF: no current VMCS

	mov rax, [rdi + R_CR2]
	mov cr2, rax
	test esi, esi                   ; flags survive the MOVs below
	mov rax, [rdi + R_RAX]
	mov rcx, [rdi + R_RCX]
	mov rdx, [rdi + R_RDX]
	mov rbx, [rdi + R_RBX]
	mov rbp, [rdi + R_RBP]
	mov rsi, [rdi + R_RSI]
	mov r8,  [rdi + R_R8]
	mov r9,  [rdi + R_R9]
	mov r10, [rdi + R_R10]
	mov r11, [rdi + R_R11]
	mov r12, [rdi + R_R12]
	mov r13, [rdi + R_R13]
	mov r14, [rdi + R_R14]
	mov r15, [rdi + R_R15]
	mov rdi, [rdi + R_RDI]
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:
.failed_before_entry:
	; CF=1: VMfailInvalid; ZF=1: VMfailValid.
	mov eax, 1
	jc .out
	mov eax, 2
.out:
	add rsp, 8                      ; drop regs
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

vmx_exit_entry:
	push rdi                        ; guest RDI; [rsp + 8] = regs
	mov rdi, [rsp + 8]
	mov [rdi + R_RAX], rax
	mov [rdi + R_RCX], rcx
	mov [rdi + R_RDX], rdx
	mov [rdi + R_RBX], rbx
	mov [rdi + R_RBP], rbp
	mov [rdi + R_RSI], rsi
	mov [rdi + R_R8],  r8
	mov [rdi + R_R9],  r9
	mov [rdi + R_R10], r10
	mov [rdi + R_R11], r11
	mov [rdi + R_R12], r12
	mov [rdi + R_R13], r13
	mov [rdi + R_R14], r14
	mov [rdi + R_R15], r15
	pop rax
	mov [rdi + R_RDI], rax
	mov rax, cr2
	mov [rdi + R_CR2], rax
	add rsp, 8                      ; drop regs
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	xor eax, eax
	ret
