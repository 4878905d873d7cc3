/* SPDX-License-Identifier: MIT */
/* sfshm_int.h - declarations private to libsfshm. */
#ifndef SFSHM_INT_H
#define SFSHM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sfshm/ring.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t sf_now_ns(void);

/* A process's start time (clock ticks since boot), 0 if unknown. */
uint64_t sf_proc_start(uint32_t pid);

/* Is (@pid, @start) still a live process?  Unknown counts as alive. */
bool sf_proc_alive(uint32_t pid, uint64_t start);

/*
 * sfshm_ring_wait_any() with an absolute CLOCK_MONOTONIC deadline in ns
 * (0: do not sleep, -EAGAIN; UINT64_MAX: no deadline), for sleeps shorter
 * than a millisecond.
 */
int sf_ring_wait_any_until(struct sfshm_ring **rs, unsigned n, uint32_t *bell,
			   uint32_t bell_val, uint64_t deadline);

/* Where @r's header page is mapped in this process (for the probes). */
const void *sf_ring_base(const struct sfshm_ring *r);

#endif /* SFSHM_INT_H */
