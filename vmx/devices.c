/*
 * vmx/devices.c - the guest platform's port devices (CONTRACTS.md 2): COM1
 * (enough of a 16550 for polled output), the exit port 0xf4, the pc-testdev
 * latch 0xe0-0xe3, and the two 8259 PICs (masks only: no interrupt is ever
 * delivered). Anything else is an unassigned port.
 */
#include "vmx/vmx_priv.h"

#define PORT_PIC1        0x20
#define PORT_PIC2        0xa0
#define PORT_LATCH       0xe0
#define PORT_LATCH_END   0xe3
#define PORT_EXIT        0xf4
#define PORT_EXIT_END    0xf7
#define PORT_COM1        0x3f8
#define PORT_COM1_END    0x3ff

#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_LSR_THRE_TEMT 0x60	/* transmitter always empty */
#define UART_IIR_NO_INT    0x01
#define UART_LCR_DLAB      0x80
#define UNASSIGNED_REPORTS 16	/* then one line per 65536 */

static void com1_flush(struct vm *vm)
{
	if (!vm->com1_len)
		return;
	vm->com1_line[vm->com1_len] = '\0';
	printk("%s\n", vm->com1_line);
	vm->com1_len = 0;
}

/* Guest output goes to the machine's serial line a whole line at a time, so
 * lines from several guests and the hypervisor never interleave. */
static void com1_putc(struct vm *vm, char c)
{
	if (c == '\r')
		return;
	if (c == '\n') {
		if (!vm->com1_len)
			printk("\n");
		com1_flush(vm);
		return;
	}
	vm->com1_line[vm->com1_len++] = c;
	if (vm->com1_len == COM1_LINE_MAX - 1)
		com1_flush(vm);
}

static void report_unassigned(struct vm *vm, const char *what, u64 addr, bool write)
{
	u64 n = vm->unassigned_reported++;
	if (n < UNASSIGNED_REPORTS || (n & 0xffff) == 0)
		printk("vm %u: %s %s unassigned %s 0x%llx (%s)\n", vm->index,
		       write ? "write to" : "read from",
		       n < UNASSIGNED_REPORTS ? "an" : "another", what, addr,
		       write ? "dropped" : "all ones");
}

void vm_report_unassigned(struct vm *vm, const char *what, u64 addr, bool write)
{
	report_unassigned(vm, what, addr, write);
}

u32 dev_pio_read(struct vm *vm, u16 port, u32 size)
{
	u32 ones = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;

	if (port >= PORT_LATCH && port <= PORT_LATCH_END) {
		u32 shift = (port - PORT_LATCH) * 8u;
		return (u32)((vm->latch >> shift) & ones);
	}
	if (port >= PORT_COM1 && port <= PORT_COM1_END) {
		switch (port - PORT_COM1) {
		case UART_LSR: return UART_LSR_THRE_TEMT;
		case UART_IIR: return UART_IIR_NO_INT;
		case UART_IER: return vm->com1_ier;
		case UART_LCR: return vm->com1_lcr;
		case UART_MCR: return vm->com1_mcr;
		case UART_SCR: return vm->com1_scratch;
		default:       return 0;	/* no received data, modem lines idle */
		}
	}
	if (port == PORT_PIC1 + 1 || port == PORT_PIC2 + 1)
		return vm->pic_imr[port == PORT_PIC2 + 1];
	if (port == PORT_PIC1 || port == PORT_PIC2)
		return 0;		/* IRR/ISR: nothing is ever pending */
	if (port >= PORT_EXIT && port <= PORT_EXIT_END)
		return ones;
	report_unassigned(vm, "port", port, false);
	return ones;
}

void dev_pio_write(struct vm *vm, u16 port, u32 size, u32 val)
{
	if (port >= PORT_LATCH && port <= PORT_LATCH_END) {
		u32 shift = (port - PORT_LATCH) * 8u;
		u64 mask = (size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1) << shift;
		vm->latch = (u32)((vm->latch & ~mask) | (((u64)val << shift) & mask));
		return;
	}
	if (port >= PORT_COM1 && port <= PORT_COM1_END) {
		switch (port - PORT_COM1) {
		case UART_THR:
			if (!(vm->com1_lcr & UART_LCR_DLAB))
				com1_putc(vm, (char)val);
			break;
		case UART_IER: if (!(vm->com1_lcr & UART_LCR_DLAB)) vm->com1_ier = (u8)val; break;
		case UART_LCR: vm->com1_lcr = (u8)val; break;
		case UART_MCR: vm->com1_mcr = (u8)val; break;
		case UART_SCR: vm->com1_scratch = (u8)val; break;
		default: break;	/* FCR, divisor latch: accepted, no effect */
		}
		return;
	}
	if (port == PORT_PIC1 + 1 || port == PORT_PIC2 + 1) {
		vm->pic_imr[port == PORT_PIC2 + 1] = (u8)val;
		return;
	}
	if (port == PORT_PIC1 || port == PORT_PIC2)
		return;			/* ICW1/OCW2/OCW3: accepted */
	if (port == PORT_EXIT) {
		com1_flush(vm);
		vm_end(vm, VM_END_EXIT, (int)val);
		return;
	}
	if (port > PORT_EXIT && port <= PORT_EXIT_END)
		return;
	report_unassigned(vm, "port", port, true);
}
