/* SPDX-License-Identifier: MIT */
/*
 * sfd_probes.h - USDT probes of sfshmd (provider "sfshmd"), read by the BPF
 * programs in bpf/sfm.bpf.c.  As in libsfshm/probes.h: each probe has a
 * semaphore the kernel raises while a program is attached, and the sites
 * are in sfd_probes.c.  Fired per persisted batch and per fsync.
 */
#ifndef SFD_PROBES_H
#define SFD_PROBES_H

#include <stdatomic.h>
#include <stdint.h>

extern _Atomic unsigned short sfshmd_persist_semaphore;
extern _Atomic unsigned short sfshmd_fsync_semaphore;
extern _Atomic unsigned short sfshmd_error_semaphore;

/* Relaxed: a stale value only moves the first or last report by a call. */
#define SFD_PROBE_ON(name)                                                \
	__builtin_expect(atomic_load_explicit(&sfshmd_##name##_semaphore, \
					      memory_order_relaxed) != 0, \
			 0)

/*
 * A batch of @records records (@bytes key + value bytes, @log_bytes
 * encoded) was written to @topic-@partition's log, @lat_ns after its
 * first record's timestamp.
 */
void sfd_probe_persist(const char *topic, uint32_t partition, uint64_t records,
		       uint64_t bytes, uint64_t log_bytes, int64_t lat_ns);

/* An fsync of the partition's log took @ns. */
void sfd_probe_fsync(const char *topic, uint32_t partition, uint64_t ns);

/* Persisting the partition failed with @err. */
void sfd_probe_error(const char *topic, uint32_t partition, int err);

#endif /* SFD_PROBES_H */
