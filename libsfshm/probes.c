// SPDX-License-Identifier: MIT
/*
 * probes.c - the USDT probe sites of libsfshm (see probes.h).
 *
 * sdt.h emits a note per site naming the provider, the probe, the
 * argument locations and the semaphore's address; libbpf reads the notes
 * to attach.  _SDT_HAS_SEMAPHORES must be set before sdt.h in the file
 * that holds the sites, hence this file.
 */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#include "probes.h"
#include "sfshm_int.h"

#define SEMAPHORE(name)                                 \
	_Atomic unsigned short sfshm_##name##_semaphore \
		__attribute__((section(".probes"), used))

SEMAPHORE(ring_map);
SEMAPHORE(consume);
SEMAPHORE(e2e);
SEMAPHORE(backpressure);
SEMAPHORE(error);

__attribute__((noinline)) void sf_probe_ring_map(const char *topic,
						 uint32_t partition,
						 const struct sfshm_ring *r)
{
	const void *base = sf_ring_base(r);

	STAP_PROBE3(sfshm, ring_map, topic, partition, base);
}

__attribute__((noinline)) void sf_probe_consume(const char *topic,
						uint32_t partition,
						uint64_t records,
						uint64_t bytes)
{
	STAP_PROBE4(sfshm, consume, topic, partition, records, bytes);
}

__attribute__((noinline)) void sf_probe_e2e(const char *topic,
					    uint32_t partition, int64_t ns)
{
	STAP_PROBE3(sfshm, e2e, topic, partition, ns);
}

__attribute__((noinline)) void
sf_probe_backpressure(const char *topic, uint32_t partition, uint64_t ns)
{
	STAP_PROBE3(sfshm, backpressure, topic, partition, ns);
}

__attribute__((noinline)) void sf_probe_error(const char *topic,
					      int32_t partition, int err)
{
	STAP_PROBE3(sfshm, error, topic, partition, err);
}
