; guest/bad/notmultiboot.asm - NOT a multiboot kernel: an ordinary ELF32
; executable without the Multiboot header, for the hypervisor's loader test
; (it must refuse it and say why). If a loader ran it anyway, it says so on
; COM1 and exits with status 42, so that mistake cannot look like success.

%define COM1            0x3f8
%define UART_LSR        5
%define UART_LSR_THRE   (1 << 5)
%define EXIT_PORT       0xf4
%define EXIT_LOADED     42

section .text
bits 32
global _start
_start:
	cli
	mov esi, msg
.next:
	lodsb
	test al, al
	jz .done
	mov bl, al
	mov dx, COM1 + UART_LSR
.wait:
	in al, dx
	test al, UART_LSR_THRE
	jz .wait
	mov dx, COM1
	mov al, bl
	out dx, al
	jmp .next
.done:
	mov eax, EXIT_LOADED
	out EXIT_PORT, eax
.hang:
	hlt
	jmp .hang

section .rodata
msg:	db "notmultiboot: a loader ran a kernel without a multiboot header", 10, 0

section .note.GNU-stack noalloc noexec nowrite progbits
