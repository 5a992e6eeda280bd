/*
 * platform/fwcfg.c - QEMU's firmware configuration device, the port
 * interface only (QEMU docs/specs/fw_cfg.rst, "Guest-side Hardware
 * Interface": a 16-bit selector register, an 8-bit data register; selecting
 * an item resets its data offset; reading past an item's end, or an item
 * that does not exist, returns 0). No DMA interface and no file directory:
 * FW_CFG_ID says so (bit 1 clear). kvm-unit-tests reads NB_CPUS (how many
 * CPUs to wait for), RAM_SIZE and MAX_RAM (lib/x86/fwcfg.c).
 *
 * Items are little-endian, as in QEMU for the port interface
 * ("Firmware Configuration Items": fw_cfg_add_i16/i32/i64 store LE).
 */
#include "platform/platform.h"

#define FWCFG_SIGNATURE_BYTES "QEMU"
#define FWCFG_ITEM_MAX 16	/* the longest item: the UUID */

void fwcfg_init(struct fwcfg *f, u64 ram_size, u16 cpus)
{
	*f = (struct fwcfg){ .ram_size = ram_size, .cpus = cpus };
}

void fwcfg_select(struct fwcfg *f, u16 key)
{
	f->selector = key;
	f->offset = 0;
}

static u32 put_le(u8 *buf, u64 v, u32 bytes)
{
	for (u32 i = 0; i < bytes; i++)
		buf[i] = (u8)(v >> (8 * i));
	return bytes;
}

/* The bytes of item key into buf; returns its length (0: no such item). */
static u32 fwcfg_item(const struct fwcfg *f, u16 key, u8 *buf)
{
	/* The write-channel bit does not change which item a read sees. */
	switch (key & (u16)~FW_CFG_WRITE_CHANNEL) {
	case FW_CFG_SIGNATURE:
		memcpy(buf, FWCFG_SIGNATURE_BYTES, 4);
		return 4;
	case FW_CFG_ID:
		return put_le(buf, FW_CFG_ID_TRADITIONAL, 4);
	case FW_CFG_UUID:
		memset(buf, 0, 16);	/* no UUID: the nil UUID */
		return 16;
	case FW_CFG_RAM_SIZE:
		return put_le(buf, f->ram_size, 8);
	case FW_CFG_NB_CPUS:
		return put_le(buf, f->cpus, 2);
	case FW_CFG_MAX_CPUS:
		return put_le(buf, f->cpus, 2);
	case FW_CFG_MAX_RAM:
		return put_le(buf, f->ram_size, 8);
	default:
		return 0;
	}
}

u8 fwcfg_read(struct fwcfg *f)
{
	u8 buf[FWCFG_ITEM_MAX];
	u32 len = fwcfg_item(f, f->selector, buf);

	if (f->offset >= len)
		return 0;	/* the offset stays put past the end, as QEMU's */
	return buf[f->offset++];
}
