// SPDX-License-Identifier: MIT
/*
 * consumer.c - reading assigned partitions from their rings, and from the
 * commit log when a ring has moved on.
 *
 * Each assigned partition keeps the offset of the next record it hands
 * out and reads it in one of two modes:
 *
 *   RING  a reader handle on the partition's ring (mapped read-only),
 *         positioned on the frame that holds that offset.  Offsets are
 *         known by counting: every DATA frame is one record, padding is
 *         none.  -EOVERFLOW (the owner erased the frame: it is persisted)
 *         sends the partition to the log at the same offset.
 *   LOG   a segment reader (segread.h) on the partition's log directory.
 *         When the log has nothing more and the offset has reached the
 *         ring's anchor, the partition goes back to the ring.
 *
 * Locating offset X uses the anchor the daemon publishes, (A, O): the
 * frame at position A gets offset O, and frames from A on are not erased
 * before they are persisted.  X < O is in the log; X >= O is X - O
 * records after A in the ring (counted with peek/consume).  If the ring
 * moves on while we count (-EOVERFLOW), the anchor has moved too: look
 * again.  An offset below the log start or beyond the end is out of
 * range and the reset policy applies.
 *
 * Seeks are recorded and resolved by the next poll (or position()), so
 * that an offset outside the log is reported where the caller reads.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_int.h"
#include "consumer_int.h"
#include "probes.h"
#include "recordbatch.h"
#include "segread.h"
#include "sfshm_int.h"

#define LOCATE_TRIES 64 /* anchors tried while the ring moves on */
#define SLICE_MS 100 /* longest sleep before state is looked at again */
#define LOG_WAIT_MS 1 /* sleep while a partition waits for its log */
#define MAX_STEPS 4 /* mode changes followed within one poll of a partition */
#define REPORT_IDLE_NS 1000000ull /* see report_idle() */

/* Record header encodings (struct sfshm_record.hdr_format). */
enum { HDR_RING = 1, HDR_KAFKA = 2 };

enum part_mode { MODE_RING, MODE_LOG };

/* A seek not resolved yet. */
enum pending {
	PEND_NONE,
	PEND_OFFSET, /* to ->want */
	PEND_BEGIN, /* to the log start */
	PEND_END, /* to the end */
	PEND_TAIL, /* to ->want records before the end */
};

struct ctopic;

struct cpart {
	struct ctopic *t;
	uint32_t partition;
	int64_t next; /* offset of the next record to hand out */
	enum part_mode mode;
	enum pending pending;
	int64_t want;
	int64_t min_ts; /* -1, or skip records older than this (ms) */
	int err; /* sticky: -ERANGE with SFSHM_RESET_NONE */
	struct sfshm_ring *ring;
	struct sf_segreader *seg; /* opened when first needed */
	int64_t ts_ns; /* timestamp of the record handed out last */
	uint64_t rep_records; /* handed out, not reported to the probe yet */
	uint64_t rep_bytes;
	/* records since the last latency sample: per partition, so that a
	 * round-robin over N partitions (N dividing SFM_SAMPLE_EVERY) does
	 * not always sample the same one */
	uint32_t sample;
};

struct ctopic {
	char name[SFSHM_TOPIC_MAX + 1];
	struct sf_attach a;
	struct cpart **parts; /* by partition number; NULL if not assigned */
};

struct sfshm_consumer {
	struct sfshm_client *c;
	struct sfshm_consumer_opts o;
	struct ctopic **topics;
	unsigned ntopics;
	struct cpart **parts; /* assigned partitions, in poll order */
	unsigned nparts;
	unsigned cursor; /* the partition served first by the next poll */
	uint8_t *buf; /* ring records are copied here */
	size_t buflen;
	struct sfshm_ring **waitv; /* scratch for sfshm_ring_wait_any() */
	struct sf_member *grp; /* group membership, NULL if not subscribed */
	uint64_t delivered; /* records handed out */
	bool unreported; /* records counted and not reported, maybe */
	uint64_t reported_ns; /* when report_idle() last reported */
};

#define GROUP_SLICE_MS 5 /* a member looks at its notices this often */

/* ---- the log ------------------------------------------------------------ */

static int seg_get(struct cpart *cp)
{
	uint32_t p = cp->partition;

	if (cp->seg)
		return 0;
	return sf_seg_open(cp->t->a.files[p].log_dir, &cp->seg);
}

static int log_locate(struct cpart *cp, int64_t x)
{
	int err = seg_get(cp);

	if (!err)
		err = sf_seg_seek(cp->seg, x);
	if (err)
		return err;
	cp->mode = MODE_LOG;
	cp->next = x;
	return 0;
}

static int64_t log_start(struct cpart *cp)
{
	int err = seg_get(cp);

	return err ? err : sf_seg_start_offset(cp->seg);
}

/* ---- locating an offset ------------------------------------------------- */

/*
 * Count records forward from the reader's position (offset @o) up to
 * offset @x, or to the last committed one if @x < 0.
 * Return: 0 with *at the offset reached; -ERANGE if the ring ends before
 * @x; -EOVERFLOW if the ring moved on meanwhile; -EBADMSG.
 */
static int ring_skip(struct sfshm_ring *r, int64_t o, int64_t x, int64_t *at)
{
	while (x < 0 || o < x) {
		struct sfshm_msg m;
		int err = sfshm_ring_peek(r, &m);

		if (!err)
			err = sfshm_ring_consume(r, &m);
		if (err == -EAGAIN && x < 0)
			break;
		if (err)
			return err == -EAGAIN ? -ERANGE : err;
		o++;
	}
	*at = o;
	return 0;
}

/*
 * Position the partition on offset @x (the end if @x < 0), in the log or
 * in the ring.  Return: 0; -ERANGE (below the log start or beyond the
 * end); -EAGAIN (the ring kept moving: try later); -EBADMSG; -errno.
 */
static int locate(struct cpart *cp, int64_t x)
{
	for (int i = 0; i < LOCATE_TRIES; i++) {
		uint64_t apos;
		int64_t aoff, at;
		int err = sfshm_ring_anchor(cp->ring, &apos, &aoff);

		if (err)
			continue;
		if (aoff < 0)
			return -EBADMSG;
		if (x >= 0 && x < aoff)
			return log_locate(cp, x);
		err = sfshm_ring_seek(cp->ring, apos);
		if (err == -EINVAL)
			return -EBADMSG; /* an anchor beyond the tail */
		if (!err)
			err = ring_skip(cp->ring, aoff, x, &at);
		if (err == -EOVERFLOW)
			continue;
		if (err)
			return err;
		cp->mode = MODE_RING;
		cp->next = at;
		return 0;
	}
	return -EAGAIN;
}

static int locate_begin(struct cpart *cp)
{
	int err = -ERANGE;

	/* The start moves while retention deletes segments: retry. */
	for (int i = 0; i < LOCATE_TRIES && err == -ERANGE; i++) {
		int64_t start = log_start(cp);

		err = start < 0 ? (int)start : locate(cp, start);
	}
	return err;
}

static int locate_tail(struct cpart *cp, int64_t n)
{
	int err = -ERANGE;

	for (int i = 0; i < LOCATE_TRIES && err == -ERANGE; i++) {
		int64_t start, x;

		err = locate(cp, -1);
		if (err || n <= 0)
			return err;
		start = log_start(cp);
		if (start < 0)
			return (int)start;
		x = cp->next - n < start ? start : cp->next - n;
		err = locate(cp, x);
	}
	return err;
}

/* An offset out of range: what the reset policy says. */
static int reset(struct sfshm_consumer *cons, struct cpart *cp)
{
	switch (cons->o.reset) {
	case SFSHM_RESET_EARLIEST:
		return locate_begin(cp);
	case SFSHM_RESET_LATEST:
		return locate(cp, -1);
	default:
		cp->err = -ERANGE;
		return -ERANGE;
	}
}

/* Carry out a recorded seek.  Return: 0, -EAGAIN (later) or -errno. */
static int resolve(struct sfshm_consumer *cons, struct cpart *cp)
{
	int err;

	switch (cp->pending) {
	case PEND_NONE:
		return 0;
	case PEND_BEGIN:
		err = locate_begin(cp);
		break;
	case PEND_END:
		err = locate(cp, -1);
		break;
	case PEND_TAIL:
		err = locate_tail(cp, cp->want);
		break;
	default:
		err = locate(cp, cp->want);
		break;
	}
	if (err == -ERANGE)
		err = reset(cons, cp);
	if (!err)
		cp->pending = PEND_NONE;
	return err;
}

/* ---- reading ------------------------------------------------------------ */

static int buf_grow(struct sfshm_consumer *cons, size_t len)
{
	uint8_t *b;

	if (len <= cons->buflen)
		return 0;
	b = realloc(cons->buf, len);
	if (!b)
		return -ENOMEM;
	cons->buf = b;
	cons->buflen = len;
	return 0;
}

static void rec_base(const struct cpart *cp, struct sfshm_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->topic = cp->t->name;
	rec->partition = (int32_t)cp->partition;
	rec->offset = cp->next;
}

static void rec_from_ring(struct cpart *cp, const struct sfshm_msg *m,
			  struct sfshm_record *rec)
{
	rec_base(cp, rec);
	/* ns to ms as the persister converts them: the log says the same */
	rec->timestamp = m->timestamp / 1000000;
	rec->key = m->key;
	rec->key_len = m->key_len;
	rec->value = m->value;
	rec->value_len = m->value_len;
	rec->header_count = m->hdr_count;
	rec->hdr_data = m->hdr_data;
	rec->hdr_bytes = m->hdr_bytes;
	rec->hdr_format = HDR_RING;
	cp->ts_ns = m->timestamp;
}

static void rec_from_log(struct cpart *cp, const struct sf_seg_rec *s,
			 struct sfshm_record *rec)
{
	rec_base(cp, rec);
	rec->offset = s->offset;
	rec->timestamp = s->timestamp;
	rec->key = s->key;
	rec->key_len = s->key_len;
	rec->value = s->value;
	rec->value_len = s->value_len;
	rec->header_count = s->header_count;
	rec->hdr_data = s->headers;
	rec->hdr_bytes = (uint32_t)s->headers_len;
	rec->hdr_format = HDR_KAFKA;
	cp->ts_ns = s->timestamp * 1000000;
}

/* ---- probes (probes.h) ---------------------------------------------------- */

/* Report the records handed out from @cp since the last report. */
static void report(struct cpart *cp)
{
	if (!cp->rep_records)
		return;
	if (SF_PROBE_ON(consume))
		sf_probe_consume(cp->t->name, cp->partition, cp->rep_records,
				 cp->rep_bytes);
	cp->rep_records = 0;
	cp->rep_bytes = 0;
}

static void report_all(struct sfshm_consumer *cons)
{
	for (unsigned i = 0; i < cons->nparts; i++)
		report(cons->parts[i]);
	cons->unreported = false;
}

/*
 * A poll found nothing: report what was handed out, at most every
 * REPORT_IDLE_NS (a consumer that keeps up, or polls without waiting,
 * finds nothing very often; each report is a probe hit).  A consumer
 * waiting at the end is thus exact within a wait slice, one that stops
 * polling at its close.
 */
static void report_idle(struct sfshm_consumer *cons)
{
	uint64_t t = sf_now_ns();

	if (t - cons->reported_ns < REPORT_IDLE_NS)
		return;
	report_all(cons);
	cons->reported_ns = t;
}

static uint64_t payload(const struct sfshm_record *rec)
{
	return (uint64_t)(rec->key_len > 0 ? rec->key_len : 0) +
	       (uint64_t)(rec->value_len > 0 ? rec->value_len : 0);
}

/* One record handed out from @cp: count it, sample its latency. */
static void probe_record(struct sfshm_consumer *cons, struct cpart *cp,
			 const struct sfshm_record *rec)
{
	if (SF_PROBE_ON(consume)) {
		cons->unreported = true;
		cp->rep_records++;
		cp->rep_bytes += payload(rec);
		if (cp->rep_records >= SFM_CONSUME_BATCH)
			report(cp);
	}
	if (SF_PROBE_ON(e2e) && ++cp->sample >= SFM_SAMPLE_EVERY) {
		struct timespec ts;

		cp->sample = 0;
		clock_gettime(CLOCK_REALTIME, &ts);
		sf_probe_e2e(cp->t->name, cp->partition,
			     (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec -
				     cp->ts_ns);
	}
}

/* Skip records older than a seek_time() target until the first match. */
static bool too_old(struct cpart *cp, const struct sfshm_record *rec)
{
	if (cp->min_ts < 0)
		return false;
	if (rec->timestamp < cp->min_ts)
		return true;
	cp->min_ts = -1;
	return false;
}

/* Go (back) to locating the next offset; -EAGAIN: "look again". */
static int relocate(struct cpart *cp)
{
	cp->pending = PEND_OFFSET;
	cp->want = cp->next;
	return -EAGAIN;
}

/*
 * One record from the ring.  Return: 1; 0 if none yet; -EAGAIN if the
 * partition must be located again (it fell behind); -errno.
 */
static int read_ring(struct sfshm_consumer *cons, struct cpart *cp,
		     struct sfshm_record *rec)
{
	struct sfshm_msg m;
	int err;

	for (;;) {
		err = sfshm_ring_read(cp->ring, &m, cons->buf, cons->buflen);
		if (err != -ENOBUFS)
			break;
		err = buf_grow(cons, m.next - m.pos);
		if (err)
			return err;
	}
	if (err == -EAGAIN)
		return 0;
	if (err == -EOVERFLOW)
		return relocate(cp);
	if (err)
		return err;
	rec_from_ring(cp, &m, rec);
	cp->next++;
	return 1;
}

/* One record from the ring, skipping those a seek_time() passes over. */
static int poll_ring(struct sfshm_consumer *cons, struct cpart *cp,
		     struct sfshm_record *rec)
{
	int n;

	do
		n = read_ring(cons, cp, rec);
	while (n == 1 && too_old(cp, rec));
	return n;
}

/* The log has nothing more: back to the ring if the offset is there. */
static int log_drained(struct cpart *cp)
{
	uint64_t apos;
	int64_t aoff;

	if (sfshm_ring_anchor(cp->ring, &apos, &aoff) || cp->next < aoff)
		return 0; /* not written to the log yet: wait */
	return relocate(cp);
}

/* One record from the log; returns as read_ring(). */
static int read_log(struct cpart *cp, struct sfshm_record *rec)
{
	struct sf_seg_rec s;
	int n = sf_seg_next(cp->seg, &s);

	if (n == 0)
		return log_drained(cp);
	if (n == -ERANGE)
		return relocate(cp);
	if (n < 0)
		return n;
	/* Offsets may jump (control batches are skipped), never go back. */
	if (s.offset < cp->next)
		return -EBADMSG;
	rec_from_log(cp, &s, rec);
	cp->next = s.offset + 1;
	return 1;
}

static int poll_log(struct cpart *cp, struct sfshm_record *rec)
{
	int n;

	do
		n = read_log(cp, rec);
	while (n == 1 && too_old(cp, rec));
	return n;
}

/* Why a partition cannot be read at all, or 0. */
static int part_blocked(const struct cpart *cp)
{
	return cp->err ? cp->err : sf_ring_state_err(cp->ring);
}

/* Poll one partition.  Return: 1 with a record, 0 if none, -errno. */
static int poll_part(struct sfshm_consumer *cons, struct cpart *cp,
		     struct sfshm_record *rec)
{
	for (int step = 0; step < MAX_STEPS; step++) {
		int err = part_blocked(cp);

		if (!err && cp->pending)
			err = resolve(cons, cp);
		if (err)
			return err == -EAGAIN ? 0 : err;
		err = cp->mode == MODE_RING ? poll_ring(cons, cp, rec) :
					      poll_log(cp, rec);
		if (err != -EAGAIN)
			return err;
	}
	return 0;
}

/* Serve the partitions in turn from the cursor. */
static int poll_once(struct sfshm_consumer *cons, struct sfshm_record *rec)
{
	for (unsigned k = 0; k < cons->nparts; k++) {
		unsigned i = (cons->cursor + k) % cons->nparts;
		struct cpart *cp = cons->parts[i];
		int n = poll_part(cons, cp, rec);

		if (n == 1)
			probe_record(cons, cp, rec);
		else if (n < 0 && SF_PROBE_ON(error))
			sf_probe_error(cp->t->name, (int32_t)cp->partition, n);
		if (n) {
			cons->cursor = i + 1;
			return n;
		}
	}
	return 0;
}

/*
 * Wait until a ring in RING mode has something, or @ms pass (at most a
 * slice, to look at the rings' state again; shorter when a partition
 * waits for its log or a seek).
 */
static void wait_some(struct sfshm_consumer *cons, int ms)
{
	unsigned n = 0;
	bool short_wait = false;

	for (unsigned i = 0; i < cons->nparts; i++) {
		struct cpart *cp = cons->parts[i];

		if (cp->mode != MODE_RING || cp->pending || cp->err)
			short_wait = true;
		else if (n < SFSHM_WAIT_ANY_MAX)
			cons->waitv[n++] = cp->ring;
		else
			short_wait = true;
	}
	if (ms < 0 || ms > SLICE_MS)
		ms = SLICE_MS;
	if (short_wait && ms > LOG_WAIT_MS)
		ms = LOG_WAIT_MS;
	if (cons->o.wait == SFSHM_WAIT_SPIN)
		ms = 0;
	if (n) {
		sfshm_ring_wait_any(cons->waitv, n, NULL, 0, ms);
	} else if (ms && cons->grp && !cons->nparts) {
		/* A member with nothing to read waits for the group's word. */
		struct pollfd pfd = { .fd = cons->c->fd, .events = POLLIN };

		poll(&pfd, 1, ms);
	} else if (ms) {
		poll(NULL, 0, ms);
	}
}

int sfshm_consumer_poll(struct sfshm_consumer *cons, struct sfshm_record *rec,
			int timeout_ms)
{
	uint64_t deadline = 0;

	if (!cons->nparts && !cons->grp)
		return -ENOENT;
	for (;;) {
		int n = cons->grp ? sf_member_service(cons) : 0;
		int left;

		if (!n && cons->nparts)
			n = poll_once(cons, rec);
		cons->delivered += n == 1;
		if (n)
			return n;
		/* The clock only once there is nothing to hand out at once. */
		if (!deadline)
			deadline = sf_deadline(timeout_ms);
		left = sf_remaining_ms(deadline);
		/* Nothing now: the records handed out so far are reported. */
		if (cons->unreported)
			report_idle(cons);
		if (left == 0)
			return 0;
		for (unsigned i = 0; i < cons->nparts; i++)
			sfshm_ring_publish_pos(cons->parts[i]->ring);
		if (cons->grp && (left < 0 || left > GROUP_SLICE_MS))
			left = GROUP_SLICE_MS;
		wait_some(cons, left);
	}
}

/* Header @i of a record read from the ring (its own encoding). */
static int ring_header(const struct sfshm_record *r, uint32_t i,
		       struct sfshm_hdr *h)
{
	struct sfshm_msg m = {
		.hdr_count = r->header_count,
		.hdr_bytes = r->hdr_bytes,
		.hdr_data = r->hdr_data,
	};
	int err = sfshm_msg_header(&m, i, h);

	return err == -ENOENT ? -EBADMSG : err;
}

/* Header @i of a record read from the log (Kafka's encoding). */
static int kafka_header(const struct sfshm_record *r, uint32_t i,
			struct sfshm_hdr *h)
{
	struct sf_rb_record rr = {
		.header_count = (int32_t)r->header_count,
		.headers = r->hdr_data,
		.headers_len = r->hdr_bytes,
	};
	struct sf_rb_header_iter hi;
	struct sf_rb_header kh;

	sf_rb_headers_begin(&rr, &hi);
	for (uint32_t k = 0; k <= i; k++)
		if (sf_rb_headers_next(&hi, &kh) != 1)
			return -EBADMSG;
	h->key = kh.key.ptr;
	h->key_len = (uint32_t)kh.key.len;
	h->value_len = kh.value.len;
	h->value = kh.value.len < 0 ? NULL : kh.value.ptr;
	return 0;
}

int sfshm_record_header(const struct sfshm_record *r, uint32_t i,
			struct sfshm_hdr *h)
{
	if (i >= r->header_count)
		return -ERANGE;
	if (r->hdr_format == HDR_RING)
		return ring_header(r, i, h);
	if (r->hdr_format == HDR_KAFKA)
		return kafka_header(r, i, h);
	return -EINVAL;
}

/* ---- assigning and seeking ---------------------------------------------- */

static struct ctopic *topic_find(const struct sfshm_consumer *cons,
				 const char *name)
{
	for (unsigned i = 0; i < cons->ntopics; i++)
		if (!strcmp(cons->topics[i]->name, name))
			return cons->topics[i];
	return NULL;
}

static void topic_free(struct ctopic *t)
{
	if (!t)
		return;
	sf_attach_free(&t->a);
	free(t->parts);
	free(t);
}

/* Attach to @name as a reader (once per consumer). */
static int topic_get(struct sfshm_consumer *cons, const char *name,
		     struct ctopic **out)
{
	struct ctopic **v, *t = topic_find(cons, name);
	int err;

	if (t) {
		*out = t;
		return 0;
	}
	t = calloc(1, sizeof(*t));
	v = realloc(cons->topics, (cons->ntopics + 1) * sizeof(*v));
	if (v)
		cons->topics = v;
	if (!t || !v) {
		free(t);
		return -ENOMEM;
	}
	err = sf_attach(cons->c, name, SFSHM_ROLE_READER, &t->a);
	if (err) {
		free(t);
		return err;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->parts = calloc(t->a.info->partition_count, sizeof(*t->parts));
	if (!t->parts) {
		sf_detach(cons->c, name, SFSHM_ROLE_READER);
		topic_free(t);
		return -ENOMEM;
	}
	cons->topics[cons->ntopics++] = t;
	*out = t;
	return 0;
}

static void part_free(struct cpart *cp)
{
	if (!cp)
		return;
	report(cp);
	sfshm_ring_unmap(cp->ring);
	sf_seg_close(cp->seg);
	free(cp);
}

/* Record a seek of one partition to @offset (an offset or BEGINNING/END). */
static void part_seek(struct cpart *cp, int64_t offset)
{
	cp->err = 0;
	cp->min_ts = -1;
	cp->want = offset;
	if (offset == SFSHM_OFFSET_BEGINNING)
		cp->pending = PEND_BEGIN;
	else if (offset == SFSHM_OFFSET_END)
		cp->pending = PEND_END;
	else
		cp->pending = PEND_OFFSET;
	if (offset >= 0)
		cp->next = offset;
}

static int part_new(struct sfshm_consumer *cons, struct ctopic *t, uint32_t p,
		    int64_t offset)
{
	struct cpart *cp = calloc(1, sizeof(*cp));
	int err;

	if (!cp)
		return -ENOMEM;
	cp->t = t;
	cp->partition = p;
	err = sf_map_partition(cons->c, &t->a.files[p], SFSHM_ROLE_READER,
			       &cp->ring);
	if (!err)
		err = buf_grow(cons, sfshm_ring_max_frame(cp->ring));
	if (err) {
		part_free(cp);
		return err;
	}
	if (SF_PROBE_ON(ring_map))
		sf_probe_ring_map(t->name, p, cp->ring);
	sfshm_ring_set_wait(
		cp->ring, cons->o.wait,
		cons->o.wait == SFSHM_WAIT_HYBRID ? SFSHM_DEFAULT_SPIN_NS : 0);
	part_seek(cp, offset);
	t->parts[p] = cp;
	cons->parts[cons->nparts++] = cp;
	return 0;
}

/* Make room for @n more partitions in the poll list. */
static int parts_room(struct sfshm_consumer *cons, uint32_t n)
{
	struct cpart **v =
		realloc(cons->parts, (cons->nparts + n) * sizeof(*v));
	struct sfshm_ring **w;

	if (!v)
		return -ENOMEM;
	cons->parts = v;
	w = realloc(cons->waitv, (cons->nparts + n) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	cons->waitv = w;
	return 0;
}

/* Forget a topic none of whose partitions is assigned. */
static void topic_drop_unused(struct sfshm_consumer *cons, struct ctopic *t)
{
	for (uint32_t i = 0; i < t->a.info->partition_count; i++)
		if (t->parts[i])
			return;
	for (unsigned i = 0; i < cons->ntopics; i++) {
		if (cons->topics[i] != t)
			continue;
		cons->topics[i] = cons->topics[--cons->ntopics];
		break;
	}
	sf_detach(cons->c, t->name, SFSHM_ROLE_READER);
	topic_free(t);
}

/* Assign partitions [@first, @end) of @t, all or none. */
static int assign_parts(struct sfshm_consumer *cons, struct ctopic *t,
			uint32_t first, uint32_t end, int64_t offset)
{
	unsigned before = cons->nparts;
	int err;

	for (uint32_t p = first; p < end; p++)
		if (t->parts[p])
			return -EEXIST;
	err = parts_room(cons, end - first);
	for (uint32_t p = first; p < end && !err; p++)
		err = part_new(cons, t, p, offset);
	if (!err)
		return 0;
	while (cons->nparts > before) {
		struct cpart *cp = cons->parts[--cons->nparts];

		t->parts[cp->partition] = NULL;
		part_free(cp);
	}
	return err;
}

int sfshm_consumer_assign(struct sfshm_consumer *cons, const char *topic,
			  int32_t partition, int64_t offset)
{
	struct ctopic *t;
	uint32_t n;
	int err;

	if (offset < 0 && offset != SFSHM_OFFSET_BEGINNING &&
	    offset != SFSHM_OFFSET_END)
		return -EINVAL;
	if (cons->grp)
		return -EINVAL; /* subscribed: the group assigns */
	if (partition < -1)
		return -ENOENT;
	err = topic_get(cons, topic, &t);
	if (err)
		return err;
	n = t->a.info->partition_count;
	if (partition >= 0 && (uint32_t)partition >= n)
		err = -ENOENT;
	else if (partition >= 0)
		err = assign_parts(cons, t, (uint32_t)partition,
				   (uint32_t)partition + 1, offset);
	else
		err = assign_parts(cons, t, 0, n, offset);
	topic_drop_unused(cons, t);
	return err;
}

/*
 * Apply @fn(cp, arg) to @partition (or all assigned ones, -1) of @topic.
 * Return: 0; -ENOENT if none is assigned; or @fn's first error.
 */
static int
for_parts(struct sfshm_consumer *cons, const char *topic, int32_t partition,
	  int (*fn)(struct sfshm_consumer *, struct cpart *, int64_t),
	  int64_t arg)
{
	struct ctopic *t = topic_find(cons, topic);
	uint32_t n = t ? t->a.info->partition_count : 0;
	bool any = false;

	if (!t || partition < -1 ||
	    (partition >= 0 && (uint32_t)partition >= n))
		return -ENOENT;
	for (uint32_t p = 0; p < n; p++) {
		int err;

		if (!t->parts[p] ||
		    (partition >= 0 && (uint32_t)partition != p))
			continue;
		any = true;
		err = fn(cons, t->parts[p], arg);
		if (err)
			return err;
	}
	return any ? 0 : -ENOENT;
}

static int do_seek(struct sfshm_consumer *cons, struct cpart *cp, int64_t off)
{
	(void)cons;
	part_seek(cp, off);
	return 0;
}

int sfshm_consumer_seek(struct sfshm_consumer *cons, const char *topic,
			int32_t partition, int64_t offset)
{
	if (offset < 0 && offset != SFSHM_OFFSET_BEGINNING &&
	    offset != SFSHM_OFFSET_END)
		return -EINVAL;
	return for_parts(cons, topic, partition, do_seek, offset);
}

static int do_seek_tail(struct sfshm_consumer *cons, struct cpart *cp,
			int64_t n)
{
	(void)cons;
	part_seek(cp, SFSHM_OFFSET_END);
	cp->pending = PEND_TAIL;
	cp->want = n;
	return 0;
}

int sfshm_consumer_seek_tail(struct sfshm_consumer *cons, const char *topic,
			     int32_t partition, int64_t n)
{
	if (n < 0)
		return -EINVAL;
	return for_parts(cons, topic, partition, do_seek_tail, n);
}

static int do_seek_time(struct sfshm_consumer *cons, struct cpart *cp,
			int64_t ts)
{
	int64_t off;
	int err =
		sf_list_offsets(cons->c, cp->t->name, cp->partition, ts, &off);

	if (err)
		return err;
	if (off < 0)
		return -EPROTO;
	part_seek(cp, off);
	/*
	 * The daemon knows the log; records still only in the ring may be
	 * older than @ts although they come after its answer: skip them.
	 */
	cp->min_ts = ts;
	return 0;
}

int sfshm_consumer_seek_time(struct sfshm_consumer *cons, const char *topic,
			     int32_t partition, int64_t ts_ms)
{
	if (ts_ms < 0)
		return -EINVAL;
	return for_parts(cons, topic, partition, do_seek_time, ts_ms);
}

static struct cpart *part_find(struct sfshm_consumer *cons, const char *topic,
			       int32_t partition)
{
	struct ctopic *t = topic_find(cons, topic);

	if (!t || partition < 0 ||
	    (uint32_t)partition >= t->a.info->partition_count)
		return NULL;
	return t->parts[partition];
}

int sfshm_consumer_position(struct sfshm_consumer *cons, const char *topic,
			    int32_t partition, int64_t *offset)
{
	struct cpart *cp = part_find(cons, topic, partition);
	int err;

	if (!cp)
		return -ENOENT;
	if (cp->pending != PEND_OFFSET && !cp->err) {
		err = part_blocked(cp);
		if (!err)
			err = resolve(cons, cp);
		if (err)
			return err;
	}
	*offset = cp->pending == PEND_OFFSET ? cp->want : cp->next;
	return 0;
}

/* Has @cp handed out everything committed so far?  1, 0 or -errno. */
static int part_at_end(struct sfshm_consumer *cons, struct cpart *cp)
{
	struct sfshm_msg m;
	int err = part_blocked(cp);

	if (!err && cp->pending)
		err = resolve(cons, cp);
	if (err)
		return err == -EAGAIN ? 0 : err;
	if (cp->mode == MODE_LOG) {
		uint64_t apos;
		int64_t aoff;

		if (sfshm_ring_anchor(cp->ring, &apos, &aoff) ||
		    cp->next < aoff)
			return 0;
		relocate(cp);
		err = resolve(cons, cp);
		if (err)
			return err == -EAGAIN ? 0 : err;
		if (cp->mode == MODE_LOG)
			return 0;
	}
	err = sfshm_ring_peek(cp->ring, &m);
	if (err == -EAGAIN)
		return 1;
	return err == -EBADMSG ? err : 0;
}

int sfshm_consumer_at_end(struct sfshm_consumer *cons)
{
	for (unsigned i = 0; i < cons->nparts; i++) {
		int n = part_at_end(cons, cons->parts[i]);

		if (n != 1)
			return n;
	}
	return 1;
}

/* ---- open and close ----------------------------------------------------- */

int sfshm_consumer_open(struct sfshm_client *c,
			const struct sfshm_consumer_opts *opts,
			struct sfshm_consumer **out)
{
	struct sfshm_consumer *cons = calloc(1, sizeof(*cons));
	int err = 0;

	if (!cons)
		return -ENOMEM;
	cons->o.size = sizeof(cons->o);
	if (opts)
		err = sf_opts_copy(&cons->o, sizeof(cons->o), opts);
	if (!err && (cons->o.reset > SFSHM_RESET_NONE ||
		     cons->o.wait > SFSHM_WAIT_FUTEX))
		err = -EINVAL;
	if (err) {
		free(cons);
		return err;
	}
	cons->c = c;
	*out = cons;
	return 0;
}

void sfshm_consumer_close(struct sfshm_consumer *cons)
{
	if (!cons)
		return;
	sf_member_close(cons);
	for (unsigned i = 0; i < cons->nparts; i++)
		part_free(cons->parts[i]);
	for (unsigned i = 0; i < cons->ntopics; i++) {
		sf_detach(cons->c, cons->topics[i]->name, SFSHM_ROLE_READER);
		topic_free(cons->topics[i]);
	}
	free(cons->topics);
	free(cons->parts);
	free(cons->waitv);
	free(cons->buf);
	free(cons);
}

/* ---- for group membership (member.c) ------------------------------------ */

struct sfshm_client *sf_cons_client(struct sfshm_consumer *cons)
{
	return cons->c;
}

const struct sfshm_consumer_opts *sf_cons_opts(struct sfshm_consumer *cons)
{
	return &cons->o;
}

struct sf_member **sf_cons_member(struct sfshm_consumer *cons)
{
	return &cons->grp;
}

bool sf_cons_manual(const struct sfshm_consumer *cons)
{
	return !cons->grp && cons->nparts;
}

int sf_cons_add(struct sfshm_consumer *cons, const char *topic,
		uint32_t partition, int64_t offset)
{
	struct ctopic *t;
	int err = topic_get(cons, topic, &t);

	if (err)
		return err;
	err = partition < t->a.info->partition_count ?
		      assign_parts(cons, t, partition, partition + 1, offset) :
		      -ENOENT;
	topic_drop_unused(cons, t);
	return err;
}

void sf_cons_clear(struct sfshm_consumer *cons)
{
	while (cons->nparts) {
		struct cpart *cp = cons->parts[--cons->nparts];

		cp->t->parts[cp->partition] = NULL;
		part_free(cp);
	}
	while (cons->ntopics)
		topic_drop_unused(cons, cons->topics[0]);
	cons->cursor = 0;
}

int sf_cons_list(struct sfshm_consumer *cons, struct sfshm_tp **tps,
		 unsigned *n)
{
	size_t names = 0;
	struct sfshm_tp *v;
	char *p;

	for (unsigned i = 0; i < cons->nparts; i++)
		names += strlen(cons->parts[i]->t->name) + 1;
	v = malloc(cons->nparts * sizeof(*v) + names + 1);
	if (!v)
		return -ENOMEM;
	p = (char *)(v + cons->nparts);
	for (unsigned i = 0; i < cons->nparts; i++) {
		struct cpart *cp = cons->parts[i];

		strcpy(p, cp->t->name);
		v[i].topic = p;
		v[i].partition = (int32_t)cp->partition;
		p += strlen(p) + 1;
	}
	*tps = v;
	*n = cons->nparts;
	return 0;
}

int sfshm_consumer_assignment(struct sfshm_consumer *cons,
			      struct sfshm_tp **tps, unsigned *n)
{
	return sf_cons_list(cons, tps, n);
}

uint64_t sf_cons_delivered(const struct sfshm_consumer *cons)
{
	return cons->delivered;
}
