; guest/lib/entry64.asm - the Multiboot (v1) header and entry of a 64-bit
; guest: the loader starts us in 32-bit protected mode, and we switch to
; 64-bit long mode ourselves (SDM Vol. 3A, "Initializing IA-32e Mode").
;
; Loading: a multiboot v1 loader (QEMU -kernel among them) takes ELF32 only,
; so guest.mk links the 64-bit guest as ELF64 and converts it with
; `objcopy -O elf32-i386`: the program headers and entry point (all below
; 4 GiB) are kept, the code inside stays 64-bit. This file's entry code is
; 32-bit, so the ELF32 header tells the truth about where execution starts.
;
; Register contract: as entry32.asm at _start (EAX = 0x2BADB002, EBX = mbi,
; paging off, interrupts off). We load our own GDT, identity-map the first
; 4 GiB with 2 MiB pages (RAM, the doorbell window, IORAM and the APIC all
; lie there), enable PAE, EFER.LME and paging, far-jump to 64-bit code and
; call
;     guest_start(u32 magic, struct multiboot_info *mbi)   ; RDI, RSI
; which never returns.

%define MB_HEADER_MAGIC     0x1badb002
%define MB_MEMORY_INFO      (1 << 1)    ; ask for mem_lower/mem_upper/mmap
%define MB_FLAGS            MB_MEMORY_INFO
%define GUEST_STACK_SIZE    16384

%define GDT_CODE32          0x08
%define GDT_DATA            0x10
%define GDT_CODE64          0x18

%define CR0_PG              (1 << 31)   ; paging
%define CR4_PAE             (1 << 5)    ; physical address extension
%define MSR_EFER            0xc0000080
%define EFER_LME            (1 << 8)    ; IA-32e mode enable
%define PTE_P               (1 << 0)    ; present
%define PTE_W               (1 << 1)    ; writable
%define PTE_PWT             (1 << 3)    ; write-through
%define PTE_PCD             (1 << 4)    ; cache disable
%define PTE_PS              (1 << 7)    ; 2 MiB page (in a PDE)
%define CPUID_EXT_LM        (1 << 29)   ; CPUID 80000001h EDX: Intel 64
%define PD_ENTRIES          2048        ; 4 PDs of 512: 4 GiB in 2 MiB pages
%define PD_MMIO_FIRST       1536        ; PDEs from 3 GiB on map MMIO
%define PT_PAGES            6           ; PML4, PDPT, 4 PDs
%define COM1                0x3f8
%define UART_LSR            5
%define UART_LSR_THRE       (1 << 5)
%define EXIT_PORT           0xf4
%define GUEST_EXIT_EXCEPTION 3

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
	mov [mb_magic], eax             ; CPUID and REP STOSD below need EAX-EDI
	mov [mb_info], ebx
	lgdt [gdt_ptr]
	jmp GDT_CODE32:.reload_cs
.reload_cs:
	mov cx, GDT_DATA
	mov ds, cx
	mov es, cx
	mov fs, cx
	mov gs, cx
	mov ss, cx

	; Long mode needs CPUID 80000001h EDX.LM (SDM Vol. 2A, CPUID).
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, CPUID_EXT_LM
	jz no_long_mode

	; The tables live in .bss, which the loader should have zeroed; clear
	; them anyway, since a stray bit in an unused entry would map garbage.
	mov edi, page_tables
	mov ecx, PT_PAGES * 4096 / 4
	xor eax, eax
	rep stosd

	mov dword [pml4], pdpt + (PTE_P | PTE_W)
	xor ecx, ecx
.fill_pdpt:                             ; PDPT[i] -> PD i, i = 0..3
	mov eax, ecx
	shl eax, 12
	add eax, pds + (PTE_P | PTE_W)
	mov [pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jb .fill_pdpt

	xor ecx, ecx
.fill_pd:                               ; PDE i maps i * 2 MiB, identity
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P | PTE_W | PTE_PS
	cmp ecx, PD_MMIO_FIRST
	jb .cacheable
	; The top GiB holds the doorbell window, IORAM and the APIC: device
	; memory, so map it uncached as an OS would (the hypervisor emulates
	; each access anyway; this keeps the guest honest on real hardware).
	or eax, PTE_PCD | PTE_PWT
.cacheable:
	mov [pds + ecx * 8], eax
	mov eax, ecx                    ; bits 32+ of i * 2 MiB
	shr eax, 11
	mov [pds + ecx * 8 + 4], eax
	inc ecx
	cmp ecx, PD_ENTRIES
	jb .fill_pd

	; SDM Vol. 3A, "Initializing IA-32e Mode": PAE, CR3, EFER.LME, then
	; CR0.PG activates IA-32e mode; a far jump enters 64-bit code.
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PG
	mov cr0, eax
	jmp GDT_CODE64:long_mode_entry

no_long_mode:                           ; say why on COM1, exit, stop
	mov esi, msg_no_long_mode
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
	mov eax, GUEST_EXIT_EXCEPTION
	out EXIT_PORT, eax
.hang:
	cli
	hlt
	jmp .hang

; ---------------------------------------------------------------------------
bits 64
long_mode_entry:
	mov cx, GDT_DATA
	mov ds, cx
	mov es, cx
	mov ss, cx
	xor ecx, ecx
	mov fs, cx
	mov gs, cx
	mov rsp, guest_stack_top
	xor ebp, ebp
	mov edi, [rel mb_magic]         ; 32-bit loads zero-extend: the upper
	mov esi, [rel mb_info]          ; halves are undefined after the switch
	call guest_start
.hang:
	cli
	hlt
	jmp .hang

; ---------------------------------------------------------------------------
section .rodata
align 8
gdt:                                    ; SDM Vol. 3A, "Segment Descriptors"
	dq 0                            ; null
	dq 0x00cf9a000000ffff           ; 0x08: code, 32-bit (before the switch)
	dq 0x00cf92000000ffff           ; 0x10: data, base 0, 4 GiB
	dq 0x00af9a000000ffff           ; 0x18: code, 64-bit (L=1, D=0)
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt
msg_no_long_mode:
	db "guest: this CPU has no long mode (CPUID 80000001h EDX bit 29)", 10, 0

section .bss
align 4096
page_tables:
pml4:	resb 4096
pdpt:	resb 4096
pds:	resb 4 * 4096
align 16
guest_stack:
	resb GUEST_STACK_SIZE
guest_stack_top:
mb_magic:
	resd 1
mb_info:
	resd 1

section .note.GNU-stack noalloc noexec nowrite progbits
