/* The VM lifecycle's decisions, kept apart from the CPU plumbing so every
 * command can be unit-tested in every state (see vm_lifecycle.h). */
#include "core/vm_lifecycle.h"

static int64_t refuse(struct life *l)
{
	l->actions = 0;
	return HC_ERR_STATE;
}

static int64_t go(struct life *l, int state, uint32_t actions)
{
	l->state = state;
	l->actions = actions;
	return HC_OK;
}

/* A running (or starting) VM goes down: STOPPING now, `outcome` once the
 * clean-up is done on its own CPU. */
static int64_t stop(struct life *l, int outcome, uint32_t want)
{
	l->outcome = outcome;
	if (want)
		l->want = want;
	return go(l, LIFE_STOPPING, LIFE_ACT_PARK | LIFE_ACT_EVENT);
}

/* A STOP of a VM that is down fails, but withdraws a pending restart. */
static int64_t stop_down(struct life *l)
{
	uint32_t had = l->want;

	l->want = HC_WANT_NONE;
	refuse(l);
	if (had != HC_WANT_NONE)
		l->actions = LIFE_ACT_EVENT;
	return HC_ERR_STATE;
}

/* A kill of a VM going down: it parks again whatever got going, and
 * withdraws a restart the guest's reset asked for (the operator's kill
 * wins). */
static int64_t kill_stopping(struct life *l)
{
	uint32_t had = l->want;

	l->want = HC_WANT_NONE;
	l->actions = LIFE_ACT_PARK | (had != HC_WANT_NONE ? LIFE_ACT_EVENT : 0);
	return HC_OK;
}

static int64_t from_down(struct life *l, enum life_cmd cmd)
{
	switch (cmd) {
	case LIFE_LOAD:
		l->actions = 0;
		return HC_OK;
	case LIFE_START:
		if (l->loads)
			return refuse(l); /* an image is still being copied in */
		if (__atomic_load_n(&l->io, __ATOMIC_SEQ_CST)) {
			l->actions = 0; /* the previous instance's I/O: not yet */
			return HC_ERR_BUSY;
		}
		l->want = HC_WANT_NONE;
		return go(l, LIFE_STARTING, LIFE_ACT_BOOT | LIFE_ACT_EVENT);
	case LIFE_STOP_REQUEST:
	case LIFE_STOP_FORCE:
		return stop_down(l);
	default: /* no vCPU runs: nothing from the guest or its CPU can come */
		return refuse(l);
	}
}

static int64_t from_starting(struct life *l, enum life_cmd cmd)
{
	switch (cmd) {
	case LIFE_ENTERED:
		return go(l, LIFE_RUNNING, LIFE_ACT_EVENT);
	case LIFE_STOP_FORCE:
		return stop(l, LIFE_STOPPED, HC_WANT_NONE);
	default: /* no guest code has run yet: no button to press, no call */
		return refuse(l);
	}
}

static int64_t from_running(struct life *l, enum life_cmd cmd)
{
	switch (cmd) {
	case LIFE_STOP_REQUEST:
		l->actions = LIFE_ACT_BUTTON;
		return HC_OK;
	case LIFE_STOP_FORCE:
	case LIFE_GUEST_OFF:
		return stop(l, LIFE_STOPPED, HC_WANT_NONE);
	case LIFE_GUEST_RESET:
		return stop(l, LIFE_STOPPED, HC_WANT_RESTART);
	case LIFE_GUEST_CRASH:
		return stop(l, LIFE_CRASHED, HC_WANT_NONE);
	default: /* LOAD, START, a stale ENTERED or CLEANED */
		return refuse(l);
	}
}

static int64_t from_stopping(struct life *l, enum life_cmd cmd)
{
	switch (cmd) {
	case LIFE_STOP_FORCE: /* on its way; parks again whatever got going */
		return kill_stopping(l);
	case LIFE_CLEANED:
		return go(l, l->outcome == LIFE_CRASHED ? LIFE_CRASHED : LIFE_STOPPED,
			  LIFE_ACT_EVENT);
	default: /* the first reason to stop wins (another vCPU's SYSTEM_OFF) */
		return refuse(l);
	}
}

int64_t life_apply(struct life *l, enum life_cmd cmd)
{
	switch (l->state) {
	case LIFE_STOPPED:
	case LIFE_CRASHED:
		return from_down(l, cmd);
	case LIFE_STARTING:
		return from_starting(l, cmd);
	case LIFE_RUNNING:
		return from_running(l, cmd);
	case LIFE_STOPPING:
		return from_stopping(l, cmd);
	default:
		return refuse(l);
	}
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen; /* callers' ranges do not wrap */
}

int64_t life_load_check(const struct guest_mem *dst_mem, ipa_t dst, const struct guest_mem *src_mem,
			ipa_t src, uint64_t len, uint64_t hv_lo, uint64_t hv_hi, void **dptr,
			void **sptr)
{
	uint8_t *d, *s;

	if (len == 0 || len > HC_LOAD_CHUNK)
		return HC_ERR_RANGE;
	if (!IS_ALIGNED(dst, HC_LOAD_ALIGN) || !IS_ALIGNED(src, HC_LOAD_ALIGN))
		return HC_ERR_RANGE;
	d = guest_ptr(dst_mem, dst, len); /* 64-bit, wrap-safe bounds */
	s = guest_ptr(src_mem, src, len);
	if (!d || !s)
		return HC_ERR_RANGE;
	uint64_t dh = (uint64_t)(uintptr_t)d, sh = (uint64_t)(uintptr_t)s;
	if (dh + len < dh || sh + len < sh)
		return HC_ERR_RANGE;
	/* the configuration keeps VMs and the hypervisor apart; checked again
	 * here, where a mistake would let one VM write another's memory */
	if (overlaps(dh, len, sh, len) ||
	    (hv_hi > hv_lo &&
	     (overlaps(dh, len, hv_lo, hv_hi - hv_lo) || overlaps(sh, len, hv_lo, hv_hi - hv_lo))))
		return HC_ERR_RANGE;
	*dptr = d;
	*sptr = s;
	return HC_OK;
}
