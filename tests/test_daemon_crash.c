// SPDX-License-Identifier: MIT
/*
 * test_daemon_crash.c - sfshmd under real signals: a clean restart, SIGKILL
 * at random moments under durable acknowledgements, adoption of the rings a
 * killed daemon left, producers killed or stopped inside a claim, damaged
 * logs, and a second daemon refused.
 *
 * Every test starts build/sfshmd (t_daemon.h) on fresh dirs, kills and
 * restarts it with real signals and reads back through libsfshm.  Records
 * carry who sent them, their sequence number and a hash of their payload,
 * so that what a consumer reads is checked against what was sent: every
 * record intact, exactly once, offsets dense and in order per partition.
 * Waits are on conditions with deadlines scaled by t_slowdown(); the only
 * sleeps pace a workload or choose the random moment of a SIGKILL.
 *
 * SFSHM_SEED=N replays the random kill moments of the crash rounds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sfshm/sfshm.h>

#include "t_daemon.h"
#include "t_util.h"

#define POLL_MS 20000 /* a consumer gets everything within this */
#define CHILD_MS 30000 /* a child finishes within this */
#define MAXP 4 /* partitions of a test topic, at most */
#define MAX_KIDS 8

/* Scaled deadlines. */
#define SCALED(ms) ((ms)*t_slowdown())

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	struct t_daemon d;
	pid_t kids[MAX_KIDS]; /* children to kill if the test fails */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || t_daemon_init(&f->d, "crash")) {
		free(f);
		return -1;
	}
	for (int i = 0; i < MAX_KIDS; i++)
		f->kids[i] = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < MAX_KIDS; i++) {
		if (f->kids[i] <= 0)
			continue;
		kill(f->kids[i], SIGKILL);
		waitpid(f->kids[i], NULL, 0);
	}
	t_daemon_cleanup(&f->d);
	free(f);
	return 0;
}

/* Fork a child running fn(arg), remembered for the teardown. */
static pid_t kid_start(struct fx *f, int (*fn)(void *), void *arg)
{
	pid_t pid = t_fork_clean(fn, arg);

	assert_true(pid > 0);
	for (int i = 0; i < MAX_KIDS; i++) {
		if (f->kids[i] <= 0) {
			f->kids[i] = pid;
			return pid;
		}
	}
	fail_msg("too many children");
	return -1;
}

static void kid_forget(struct fx *f, pid_t pid)
{
	for (int i = 0; i < MAX_KIDS; i++)
		if (f->kids[i] == pid)
			f->kids[i] = -1;
}

/* Wait for a child (deadline), forget it.  Return: as t_wait_child(). */
static int kid_wait(struct fx *f, pid_t pid, int ms)
{
	int st = t_wait_child(pid, ms);

	kid_forget(f, pid);
	return st;
}

/* ---- the daemon --------------------------------------------------------- */

static void daemon_start(struct fx *f)
{
	if (t_daemon_start(&f->d))
		fail_msg("sfshmd did not start");
}

/* SIGKILL the daemon: it must die of it. */
static void daemon_kill(struct fx *f)
{
	int st = t_daemon_stop(&f->d, SIGKILL);

	assert_int_equal(st, 128 + SIGKILL);
}

/* SIGTERM the daemon: it must exit 0. */
static void daemon_term(struct fx *f)
{
	if (t_daemon_term(&f->d))
		fail_msg("sfshmd did not exit cleanly on SIGTERM");
}

static int try_connect(const char *run_dir, struct sfshm_client **c)
{
	struct sfshm_client_opts o = { .size = sizeof(o),
				       .run_dir = run_dir,
				       .client_id = "test_daemon_crash",
				       .timeout_ms = 2000 * t_slowdown() };

	return sfshm_connect(&o, c);
}

static struct sfshm_client *xconnect(const struct fx *f)
{
	struct sfshm_client *c = NULL;
	int err = try_connect(f->d.run_dir, &c);

	if (err)
		fail_msg("connect %s: %s", f->d.run_dir, sfshm_strerror(err));
	return c;
}

static void topic_create(const struct fx *f, const char *name, uint32_t parts,
			 uint64_t ring_bytes, int64_t segment_bytes)
{
	struct sfshm_client *c = xconnect(f);
	struct sfshm_topic_config cfg;
	int err;

	sfshm_topic_config_init(&cfg);
	cfg.partitions = parts;
	cfg.ring_bytes = ring_bytes;
	cfg.segment_bytes = segment_bytes;
	err = sfshm_topic_create(c, name, &cfg);
	if (err)
		fail_msg("create %s: %s (%s)", name, sfshm_strerror(err),
			 sfshm_last_error(c));
	sfshm_disconnect(c);
}

/* The daemon's log, NUL-terminated (free it). */
static char *daemon_log(const struct fx *f)
{
	FILE *fp = fopen(f->d.log_path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	assert_non_null(fp);
	do {
		if (len + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, cap - len - 1, fp);
		len += n;
	} while (n > 0);
	fclose(fp);
	buf[len] = '\0';
	return buf;
}

/* How many lines of the daemon's log contain @s; print them if @show. */
static int log_lines(const struct fx *f, const char *s, bool show)
{
	char *buf = daemon_log(f), *line = buf;
	int n = 0;

	while (line && *line) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (strstr(line, s)) {
			n++;
			if (show)
				printf("  sfshmd| %s\n", line);
		}
		line = nl ? nl + 1 : NULL;
	}
	free(buf);
	return n;
}

/* The run dir must hold nothing: no rings, no socket, no lock. */
static void assert_run_dir_empty(const struct fx *f)
{
	DIR *dir = opendir(f->d.run_dir);
	char left[512] = "";
	struct dirent *e;
	size_t used = 0;
	int n = 0;

	if (!dir)
		return; /* removed: empty too */
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		used += (size_t)snprintf(left + used, sizeof(left) - used,
					 " %s", e->d_name);
		if (used >= sizeof(left))
			used = sizeof(left) - 1;
	}
	closedir(dir);
	if (n)
		fail_msg("run dir %s not empty after SIGTERM:%s", f->d.run_dir,
			 left);
}

/* ---- checked values ----------------------------------------------------- */

#define TV_MAGIC 0x7376616cu

/*
 * A record's value: who sent it, its sequence number, a free word, and the
 * hash of the payload that follows.
 */
struct tval {
	uint32_t magic;
	uint32_t id;
	uint64_t seq;
	uint64_t aux;
	uint64_t sum;
	uint32_t plen;
	uint32_t pad;
};

static uint64_t tv_seed(uint32_t id, uint64_t seq)
{
	return ((uint64_t)id << 56) ^ (seq * 0x9e3779b97f4a7c15ull);
}

/* Write a value of @plen payload bytes into @buf.  Return: its length. */
static int32_t tv_fill(void *buf, uint32_t id, uint64_t seq, uint64_t aux,
		       uint32_t plen)
{
	struct tval v = { TV_MAGIC, id, seq, aux, 0, plen, 0 };
	uint8_t *p = (uint8_t *)buf + sizeof(v);

	for (uint32_t j = 0; j < plen; j++)
		p[j] = (uint8_t)(seq * 31 + j * 7 + id);
	v.sum = t_hash64(p, plen, tv_seed(id, seq));
	memcpy(buf, &v, sizeof(v));
	return (int32_t)(sizeof(v) + plen);
}

/* Is @r's value a whole tval?  Copies it into *@v. */
static bool tv_parse(const struct sfshm_record *r, struct tval *v)
{
	const uint8_t *p = r->value;

	if (r->value_len < (int32_t)sizeof(*v) || !p)
		return false;
	memcpy(v, p, sizeof(*v));
	return v->magic == TV_MAGIC &&
	       v->plen == (uint32_t)r->value_len - sizeof(*v) &&
	       t_hash64(p + sizeof(*v), v->plen, tv_seed(v->id, v->seq)) ==
		       v->sum;
}

static struct tval tv_check(const struct sfshm_record *r)
{
	struct tval v;

	if (!tv_parse(r, &v))
		fail_msg("partition %d offset %" PRId64
			 ": damaged value (%d bytes)",
			 r->partition, r->offset, r->value_len);
	return v;
}

/* ---- consuming ---------------------------------------------------------- */

typedef void (*rec_fn)(const struct sfshm_record *r, void *arg);

static struct sfshm_consumer *consumer_open(struct sfshm_client *c,
					    const char *topic, int32_t part)
{
	struct sfshm_consumer *cons = NULL;
	int err = sfshm_consumer_open(c, NULL, &cons);

	assert_int_equal(err, 0);
	err = sfshm_consumer_assign(cons, topic, part, SFSHM_OFFSET_BEGINNING);
	if (err)
		fail_msg("assign %s: %s", topic, sfshm_strerror(err));
	return cons;
}

/* Poll one record within the deadline (fails the test otherwise). */
static void poll_one(struct sfshm_consumer *cons, struct sfshm_record *r,
		     uint64_t deadline, const char *what)
{
	for (;;) {
		int n = sfshm_consumer_poll(cons, r, 50);

		if (n == 1)
			return;
		if (n < 0)
			fail_msg("%s: poll: %s", what, sfshm_strerror(n));
		if (t_now_ms() >= deadline)
			fail_msg("%s: no record in time", what);
	}
}

/*
 * Consume @topic from the beginning until partition p gave n[p] records,
 * checking that offsets are dense from 0; @fn sees each record.  Then the
 * consumer must be at the end: nothing more than expected.
 */
static void consume_all(const struct fx *f, const char *topic, uint32_t nparts,
			const int64_t *n, rec_fn fn, void *arg)
{
	struct sfshm_client *c = xconnect(f);
	struct sfshm_consumer *cons = consumer_open(c, topic, -1);
	uint64_t deadline = T_DEADLINE(SCALED(POLL_MS));
	int64_t next[MAXP] = { 0 }, total = 0, got = 0;
	struct sfshm_record r;

	for (uint32_t p = 0; p < nparts; p++)
		total += n[p];
	while (got < total) {
		char what[96];
		int32_t p;

		snprintf(what, sizeof(what), "%s: %" PRId64 " of %" PRId64,
			 topic, got, total);
		poll_one(cons, &r, deadline, what);
		p = r.partition;
		assert_true(p >= 0 && (uint32_t)p < nparts);
		if (r.offset != next[p])
			fail_msg("%s-%d: offset %" PRId64 ", expected %" PRId64,
				 topic, p, r.offset, next[p]);
		if (next[p] >= n[p])
			fail_msg("%s-%d: more than %" PRId64 " records", topic,
				 p, n[p]);
		next[p]++;
		got++;
		if (fn)
			fn(&r, arg);
	}
	assert_int_equal(sfshm_consumer_at_end(cons), 1);
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);
}

static struct sfshm_topic_info *describe(struct sfshm_client *c,
					 const char *topic)
{
	struct sfshm_topic_info *ti = NULL;
	int err = sfshm_topic_describe(c, topic, &ti);

	if (err)
		fail_msg("describe %s: %s", topic, sfshm_strerror(err));
	return ti;
}

static struct sfshm_producer *
producer_open(struct sfshm_client *c, const char *topic, enum sfshm_acks acks)
{
	struct sfshm_producer_opts o = { .size = sizeof(o),
					 .acks = acks,
					 .timeout_ms = SCALED(10000) };
	struct sfshm_producer *p = NULL;
	int err = sfshm_producer_open(c, topic, &o, &p);

	if (err)
		fail_msg("producer %s: %s", topic, sfshm_strerror(err));
	return p;
}

/* ---- log files ---------------------------------------------------------- */

/* The last segment of a partition's log: its path without the extension,
 * its base offset, and how many segments there are. */
static void seg_last(const struct fx *f, const char *topic, uint32_t part,
		     char *path, size_t len, int64_t *base, unsigned *nsegs)
{
	char dir[512];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s-%u", f->d.data_dir, topic, part);
	d = opendir(dir);
	assert_non_null(d);
	*base = -1;
	*nsegs = 0;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		int64_t b;

		if (n != 24 || strcmp(e->d_name + 20, ".log"))
			continue;
		(*nsegs)++;
		b = strtoll(e->d_name, NULL, 10);
		if (b > *base)
			*base = b;
	}
	closedir(d);
	assert_true(*base >= 0);
	snprintf(path, len, "%s/%020" PRId64, dir, *base);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Kafka RecordBatch v2 header fields (big-endian). */
#define RB_HEAD 61 /* bytes up to and including recordCount */
#define RB_LENGTH 8 /* batchLength: bytes after this field */
#define RB_LAST_DELTA 23 /* lastOffsetDelta */
#define RB_COUNT 57 /* recordCount */

struct batch_walk {
	off_t pos; /* of the last whole batch, -1 if none */
	uint32_t size;
	uint32_t records;
	int64_t end; /* offset after it */
};

/* Walk the whole batches of a segment's .log (@seg: path without it). */
static void seg_walk(const char *seg, int64_t base, struct batch_walk *bw)
{
	char path[PATH_MAX + 16];
	uint8_t h[RB_HEAD];
	struct stat st;
	off_t at = 0;
	int fd;

	snprintf(path, sizeof(path), "%s.log", seg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0 && !fstat(fd, &st));
	*bw = (struct batch_walk){ .pos = -1, .end = base };
	while (pread(fd, h, sizeof(h), at) == (ssize_t)sizeof(h)) {
		uint32_t size = 12 + be32(h + RB_LENGTH);
		uint64_t first;

		if (at + (off_t)size > st.st_size)
			break; /* being written */
		memcpy(&first, h, sizeof(first));
		*bw = (struct batch_walk){
			.pos = at,
			.size = size,
			.records = be32(h + RB_COUNT),
			.end = (int64_t)__builtin_bswap64(first) +
			       be32(h + RB_LAST_DELTA) + 1,
		};
		at += size;
	}
	close(fd);
}

/* ---- 1. round trip and a clean restart ---------------------------------- */

/*
 * 3000 records (null, empty and plain keys and values, 0-3 headers with
 * null values and empty keys, our timestamps and "now") with acks=written,
 * one by one and in batches, to 3 partitions; consumed: each at its
 * acknowledged offset, as sent.  SIGTERM with a consumer attached (it gets
 * -ESHUTDOWN): status 0, run dir empty.  Restart: the same records again,
 * byte for byte (from the log now, from the ring before).
 */

#define RT_TOPIC "roundtrip"
#define RT_N 3000
#define RT_PARTS 3
#define RT_BATCH 10 /* records [RT_BSTART, RT_BEND) go in batches */
#define RT_BSTART 1000
#define RT_BEND 1500

/* Record i of the round trip: keys, values, headers, nulls, empties. */
struct gen {
	struct sfshm_rec rec;
	struct sfshm_hdr h[3];
	char key[16];
	char hv[16];
	uint8_t val[1600];
};

static void gen_rec(uint32_t i, int64_t base_ns, struct gen *g)
{
	memset(&g->rec, 0, sizeof(g->rec));
	if (i % 7 == 0) {
		g->rec.key_len = -1; /* null key */
	} else if (i % 11 == 0) {
		g->rec.key = g->key; /* empty key */
	} else {
		g->rec.key = g->key;
		g->rec.key_len =
			snprintf(g->key, sizeof(g->key), "key-%u", i % 97);
	}
	if (i % 5 == 0) {
		g->rec.value_len = -1; /* tombstone */
	} else {
		g->rec.value = g->val;
		g->rec.value_len = i % 13 == 0 ? 0 :
						 (int32_t)(1 + i * 131 % 1500);
		for (int32_t j = 0; j < g->rec.value_len; j++)
			g->val[j] = (uint8_t)(i * 7 + (uint32_t)j * 13);
	}
	g->h[0] = (struct sfshm_hdr){ "seq", 3, 0, g->hv };
	g->h[0].value_len = snprintf(g->hv, sizeof(g->hv), "%u", i);
	g->h[1] = (struct sfshm_hdr){ "null", 4, -1, NULL };
	g->h[2] = (struct sfshm_hdr){ "", 0, 3, "\0a\0" };
	g->rec.hdrs = g->h;
	g->rec.hdr_count = (i + 1) % 4; /* 0 to 3 */
	/* Half with a timestamp of ours (ns), half "now". */
	g->rec.timestamp = i % 2 ? base_ns + (int64_t)i * 1000003 : 0;
}

struct rt {
	int64_t base_ns;
	int64_t t0_ms, t1_ms; /* wall clock around the sends */
	int64_t idx[RT_PARTS][RT_N]; /* (partition, offset) -> i */
	uint64_t digest[RT_PARTS][RT_N];
	int64_t count[RT_PARTS];
	bool second; /* compare with the first run's digests */
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool bytes_eq(const void *a, int32_t alen, const void *b, int32_t blen)
{
	if (alen != blen)
		return false;
	if (alen < 0)
		return !a && !b;
	return alen == 0 || (a && b && !memcmp(a, b, (size_t)alen));
}

static uint64_t digest_rec(const struct sfshm_record *r)
{
	uint64_t h = t_hash64(&r->timestamp, sizeof(r->timestamp), 1);
	struct sfshm_hdr hd;

	h = t_hash64(&r->key_len, sizeof(r->key_len), h);
	if (r->key_len > 0)
		h = t_hash64(r->key, (size_t)r->key_len, h);
	h = t_hash64(&r->value_len, sizeof(r->value_len), h);
	if (r->value_len > 0)
		h = t_hash64(r->value, (size_t)r->value_len, h);
	h = t_hash64(&r->header_count, sizeof(r->header_count), h);
	for (uint32_t k = 0; k < r->header_count; k++) {
		assert_int_equal(sfshm_record_header(r, k, &hd), 0);
		h = t_hash64(hd.key, hd.key_len, h ^ hd.key_len);
		h = t_hash64(&hd.value_len, sizeof(hd.value_len), h);
		if (hd.value_len > 0)
			h = t_hash64(hd.value, (size_t)hd.value_len, h);
	}
	return h;
}

static void rt_check_headers(const struct sfshm_record *r, const struct gen *g,
			     const char *where)
{
	struct sfshm_hdr h;

	if (r->header_count != g->rec.hdr_count)
		fail_msg("%s: %u headers, sent %u", where, r->header_count,
			 g->rec.hdr_count);
	for (uint32_t k = 0; k < r->header_count; k++) {
		const struct sfshm_hdr *e = &g->h[k];

		assert_int_equal(sfshm_record_header(r, k, &h), 0);
		if (!bytes_eq(h.key, (int32_t)h.key_len, e->key,
			      (int32_t)e->key_len) ||
		    !bytes_eq(h.value, h.value_len, e->value, e->value_len))
			fail_msg("%s: header %u differs", where, k);
	}
	assert_int_equal(sfshm_record_header(r, r->header_count, &h), -ERANGE);
}

static void rt_check(const struct sfshm_record *r, void *arg)
{
	struct rt *t = arg;
	int64_t i = t->idx[r->partition][r->offset];
	static struct gen g;
	char where[64];

	snprintf(where, sizeof(where), "%s-%d@%" PRId64 " (record %" PRId64 ")",
		 RT_TOPIC, r->partition, r->offset, i);
	if (i < 0)
		fail_msg("%s: no record was acknowledged there", where);
	gen_rec((uint32_t)i, t->base_ns, &g);
	if (!bytes_eq(r->key, r->key_len, g.rec.key, g.rec.key_len))
		fail_msg("%s: key differs (%d bytes, sent %d)", where,
			 r->key_len, g.rec.key_len);
	if (!bytes_eq(r->value, r->value_len, g.rec.value, g.rec.value_len))
		fail_msg("%s: value differs (%d bytes, sent %d)", where,
			 r->value_len, g.rec.value_len);
	rt_check_headers(r, &g, where);
	if (g.rec.timestamp && r->timestamp != g.rec.timestamp / 1000000)
		fail_msg("%s: timestamp %" PRId64 ", sent %" PRId64 " ns",
			 where, r->timestamp, g.rec.timestamp);
	if (!g.rec.timestamp &&
	    (r->timestamp < t->t0_ms || r->timestamp > t->t1_ms))
		fail_msg("%s: timestamp %" PRId64 " outside [%" PRId64
			 ", %" PRId64 "]",
			 where, r->timestamp, t->t0_ms, t->t1_ms);
	if (!t->second)
		t->digest[r->partition][r->offset] = digest_rec(r);
	else if (t->digest[r->partition][r->offset] != digest_rec(r))
		fail_msg("%s: differs after the restart", where);
}

/* Book a delivery of @n records starting at record @i. */
static void rt_book(struct rt *t, uint32_t i, unsigned n,
		    const struct sfshm_delivery *d)
{
	assert_true(d->partition >= 0 && d->partition < RT_PARTS);
	for (unsigned k = 0; k < n; k++) {
		int64_t off = d->offset + k;

		assert_true(off >= 0 && off < RT_N);
		if (t->idx[d->partition][off] >= 0)
			fail_msg("offset %d@%" PRId64 " acknowledged twice",
				 d->partition, off);
		t->idx[d->partition][off] = i + k;
		t->count[d->partition]++;
	}
}

static void rt_send_batch(struct sfshm_producer *p, struct rt *t, uint32_t i)
{
	static struct gen g[RT_BATCH];
	struct sfshm_rec recs[RT_BATCH];
	struct sfshm_delivery d;
	int n;

	for (unsigned k = 0; k < RT_BATCH; k++) {
		gen_rec(i + k, t->base_ns, &g[k]);
		recs[k] = g[k].rec;
	}
	n = sfshm_producer_send_batch(p, (int32_t)(i / RT_BATCH % RT_PARTS),
				      recs, RT_BATCH, &d);
	if (n != RT_BATCH)
		fail_msg("send_batch at %u: %d (%s)", i, n,
			 n < 0 ? sfshm_strerror(n) : "short");
	rt_book(t, i, RT_BATCH, &d);
}

static void rt_produce(const struct fx *f, struct rt *t)
{
	struct sfshm_client *c = xconnect(f);
	struct sfshm_producer *p =
		producer_open(c, RT_TOPIC, SFSHM_ACKS_WRITTEN);
	static struct gen g;
	struct sfshm_delivery d;

	t->t0_ms = wall_ms();
	for (uint32_t i = 0; i < RT_N;) {
		int err;

		if (i >= RT_BSTART && i < RT_BEND) {
			rt_send_batch(p, t, i);
			i += RT_BATCH;
			continue;
		}
		gen_rec(i, t->base_ns, &g);
		err = sfshm_producer_send(p, SFSHM_PARTITION_ANY, &g.rec, &d);
		if (err)
			fail_msg("send %u: %s", i, sfshm_strerror(err));
		rt_book(t, i, 1, &d);
		i++;
	}
	assert_int_equal(sfshm_producer_flush(p, SCALED(10000)), 0);
	t->t1_ms = wall_ms();
	sfshm_producer_close(p);
	sfshm_disconnect(c);
}

static void rt_check_ends(const struct fx *f, const struct rt *t)
{
	struct sfshm_client *c = xconnect(f);
	struct sfshm_topic_info *ti = describe(c, RT_TOPIC);

	assert_int_equal(ti->partition_count, RT_PARTS);
	for (uint32_t p = 0; p < RT_PARTS; p++) {
		assert_int_equal(ti->partitions[p].log_start, 0);
		assert_int_equal(ti->partitions[p].log_end, t->count[p]);
	}
	sfshm_topic_info_free(ti);
	sfshm_disconnect(c);
}

/* A consumer attached across the SIGTERM learns that the daemon stopped. */
static void rt_term_with_consumer(struct fx *f)
{
	struct sfshm_client *c = xconnect(f);
	struct sfshm_consumer *cons = consumer_open(c, RT_TOPIC, -1);
	struct sfshm_record r;
	int n;

	/* Read something first, so that the consumer is on its rings. */
	poll_one(cons, &r, T_DEADLINE(SCALED(POLL_MS)), "before SIGTERM");
	daemon_term(f);
	do
		n = sfshm_consumer_poll(cons, &r, 0);
	while (n == 1);
	assert_int_equal(n, -ESHUTDOWN);
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);
}

static void test_roundtrip_restart(void **state)
{
	struct fx *f = *state;
	struct rt *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	memset(t->idx, 0xff, sizeof(t->idx));
	t->base_ns = (int64_t)wall_ms() * 1000000 - 86400000000000ll;
	daemon_start(f);
	topic_create(f, RT_TOPIC, RT_PARTS, 1u << 20, 0);
	rt_produce(f, t);
	consume_all(f, RT_TOPIC, RT_PARTS, t->count, rt_check, t);
	rt_check_ends(f, t);
	rt_term_with_consumer(f);
	assert_run_dir_empty(f);

	daemon_start(f);
	assert_int_equal(log_lines(f, "adopted ring", false), 0);
	t->second = true;
	consume_all(f, RT_TOPIC, RT_PARTS, t->count, rt_check, t);
	rt_check_ends(f, t);
	daemon_term(f);
	assert_run_dir_empty(f);
	printf("  round trip: %d records in %" PRId64 "/%" PRId64 "/%" PRId64
	       ", identical after the restart\n",
	       RT_N, t->count[0], t->count[1], t->count[2]);
	free(t);
}

/* ---- 2. SIGKILL at random moments, durable acknowledgements ------------- */

/*
 * A producer process sends with acks=durable and a delivery struct, and
 * books each acknowledgement in shared memory.  20 times: wait for its
 * progress, SIGKILL the daemon 0-200 ms later, leave it down 0-250 ms,
 * restart it.  The producer reopens its client and producer after an
 * error or when a probe of its control socket fails.  It never sends a
 * sequence number twice, so any duplicate is the daemon's.  At the end
 * every acknowledged record is at its acknowledged offset, exactly once,
 * in order; unacknowledged ones that made it are counted.
 */

#define CR_TOPIC "crash"
#define CR_PARTS 2
#define CR_ROUNDS 20
#define CR_MAX_ACKS (1u << 18)
#define CR_ID 2
#define CR_NERR 12
#define CR_KILL_MS 200 /* the SIGKILL comes 0..this after progress */
#define CR_DOWN_MS 250 /* the daemon stays down 0..this */
#define CR_ACK_MS 100 /* a send waits this long for its ack (scaled) */

struct cr_ack {
	int32_t partition;
	uint32_t pad;
	int64_t offset;
	uint64_t seq;
};

/* Shared between the parent and the producer child. */
struct cr_shared {
	char run_dir[128];
	uint32_t stop; /* parent -> child */
	uint32_t nacks; /* child -> parent: acks[] filled below it */
	uint64_t attempts; /* sequence numbers used */
	uint32_t reopens;
	uint32_t probe_fails;
	int32_t err_code[CR_NERR]; /* send / open errors seen, and how often */
	uint32_t err_count[CR_NERR];
	struct t_note note;
	struct cr_ack acks[CR_MAX_ACKS];
};

static void cr_count_err(struct cr_shared *s, int err)
{
	for (int i = 0; i < CR_NERR; i++) {
		if (s->err_code[i] == err || !s->err_code[i]) {
			s->err_code[i] = err;
			s->err_count[i]++;
			return;
		}
	}
}

struct cr_conn {
	struct sfshm_client *c;
	struct sfshm_producer *p;
};

static void cr_close(struct cr_conn *k)
{
	sfshm_producer_close(k->p);
	sfshm_disconnect(k->c);
	k->p = NULL;
	k->c = NULL;
}

static bool cr_stopping(struct cr_shared *s)
{
	/* Acquire: pairs with the parent's release store of stop. */
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

/* (Re)connect and open the producer, retrying while the daemon is down. */
static int cr_open(struct cr_shared *s, struct cr_conn *k)
{
	struct sfshm_producer_opts o = { .size = sizeof(o),
					 .acks = SFSHM_ACKS_DURABLE,
					 .timeout_ms = SCALED(CR_ACK_MS) };
	uint64_t deadline = T_DEADLINE(SCALED(CHILD_MS));

	while (!cr_stopping(s)) {
		int err = try_connect(s->run_dir, &k->c);

		if (!err)
			err = sfshm_producer_open(k->c, CR_TOPIC, &o, &k->p);
		if (!err) {
			s->reopens++;
			return 0;
		}
		cr_count_err(s, err);
		cr_close(k);
		if (t_now_ms() > deadline) {
			t_note_set(&s->note,
				   "producer: no daemon for %d ms: %s",
				   SCALED(CHILD_MS), sfshm_strerror(err));
			return -1;
		}
		t_sleep_us(2000); /* retry pace while the daemon restarts */
	}
	return 1;
}

/* Send record @seq, durable and synchronous; book its acknowledgement. */
static int cr_send(struct cr_shared *s, struct cr_conn *k, uint64_t seq)
{
	uint8_t val[sizeof(struct tval) + 128];
	char key[24];
	struct sfshm_rec rec = { .key = key, .value = val };
	struct sfshm_delivery d;
	int err;

	rec.key_len = snprintf(key, sizeof(key), "k%" PRIu64, seq);
	rec.value_len = tv_fill(val, CR_ID, seq, 0, (uint32_t)(seq % 113));
	err = sfshm_producer_send(k->p, SFSHM_PARTITION_ANY, &rec, &d);
	if (err)
		return err;
	s->acks[s->nacks] = (struct cr_ack){ d.partition, 0, d.offset, seq };
	/* Release: the entry before the count (the parent acquires). */
	__atomic_store_n(&s->nacks, s->nacks + 1, __ATOMIC_RELEASE);
	return 0;
}

static int cr_producer(void *arg)
{
	struct cr_shared *s = arg;
	struct cr_conn k = { 0 };
	struct sfshm_broker_info bi;

	while (!cr_stopping(s) && s->nacks < CR_MAX_ACKS) {
		uint64_t seq = s->attempts;
		int err;

		if (!k.p && cr_open(s, &k))
			break;
		__atomic_store_n(&s->attempts, seq + 1, __ATOMIC_RELEASE);
		err = cr_send(s, &k, seq);
		if (err == -EPROTO || err == -EINVAL || err == -EMSGSIZE) {
			t_note_set(&s->note, "producer: send %" PRIu64 ": %s",
				   seq, sfshm_strerror(err));
			cr_close(&k);
			return 2;
		}
		if (err) {
			/* The daemon went away: the record may or may not
			 * have made it.  Reopen and go on. */
			cr_count_err(s, err);
			cr_close(&k);
			continue;
		}
		/* An application notices a restart on its control socket. */
		if (seq % 16 == 0 && (err = sfshm_broker_info(k.c, &bi))) {
			s->probe_fails++;
			cr_count_err(s, err);
			cr_close(&k);
		}
	}
	cr_close(&k);
	return t_note_msg(&s->note)[0] ? 1 : 0;
}

static uint32_t cr_nacks(struct cr_shared *s)
{
	/* Acquire: pairs with the release store in cr_send(). */
	return __atomic_load_n(&s->nacks, __ATOMIC_ACQUIRE);
}

/* Wait until the producer got one more acknowledgement than @base. */
static void cr_wait_progress(struct fx *f, struct cr_shared *s, pid_t kid,
			     uint32_t base, int round)
{
	uint64_t deadline = T_DEADLINE(SCALED(10000));

	while (cr_nacks(s) <= base) {
		if (t_now_ms() > deadline || t_proc_gone(kid)) {
			t_daemon_print_log(&f->d);
			fail_msg(
				"round %d: no acknowledgement after the restart "
				"(%u so far): %s",
				round, base, t_note_msg(&s->note));
		}
		t_sleep_us(200);
	}
}

static uint64_t test_seed(void)
{
	const char *e = getenv("SFSHM_SEED");

	if (e && *e)
		return strtoull(e, NULL, 0);
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

/* Everything the final consumption found. */
struct cr_seen {
	struct cr_shared *s;
	uint64_t attempts;
	uint8_t *seen; /* by seq */
	uint64_t *seq_at[CR_PARTS]; /* by offset */
	uint64_t last[CR_PARTS]; /* last seq per partition, +1 */
	int64_t total;
};

static void cr_check(const struct sfshm_record *r, void *arg)
{
	struct cr_seen *cs = arg;
	struct tval v = tv_check(r);
	int32_t p = r->partition;

	if (v.id != CR_ID || v.seq >= cs->attempts)
		fail_msg("%s-%d@%" PRId64 ": record %u/%" PRIu64
			 " was never sent",
			 CR_TOPIC, p, r->offset, v.id, v.seq);
	if (cs->seen[v.seq])
		fail_msg("%s-%d@%" PRId64 ": record %" PRIu64 " is there twice",
			 CR_TOPIC, p, r->offset, v.seq);
	if (v.seq + 1 <= cs->last[p])
		fail_msg("%s-%d@%" PRId64 ": record %" PRIu64 " after %" PRIu64
			 ": out of order",
			 CR_TOPIC, p, r->offset, v.seq, cs->last[p] - 1);
	cs->seen[v.seq] = 1;
	cs->last[p] = v.seq + 1;
	cs->seq_at[p][r->offset] = v.seq;
	cs->total++;
}

/* Wait until the daemon persisted everything committed; read the ends. */
static void cr_settle(const struct fx *f, int64_t *ends)
{
	struct sfshm_client *c = xconnect(f);
	uint64_t deadline = T_DEADLINE(SCALED(POLL_MS));

	for (;;) {
		struct sfshm_topic_info *ti = describe(c, CR_TOPIC);
		bool done = true;

		for (uint32_t p = 0; p < CR_PARTS; p++) {
			struct sfshm_partition_info *pi = &ti->partitions[p];

			done &= pi->ring_written == pi->ring_tail;
			ends[p] = pi->log_end;
			assert_int_equal(pi->log_start, 0);
		}
		sfshm_topic_info_free(ti);
		if (done)
			break;
		if (t_now_ms() > deadline)
			fail_msg("the daemon does not persist the rings");
		t_sleep_us(1000);
	}
	sfshm_disconnect(c);
}

static void cr_verify(const struct fx *f, struct cr_shared *s)
{
	struct cr_seen cs = { .s = s, .attempts = s->attempts };
	int64_t ends[CR_PARTS];
	uint32_t nacks = cr_nacks(s);

	cr_settle(f, ends);
	cs.seen = calloc(cs.attempts + 1, 1);
	assert_non_null(cs.seen);
	for (uint32_t p = 0; p < CR_PARTS; p++) {
		cs.seq_at[p] = calloc((size_t)ends[p] + 1, sizeof(uint64_t));
		assert_non_null(cs.seq_at[p]);
	}
	consume_all(f, CR_TOPIC, CR_PARTS, ends, cr_check, &cs);
	for (uint32_t i = 0; i < nacks; i++) {
		const struct cr_ack *a = &s->acks[i];

		if (a->partition < 0 || a->partition >= CR_PARTS ||
		    a->offset < 0 || a->offset >= ends[a->partition] ||
		    cs.seq_at[a->partition][a->offset] != a->seq)
			fail_msg("acknowledged record %" PRIu64
				 " (%s-%d@%" PRId64 ") is not there",
				 a->seq, CR_TOPIC, a->partition, a->offset);
	}
	printf("  crash rounds: %d, %" PRIu64 " sends, %u acknowledged, "
	       "all present exactly once; %" PRId64
	       " unacknowledged also persisted\n",
	       CR_ROUNDS, cs.attempts, nacks, cs.total - (int64_t)nacks);
	for (uint32_t p = 0; p < CR_PARTS; p++)
		free(cs.seq_at[p]);
	free(cs.seen);
}

static void cr_print_errors(const struct cr_shared *s)
{
	printf("  producer: %u (re)opens, %u restarts noticed by a probe; "
	       "errors:",
	       s->reopens, s->probe_fails);
	for (int i = 0; i < CR_NERR && s->err_code[i]; i++)
		printf(" %s x%u", strerror(-s->err_code[i]), s->err_count[i]);
	printf("\n");
}

static void test_crash_durable(void **state)
{
	struct fx *f = *state;
	struct cr_shared *s = t_shared_alloc(sizeof(*s));
	uint64_t seed = test_seed(), rng = seed | 1;
	pid_t kid;
	int st;

	printf("  crash rounds: seed %" PRIu64 " (SFSHM_SEED to replay)\n",
	       seed);
	snprintf(s->run_dir, sizeof(s->run_dir), "%s", f->d.run_dir);
	daemon_start(f);
	topic_create(f, CR_TOPIC, CR_PARTS, 1u << 20, 0);
	kid = kid_start(f, cr_producer, s);
	for (int round = 0; round < CR_ROUNDS; round++) {
		uint64_t ms = t_rand(&rng) % (CR_KILL_MS + 1);
		uint64_t down = t_rand(&rng) % (CR_DOWN_MS + 1);

		cr_wait_progress(f, s, kid, cr_nacks(s), round);
		t_sleep_us(ms * 1000); /* the random moment */
		daemon_kill(f);
		t_sleep_us(down * 1000); /* a random time down */
		daemon_start(f);
	}
	cr_wait_progress(f, s, kid, cr_nacks(s), CR_ROUNDS);
	/* Release: pairs with the acquire in cr_stopping(). */
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	st = kid_wait(f, kid, SCALED(CHILD_MS));
	cr_print_errors(s);
	if (st != 0)
		fail_msg("producer exited with %d: %s", st,
			 t_note_msg(&s->note));
	cr_verify(f, s);
	printf("  crash rounds: %d of %d adoptions found records written "
	       "past the anchor (killed between log write and anchor)\n",
	       log_lines(f, "adopted ring", false) -
		       log_lines(f, "adopted ring: 0 records", false),
	       log_lines(f, "adopted ring", false));
	daemon_term(f);
	assert_run_dir_empty(f);
	munmap(s, sizeof(*s));
}

/* ---- 3. adoption of rings a killed daemon left -------------------------- */

/*
 * A producer with acks=none fills two 16 MiB rings: phase A while the
 * persister runs (SIGSTOP lands as soon as it is seen behind: possibly
 * between a log write and the anchor), phase B while the daemon is
 * stopped, SIGKILL, phase C while it is dead (the rings stay mapped).
 * The restarted daemon must adopt both rings (it says so) and persist
 * every record exactly once: dense offsets, every sequence number once.
 */

#define AD_TOPIC "adopt"
#define AD_PARTS 2
#define AD_RING (16u << 20)
#define AD_NA 60000 /* while the persister runs */
#define AD_NB 20000 /* while the daemon is stopped */
#define AD_NC 20000 /* while it is dead */
#define AD_ID 3

struct ad_shared {
	char run_dir[128];
	uint32_t go; /* parent -> child: phase allowed */
	uint32_t done; /* child -> parent: phase finished */
	uint32_t leave;
	struct t_note note;
};

static uint32_t load_acq(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_rel(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Child: wait until *@w >= @v (deadline).  Return: 0 or -1. */
static int kid_wait_flag(const uint32_t *w, uint32_t v)
{
	uint64_t deadline = T_DEADLINE(SCALED(CHILD_MS));

	while (load_acq(w) < v) {
		if (t_now_ms() > deadline)
			return -1;
		t_sleep_us(200);
	}
	return 0;
}

static int ad_send(struct ad_shared *s, struct sfshm_producer *p, uint64_t from,
		   uint64_t to)
{
	uint8_t val[sizeof(struct tval) + 40];
	uint64_t key;
	struct sfshm_rec rec = { .key = &key,
				 .key_len = sizeof(key),
				 .value = val };

	for (uint64_t seq = from; seq < to; seq++) {
		int err;

		key = seq;
		rec.value_len = tv_fill(val, AD_ID, seq, 0, 40);
		err = sfshm_producer_send(p, (int32_t)(seq % AD_PARTS), &rec,
					  NULL);
		if (err) {
			t_note_set(&s->note, "send %" PRIu64 ": %s", seq,
				   sfshm_strerror(err));
			return -1;
		}
	}
	return 0;
}

static int ad_producer(void *arg)
{
	static const uint64_t ends[] = { AD_NA, AD_NA + AD_NB,
					 AD_NA + AD_NB + AD_NC };
	struct ad_shared *s = arg;
	struct sfshm_client *c = NULL;
	struct sfshm_producer *p = NULL;
	struct sfshm_producer_opts o = { .size = sizeof(o),
					 .acks = SFSHM_ACKS_NONE,
					 .timeout_ms = SCALED(10000) };
	int err = try_connect(s->run_dir, &c);

	if (!err)
		err = sfshm_producer_open(c, AD_TOPIC, &o, &p);
	if (err) {
		t_note_set(&s->note, "producer: %s", sfshm_strerror(err));
		return 1;
	}
	for (uint32_t ph = 0; ph < 3; ph++) {
		if (kid_wait_flag(&s->go, ph + 1) ||
		    ad_send(s, p, ph ? ends[ph - 1] : 0, ends[ph]))
			return 2;
		store_rel(&s->done, ph + 1);
	}
	/* Keep the rings mapped until the restarted daemon adopted them. */
	if (kid_wait_flag(&s->leave, 1))
		return 3;
	sfshm_producer_close(p); /* its client is dead: detach fails */
	sfshm_disconnect(c);
	return 0;
}

/* Map partition @p's ring from the run dir as a reader, to watch it. */
static struct sfshm_ring *watch_ring(const struct fx *f, const char *topic,
				     uint32_t p)
{
	char path[PATH_MAX];
	struct sfshm_ring *r = NULL;
	int rfd, cfd;

	snprintf(path, sizeof(path), "%s/%s-%u.ring", f->d.run_dir, topic, p);
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/%s-%u.ctl", f->d.run_dir, topic, p);
	cfd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(rfd >= 0 && cfd >= 0);
	assert_int_equal(sfshm_ring_map(rfd, cfd, SFSHM_ROLE_READER, &r), 0);
	close(rfd);
	close(cfd);
	return r;
}

/* Are all threads of @pid stopped (state T)? */
static bool all_threads_stopped(pid_t pid)
{
	char path[320], buf[512];
	struct dirent *e;
	DIR *d;
	bool all = true;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (all && (e = readdir(d))) {
		char *p;
		FILE *fp;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid,
			 e->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		buf[0] = '\0';
		if (!fgets(buf, sizeof(buf), fp))
			buf[0] = '\0';
		fclose(fp);
		p = strrchr(buf, ')');
		all = p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
	}
	closedir(d);
	return all;
}

/* SIGSTOP the daemon and wait until every thread of it is stopped. */
static void daemon_freeze(const struct fx *f)
{
	uint64_t deadline = T_DEADLINE(SCALED(5000));

	assert_int_equal(kill(f->d.pid, SIGSTOP), 0);
	while (!all_threads_stopped(f->d.pid)) {
		if (t_now_ms() > deadline)
			fail_msg("sfshmd does not stop on SIGSTOP");
		t_sleep_us(100);
	}
}

/*
 * With the daemon stopped: records of partition @p in its log file past
 * the ring's anchor (written, the anchor not moved yet), or 0.
 */
static int64_t ad_past_anchor(const struct fx *f, struct sfshm_ring *w,
			      uint32_t p)
{
	char seg[PATH_MAX];
	struct batch_walk bw;
	unsigned nsegs;
	int64_t base, off;
	uint64_t pos;

	if (sfshm_ring_anchor(w, &pos, &off))
		return 0; /* stopped while publishing it */
	seg_last(f, AD_TOPIC, p, seg, sizeof(seg), &base, &nsegs);
	seg_walk(seg, base, &bw);
	return bw.end > off ? bw.end - off : 0;
}

static int64_t ad_all_past_anchor(const struct fx *f, struct sfshm_ring **w)
{
	int64_t n = 0;

	for (uint32_t p = 0; p < AD_PARTS; p++)
		n += ad_past_anchor(f, w[p], p);
	return n;
}

static bool ad_behind(struct sfshm_ring **w)
{
	for (uint32_t p = 0; p < AD_PARTS; p++)
		if (sfshm_ring_written(w[p]) < sfshm_ring_tail(w[p]))
			return true;
	return false;
}

/*
 * SIGSTOP the daemon while its persister works through phase A, until it
 * is caught between a log write and the anchor that follows it (the log
 * holds records past the anchor: adoption must skip exactly those); after
 * each miss SIGCONT and try again.  If the persister catches up first,
 * stop it anyway.
 * Return: records in the logs past the anchors when stopped.
 */
static int64_t ad_freeze(const struct fx *f, struct ad_shared *s,
			 struct sfshm_ring **w, int *tries)
{
	uint64_t deadline = T_DEADLINE(SCALED(CHILD_MS));
	int64_t past;

	for (;;) {
		bool behind = ad_behind(w);

		if (!behind && load_acq(&s->done) >= 1)
			break;
		if (t_now_ms() > deadline)
			fail_msg("producer phase A: %s", t_note_msg(&s->note));
		if (!behind)
			continue;
		daemon_freeze(f);
		++*tries;
		past = ad_all_past_anchor(f, w);
		if (past)
			return past;
		kill(f->d.pid, SIGCONT);
		t_sleep_us((uint64_t)(*tries * 97 % 500)); /* vary the moment */
	}
	daemon_freeze(f);
	++*tries;
	return ad_all_past_anchor(f, w);
}

/* The restarted daemon's count of records it found past the anchors. */
static int64_t ad_adopted_skips(const struct fx *f)
{
	char *buf = daemon_log(f), *at = buf;
	int64_t sum = 0;
	long long n;

	while ((at = strstr(at, "adopted ring: "))) {
		at += strlen("adopted ring: ");
		if (sscanf(at, "%lld records already", &n) == 1)
			sum += n;
	}
	free(buf);
	return sum;
}

static void kid_wait_done(struct ad_shared *s, uint32_t v)
{
	if (kid_wait_flag(&s->done, v))
		fail_msg("producer phase %u: %s", v, t_note_msg(&s->note));
}

struct ad_seen {
	uint64_t next[AD_PARTS];
};

static void ad_check(const struct sfshm_record *r, void *arg)
{
	struct ad_seen *a = arg;
	struct tval v = tv_check(r);
	int32_t p = r->partition;

	if (v.id != AD_ID || v.seq != a->next[p])
		fail_msg("%s-%d@%" PRId64 ": record %" PRIu64
			 ", expected %" PRIu64 " (duplicate or gap)",
			 AD_TOPIC, p, r->offset, v.seq, a->next[p]);
	a->next[p] += AD_PARTS;
}

static void test_adopt_unpersisted(void **state)
{
	struct fx *f = *state;
	struct ad_shared *s = t_shared_alloc(sizeof(*s));
	struct sfshm_ring *w[AD_PARTS];
	uint64_t wr[AD_PARTS], left = 0;
	struct ad_seen seen = { { 0, 1 } };
	int64_t n[AD_PARTS], past;
	int tries = 0;
	pid_t kid;

	snprintf(s->run_dir, sizeof(s->run_dir), "%s", f->d.run_dir);
	daemon_start(f);
	topic_create(f, AD_TOPIC, AD_PARTS, AD_RING, 0);
	for (uint32_t p = 0; p < AD_PARTS; p++)
		w[p] = watch_ring(f, AD_TOPIC, p);
	kid = kid_start(f, ad_producer, s);
	store_rel(&s->go, 1);
	past = ad_freeze(f, s, w, &tries);
	kid_wait_done(s, 1);
	for (uint32_t p = 0; p < AD_PARTS; p++)
		wr[p] = sfshm_ring_written(w[p]);
	store_rel(&s->go, 2); /* phase B: committed, the daemon stopped */
	kid_wait_done(s, 2);
	for (uint32_t p = 0; p < AD_PARTS; p++) {
		assert_int_equal(sfshm_ring_written(w[p]), wr[p]);
		assert_true(sfshm_ring_tail(w[p]) > wr[p]);
		left += sfshm_ring_tail(w[p]) - wr[p];
	}
	daemon_kill(f);
	store_rel(&s->go, 3); /* phase C: the daemon is dead */
	kid_wait_done(s, 3);
	printf("  adopt: SIGSTOP #%d found %" PRId64
	       " records in the logs past the anchors%s; %" PRIu64
	       " ring bytes unpersisted at the SIGKILL (+%d records after)\n",
	       tries, past,
	       past ? "" : " (never caught between write and anchor)", left,
	       AD_NC);
	daemon_start(f);
	if (log_lines(f, "adopted ring", true) != AD_PARTS) {
		t_daemon_print_log(&f->d);
		fail_msg(
			"the restarted daemon does not say it adopted %d rings",
			AD_PARTS);
	}
	/* The records past the anchor were seen (more may have been written
	 * after we looked, by I/O already in flight). */
	if (ad_adopted_skips(f) < past)
		fail_msg("the log held %" PRId64 " records past the anchors, "
			 "adoption skipped %" PRId64,
			 past, ad_adopted_skips(f));
	for (uint32_t p = 0; p < AD_PARTS; p++)
		n[p] = (AD_NA + AD_NB + AD_NC) / AD_PARTS;
	consume_all(f, AD_TOPIC, AD_PARTS, n, ad_check, &seen);
	store_rel(&s->leave, 1);
	assert_int_equal(kid_wait(f, kid, SCALED(CHILD_MS)), 0);
	for (uint32_t p = 0; p < AD_PARTS; p++)
		sfshm_ring_unmap(w[p]);
	daemon_term(f);
	assert_run_dir_empty(f);
	munmap(s, sizeof(*s));
}

/* ---- 4. producers killed or stopped inside a claim ---------------------- */

/*
 * B commits steadily on partition 0 through claims, so that the ring
 * position of each of its records is known.  A claims and dies of SIGKILL:
 * with producer.unblock.ms far away, only noticing the death can let the
 * reader pass the hole; measured from A's reaping to the reader getting
 * B's first record after the hole.  C claims and SIGSTOPs itself with
 * producer.unblock.ms=200: the partition resumes no earlier than that and
 * not much later, and C's commit after SIGCONT fails with -ECANCELED.
 * Neither hole ever reaches the reader; B's records all do, in order.
 */

#define HO_MAX (1u << 16) /* records of the steady producer, at most */
#define HO_UNBLOCK_MS 200
/* While a death is measured: far longer than any test, so that only the
 * death can end the hole. */
#define HO_NEVER_MS 600000
#define HO_DEAD_MS 100 /* the partition resumes within this (scaled) */
#define HO_B 'B'
#define HO_A 'A'
#define HO_C 'C'

struct ho_shared {
	char run_dir[128];
	char topic[32];
	uint32_t b_stop;
	uint32_t b_count; /* B's records committed */
	uint64_t hole_pos; /* the claim left open */
	uint64_t t_claim_ns; /* taken just before that claim */
	uint64_t unblock_ns; /* the daemon's producer.unblock.ms */
	uint32_t claimed;
	uint32_t go_die;
	int32_t commit_rc; /* the stalled producer's commit */
	struct t_note note;
	uint64_t b_pos[HO_MAX]; /* ring position of each of B's records */
};

static int ho_open(struct ho_shared *s, struct sfshm_client **c,
		   struct sfshm_producer **p, const char *who)
{
	struct sfshm_producer_opts o = { .size = sizeof(o),
					 .acks = SFSHM_ACKS_NONE,
					 .timeout_ms = SCALED(10000) };
	int err = try_connect(s->run_dir, c);

	if (!err)
		err = sfshm_producer_open(*c, s->topic, &o, p);
	if (err)
		t_note_set(&s->note, "%s: open: %s", who, sfshm_strerror(err));
	return err;
}

/* Claim a record on partition 0 to fill in place. */
static int ho_claim(struct sfshm_producer *p, struct sfshm_claim *cl)
{
	struct sfshm_rec rec = { .key_len = -1,
				 .value_len = (int32_t)sizeof(struct tval) };

	return sfshm_producer_claim(p, 0, &rec, cl);
}

/* B: commits records steadily through claims, to know their positions. */
static int ho_steady(void *arg)
{
	struct ho_shared *s = arg;
	struct sfshm_client *c;
	struct sfshm_producer *p;

	if (ho_open(s, &c, &p, "B"))
		return 1;
	for (uint32_t seq = 0; seq < HO_MAX && !load_acq(&s->b_stop); seq++) {
		struct sfshm_claim cl;
		int err = ho_claim(p, &cl);

		if (err >= 0) {
			tv_fill(cl.value, HO_B, seq, cl.pos, 0);
			err = sfshm_producer_commit(p, 0, &cl, NULL);
		}
		if (err < 0) {
			t_note_set(&s->note, "B: record %u: %s", seq,
				   sfshm_strerror(err));
			return 2;
		}
		s->b_pos[seq] = cl.pos;
		store_rel(&s->b_count, seq + 1);
		t_sleep_us(300); /* a steady pace */
	}
	sfshm_producer_close(p);
	sfshm_disconnect(c);
	return 0;
}

/* Claim, publish where, and tell the parent. */
static int ho_claim_hole(struct ho_shared *s, struct sfshm_producer *p,
			 struct sfshm_claim *cl, uint32_t id)
{
	uint64_t t = t_now_ns();
	int err = ho_claim(p, cl);

	if (err < 0) {
		t_note_set(&s->note, "%c: claim: %s", id, sfshm_strerror(err));
		return err;
	}
	tv_fill(cl->value, id, 0, cl->pos, 0);
	s->hole_pos = cl->pos;
	s->t_claim_ns = t;
	store_rel(&s->claimed, 1);
	return 0;
}

/* A: claims, then dies by SIGKILL before committing. */
static int ho_dead(void *arg)
{
	struct ho_shared *s = arg;
	struct sfshm_client *c;
	struct sfshm_producer *p;
	struct sfshm_claim cl;

	if (ho_open(s, &c, &p, "A") || ho_claim_hole(s, p, &cl, HO_A))
		return 1;
	if (kid_wait_flag(&s->go_die, 1))
		return 2;
	kill(getpid(), SIGKILL);
	return 3;
}

/* C: claims, stops itself; after SIGCONT its commit must be revoked. */
static int ho_stalled(void *arg)
{
	struct ho_shared *s = arg;
	struct sfshm_client *c;
	struct sfshm_producer *p;
	struct sfshm_claim cl;
	uint8_t val[sizeof(struct tval)];
	struct sfshm_rec rec = { .key_len = -1, .value = val };
	int err;

	if (ho_open(s, &c, &p, "C") || ho_claim_hole(s, p, &cl, HO_C))
		return 1;
	kill(getpid(), SIGSTOP);
	s->commit_rc = sfshm_producer_commit(p, 0, &cl, NULL);
	/* Send it again, as the API says. */
	rec.value_len = tv_fill(val, HO_C, 1, 0, 0);
	err = sfshm_producer_send(p, 0, &rec, NULL);
	if (err) {
		t_note_set(&s->note, "C: send again: %s", sfshm_strerror(err));
		return 2;
	}
	sfshm_producer_close(p);
	sfshm_disconnect(c);
	return 0;
}

static uint32_t ho_b_count(struct ho_shared *s)
{
	return load_acq(&s->b_count);
}

/* Wait until B committed a record past the hole.  Return: the last of B's
 * records before the hole (B's first one is never after it). */
static uint32_t ho_last_before(struct ho_shared *s)
{
	uint64_t deadline = T_DEADLINE(SCALED(5000));
	uint32_t n, i;

	while ((n = ho_b_count(s)) == 0 || s->b_pos[n - 1] < s->hole_pos) {
		if (t_now_ms() > deadline)
			fail_msg("B stalls: %s", t_note_msg(&s->note));
		t_sleep_us(100);
	}
	for (i = n - 1; i > 0 && s->b_pos[i] > s->hole_pos; i--)
		;
	assert_true(s->b_pos[i] < s->hole_pos);
	return i;
}

struct ho_reader {
	struct sfshm_client *c;
	struct sfshm_consumer *cons;
	uint32_t next_b; /* B's next record */
	uint32_t c_resent; /* C's record sent again, seen */
	int64_t next_off;
};

/* Read one record and check it.  Return: its tval. */
static struct tval ho_read(struct ho_reader *h, const char *what)
{
	struct sfshm_record r;
	struct tval v;

	poll_one(h->cons, &r, T_DEADLINE(SCALED(POLL_MS)), what);
	v = tv_check(&r);
	if (r.offset != h->next_off)
		fail_msg("%s: offset %" PRId64 ", expected %" PRId64, what,
			 r.offset, h->next_off);
	h->next_off++;
	if (v.id == HO_C && v.seq == 1 && !h->c_resent) {
		h->c_resent = 1;
		return v;
	}
	if (v.id != HO_B || v.seq != h->next_b)
		fail_msg("%s: record %c/%" PRIu64 ", expected B/%u", what,
			 (char)v.id, v.seq, h->next_b);
	h->next_b++;
	return v;
}

/* Read B's records up to @last, then the hole must block (unless the
 * unblock timeout passed already: only on a badly overloaded machine). */
static void ho_read_to_hole(struct ho_shared *s, struct ho_reader *h,
			    uint32_t last)
{
	struct sfshm_record r;

	while (h->next_b <= last)
		ho_read(h, "before the hole");
	if (t_now_ns() - s->t_claim_ns < s->unblock_ns)
		assert_int_equal(sfshm_consumer_poll(h->cons, &r, 0), 0);
}

/* Read the first record after the hole.  Return: when, in ns. */
static uint64_t ho_read_after_hole(struct ho_reader *h, uint32_t last)
{
	struct tval v = ho_read(h, "after the hole");
	uint64_t t = t_now_ns();

	assert_int_equal(v.id, HO_B);
	assert_int_equal(v.seq, last + 1);
	return t;
}

/* Wait for @pid's exit precisely (pidfd), reap it.  As t_wait_child(). */
static int wait_exit(struct fx *f, pid_t pid, int ms)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd >= 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, ms);

		close(fd);
		if (n <= 0)
			return kid_wait(f, pid, 0);
	}
#endif
	return kid_wait(f, pid, ms);
}

/* A producer SIGKILLed in a claim: how soon do readers pass its hole? */
static double ho_dead_producer(struct fx *f, struct ho_shared *s,
			       struct ho_reader *h)
{
	uint64_t t0, t1;
	uint32_t last;
	pid_t a;
	int st;

	s->claimed = 0;
	a = kid_start(f, ho_dead, s);
	if (kid_wait_flag(&s->claimed, 1))
		fail_msg("A does not claim: %s", t_note_msg(&s->note));
	last = ho_last_before(s);
	ho_read_to_hole(s, h, last);
	store_rel(&s->go_die, 1);
	st = wait_exit(f, a, SCALED(CHILD_MS));
	t0 = t_now_ns();
	if (st != 128 + SIGKILL)
		fail_msg("A: status %d: %s", st, t_note_msg(&s->note));
	t1 = ho_read_after_hole(h, last);
	return (double)(t1 - t0) / 1e6;
}

/* A producer SIGSTOPped in a claim: revoked after producer.unblock.ms. */
static double ho_stalled_producer(struct fx *f, struct ho_shared *s,
				  struct ho_reader *h)
{
	uint64_t t1;
	uint32_t last;
	pid_t c;

	s->claimed = 0;
	c = kid_start(f, ho_stalled, s);
	if (kid_wait_flag(&s->claimed, 1))
		fail_msg("C does not claim: %s", t_note_msg(&s->note));
	assert_true(t_wait_state(c, 'T', SCALED(5000)));
	last = ho_last_before(s);
	ho_read_to_hole(s, h, last);
	t1 = ho_read_after_hole(h, last);
	kill(c, SIGCONT);
	assert_int_equal(kid_wait(f, c, SCALED(CHILD_MS)), 0);
	assert_int_equal(s->commit_rc, -ECANCELED);
	return (double)(t1 - s->t_claim_ns) / 1e6;
}

/* Start the daemon, a topic, the reader and the steady producer B. */
static pid_t ho_begin(struct fx *f, struct ho_shared *s, struct ho_reader *h,
		      const char *topic, int unblock_ms)
{
	static char arg[64];
	pid_t b;

	memset(s, 0, sizeof(*s));
	memset(h, 0, sizeof(*h));
	snprintf(s->run_dir, sizeof(s->run_dir), "%s", f->d.run_dir);
	snprintf(s->topic, sizeof(s->topic), "%s", topic);
	s->unblock_ns = (uint64_t)unblock_ms * 1000000;
	snprintf(arg, sizeof(arg), "--producer.unblock.ms=%d", unblock_ms);
	f->d.extra[0] = arg;
	daemon_start(f);
	topic_create(f, topic, 1, 4u << 20, 0);
	h->c = xconnect(f);
	h->cons = consumer_open(h->c, topic, 0);
	b = kid_start(f, ho_steady, s);
	while (ho_b_count(s) < 10) { /* B runs: its first record is first */
		if (t_proc_gone(b))
			fail_msg("B: %s", t_note_msg(&s->note));
		t_sleep_us(200);
	}
	return b;
}

/* Stop B, read the rest (each record once, in order), stop the daemon. */
static void ho_end(struct fx *f, struct ho_shared *s, struct ho_reader *h,
		   pid_t b, bool resent)
{
	store_rel(&s->b_stop, 1);
	assert_int_equal(kid_wait(f, b, SCALED(CHILD_MS)), 0);
	while (h->next_b < ho_b_count(s) || h->c_resent != resent)
		ho_read(h, "the rest");
	assert_int_equal(sfshm_consumer_at_end(h->cons), 1);
	sfshm_consumer_close(h->cons);
	sfshm_disconnect(h->c);
	daemon_term(f);
	assert_run_dir_empty(f);
}

static void test_dead_and_stalled_producer(void **state)
{
	struct fx *f = *state;
	struct ho_shared *s = t_shared_alloc(sizeof(*s));
	struct ho_reader h;
	double dead_ms, stall_ms;
	pid_t b;

	b = ho_begin(f, s, &h, "holes-dead", HO_NEVER_MS);
	dead_ms = ho_dead_producer(f, s, &h);
	printf("  dead producer: the partition resumed %.2f ms after its "
	       "death (limit %d ms)\n",
	       dead_ms, SCALED(HO_DEAD_MS));
	assert_true(dead_ms < SCALED(HO_DEAD_MS));
	ho_end(f, s, &h, b, false);
	assert_int_equal(log_lines(f, "(dead producer", true), 1);

	b = ho_begin(f, s, &h, "holes-stalled", HO_UNBLOCK_MS);
	stall_ms = ho_stalled_producer(f, s, &h);
	printf("  stalled producer: the partition resumed %.1f ms after its "
	       "claim (producer.unblock.ms=%d); its commit: %s\n",
	       stall_ms, HO_UNBLOCK_MS, strerror(-s->commit_rc));
	/* Never before producer.unblock.ms; the persister may notice the
	 * stuck frame a quarter of it late (persist.c, stuck_poll_ns()). */
	assert_true(stall_ms >= HO_UNBLOCK_MS);
	if (stall_ms >= HO_UNBLOCK_MS * 5 / 4 + SCALED(100))
		fail_msg("a claim stalled for %.1f ms before it was revoked "
			 "(producer.unblock.ms=%d)",
			 stall_ms, HO_UNBLOCK_MS);
	ho_end(f, s, &h, b, true);
	assert_int_equal(log_lines(f, "(stalled producer", true), 1);
	assert_int_equal(log_lines(f, "(dead producer", false), 1);
	munmap(s, sizeof(*s));
}

/* ---- 5. recovery of damaged logs ---------------------------------------- */

/*
 * A log of 16 KiB segments; after each SIGKILL: (a) garbage appended to the
 * last segment, (b) its last batch (10 records) cut in half, (c) the
 * .index of the first and of the last segment deleted.  Each restart must
 * serve every record of an intact batch, give the next records the offsets
 * right after the cut, and rebuild the indexes.
 */

#define RC_TOPIC "recover"
#define RC_SEG 16384
#define RC_MAX 1024
#define RC_ID 5

struct rc_state {
	int64_t seq_at[RC_MAX]; /* offset -> seq */
	int64_t n; /* records in the log */
	uint64_t seq; /* next seq to send */
	int64_t next; /* during a check */
};

/* Send @k records, one by one or as one batch, with acks=written. */
static void rc_produce(const struct fx *f, struct rc_state *st, unsigned k,
		       bool batch)
{
	struct sfshm_client *c = xconnect(f);
	struct sfshm_producer *p =
		producer_open(c, RC_TOPIC, SFSHM_ACKS_WRITTEN);
	static uint8_t val[16][sizeof(struct tval) + 256];
	struct sfshm_rec recs[16];
	struct sfshm_delivery d;

	assert_true(k <= 16 || !batch);
	for (unsigned i = 0; i < k; i++) {
		unsigned j = batch ? i : 0;
		uint64_t seq = st->seq + i;

		recs[j] = (struct sfshm_rec){ .key_len = -1, .value = val[j] };
		recs[j].value_len = tv_fill(val[j], RC_ID, seq, 0,
					    (uint32_t)(seq * 29 % 200));
		if (batch)
			continue;
		assert_int_equal(sfshm_producer_send(p, 0, &recs[0], &d), 0);
		assert_int_equal(d.offset, st->n);
		st->seq_at[st->n++] = (int64_t)seq;
	}
	if (batch) {
		assert_int_equal(sfshm_producer_send_batch(p, 0, recs, k, &d),
				 (int)k);
		assert_int_equal(d.offset, st->n);
		for (unsigned i = 0; i < k; i++)
			st->seq_at[st->n++] = (int64_t)(st->seq + i);
	}
	st->seq += k;
	sfshm_producer_close(p);
	sfshm_disconnect(c);
}

static void rc_check(const struct sfshm_record *r, void *arg)
{
	struct rc_state *st = arg;
	struct tval v = tv_check(r);

	if (v.id != RC_ID || (int64_t)v.seq != st->seq_at[r->offset])
		fail_msg("%s@%" PRId64 ": record %" PRIu64
			 ", expected %" PRId64,
			 RC_TOPIC, r->offset, v.seq, st->seq_at[r->offset]);
}

static void rc_verify(const struct fx *f, struct rc_state *st)
{
	consume_all(f, RC_TOPIC, 1, &st->n, rc_check, st);
}

static void rc_append_garbage(const char *seg)
{
	char path[PATH_MAX + 16];
	uint8_t junk[777];
	int fd;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(0xa5 ^ i * 37);
	snprintf(path, sizeof(path), "%s.log", seg);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
}

/* Cut the last batch of the last segment in half.  Return: its records. */
static uint32_t rc_tear_tail(const char *seg, int64_t base)
{
	char path[PATH_MAX + 16];
	struct batch_walk bw;

	seg_walk(seg, base, &bw);
	assert_true(bw.pos >= 0);
	snprintf(path, sizeof(path), "%s.log", seg);
	assert_int_equal(truncate(path, bw.pos + bw.size / 2), 0);
	return bw.records;
}

static void rc_remove_index(const char *seg)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s.index", seg);
	assert_int_equal(unlink(path), 0);
}

static void test_recover_damaged_log(void **state)
{
	struct fx *f = *state;
	struct rc_state *st = calloc(1, sizeof(*st));
	char seg[PATH_MAX], first[PATH_MAX], path[PATH_MAX + 16];
	unsigned nsegs;
	uint32_t lost;
	int64_t base;

	assert_non_null(st);
	daemon_start(f);
	topic_create(f, RC_TOPIC, 1, 1u << 20, RC_SEG);
	rc_produce(f, st, 400, false);
	rc_produce(f, st, 10, true);
	rc_verify(f, st);

	/* (a) garbage after the last batch: cut, nothing lost. */
	daemon_kill(f);
	seg_last(f, RC_TOPIC, 0, seg, sizeof(seg), &base, &nsegs);
	assert_true(nsegs > 2);
	rc_append_garbage(seg);
	daemon_start(f);
	rc_verify(f, st);
	rc_produce(f, st, 10, true);
	rc_verify(f, st);

	/* (b) the last batch torn in half: its records are lost, offsets
	 * continue densely from the cut. */
	daemon_kill(f);
	seg_last(f, RC_TOPIC, 0, seg, sizeof(seg), &base, &nsegs);
	lost = rc_tear_tail(seg, base);
	assert_int_equal(lost, 10);
	st->n -= lost;
	daemon_start(f);
	rc_verify(f, st);
	rc_produce(f, st, 5, false);
	rc_verify(f, st);

	/* (c) index files deleted: rebuilt, everything readable. */
	daemon_kill(f);
	seg_last(f, RC_TOPIC, 0, seg, sizeof(seg), &base, &nsegs);
	rc_remove_index(seg);
	snprintf(first, sizeof(first), "%s/%s-0/%020d", f->d.data_dir, RC_TOPIC,
		 0);
	rc_remove_index(first);
	daemon_start(f);
	rc_verify(f, st);
	rc_produce(f, st, 5, false);
	rc_verify(f, st);
	snprintf(path, sizeof(path), "%s.index", first);
	assert_int_equal(access(path, F_OK), 0);
	printf("  recovery: %u segments; garbage cut, a torn batch of %u "
	       "records dropped, indexes rebuilt; %" PRId64 " records\n",
	       nsegs, lost, st->n);
	daemon_term(f);
	assert_run_dir_empty(f);
	free(st);
}

/* ---- 6. a second daemon is refused -------------------------------------- */

/*
 * With a daemon running, a second on its run dir and a third on its data
 * dir must exit non-zero naming the first one's pid, and leave it alone.
 */

/* Start sfshmd on @data/@run with stderr to @log; wait for its exit. */
static int run_second(const char *data, const char *run, const char *out)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char exe[PATH_MAX + 16];
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);

		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		snprintf(exe, sizeof(exe), "%s/sfshmd", t_bin_dir());
		execl(exe, "sfshmd", "--data-dir", data, "--run-dir", run,
		      (char *)NULL);
		_exit(127);
	}
	return t_wait_child(pid, SCALED(10000));
}

static bool file_has(const char *path, const char *s)
{
	char line[1024];
	FILE *fp = fopen(path, "r");
	bool found = false;

	while (fp && !found && fgets(line, sizeof(line), fp))
		found = strstr(line, s) != NULL;
	if (fp)
		fclose(fp);
	return found;
}

static void refused(const struct fx *f, const char *data, const char *run,
		    const char *what)
{
	char out[PATH_MAX], pid[32];
	int st;

	snprintf(out, sizeof(out), "%s.second.log", f->d.data_dir);
	st = run_second(data, run, out);
	snprintf(pid, sizeof(pid), "pid %d", f->d.pid);
	if (st <= 0 || st >= 128 || !file_has(out, pid) ||
	    !file_has(out, what)) {
		t_daemon_sh(&f->d, "sed 's/^/  second| /' '%s' >&2", out);
		fail_msg("a second sfshmd on the same %s: status %d, "
			 "stderr must name \"%s\"",
			 what, st, pid);
	}
	unlink(out);
}

static void test_second_daemon_refused(void **state)
{
	struct fx *f = *state;
	struct t_daemon other;
	struct sfshm_client *c;
	struct sfshm_producer *p;
	struct sfshm_consumer *cons;
	struct sfshm_record r;
	struct sfshm_rec rec = { .key_len = -1, .value = "x", .value_len = 1 };
	struct sfshm_delivery d;

	assert_int_equal(t_daemon_init(&other, "crash2"), 0);
	daemon_start(f);
	refused(f, other.data_dir, f->d.run_dir, "run dir");
	refused(f, f->d.data_dir, other.run_dir, "data dir");
	t_daemon_cleanup(&other);

	/* The first one did not notice. */
	topic_create(f, "still", 1, 1u << 20, 0);
	c = xconnect(f);
	p = producer_open(c, "still", SFSHM_ACKS_WRITTEN);
	assert_int_equal(sfshm_producer_send(p, 0, &rec, &d), 0);
	cons = consumer_open(c, "still", 0);
	poll_one(cons, &r, T_DEADLINE(SCALED(POLL_MS)), "still");
	assert_int_equal(r.offset, d.offset);
	sfshm_consumer_close(cons);
	sfshm_producer_close(p);
	sfshm_disconnect(c);
	daemon_term(f);
	assert_run_dir_empty(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_durable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_adopt_unpersisted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dead_and_stalled_producer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_damaged_log, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_second_daemon_refused,
						setup, teardown),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return t_groups_report("test_daemon_crash",
			       T_GROUP("daemon_crash", tests));
}
