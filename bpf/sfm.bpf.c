// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * sfm.bpf.c - per-topic, per-partition metrics of StreamFlow, from the
 * USDT probes of libsfshm ("sfshm") and sfshmd ("sfshmd") and from the
 * futex system calls made on partition rings.
 *
 * sfshmd loads this object (daemon/metrics.c), pins the maps by name under
 * /sys/fs/bpf/sfshm/<instance>/ and attaches the programs; the maps'
 * layouts are in sfm.h.  Each handler finds (or creates) its partition's
 * entry and adds with atomic instructions: programs run on any CPU at once.
 *
 * A futex address means nothing outside its process, so ring_addrs maps
 * (tgid, address of a ring's header page) to the ring's topic-partition;
 * libsfshm and sfshmd fire sfshm:ring_map for every ring they map.  The
 * ring's futex words all live in its header page.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
/* Argument specs of every binary attached over a daemon's life. */
#define BPF_USDT_MAX_SPEC_CNT 4096
#include <bpf/usdt.bpf.h>

#include "sfm.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define PAGE_MASK (~4095ull)
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_CMD_MASK 127 /* without FUTEX_PRIVATE_FLAG, CLOCK_REALTIME */
#define WAITV_MAX 128 /* futex_waitv takes at most this many (uapi) */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SFM_MAX_TP);
	__type(key, struct sfm_tp);
	__type(value, struct sfm_stats);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory for used entries only */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} topic_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SFM_MAX_TP);
	__type(key, struct sfm_hist_key);
	__type(value, struct sfm_hist);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} topic_latency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SFM_MAX_RINGS);
	__type(key, struct sfm_ring_key);
	__type(value, struct sfm_tp);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ring_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SFM_MAX_BINARIES);
	__type(key, struct sfm_bin_key);
	__type(value, struct sfm_bin);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} binaries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SFM_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct sfm_proc); /* the programs test presence only */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} procs SEC(".maps");

/* Which build pinned the maps: the daemon writes it (sfm.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} version SEC(".maps");

/*
 * The zero values a new entry starts from, too large for the stack next
 * to a key; never written, so sharing them is safe.  Keys are built on
 * the stack: a uprobe handler runs with migration disabled but may be
 * preempted, and another task on the CPU would overwrite a per-CPU key.
 */
struct scratch {
	struct sfm_stats zero_stats;
	struct sfm_hist zero_hist;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* Mirrors the kernel's struct futex_waitv (uapi). */
struct sfm_waitv {
	__u64 val;
	__u64 uaddr;
	__u32 flags;
	__u32 reserved;
};

/* Is process @tgid a client of this instance (or its daemon)? */
static __always_inline bool ours_tgid(__u32 tgid)
{
	return bpf_map_lookup_elem(&procs, &tgid) != 0;
}

static __always_inline bool ours(void)
{
	return ours_tgid(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline struct scratch *scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/* Fill @tp from a topic name in user memory and a partition. */
static __always_inline void tp_fill(struct sfm_tp *tp, const char *topic,
				    __u32 partition)
{
	__builtin_memset(tp, 0, sizeof(*tp));
	bpf_probe_read_user_str(tp->topic, sizeof(tp->topic), topic);
	tp->partition = partition;
}

/* The counters of @tp, created on first use. */
static __always_inline struct sfm_stats *stats_of(struct scratch *s,
						  const struct sfm_tp *tp)
{
	struct sfm_stats *v = bpf_map_lookup_elem(&topic_stats, tp);

	if (v)
		return v;
	bpf_map_update_elem(&topic_stats, tp, &s->zero_stats, BPF_NOEXIST);
	return bpf_map_lookup_elem(&topic_stats, tp);
}

static __always_inline struct sfm_stats *stats_get(const char *topic,
						   __u32 partition)
{
	struct scratch *s = scratch_get();
	struct sfm_tp tp;

	if (!s)
		return 0;
	tp_fill(&tp, topic, partition);
	return stats_of(s, &tp);
}

/* floor(log2(v)) for v >= 1, without loops. */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, sh;

	sh = (v > 0xffffffffull) << 5;
	v >>= sh;
	r |= sh;
	sh = (v > 0xffff) << 4;
	v >>= sh;
	r |= sh;
	sh = (v > 0xff) << 3;
	v >>= sh;
	r |= sh;
	sh = (v > 0xf) << 2;
	v >>= sh;
	r |= sh;
	sh = (v > 0x3) << 1;
	v >>= sh;
	r |= sh;
	return r | (__u32)(v >> 1);
}

static __always_inline void hist_add(const char *topic, __u32 partition,
				     __u32 kind, __s64 ns)
{
	struct scratch *s = scratch_get();
	struct sfm_hist_key hk;
	struct sfm_hist *h;
	__u64 v = ns > 0 ? (__u64)ns : 0;
	__u32 slot;

	if (!s)
		return;
	__builtin_memset(&hk, 0, sizeof(hk));
	bpf_probe_read_user_str(hk.topic, sizeof(hk.topic), topic);
	hk.partition = partition;
	hk.kind = kind;
	h = bpf_map_lookup_elem(&topic_latency, &hk);
	if (!h) {
		bpf_map_update_elem(&topic_latency, &hk, &s->zero_hist,
				    BPF_NOEXIST);
		h = bpf_map_lookup_elem(&topic_latency, &hk);
		if (!h)
			return;
	}
	slot = v > 1 ? log2_u64(v) : 0;
	if (slot > SFM_HIST_SLOTS - 1)
		slot = SFM_HIST_SLOTS - 1;
	__sync_fetch_and_add(&h->slot[slot], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, v);
	if (v > h->max_ns) /* racy by design: a lost maximum is one sample */
		h->max_ns = v;
}

/* ---- libsfshm ----------------------------------------------------------- */

SEC("usdt")
int BPF_USDT(sfshm_ring_map, const char *topic, __u32 partition, __u64 base)
{
	struct sfm_ring_key k = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.addr = base,
	};
	struct sfm_tp tp;

	if (!ours())
		return 0;
	tp_fill(&tp, topic, partition);
	bpf_map_update_elem(&ring_addrs, &k, &tp, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(sfshm_consume, const char *topic, __u32 partition, __u64 records,
	     __u64 bytes)
{
	struct sfm_stats *v = ours() ? stats_get(topic, partition) : 0;

	if (!v)
		return 0;
	__sync_fetch_and_add(&v->records_out, records);
	__sync_fetch_and_add(&v->bytes_out, bytes);
	__sync_fetch_and_add(&v->polls_out, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(sfshm_e2e, const char *topic, __u32 partition, __s64 ns)
{
	if (ours())
		hist_add(topic, partition, SFM_HIST_E2E, ns);
	return 0;
}

SEC("usdt")
int BPF_USDT(sfshm_backpressure, const char *topic, __u32 partition, __u64 ns)
{
	struct sfm_stats *v = ours() ? stats_get(topic, partition) : 0;

	if (!v)
		return 0;
	__sync_fetch_and_add(&v->bp_waits, 1);
	__sync_fetch_and_add(&v->bp_wait_ns, ns);
	return 0;
}

SEC("usdt")
int BPF_USDT(sfshm_error, const char *topic, __s32 partition, __s32 err)
{
	struct sfm_stats *v = ours() ? stats_get(topic, (__u32)partition) : 0;

	if (v)
		__sync_fetch_and_add(&v->errors, 1);
	return 0;
}

/* ---- sfshmd -------------------------------------------------------------- */

SEC("usdt")
int BPF_USDT(sfshmd_persist, const char *topic, __u32 partition, __u64 records,
	     __u64 bytes, __u64 log_bytes, __s64 lat_ns)
{
	struct sfm_stats *v;

	if (!ours())
		return 0;
	v = stats_get(topic, partition);
	if (v) {
		__sync_fetch_and_add(&v->records_in, records);
		__sync_fetch_and_add(&v->bytes_in, bytes);
		__sync_fetch_and_add(&v->batches_in, 1);
		__sync_fetch_and_add(&v->log_bytes, log_bytes);
	}
	hist_add(topic, partition, SFM_HIST_PERSIST, lat_ns);
	return 0;
}

SEC("usdt")
int BPF_USDT(sfshmd_fsync, const char *topic, __u32 partition, __u64 ns)
{
	struct sfm_stats *v;

	if (!ours())
		return 0;
	v = stats_get(topic, partition);
	if (v)
		__sync_fetch_and_add(&v->fsyncs, 1);
	hist_add(topic, partition, SFM_HIST_FSYNC, (__s64)ns);
	return 0;
}

SEC("usdt")
int BPF_USDT(sfshmd_error, const char *topic, __u32 partition, __s32 err)
{
	struct sfm_stats *v = ours() ? stats_get(topic, partition) : 0;

	if (v)
		__sync_fetch_and_add(&v->errors, 1);
	return 0;
}

/* ---- futexes on ring words ----------------------------------------------- */

/*
 * Count a wait or a wake on the ring whose header holds @uaddr, if any.
 * The caller has checked ours_tgid(@tgid): ring_addrs may still hold the
 * rings of a process that exited, or whose pid another process now has.
 */
static __always_inline void futex_count(struct scratch *s, __u32 tgid,
					__u64 uaddr, bool wake)
{
	struct sfm_ring_key k = { .tgid = tgid, .addr = uaddr & PAGE_MASK };
	struct sfm_tp *tp = bpf_map_lookup_elem(&ring_addrs, &k);
	struct sfm_stats *v;

	if (!tp)
		return;
	v = stats_of(s, tp);
	if (!v)
		return;
	if (wake)
		__sync_fetch_and_add(&v->futex_wakes, 1);
	else
		__sync_fetch_and_add(&v->futex_waits, 1);
}

SEC("tracepoint/syscalls/sys_enter_futex")
int sfm_futex(struct trace_event_raw_sys_enter *ctx)
{
	__u32 op = (__u32)ctx->args[1] & FUTEX_CMD_MASK,
	      tgid = bpf_get_current_pid_tgid() >> 32;
	bool wait = op == FUTEX_WAIT || op == FUTEX_WAIT_BITSET;
	struct scratch *s;

	if (!wait && op != FUTEX_WAKE && op != FUTEX_WAKE_BITSET)
		return 0;
	s = ours_tgid(tgid) ? scratch_get() : 0;
	if (s)
		futex_count(s, tgid, ctx->args[0], !wait);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_futex_waitv")
int sfm_futex_waitv(struct trace_event_raw_sys_enter *ctx)
{
	const struct sfm_waitv *w = (const void *)ctx->args[0];
	__u32 n = (__u32)ctx->args[1], tgid = bpf_get_current_pid_tgid() >> 32;
	struct scratch *s = ours_tgid(tgid) ? scratch_get() : 0;

	/* Every entry the call can have (the persister waits on many). */
	for (__u32 i = 0; s && i < WAITV_MAX && i < n; i++) {
		struct sfm_waitv e;

		if (bpf_probe_read_user(&e, sizeof(e), &w[i]))
			break;
		futex_count(s, tgid, e.uaddr, false);
	}
	return 0;
}
