; service/ipi.asm - the service core's wake-up IPI (VECTOR_SERVICE_IPI) in
; x2APIC mode, without the generic interrupt path (boot/isr.asm's frame of 15
; registers and trap_dispatch): the IPI only ends the core's `hlt` (or lands
; mid-round), so all it must do is count itself and signal EOI. In xAPIC mode
; the core takes the generic path instead (service/core.c).
;
; Register contract: entered through an interrupt gate (interrupts off) on
; the service core, with the CPU's interrupt frame on the stack and no error
; code. Uses RAX, RCX and RDX, restored before IRETQ; touches GS:PERCPU_IPIS
; (struct percpu.ipis_received, checked by service/core.c) and the x2APIC
; EOI register (SDM Vol. 3A, "x2APIC Register Address Space": MSR 0x80b; a
; write of 0 is the EOI, "EOI Register").

%define PERCPU_IPIS          192        ; offsetof(struct percpu, ipis_received)
%define X2APIC_MSR_EOI       0x80b

section .text
bits 64
global service_ipi_x2apic

service_ipi_x2apic:
	push rax
	push rcx
	push rdx
	inc qword [gs:PERCPU_IPIS]
	mov ecx, X2APIC_MSR_EOI
	xor eax, eax
	xor edx, edx
	wrmsr
	pop rdx
	pop rcx
	pop rax
	iretq
