/*
 * pci/config.c - configuration mechanism #1 and type-0 configuration
 * headers: identity, command register, BARs sized by the all-ones protocol
 * (PCI Local Bus Specification 3.0, "Base Address Registers": software writes
 * all ones and reads back the bits the device lets it change; the zeros
 * below them are the size).
 */
#include "pci/pci.h"

bool pci_conf1_target(u32 config_address, u16 port, u32 len,
		      u32 *dev, u32 *fn, u32 *reg)
{
	u32 off = (u32)(port - PCI_CONF1_DATA_PORT);
	u32 r;

	if (!(config_address & PCI_CONF1_ENABLE) || off > 3 ||
	    (config_address >> PCI_CONF1_BUS_SHIFT & 0xff) != 0)
		return false;
	/* The register's low bits come from CONFIG_ADDRESS (QEMU ORs them in)
	 * plus the port offset; the access must stay in its dword. */
	r = (config_address & PCI_CONF1_REG_MASK) | off;
	if ((r & 3) + len > 4)
		return false;
	*dev = config_address >> PCI_CONF1_DEV_SHIFT & (PCI_DEVS_PER_BUS - 1);
	*fn = config_address >> PCI_CONF1_FN_SHIFT & (PCI_FNS_PER_DEV - 1);
	*reg = r;
	return true;
}

static void put16(u8 *p, u16 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); }
static void put32(u8 *p, u32 v) { put16(p, (u16)v); put16(p + 2, (u16)(v >> 16)); }
static u16 get16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 get32(const u8 *p) { return get16(p) | (u32)get16(p + 2) << 16; }

void pci_func_init(struct pci_func *f, const struct pci_id *id)
{
	memset(f, 0, sizeof(*f));
	put16(f->cfg + PCI_VENDOR_ID, id->vendor);
	put16(f->cfg + PCI_DEVICE_ID, id->device);
	f->cfg[PCI_REVISION_ID] = id->revision;
	f->cfg[PCI_CLASS_PROG] = id->prog_if;
	f->cfg[PCI_CLASS_DEVICE] = id->class_sub;
	f->cfg[PCI_CLASS_DEVICE + 1] = id->class_base;
	f->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	put16(f->cfg + PCI_SUBSYSTEM_VENDOR_ID, id->subsystem_vendor);
	put16(f->cfg + PCI_SUBSYSTEM_ID, id->subsystem);
	put16(f->wmask + PCI_COMMAND, PCI_COMMAND_WRITABLE);
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

int pci_func_add_bar(struct pci_func *f, u32 n, bool io, u32 size, u32 addr)
{
	u32 min = io ? 4 : 16;

	if (n >= PCI_NUM_BARS || size < min || (size & (size - 1)) ||
	    (addr & (size - 1)) || (io && size > 256))
		return -EINVAL;
	f->bar_size[n] = size;
	put32(f->cfg + PCI_BASE_ADDRESS_0 + 4 * n, addr | (io ? PCI_BAR_SPACE_IO : 0));
	/* Writable: the address bits above the size; the type bits never. */
	put32(f->wmask + PCI_BASE_ADDRESS_0 + 4 * n, ~(size - 1));
	return 0;
}

void pci_func_set_command(struct pci_func *f, u16 command)
{
	put16(f->cfg + PCI_COMMAND, command);
}

u32 pci_cfg_read(const struct pci_func *f, u32 reg, u32 len)
{
	u32 v = 0;

	for (u32 i = 0; i < len && reg + i < PCI_CFG_SIZE; i++)
		v |= (u32)f->cfg[reg + i] << (8 * i);
	return v;
}

u32 pci_cfg_write(struct pci_func *f, u32 reg, u32 len, u32 val)
{
	u32 changed = 0;

	for (u32 i = 0; i < len && reg + i < PCI_CFG_SIZE; i++) {
		u32 r = reg + i;
		u8 m = f->wmask[r];
		u8 nv = (u8)((f->cfg[r] & ~m) | ((val >> (8 * i)) & m));
		if (nv == f->cfg[r])
			continue;
		f->cfg[r] = nv;
		if (r >= PCI_COMMAND && r < PCI_COMMAND + 2)
			changed |= PCI_CHANGED_COMMAND;
		else if (r >= PCI_BASE_ADDRESS_0 && r < PCI_BASE_ADDRESS_0 + 4 * PCI_NUM_BARS)
			changed |= PCI_CHANGED_BAR((r - PCI_BASE_ADDRESS_0) / 4);
	}
	return changed;
}

u16 pci_func_command(const struct pci_func *f)
{
	return get16(f->cfg + PCI_COMMAND);
}

bool pci_bar_is_io(const struct pci_func *f, u32 n)
{
	return (get32(f->cfg + PCI_BASE_ADDRESS_0 + 4 * n) & PCI_BAR_SPACE_IO) != 0;
}

u32 pci_bar_addr(const struct pci_func *f, u32 n)
{
	u32 bar = get32(f->cfg + PCI_BASE_ADDRESS_0 + 4 * n);

	return bar & (pci_bar_is_io(f, n) ? PCI_BAR_IO_MASK : PCI_BAR_MEM_MASK);
}

bool pci_bar_decoded(const struct pci_func *f, u32 n)
{
	if (n >= PCI_NUM_BARS || !f->bar_size[n])
		return false;
	return (pci_func_command(f) &
		(pci_bar_is_io(f, n) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) != 0;
}
