; guest/lib/entry32.asm - the Multiboot (v1) header and 32-bit entry of a
; 32-bit guest.
;
; Register contract (Multiboot Specification 0.6.96, "Machine state"): the
; loader jumps to _start in 32-bit protected mode, paging off, interrupts
; off, flat CS/DS/ES/SS, EAX = 0x2BADB002, EBX = physical address of the
; multiboot information block; ESP, GDTR and IDTR are undefined. We load our
; own GDT and stack and call
;     guest_start(u32 magic, struct multiboot_info *mbi)   ; cdecl, on stack
; which never returns.

%define MB_HEADER_MAGIC     0x1badb002
%define MB_MEMORY_INFO      (1 << 1)    ; ask for mem_lower/mem_upper/mmap
%define MB_FLAGS            MB_MEMORY_INFO
%define GUEST_STACK_SIZE    16384

%define GDT_CODE32          0x08
%define GDT_DATA            0x10

; ---------------------------------------------------------------------------
; The header: ELF program headers tell the loader where we go, so no a.out
; kludge fields (flags bit 16 clear). It must lie 4-aligned in the first
; 8 KiB of the file: the linker script places .multiboot first.
section .multiboot
align 4
	dd MB_HEADER_MAGIC
	dd MB_FLAGS
	dd -(MB_HEADER_MAGIC + MB_FLAGS)

; ---------------------------------------------------------------------------
section .text.entry
bits 32
global _start
extern guest_start
_start:
	cli
	cld
	mov esp, guest_stack_top
	lgdt [gdt_ptr]
	jmp GDT_CODE32:.reload_cs
.reload_cs:
	mov cx, GDT_DATA
	mov ds, cx
	mov es, cx
	mov fs, cx
	mov gs, cx
	mov ss, cx
	xor ebp, ebp                    ; end of the frame chain for debuggers
	sub esp, 8                      ; ESP % 16 == 0 at the CALL (i386 ABI)
	push ebx                        ; mbi
	push eax                        ; magic
	call guest_start
.hang:                                  ; guest_start never returns
	cli
	hlt
	jmp .hang

; ---------------------------------------------------------------------------
section .rodata
align 8
gdt:                                    ; SDM Vol. 3A, "Segment Descriptors"
	dq 0                            ; null
	dq 0x00cf9a000000ffff           ; 0x08: code, base 0, 4 GiB, 32-bit
	dq 0x00cf92000000ffff           ; 0x10: data, base 0, 4 GiB
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt

section .bss
align 16
guest_stack:
	resb GUEST_STACK_SIZE
guest_stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
