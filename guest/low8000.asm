; guest/low8000.asm - a Multiboot kernel linked and loaded at 0x8000, as
; kvm-unit-tests' realmode.flat is (x86/realmode.lds): the loader must accept
; it (the boot information area no longer covers 0x1000-0x9000). It checks
; that it runs where it was linked, that EAX holds the multiboot magic and
; that the information block lies outside its own image, then writes what
; realmode.flat writes below itself (an IRET at 0x1000, an IVT entry), prints
; "low8000: ok, loaded at 0x00008000, boot information at 0x........" and
; exits 0; on any failure it prints why and exits 1.

%define COM1            0x3f8
%define UART_LSR        5
%define UART_LSR_THRE   (1 << 5)
%define EXIT_PORT       0xf4
%define MB_MAGIC        0x1badb002
%define MB_FLAGS        0
%define MB_BOOT_MAGIC   0x2badb002

section .text
bits 32
align 4
mb_header:
	dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

global _start
_start:
	cli
	mov esp, stack_top
	mov [boot_eax], eax
	mov [boot_ebx], ebx
	call .here			; where are we really?
.here:
	pop ecx
	cmp ecx, .here
	jne fail_place
	cmp dword [boot_eax], MB_BOOT_MAGIC
	jne fail_magic
	mov ebx, [boot_ebx]		; info block: below the image or above it
	cmp ebx, image_end
	jae .info_ok
	lea eax, [ebx + 88]		; the block's fixed part
	cmp eax, mb_header
	ja fail_info
.info_ok:
	mov byte [0x1000], 0xcf		; realmode.flat: an IRET at 0x1000 ...
	mov dword [0x11 * 4], 0x1000	; ... and IVT entry 0x11 pointing at it
	mov esi, msg_ok
	call puts
	mov eax, mb_header
	call puthex
	mov esi, msg_info
	call puts
	mov eax, [boot_ebx]
	call puthex
	mov al, 10
	call putc
	xor eax, eax
	jmp exit

fail_place:
	mov esi, msg_place
	jmp fail
fail_magic:
	mov esi, msg_magic
	jmp fail
fail_info:
	mov esi, msg_info_bad
fail:
	call puts
	mov eax, 1
exit:
	mov dx, EXIT_PORT
	out dx, eax
.hang:
	hlt
	jmp .hang

; putc: AL to COM1 (polled).
putc:
	push edx
	push eax
	mov dx, COM1 + UART_LSR
.wait:
	in al, dx
	test al, UART_LSR_THRE
	jz .wait
	pop eax
	mov dx, COM1
	out dx, al
	pop edx
	ret

; puts: the NUL-terminated string at ESI.
puts:
	lodsb
	test al, al
	jz .done
	call putc
	jmp puts
.done:
	ret

; puthex: EAX as 0x and 8 hex digits.
puthex:
	push eax
	mov esi, msg_0x
	call puts
	pop edx
	mov ecx, 8
.digit:
	rol edx, 4
	mov eax, edx
	and eax, 0xf
	mov al, [hexdigits + eax]
	call putc
	loop .digit
	ret

section .rodata
hexdigits:	db "0123456789abcdef"
msg_0x:		db "0x", 0
msg_ok:		db "low8000: ok, loaded at ", 0
msg_info:	db ", boot information at ", 0
msg_place:	db "low8000: FAIL: not running where it was linked", 10, 0
msg_magic:	db "low8000: FAIL: EAX is not the multiboot magic", 10, 0
msg_info_bad:	db "low8000: FAIL: the boot information overlaps the image", 10, 0

section .bss
alignb 16
boot_eax:	resd 1
boot_ebx:	resd 1
		resb 4096
stack_top:
image_end:
