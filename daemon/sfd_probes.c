// SPDX-License-Identifier: MIT
/* sfd_probes.c - the USDT probe sites of sfshmd (see sfd_probes.h). */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#include "sfd_probes.h"

#define SEMAPHORE(name)                                  \
	_Atomic unsigned short sfshmd_##name##_semaphore \
		__attribute__((section(".probes"), used))

SEMAPHORE(persist);
SEMAPHORE(fsync);
SEMAPHORE(error);

__attribute__((noinline)) void
sfd_probe_persist(const char *topic, uint32_t partition, uint64_t records,
		  uint64_t bytes, uint64_t log_bytes, int64_t lat_ns)
{
	STAP_PROBE6(sfshmd, persist, topic, partition, records, bytes,
		    log_bytes, lat_ns);
}

__attribute__((noinline)) void sfd_probe_fsync(const char *topic,
					       uint32_t partition, uint64_t ns)
{
	STAP_PROBE3(sfshmd, fsync, topic, partition, ns);
}

__attribute__((noinline)) void sfd_probe_error(const char *topic,
					       uint32_t partition, int err)
{
	STAP_PROBE3(sfshmd, error, topic, partition, err);
}
