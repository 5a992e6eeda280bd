; vmx/entry.asm - entering the guest and coming back from it, in a loop.
;
; Register contract:
;   int vmx_run(struct vcpu *v)                          ; RDI
; saves the host's callee-saved registers and v on the stack, writes that
; stack pointer to VMCS_HOST_RSP (once per call: every VM exit lands on this
; same frame), loads the guest's general registers from v->regs (struct
; guest_regs in vmx/vmx.h, the first member of struct vcpu: RAX, RCX, RDX,
; RBX, -, RBP, RSI, RDI, R8-R15 at 8-byte steps) and executes VMLAUNCH.
;   - On a VM exit the CPU loads RSP = VMCS_HOST_RSP and RIP = vmx_exit_entry
;     (with RFLAGS = 0x2, interrupts off). Two steps (vmx/dispatch.c):
;     1. We store the guest's RAX, RCX, RDX, RBX, RSI, RDI, R8 and R9 into
;        v->regs and call
;            int vcpu_exit_fast(struct vcpu *v)
;        The guest's RBP and R12-R15 stay in their registers, which the
;        System V ABI makes a C function preserve, and so do R10 and R11,
;        which no C code of the hypervisor uses at all (-ffixed-r10
;        -ffixed-r11). EXIT_RESUME (0): we reload those eight (a handler
;        may have changed them in v->regs: CPUID writes RBX) and VMRESUME.
;     2. EXIT_FULL (1): we store RBP and R10-R15 too and call
;            bool vcpu_handle_exit(struct vcpu *v)
;        which may read and write any register in v->regs; if it returns
;        true we reload all fifteen and VMRESUME. EXIT_STOP (2), or false:
;        vmx_run returns 0.
;   - If VMLAUNCH fails, execution falls through: we restore the host's
;     registers and return 1 (VMfailInvalid, CF) or 2 (VMfailValid, ZF);
;     if VMRESUME fails, 3 or 4 (VMX_FAIL_RESUMED + 1 or 2).
;   - With trace=1, VMCS_HOST_RIP is vmx_exit_entry_full instead: it stores
;     all fifteen and takes step 2 at once.
; So a doorbell's round trip costs seventeen register moves and one call;
; never the host's callee-saved registers (saved once per vmx_run). Guest
; RSP, RIP and RFLAGS live in the VMCS, not here. CR2 is not switched at all:
; a VM exit leaves it unchanged and the host never takes a page fault (one is
; fatal), so the guest's CR2 simply stays in the register while we handle the
; exit; a handler that injects #PF writes CR2 itself.

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

section .text
bits 64
global vmx_run, vmx_exit_entry, vmx_exit_entry_full
extern vcpu_exit_fast, vcpu_handle_exit

; Stores the guest's registers that step 1 needs (see above) into v->regs,
; v found at [rsp] (HOST_RSP); leaves RDI = v.
%macro STORE_GUEST_SCRATCH 0
	push rdi                        ; guest RDI; [rsp + 8] = v
	mov rdi, [rsp + 8]
	mov [rdi + R_RAX], rax
	mov [rdi + R_RCX], rcx
	mov [rdi + R_RDX], rdx
	mov [rdi + R_RBX], rbx
	mov [rdi + R_RSI], rsi
	mov [rdi + R_R8],  r8
	mov [rdi + R_R9],  r9
	pop qword [rdi + R_RDI]
%endmacro

; Stores the rest, for step 2 (RDI = v).
%macro STORE_GUEST_REST 0
	mov [rdi + R_RBP], rbp          ; preserved by vcpu_exit_fast
	mov [rdi + R_R10], r10          ; untouched by any C code
	mov [rdi + R_R11], r11
	mov [rdi + R_R12], r12
	mov [rdi + R_R13], r13
	mov [rdi + R_R14], r14
	mov [rdi + R_R15], r15
%endmacro

; Loads the guest's registers that the ABI lets a C function change (and
; RBX, which CPUID's handler writes) from [rdi]; RDI last. Not R10 and R11:
; the hypervisor's C code is compiled never to use them (-ffixed-r10
; -ffixed-r11 in the Makefile), so they still hold the guest's values.
%macro LOAD_GUEST_SCRATCH 0
	mov rax, [rdi + R_RAX]
	mov rcx, [rdi + R_RCX]
	mov rdx, [rdi + R_RDX]
	mov rbx, [rdi + R_RBX]
	mov rsi, [rdi + R_RSI]
	mov r8,  [rdi + R_R8]
	mov r9,  [rdi + R_R9]
	mov rdi, [rdi + R_RDI]
%endmacro

; Loads all of them; RDI last.
%macro LOAD_GUEST 0
	mov rbp, [rdi + R_RBP]
	mov r10, [rdi + R_R10]
	mov r11, [rdi + R_R11]
	mov r12, [rdi + R_R12]
	mov r13, [rdi + R_R13]
	mov r14, [rdi + R_R14]
	mov r15, [rdi + R_R15]
	LOAD_GUEST_SCRATCH
%endmacro

vmx_run:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                        ; v, found at [HOST_RSP] on exit
	mov esi, 0                      ; failing now counts as a launch
	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
	jbe entry_failed                ; CF or ZF: no current VMCS
	LOAD_GUEST
	vmlaunch
	mov esi, 0                      ; VMLAUNCH failed (MOV keeps the flags)
	jmp entry_failed

vmx_exit_entry:
	STORE_GUEST_SCRATCH
	call vcpu_exit_fast             ; RDI = v; RSP = HOST_RSP, aligned
	test eax, eax
	jnz .full
	mov rdi, [rsp]
	LOAD_GUEST_SCRATCH
	vmresume
	jmp resume_failed
.full:
	cmp eax, 1                      ; EXIT_FULL
	jne guest_stopped               ; EXIT_STOP
	mov rdi, [rsp]
	STORE_GUEST_REST
full_step:
	call vcpu_handle_exit
	test al, al
	jz guest_stopped
	mov rdi, [rsp]
	LOAD_GUEST
	vmresume
resume_failed:
	mov esi, 2                      ; VMRESUME failed (MOV keeps the flags)
entry_failed:
	; CF=1: VMfailInvalid; ZF=1: VMfailValid. ESI: 0 launch, 2 resume.
	mov eax, 1
	jc .code
	mov eax, 2
.code:
	add eax, esi
	jmp run_out
guest_stopped:
	xor eax, eax
run_out:
	add rsp, 8                      ; drop v
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; The door for trace=1 (VMCS_HOST_RIP, vmx/vmcs.c): every exit takes the
; full step, with every register stored, so that the trace sees them all.
vmx_exit_entry_full:
	STORE_GUEST_SCRATCH
	STORE_GUEST_REST
	jmp full_step
