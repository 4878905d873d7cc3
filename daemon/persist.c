// SPDX-License-Identifier: MIT
/*
 * persist.c - the persister: partition rings into commit logs.
 *
 * One thread walks every partition.  For each it reads committed records
 * from the ring, in frame order, from the position where it stopped last
 * time (the reader handle's position, which is also the published
 * anchor), packs up to SFD_ACK_BATCH of them into one Kafka RecordBatch,
 * appends it to the log (which gives the offsets) and answers the
 * producers that asked for an acknowledgement of a frame in that batch.
 * After the write it publishes, in the ring header, in this order:
 *
 *   1. the anchor (position after the batch, next offset): readers count
 *      offsets forward from it; a restarted daemon resumes from it;
 *   2. written / durable positions: producers waiting for an
 *      acknowledgement compare their frame's position with them;
 *   3. cleaning up to the written position: only persisted bytes are ever
 *      erased, so a reader that falls behind finds everything it missed
 *      in the log.
 *
 * Exactly once across a crash: the log is written before the anchor
 * moves, so after a crash the log may hold records past the anchor but
 * never fewer; adoption (topic.c) skips exactly end - anchor offset.
 *
 * A frame that stays uncommitted stops the drain at its position.  If no
 * live producer can own it (claim_holder_alive: every live producer's
 * open claim starts after it), its producer died: unblock at once.  If a
 * live producer holds it longer than producer.unblock.ms, revoke it.
 *
 * fsync (asynchronous: see "syncing" below) when flush.messages records or flush.ms have
 * passed since the first unsynced record, when a producer waits for a
 * durable acknowledgement, and at shutdown.
 *
 * When nothing is to be done the thread sleeps in futex_waitv() on every
 * ring's notify word (as a reader) and on the registry's bell.  After a
 * busy pass it lingers instead (linger()), so that a steady stream is
 * persisted in large batches without producers waking it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "sfd_probes.h"
#include "sfshm_int.h"
#include "uio.h"
#include "topic.h"

#define BATCH_BYTES (1u << 20) /* frame bytes per RecordBatch, about */
#define BATCHES_PER_PASS 16u /* then the next partition's turn */
#define RETRY_NS (100ull * 1000 * 1000) /* after a write error */
#define POLL_NS (2ull * 1000 * 1000) /* stuck or clean held back */
#define IDLE_MS 1000
#define LINGER_RECORDS 256u /* a pass that persisted this many lingers */
#define LINGER_NS 50000 /* for this long (see linger()) */
#define SYNC_POLL_NS 100000ull /* looks for completed syncs this often */

/* Ring headers to Kafka headers, in the partition's scratch array. */
struct hdr_scratch {
	struct sf_rb_header *h;
	uint32_t cap;
};

static __thread struct hdr_scratch hs;

static int convert_headers(const struct sfshm_msg *m, struct sf_rb_msg *out)
{
	if (m->hdr_count > hs.cap) {
		struct sf_rb_header *h =
			realloc(hs.h, m->hdr_count * sizeof(*h));

		if (!h)
			return -ENOMEM;
		hs.h = h;
		hs.cap = m->hdr_count;
	}
	for (uint32_t i = 0; i < m->hdr_count; i++) {
		struct sfshm_hdr h;
		int err = sfshm_msg_header(m, i, &h);

		if (err)
			return err;
		hs.h[i].key = (struct sf_rb_bytes){ h.key, (int32_t)h.key_len };
		hs.h[i].value = (struct sf_rb_bytes){ h.value, h.value_len };
	}
	out->headers = hs.h;
	out->header_count = m->hdr_count;
	return 0;
}

static int add_record(struct sfd_part *p, const struct sfshm_msg *m)
{
	struct sf_rb_msg r = {
		.timestamp = m->timestamp / 1000000,
		.key = { m->key, m->key_len },
		.value = { m->value, m->value_len },
	};
	int err = convert_headers(m, &r);

	return err ? err : sf_rb_builder_add(&p->rb, &r);
}

/* For the persist probe: the batch's payload bytes and first timestamp. */
static void count_record(struct sfd_part *p, const struct sfshm_msg *m)
{
	if (!p->probe_ts_ns)
		p->probe_ts_ns = m->timestamp;
	/* a null key or value (length -1) has no bytes */
	p->probe_bytes += (uint64_t)(m->key_len > 0 ? m->key_len : 0) +
			  (uint64_t)(m->value_len > 0 ? m->value_len : 0);
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Read committed records into the batch builder.  Return: the number of
 * records, or -errno of a corrupt frame when there are none.
 */
static int drain_batch(struct sfd_part *p)
{
	uint64_t bytes = 0;
	struct sfshm_msg m;
	int n = 0, err;

	sf_rb_builder_reset(&p->rb);
	p->probe_bytes = 0;
	p->probe_ts_ns = 0;
	while (n < (int)SFD_ACK_BATCH && bytes < BATCH_BYTES) {
		err = sfshm_ring_peek(p->reader, &m);
		if (err == -EAGAIN)
			break;
		if (!err)
			err = add_record(p, &m);
		if (err)
			return n ? n : err;
		if (SFD_PROBE_ON(persist))
			count_record(p, &m);
		/* Never fails here: nothing below the anchor is erased. */
		sfshm_ring_consume(p->reader, &m);
		p->pos[n++] = m.pos;
		bytes += m.next - m.pos;
	}
	return n;
}

/* The index of the record at ring position @pos in p->pos[0..n), or -1. */
static int find_pos(const struct sfd_part *p, int n, uint64_t pos)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (p->pos[mid] == pos)
			return mid;
		if (p->pos[mid] < pos)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static void answer_acks(struct sfd_part *p, int n, int64_t base)
{
	struct sfshm_ack_req req[SFSHM_PRODUCER_SLOTS];
	unsigned k = sfshm_ring_acks(p->owner, p->pos[0], p->pos[n - 1] + 1,
				     req, SFSHM_PRODUCER_SLOTS);

	for (unsigned i = 0; i < k; i++) {
		int idx = find_pos(p, n, req[i].pos);

		if (idx >= 0)
			sfshm_ring_ack(p->owner, req[i].slot, req[i].pos,
				       base + idx);
	}
}

static void set_error(struct sfd_part *p, const struct sfd_config *cfg, int err,
		      const char *what)
{
	if (p->error != err) {
		/* A failed fsync is sticky: the kernel may have dropped the
		 * pages, and retrying cannot tell (ARCHITECTURE.md §2.6). */
		if (sfd_log_error(p->log))
			sfd_error("persist", err,
				  "%s-%u: %s; the log is failed until sfshmd "
				  "restarts",
				  p->topic->name, p->index, what);
		else
			sfd_error("persist", err,
				  "%s-%u: %s; retrying every %llu ms",
				  p->topic->name, p->index, what,
				  RETRY_NS / 1000000);
		if (SFD_PROBE_ON(error))
			sfd_probe_error(p->topic->name, p->index, err);
	}
	p->error = err;
	p->retry_ns = sfd_now_ns() + RETRY_NS;
	/* "block" policy: producers just wait (the ring fills up). */
	sfshm_ring_set_persisted(p->owner, p->written_pos, p->durable_pos,
				 cfg->full_disk_block ? 0 : err);
}

static void clear_error(struct sfd_part *p)
{
	if (!p->error)
		return;
	sfd_info("persist", "%s-%u: persisting again", p->topic->name,
		 p->index);
	p->error = 0;
}

/*
 * Publish what is written, and clean: never past what is written, and
 * lazily, keeping the last half ring of records readable in shared
 * memory (a reader a little behind stays on the ring instead of falling
 * back to the log).  Producers always find at least half a ring free
 * after a pass, and a producer that fills it has committed frames that
 * woke this thread first.
 */
static void publish(struct sfd_part *p, const struct sfd_config *cfg)
{
	uint64_t keep = sfshm_ring_size(p->owner) / 2;
	uint64_t tail = sfshm_ring_tail(p->owner), upto = p->written_pos;
	int err;

	/* An error set by this pass (a sync in line) stays published. */
	sfshm_ring_set_persisted(p->owner, p->written_pos, p->durable_pos,
				 p->error && !cfg->full_disk_block ? p->error :
								     0);
	if (tail > keep && tail - keep < upto)
		upto = tail - keep;
	if (tail <= keep || upto <= sfshm_ring_clean_pos(p->owner)) {
		p->clean_pending = false;
		return;
	}
	err = sfshm_ring_clean(p->owner, upto);
	p->clean_pending = err == -EBUSY;
}

/* Append, acknowledge, write one batch of @n records.  Return: 0/-errno. */
static int persist_batch(struct sfd_part *p, const struct sfd_config *cfg,
			 int n, uint64_t from)
{
	const uint8_t *batch;
	size_t len;
	int64_t base;
	int err = sf_rb_builder_finish(&p->rb, &batch, &len);

	if (!err)
		err = sfd_log_append_built(p->log, batch, len, &base);
	if (err) {
		/* Not in the log: read these records again next time. */
		sfshm_ring_seek(p->reader, from);
		set_error(p, cfg, err, "cannot append to the log");
		return err;
	}
	answer_acks(p, n, base);
	err = sfd_log_write(p->log);
	if (SFD_PROBE_ON(persist))
		sfd_probe_persist(p->topic->name, p->index, (uint64_t)n,
				  p->probe_bytes, len,
				  realtime_ns() - p->probe_ts_ns);
	if (err) {
		/* Queued in the log; written by a later write or flush. */
		set_error(p, cfg, err, "cannot write the log");
		return err;
	}
	if (!p->unsynced)
		p->unsynced_since_ns = sfd_now_ns();
	p->unsynced += (uint64_t)n;
	p->written_pos = sfshm_ring_position(p->reader);
	sfshm_ring_set_anchor(p->owner, p->written_pos, base + n);
	/* Acknowledge per batch, not per pass: waiters go on sooner. */
	sfshm_ring_set_persisted(p->owner, p->written_pos, p->durable_pos, 0);
	clear_error(p);
	return 0;
}

/* Write what an earlier failed write left queued. */
static int retry_write(struct sfd_part *p, const struct sfd_config *cfg)
{
	int64_t end = sfd_log_end_offset(p->log);
	int err;

	if (sfd_log_written_offset(p->log) == end)
		return 0;
	err = sfd_log_write(p->log);
	if (err) {
		set_error(p, cfg, err, "cannot write the log");
		return err;
	}
	p->written_pos = sfshm_ring_position(p->reader);
	sfshm_ring_set_anchor(p->owner, p->written_pos, end);
	clear_error(p);
	return 0;
}

static bool want_sync(struct sfd_part *p, bool stopping)
{
	const struct sfshm_topic_config *c = &p->topic->cfg;

	if (!p->unsynced || (p->syncing && !stopping))
		return false;
	if (stopping || sfshm_ring_durable_waiters(p->owner))
		return true;
	if (c->flush_messages > 0 && p->unsynced >= (uint64_t)c->flush_messages)
		return true;
	return c->flush_ms >= 0 && sfd_now_ns() - p->unsynced_since_ns >=
					   (uint64_t)c->flush_ms * 1000000ull;
}

/* ---- syncing ------------------------------------------------------------ */

/*
 * fdatasyncs run asynchronously on their own io_uring (g_sync): while the
 * kernel syncs one partition, the thread goes on draining rings and
 * writing, so a slow fsync delays durable acknowledgements only, never
 * written ones.  A sync covers what was written when it started
 * (sfd_log_sync_begin()); its completion, reaped at the start of each
 * pass, moves the partition's durable position there and wakes durable
 * waiters.  While syncs are in flight the thread sleeps at most
 * SYNC_POLL_NS between looks.  Shutdown, and a partition in error, sync
 * in line.
 */
static struct sfd_uio *g_sync; /* NULL: every sync in line */
static unsigned g_syncing; /* syncs in flight */

static void sync_done(struct sfd_part *p, const struct sfd_config *cfg, int res)
{
	p->syncing = false;
	g_syncing--;
	if (SFD_PROBE_ON(fsync))
		sfd_probe_fsync(p->topic->name, p->index,
				sfd_now_ns() - p->sync_t0);
	res = sfd_log_sync_end(p->log, p->sync_upto, res);
	if (res) {
		/* Not durable: those records still need a sync (shutdown
		 * must see them and fail, keeping the rings). */
		if (!p->unsynced || p->sync_t0 < p->unsynced_since_ns)
			p->unsynced_since_ns = p->sync_t0;
		p->unsynced += p->sync_records;
		set_error(p, cfg, res, "cannot fsync the log");
		return;
	}
	if (p->sync_pos > p->durable_pos)
		p->durable_pos = p->sync_pos;
	if (!p->error) /* else the pass that clears it publishes */
		sfshm_ring_set_persisted(p->owner, p->written_pos,
					 p->durable_pos, 0);
}

/* Take the completed syncs; with @wait, all of those in flight. */
static void reap_syncs(const struct sfd_config *cfg, bool wait)
{
	uint64_t tag;
	int res, n;

	while (g_syncing) {
		n = sfd_uio_reap(g_sync, &tag, &res, wait);
		if (n == -EINTR || (n < 0 && wait))
			continue; /* nothing is freed before all are in */
		if (n <= 0)
			return;
		sync_done((struct sfd_part *)(uintptr_t)tag, cfg, res);
	}
}

static void start_sync(struct sfd_part *p, const struct sfd_config *cfg)
{
	int fd, err = sfd_log_sync_begin(p->log, &fd, &p->sync_upto);

	if (err) {
		set_error(p, cfg, err, "cannot write the log");
		return;
	}
	err = sfd_uio_sync_start(g_sync, fd, (uint64_t)(uintptr_t)p);
	if (err) {
		set_error(p, cfg, err, "cannot start an fsync of the log");
		return;
	}
	p->syncing = true;
	g_syncing++;
	p->sync_pos = p->written_pos;
	p->sync_t0 = sfd_now_ns();
	p->sync_records = p->unsynced;
	p->unsynced = 0;
}

static void sync_part(struct sfd_part *p, const struct sfd_config *cfg,
		      bool stopping)
{
	uint64_t t0;
	int err;

	if (g_sync && !stopping && !p->error) {
		start_sync(p, cfg);
		return;
	}
	if (p->syncing)
		reap_syncs(cfg, true);
	t0 = SFD_PROBE_ON(fsync) ? sfd_now_ns() : 0;
	err = sfd_log_flush(p->log);

	if (t0)
		sfd_probe_fsync(p->topic->name, p->index, sfd_now_ns() - t0);

	if (err) {
		set_error(p, cfg, err, "cannot fsync the log");
		return;
	}
	p->durable_pos = p->written_pos;
	p->unsynced = 0;
}

/*
 * The drain stopped at an uncommitted frame: unblock it if its producer
 * is dead, or if it held it past the unblock timeout (or we stop).
 * Return: true if unblocked (drain again).
 */
static bool handle_stuck(struct sfd_part *p, const struct sfd_config *cfg,
			 bool stopping)
{
	uint64_t pos = sfshm_ring_position(p->reader), now = sfd_now_ns();
	uint64_t padded = 0;
	bool dead;

	if (sfshm_ring_tail(p->owner) <= pos) {
		p->stuck_since_ns = 0;
		return false;
	}
	if (!p->stuck_since_ns || p->stuck_pos != pos) {
		p->stuck_pos = pos;
		p->stuck_since_ns = now;
	}
	dead = !sfshm_ring_claim_holder_alive(p->owner, pos);
	if (!dead && !stopping &&
	    now - p->stuck_since_ns < (uint64_t)cfg->unblock_ms * 1000000ull)
		return false;
	if (sfshm_ring_unblock(p->owner, pos, &padded))
		return false;
	sfd_info("persist",
		 "%s-%u: unblocked %llu bytes at %llu (%s producer, %.1f ms)",
		 p->topic->name, p->index, (unsigned long long)padded,
		 (unsigned long long)pos, dead ? "dead" : "stalled",
		 (double)(now - p->stuck_since_ns) / 1e6);
	p->stuck_since_ns = 0;
	return true;
}

/* Persist what the partition has.  Return: records persisted. */
static unsigned persist_part(struct sfd_part *p, const struct sfd_config *cfg,
			     bool stopping)
{
	unsigned batches = 0, moved = 0;
	int n;

	if (p->error && sfd_now_ns() < p->retry_ns && !stopping)
		return 0;
	if (retry_write(p, cfg))
		return 0;
	for (;;) {
		uint64_t from = sfshm_ring_position(p->reader);

		n = drain_batch(p);
		if (n > 0 && persist_batch(p, cfg, n, from))
			return moved;
		if (n > 0)
			moved += (unsigned)n;
		if (n > 0 && (++batches < BATCHES_PER_PASS || stopping))
			continue;
		if (n < 0) {
			set_error(p, cfg, n,
				  "cannot read a record from the ring");
			return moved;
		}
		if (n == 0 && handle_stuck(p, cfg, stopping))
			continue;
		break;
	}
	if (want_sync(p, stopping))
		sync_part(p, cfg, stopping);
	else if (stopping && p->syncing)
		reap_syncs(cfg, true);
	publish(p, cfg);
	return moved;
}

static void retain_part(struct sfd_part *p)
{
	int err = sfd_log_retain(p->log);

	if (err < 0)
		sfd_warn("persist", err, "%s-%u: retention failed",
			 p->topic->name, p->index);
}

/*
 * How often to look for a claim left open at the drain position.  Nothing
 * wakes us for it: a claim wakes no reader, and the commits behind it do
 * not make our position readable.  Sleeping IDLE_MS, we would notice a
 * stalled producer up to IDLE_MS late and revoke its claim that much
 * after producer.unblock.ms; looking every quarter of producer.unblock.ms
 * bounds the delay to that quarter.
 */
static uint64_t stuck_poll_ns(const struct sfd_config *cfg)
{
	uint64_t ns = (uint64_t)cfg->unblock_ms * 1000000ull / 4;

	return ns < POLL_NS ? POLL_NS : ns;
}

/* When this partition wants the thread back, at the latest. */
static uint64_t part_deadline(const struct sfd_part *p,
			      const struct sfd_config *cfg, uint64_t now)
{
	const struct sfshm_topic_config *c = &p->topic->cfg;
	uint64_t d = now + IDLE_MS * 1000000ull;

	if (now + stuck_poll_ns(cfg) < d)
		d = now + stuck_poll_ns(cfg);
	if (p->error && p->retry_ns < d)
		d = p->retry_ns;
	if (p->clean_pending || p->stuck_since_ns)
		d = now + POLL_NS < d ? now + POLL_NS : d;
	if (p->unsynced && c->flush_ms >= 0 && !p->syncing) {
		uint64_t f = p->unsynced_since_ns +
			     (uint64_t)c->flush_ms * 1000000ull;

		d = f < d ? f : d;
	}
	return d;
}

struct pass {
	struct sfshm_ring *rs[SFSHM_WAIT_ANY_MAX];
	unsigned n;
	uint64_t deadline;
	bool many; /* more rings than futex_waitv takes: poll */
	unsigned moved; /* records persisted by the pass */
};

static void pass_all(struct sfd_registry *reg, struct pass *ps)
{
	uint64_t now = sfd_now_ns();
	static uint64_t retained_at;

	ps->n = 0;
	ps->many = false;
	ps->moved = 0;
	ps->deadline = now + IDLE_MS * 1000000ull;
	for (struct sfd_topic *t = reg->topics; t; t = t->next) {
		for (uint32_t i = 0; i < t->cfg.partitions; i++) {
			struct sfd_part *p = &t->parts[i];
			uint64_t d;

			ps->moved += persist_part(p, reg->cfg, reg->stopping);
			if (now - retained_at >=
			    (uint64_t)reg->cfg->retention_check_ms * 1000000ull)
				retain_part(p);
			d = part_deadline(p, reg->cfg, sfd_now_ns());
			ps->deadline = d < ps->deadline ? d : ps->deadline;
			if (p->error)
				continue;
			if (ps->n < SFSHM_WAIT_ANY_MAX)
				ps->rs[ps->n++] = p->reader;
			else
				ps->many = true;
		}
	}
	if (now - retained_at >=
	    (uint64_t)reg->cfg->retention_check_ms * 1000000ull)
		retained_at = now;
}

/* When the thread must look again, at the latest (CLOCK_MONOTONIC ns). */
static uint64_t wait_deadline(const struct pass *ps)
{
	uint64_t now = sfd_now_ns(), d = ps->deadline;

	if (ps->many && d > now + 1000000)
		d = now + 1000000; /* rings futex_waitv cannot watch: poll */
	if (g_syncing && d > now + SYNC_POLL_NS)
		d = now + SYNC_POLL_NS;
	return d > now ? d : 0;
}

/*
 * Persist a stopped partition up to @stop (the tail when it stopped;
 * claims after it were given back): open claims below it are unblocked
 * at once, a claim committed meanwhile is drained.  Return: true if all
 * of it is in the log.
 */
static bool drain_stopped(struct sfd_part *p, const struct sfd_config *cfg,
			  uint64_t stop)
{
	uint64_t deadline = sfd_now_ns() + 5000ull * 1000000ull;

	p->error = 0;
	do {
		persist_part(p, cfg, true);
		if (sfshm_ring_position(p->reader) >= stop)
			return !p->error && !sfd_log_error(p->log);
	} while (!p->error && sfd_now_ns() < deadline);
	return false;
}

/* The last pass: stop producers, persist and sync everything. */
static void final_pass(struct sfd_registry *reg)
{
	for (struct sfd_topic *t = reg->topics; t; t = t->next)
		for (uint32_t i = 0; i < t->cfg.partitions; i++)
			t->parts[i].stop_tail = sfshm_ring_stop(
				t->parts[i].owner, SFSHM_STATE_STOPPED);
	for (struct sfd_topic *t = reg->topics; t; t = t->next) {
		for (uint32_t i = 0; i < t->cfg.partitions; i++) {
			struct sfd_part *p = &t->parts[i];

			if (!drain_stopped(p, reg->cfg, p->stop_tail))
				reg->drained = false;
		}
	}
}

/*
 * After a busy pass, let records gather for LINGER_NS without asking to
 * be woken: a producer whose commit finds the persister armed pays a
 * futex wake, and under a steady stream that was one wake per handful of
 * records, on both sides.  A pass that persisted few records means the
 * stream is sparse: then the thread arms and sleeps as usual, and a lone
 * record is persisted at once.
 */
static void linger(void)
{
	struct timespec ts = { .tv_nsec = LINGER_NS };

	nanosleep(&ts, NULL);
}

void *sfd_persister_main(void *arg)
{
	struct sfd_registry *reg = arg;
	struct pass ps;

	/* linger() wants tens of microseconds, not the default 50 us slack */
	prctl(PR_SET_TIMERSLACK, 5000UL, 0, 0, 0);
	if (sfd_uio_create(&g_sync))
		sfd_warn("persist", 0,
			 "no io_uring for asynchronous fsyncs: "
			 "syncing in line");

	for (;;) {
		uint64_t deadline;
		uint32_t bell;

		pthread_mutex_lock(&reg->lock);
		/* A deleted partition's sync must end before it is freed. */
		reap_syncs(reg->cfg, reg->graveyard != NULL);
		if (!g_syncing)
			sfd_registry_bury(reg);
		if (reg->stopping) {
			reg->drained = true;
			final_pass(reg);
			reap_syncs(reg->cfg, true);
			sfd_uio_destroy(g_sync);
			g_sync = NULL;
			pthread_mutex_unlock(&reg->lock);
			free(hs.h);
			hs.h = NULL;
			hs.cap = 0;
			return NULL;
		}
		/* Acquire: pairs with the release bump in ring_bell(). */
		bell = __atomic_load_n(&reg->bell, __ATOMIC_ACQUIRE);
		pass_all(reg, &ps);
		pthread_mutex_unlock(&reg->lock);
		if (ps.moved >= LINGER_RECORDS) {
			linger();
			continue;
		}
		deadline = wait_deadline(&ps);
		if (deadline)
			sf_ring_wait_any_until(ps.rs, ps.n, &reg->bell, bell,
					       deadline);
	}
}
