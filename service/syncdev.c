/*
 * service/syncdev.c - the synchronous device's model: the register file
 * behind guest-physical 0xFE000000 (CONTRACTS.md 2; README "The synchronous
 * device"; layout in service/service.h). It runs on the service core, one
 * request at a time, while the vCPU that made the access waits
 * (vmx/syncdev.c posts it with service_call): the heavyweight "qemu-mmio"
 * path, against which doorbells are measured.
 *
 * Pure: the request comes in and the answer goes out through struct
 * syncdev_req; unit-tested on the host (tests/host/test_service.c).
 */
#include "service/service.h"

/* One 32-bit register's read. *ok = false for an offset with no register. */
static u32 syncdev_reg_read(struct syncdev *d, const struct syncdev_req *req,
			    u32 off, bool *ok)
{
	if (off >= SYNCDEV_REG0 && off < SYNCDEV_REG_END)
		return d->regs[(off - SYNCDEV_REG0) / 4];
	if (off >= SYNCDEV_STAT_EVENTS && off < SYNCDEV_STAT_END) {
		const u64 stat[] = {
			d->snap.events, d->snap.signals, d->snap.cycles,
			d->snap.latency.samples, d->snap.latency.p50,
			d->snap.latency.p99, d->snap.latency.max, d->snap.calls,
		};
		_Static_assert(ARRAY_SIZE(stat) * 8 == SYNCDEV_STAT_END - SYNCDEV_STAT_EVENTS,
			       "one u64 per statistics register");
		u64 v = stat[(off - SYNCDEV_STAT_EVENTS) / 8];
		return (u32)(off % 8 ? v >> 32 : v);
	}
	switch (off) {
	case SYNCDEV_ID:          return SYNCDEV_MAGIC;
	case SYNCDEV_VERSION:     return SYNCDEV_VERSION_1;
	case SYNCDEV_STATUS: {
		u32 s = SYNCDEV_STATUS_READY | d->status;
		if (req->served_cpu == req->from_cpu)
			s |= SYNCDEV_STATUS_INLINE;
		return s | (req->served_cpu & 0xff) << SYNCDEV_STATUS_CPU_SHIFT;
	}
	case SYNCDEV_COMMAND:     return 0;
	case SYNCDEV_SERVED:      return (u32)d->served;
	case SYNCDEV_SERVED + 4:  return (u32)(d->served >> 32);
	case SYNCDEV_ERRORS:      return d->errors;
	case SYNCDEV_CHECKSUM: {
		u32 sum = 0;
		for (u32 i = 0; i < SYNCDEV_REGS; i++)
			sum += d->regs[i];
		return sum;
	}
	default:
		*ok = false;
		return 0;
	}
}

static void syncdev_command(struct syncdev *d, u32 cmd)
{
	switch (cmd) {
	case SYNCDEV_CMD_SNAPSHOT:
		if (d->es) {
			d->snap.events = d->es->events_handled;
			d->snap.signals = d->es->signals_handled;
			d->snap.cycles = d->es->service_cycles;
			d->snap.calls = d->es->calls_served;
			event_latency_summary(d->es, d->scratch, &d->snap.latency);
		}
		break;
	case SYNCDEV_CMD_CLEAR:
		d->status &= ~(u32)SYNCDEV_STATUS_ERROR;
		break;
	case SYNCDEV_CMD_RESET:
		memset(d->regs, 0, sizeof(d->regs));
		break;
	case SYNCDEV_CMD_CLEAR_STATS:
		/* On the set's service core (or inline, on its only CPU): the
		 * only writer of these, between two of its rounds. This request
		 * itself is counted in calls_served when it returns. */
		if (d->es) {
			d->es->events_handled = 0;
			d->es->signals_handled = 0;
			d->es->service_cycles = 0;
			d->es->calls_served = 0;
			d->es->latency_count = 0;
		}
		break;
	default:
		break;		/* an unknown command does nothing */
	}
}

/* One 32-bit register's write of v under byte mask (the bytes the access
 * covers). False for a read-only register or no register. */
static bool syncdev_reg_write(struct syncdev *d, u32 off, u32 v, u32 mask)
{
	if (off >= SYNCDEV_REG0 && off < SYNCDEV_REG_END) {
		u32 *r = &d->regs[(off - SYNCDEV_REG0) / 4];
		*r = (*r & ~mask) | (v & mask);
		return true;
	}
	if (off == SYNCDEV_COMMAND) {
		syncdev_command(d, v & mask);
		return true;
	}
	return false;
}

void syncdev_serve(struct syncdev *d, struct syncdev_req *req)
{
	u64 off = req->offset;
	u32 len = req->len;
	bool ok = (len == 1 || len == 2 || len == 4 || len == 8) &&
		  off < SYNCDEV_SIZE && off % len == 0;
	u64 value = 0;

	/* The register dwords the access covers: one, or two for 8 bytes. */
	for (u32 done = 0; ok && done < len; done += 4) {
		u32 reg = (u32)(ALIGN_DOWN(off, 4) + done);
		u32 shift = (u32)(off % 4) * 8;
		u32 bytes = MIN(len, 4u);
		u32 mask = (bytes == 4 ? 0xffffffffu : (1u << (bytes * 8)) - 1) << shift;

		if (req->write) {
			u32 v = (u32)(req->value >> (done * 8)) << shift;
			ok = syncdev_reg_write(d, reg, v, mask);
		} else {
			u32 v = syncdev_reg_read(d, req, reg, &ok);
			value |= (u64)((v & mask) >> shift) << (done * 8);
		}
	}
	if (!ok) {
		d->status |= SYNCDEV_STATUS_ERROR;
		d->errors++;
		value = 0;
	}
	if (req->write)
		d->status |= SYNCDEV_STATUS_WRITE;
	else
		d->status &= ~(u32)SYNCDEV_STATUS_WRITE;
	if (!req->write)
		req->value = value;
	d->served++;
}
