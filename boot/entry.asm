; boot/entry.asm - the multiboot2 header, the 32-bit entry and the switch to
; 64-bit long mode (SDM Vol. 3A, "Initializing IA-32e Mode").
;
; Register contract: GRUB jumps to _start in 32-bit protected mode, paging off,
; interrupts off, with EAX = MULTIBOOT2_BOOTLOADER_MAGIC and EBX = the physical
; address of the multiboot2 information structure. We call
;     kmain(u32 magic, u64 mbi)        ; RDI = magic, RSI = mbi
; in 64-bit mode on the boot stack, with the first 4 GiB identity-mapped by
; 2 MiB pages. kmain never returns.

%define MB2_HEADER_MAGIC        0xe85250d6
%define MB2_ARCH_I386           0
%define MB2_TAG_END             0
%define MB2_TAG_INFO_REQUEST    1
%define MB2_TAG_OPTIONAL        1
%define MB2_INFO_CMDLINE        1
%define MB2_INFO_MODULE         3
%define MB2_INFO_MMAP           6
%define MB2_INFO_ACPI_OLD       14
%define MB2_INFO_ACPI_NEW       15

%define CR0_PE          (1 << 0)        ; Protection Enable
%define CR0_PG          (1 << 31)       ; Paging
%define CR4_PAE         (1 << 5)        ; Physical Address Extension
%define MSR_EFER        0xc0000080
%define EFER_LME        (1 << 8)        ; IA-32e Mode Enable
%define PTE_P           (1 << 0)        ; Present
%define PTE_W           (1 << 1)        ; Writable
%define PTE_PS          (1 << 7)        ; 2 MiB page (in a PDE)
%define CPUID_EXT_LM    (1 << 29)       ; CPUID 80000001h EDX: Intel 64
%define EFLAGS_ID       (1 << 21)       ; CPUID instruction available
%define COM1            0x3f8
%define BOOT_STACK_SIZE 16384

; ---------------------------------------------------------------------------
; The multiboot2 header, as labelled tags (Multiboot2 spec, "Header format").
section .multiboot2
align 8
mb2_header:
	dd MB2_HEADER_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
align 8
mb2_tag_info_request:           ; ask for what we parse; optional, so a loader
	dw MB2_TAG_INFO_REQUEST     ; that lacks one still boots us and we report it
	dw MB2_TAG_OPTIONAL
	dd mb2_tag_info_request_end - mb2_tag_info_request
	dd MB2_INFO_CMDLINE
	dd MB2_INFO_MODULE
	dd MB2_INFO_MMAP
	dd MB2_INFO_ACPI_OLD
	dd MB2_INFO_ACPI_NEW
mb2_tag_info_request_end:
align 8
mb2_tag_end:
	dw MB2_TAG_END
	dw 0
	dd 8
mb2_header_end:

; ---------------------------------------------------------------------------
section .text.boot32
bits 32
global _start
_start:
	cli
	cld
	mov esp, boot_stack_top
	mov edi, eax                    ; keep magic and MBI for kmain
	mov esi, ebx

	; CPUID exists if EFLAGS.ID can be toggled.
	pushfd
	pop eax
	mov ecx, eax
	xor eax, EFLAGS_ID
	push eax
	popfd
	pushfd
	pop eax
	push ecx
	popfd
	cmp eax, ecx
	je .no_long_mode

	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, CPUID_EXT_LM
	jz .no_long_mode

	; Page tables: PML4[0] -> PDPT, PDPT[0..3] -> four PDs of 512 2 MiB pages
	; each: the first 4 GiB identity-mapped (kernel, modules, APIC, ACPI).
	mov eax, boot_pdpt
	or eax, PTE_P | PTE_W
	mov [boot_pml4], eax

	mov ecx, 0
.fill_pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, boot_pd
	or eax, PTE_P | PTE_W
	mov [boot_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jb .fill_pdpt

	mov ecx, 0                      ; 2048 PDEs, entry i maps i * 2 MiB
.fill_pd:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P | PTE_W | PTE_PS
	mov [boot_pd + ecx * 8], eax
	mov eax, ecx                    ; high half: bits 32+ of i * 2 MiB
	shr eax, 11
	mov [boot_pd + ecx * 8 + 4], eax
	inc ecx
	cmp ecx, 2048
	jb .fill_pd

	; SDM Vol. 3A, "Initializing IA-32e Mode": PAE on, CR3, EFER.LME, then
	; CR0.PG activates IA-32e mode; a far jump enters a 64-bit code segment.
	mov eax, boot_pml4
	mov cr3, eax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_PE
	mov cr0, eax
	lgdt [boot_gdt_ptr]
	jmp BOOT_CS64:long_mode_entry

.no_long_mode:
	mov esi, msg_no_long_mode
.print:
	lodsb
	test al, al
	jz .stop
	mov bl, al
	mov dx, COM1 + 5                ; LSR: wait for THR empty
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov dx, COM1
	mov al, bl
	out dx, al
	jmp .print
.stop:
	; Power off with a failure status (see drivers/power.c for the ports).
	mov dx, 0xf4                    ; QEMU isa-debug-exit
	mov al, 125
	out dx, al
	mov dx, 0x8900                  ; Bochs shutdown port
	mov esi, msg_shutdown
.shutdown:
	lodsb
	test al, al
	jz .halt
	out dx, al
	jmp .shutdown
.halt:
	hlt
	jmp .halt

; ---------------------------------------------------------------------------
bits 64
extern kmain
long_mode_entry:
	mov ax, BOOT_DS
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	mov edi, edi                    ; zero-extend: the upper halves are
	mov esi, esi                    ; undefined after the mode switch
	xor ebp, ebp
	call kmain
.hang:
	cli
	hlt
	jmp .hang

; ---------------------------------------------------------------------------
section .rodata
msg_no_long_mode:
	db "doorbell: this CPU has no 64-bit long mode (CPUID 80000001h EDX bit 29); cannot run", 13, 10
	db "doorbell: exit status 125", 13, 10, 0
msg_shutdown:
	db "Shutdown", 0

; A minimal GDT for the switch; boot/cpu.c loads each CPU's own GDT and TSS.
align 16
boot_gdt:
	dq 0
	dq 0x00af9a000000ffff           ; 0x08: 64-bit code, DPL 0
	dq 0x00cf92000000ffff           ; 0x10: data, DPL 0
boot_gdt_end:
BOOT_CS64 equ 0x08
BOOT_DS   equ 0x10
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dq boot_gdt

; ---------------------------------------------------------------------------
section .bss
align 4096
global boot_pml4
boot_pml4:  resb 4096
boot_pdpt:  resb 4096
boot_pd:    resb 4096 * 4
align 16
boot_stack: resb BOOT_STACK_SIZE
global boot_stack_top
boot_stack_top:
