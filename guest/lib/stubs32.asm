; guest/lib/stubs32.asm - the assembly the 32-bit guest library needs: the
; exception entry stubs (SDM Vol. 3A, "Exception and Interrupt Handling in
; 32-bit Mode") and guest_vmcall_regs(), a VMCALL with every register set
; and read back.
;
; Exception stub contract: the CPU enters with EFLAGS, CS, EIP (and for some
; vectors an error code) on the stack, at the same privilege level. Each stub
; pushes a dummy error code where the CPU pushes none, then the vector, then
; PUSHA, and calls guest_exception(struct guest_frame *) (cdecl). On return
; it restores every register from the frame (guest_exception may have moved
; EIP to a fixup) and IRETs.

%define ERRCODE_VECTORS ((1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | \
                         (1 << 13) | (1 << 14) | (1 << 17) | (1 << 21) | \
                         (1 << 29) | (1 << 30))

extern guest_exception
extern guest_fault_vector

section .text
bits 32

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
	pushad
	mov eax, esp
	push eax                        ; struct guest_frame *
	cld
	call guest_exception
	add esp, 4
	popad
	add esp, 8                      ; vector, error code
	iretd

; ---------------------------------------------------------------------------
; void guest_vmcall_regs(struct guest_regs *r)     (cdecl: r at [esp + 4])
; Field offsets: see struct guest_regs in guest.h (static-asserted there).
%define R_AX        0
%define R_BX        4
%define R_CX        8
%define R_DX        12
%define R_SI        16
%define R_DI        20
%define R_BP        24
%define R_FLAGS     28
%define R_SP_BEFORE 32
%define R_SP_AFTER  36
%define FLAGS_STATUS 0x8d5              ; CF PF AF ZF SF OF
%define FLAGS_FIXED  0x2

global guest_vmcall_regs
guest_vmcall_regs:
	push ebp                        ; callee-saved by cdecl
	push ebx
	push esi
	push edi
	mov eax, [esp + 20]
	mov [vmcall_regs], eax
	mov dword [guest_fault_vector], -1      ; GUEST_NO_FAULT

	mov ecx, [eax + R_FLAGS]        ; only the status flags: TF, IF, DF
	and ecx, FLAGS_STATUS           ; stay as they are
	or ecx, FLAGS_FIXED
	push ecx
	mov ebx, [eax + R_BX]
	mov ecx, [eax + R_CX]
	mov edx, [eax + R_DX]
	mov esi, [eax + R_SI]
	mov edi, [eax + R_DI]
	mov ebp, [eax + R_BP]
	mov eax, [eax + R_AX]
	popfd                           ; last: nothing below changes flags
	mov [vmcall_sp_before], esp
.vmcall:
	vmcall
.after:
	mov [vmcall_sp_after], esp      ; MOV changes no flags
	mov esp, [vmcall_sp_before]     ; a broken ESP must not crash us
	pushfd
	push eax
	mov eax, [vmcall_regs]
	pop dword [eax + R_AX]
	pop dword [eax + R_FLAGS]
	mov [eax + R_BX], ebx
	mov [eax + R_CX], ecx
	mov [eax + R_DX], edx
	mov [eax + R_SI], esi
	mov [eax + R_DI], edi
	mov [eax + R_BP], ebp
	mov ecx, [vmcall_sp_before]
	mov [eax + R_SP_BEFORE], ecx
	mov ecx, [vmcall_sp_after]
	mov [eax + R_SP_AFTER], ecx
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret

; Without a hypervisor VMCALL raises #UD: resume after it, registers intact.
section .guest_fixup progbits alloc noexec nowrite align=4
	dd guest_vmcall_regs.vmcall, guest_vmcall_regs.after

; ---------------------------------------------------------------------------
section .rodata
align 4
global guest_isr_table
guest_isr_table:
%assign v 0
%rep 32
	dd isr %+ v
%assign v v + 1
%endrep

section .bss
align 4
vmcall_regs:        resd 1
vmcall_sp_before:   resd 1
vmcall_sp_after:    resd 1

section .note.GNU-stack noalloc noexec nowrite progbits
