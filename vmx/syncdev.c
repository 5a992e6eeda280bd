/*
 * vmx/syncdev.c - the synchronous device from the vCPU's side (CONTRACTS.md
 * 2: 4 KiB of MMIO at guest-physical 0xFE000000; README "The synchronous
 * device"). The page is not RAM, so every access the guest makes to it is an
 * EPT violation that goes through the full decode-and-emulate path
 * (vmx/mmio.c) to the VM's MMIO bus, where this device answers: it posts the
 * access to the VM's service core (service_call) and waits until the model
 * (service/syncdev.c) has served it, reads included. With a single CPU the
 * model runs in place. This is the heavyweight "qemu-mmio" path of KVM's
 * ioeventfd measurements: a round trip to another core per access.
 */
#include "vmx/vmx_priv.h"

struct vm_syncdev {
	struct vm_device dev;		/* first: the bus hands us &dev.base */
	struct syncdev model;		/* touched by the serving core only */
	struct syncdev_req req;		/* the request in flight */
	u64 scratch[LATENCY_SAMPLES];	/* the model's, for SNAPSHOT */
};

/* On the service core (or in place): serve the posted request. */
static void syncdev_call(void *arg)
{
	struct vm_syncdev *s = arg;

	s->req.served_cpu = this_cpu_index();
	syncdev_serve(&s->model, &s->req);
}

/* One request of len 1, 2, 4 or 8 bytes (the model refuses other sizes);
 * returns the value read. */
static u64 syncdev_request(struct vm_syncdev *s, u64 addr, u32 len, bool write, u64 value)
{
	s->req = (struct syncdev_req){
		.offset = addr - SYNCDEV_GPA, .len = len, .write = write,
		.value = value, .from_cpu = this_cpu_index(),
	};
	service_call(s->dev.vm->events, syncdev_call, s);
	return s->req.value;
}

/* An access wider than 8 bytes (an SSE move) is served as 8-byte requests,
 * in address order; any other size goes to the model as it is. */
static int syncdev_read(struct iobus_device *d, u64 addr, u32 len, void *val)
{
	struct vm_syncdev *s = (struct vm_syncdev *)d;
	u32 step = len > 8 && len % 8 == 0 ? 8 : len;

	for (u32 done = 0; done < len; done += step) {
		u64 v = syncdev_request(s, addr + done, step, false, 0);
		memcpy((u8 *)val + done, &v, MIN(step, 8u));
	}
	return 0;
}

static int syncdev_write(struct iobus_device *d, u64 addr, u32 len, const void *val)
{
	struct vm_syncdev *s = (struct vm_syncdev *)d;
	u32 step = len > 8 && len % 8 == 0 ? 8 : len;

	for (u32 done = 0; done < len; done += step) {
		u64 v = 0;
		memcpy(&v, (const u8 *)val + done, MIN(step, 8u));
		syncdev_request(s, addr + done, step, true, v);
	}
	return 0;
}

static const struct iobus_device_ops syncdev_ops = {
	.read = syncdev_read, .write = syncdev_write,
};

int syncdev_register(struct vm *vm)
{
	struct vm_syncdev *s = kmalloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->dev = (struct vm_device){ { &syncdev_ops }, vm };
	s->model.es = vm->events;
	s->model.scratch = s->scratch;
	vm->syncdev = s;
	return iobus_register(&vm->io.buses[IOBUS_MMIO], SYNCDEV_GPA, SYNCDEV_SIZE,
			      &s->dev.base);
}
