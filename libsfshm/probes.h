/* SPDX-License-Identifier: MIT */
/*
 * probes.h - USDT probes of libsfshm (provider "sfshm"), read by the BPF
 * programs sfshmd loads (bpf/sfm.bpf.c, docs/MONITORING.md).
 *
 * Each probe has a semaphore that the kernel raises while a BPF program is
 * attached to it; call sites test it with SF_PROBE_ON() and skip the work
 * of building the arguments otherwise, so a dormant probe costs one load.
 * The probes themselves live in probes.c (sdt.h semaphores are declared
 * per source file), behind calls that are only made when the probe is on.
 *
 * The hot paths never fire a probe per record: consumers report their
 * records in batches (SFM_CONSUME_BATCH) and whenever a poll finds nothing
 * more; end-to-end latency is sampled (one record in SFM_SAMPLE_EVERY).
 */
#ifndef SF_PROBES_H
#define SF_PROBES_H

#include <stdatomic.h>
#include <stdint.h>

#include "sfm.h"

struct sfshm_ring;

/*
 * The semaphores: the kernel's uprobe code increments and decrements them
 * in every process that maps this code.  Read relaxed: a stale value only
 * moves the first or last report by one call.
 */
extern _Atomic unsigned short sfshm_ring_map_semaphore;
extern _Atomic unsigned short sfshm_consume_semaphore;
extern _Atomic unsigned short sfshm_e2e_semaphore;
extern _Atomic unsigned short sfshm_backpressure_semaphore;
extern _Atomic unsigned short sfshm_error_semaphore;

#define SF_PROBE_ON(name)                                                 \
	__builtin_expect(atomic_load_explicit(&sfshm_##name##_semaphore,  \
					      memory_order_relaxed) != 0, \
			 0)

/* A ring of @topic's @partition is mapped (futex words -> topic). */
void sf_probe_ring_map(const char *topic, uint32_t partition,
		       const struct sfshm_ring *r);

/* A consumer handed out @records records of @bytes payload bytes. */
void sf_probe_consume(const char *topic, uint32_t partition, uint64_t records,
		      uint64_t bytes);

/* A sampled record reached a consumer @ns after its timestamp. */
void sf_probe_e2e(const char *topic, uint32_t partition, int64_t ns);

/* A send waited @ns for room in a full ring. */
void sf_probe_backpressure(const char *topic, uint32_t partition, uint64_t ns);

/* A call on @topic's @partition (-1: unknown) failed with @err. */
void sf_probe_error(const char *topic, int32_t partition, int err);

#endif /* SF_PROBES_H */
