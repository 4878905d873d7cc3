// SPDX-License-Identifier: MIT
/*
 * test_daemon.c - sfshmd as a process, under the conditions an operator
 * meets: a full disk, retention, hostile input on the control socket,
 * users without rights, a topic deleted under its clients, a shutdown
 * with records in flight, and a quiet daemon doing nothing.
 *
 * Every test starts its own build/sfshmd (t_daemon.h) on fresh
 * directories, with the flags it needs, and stops it with SIGTERM in the
 * teardown, where a clean exit (status 0) is part of the test.  Records
 * carry their sequence number in the first 8 bytes of the value and a
 * pattern derived from it in the rest, so that what a consumer reads can
 * be checked against what was sent: every record exactly once, in order,
 * intact.  Waits poll a condition against a deadline scaled by
 * t_slowdown(); the only timed sleeps are windows in which nothing may
 * happen (a producer held by a full disk, a daemon that stopped reading a
 * client, an idle daemon's CPU time), and they say so.
 *
 * The full-disk tests mount a small tmpfs as the data dir (root needed);
 * if that is impossible they are skipped, loudly, and the program exits
 * 77 when nothing failed.  The other tests need root for the permission
 * test only (setuid to nobody).
 *
 * TEST_DAEMON_ONLY=substring runs the matching tests only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <sfshm/sfshm.h>

#include "proto.h"
#include "t_daemon.h"
#include "t_util.h"

#define WAIT_MS 20000 /* a condition must hold within this (scaled) */
#define SEND_TIMEOUT_MS 15000 /* producers' ring-full / ack timeout */
#define VAL_MAX (64u << 10) /* largest value the tests send */
#define SMALL_RING (64u << 10)

/* Full disk: an 8 MiB file system, half of it taken by a filler. */
#define FULL_FS_OPTS "size=8m,mode=0755"
#define FILLER_BYTES (4u << 20)
#define FULL_RING (8u << 20)
#define FULL_VAL (16u << 10)

/* Retention: small segments, a small limit, a short check interval. */
#define RET_SEGMENT (64 << 10)
#define RET_BYTES (200 << 10)
#define RET_VAL 1000u
#define RET_RECORDS 2048u

#define NOBODY 65534

/* ---- fixture: one daemon per test ---------------------------------------- */

struct fx {
	struct t_daemon d;
	bool mounted; /* a tmpfs on d.data_dir */
	bool passed; /* set at the end of the test: no log dump needed */
	struct sfshm_client *c;
};

/*
 * Handles the test opened (main process), oldest first: a test that fails
 * leaves through a longjmp, and the teardown closes what it left open, so
 * that the sanitizers report real leaks only.
 */
enum { H_CLIENT, H_PRODUCER, H_CONSUMER };

static struct {
	void *h;
	int kind;
} g_handles[64];
static unsigned g_nhandles;

static void track(void *h, int kind)
{
	assert_true(g_nhandles < sizeof(g_handles) / sizeof(g_handles[0]));
	g_handles[g_nhandles].h = h;
	g_handles[g_nhandles++].kind = kind;
}

static void untrack(const void *h)
{
	for (unsigned i = 0; i < g_nhandles; i++) {
		if (g_handles[i].h != h)
			continue;
		memmove(&g_handles[i], &g_handles[i + 1],
			(g_nhandles - i - 1) * sizeof(g_handles[0]));
		g_nhandles--;
		return;
	}
}

static void prod_close(struct sfshm_producer *p)
{
	untrack(p);
	sfshm_producer_close(p);
}

static void cons_close(struct sfshm_consumer *cons)
{
	untrack(cons);
	sfshm_consumer_close(cons);
}

static void client_close(struct sfshm_client *c)
{
	untrack(c);
	sfshm_disconnect(c);
}

/* Close what is left, newest first (handles before their clients). */
static void close_tracked(void)
{
	while (g_nhandles) {
		void *h = g_handles[--g_nhandles].h;

		switch (g_handles[g_nhandles].kind) {
		case H_CLIENT:
			sfshm_disconnect(h);
			break;
		case H_PRODUCER:
			sfshm_producer_close(h);
			break;
		default:
			sfshm_consumer_close(h);
		}
	}
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || t_daemon_init(&f->d, "dmn")) {
		fprintf(stderr, "fixture: cannot make the test dirs: %s\n",
			strerror(errno));
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	int rc = 0;

	close_tracked(); /* f->c too */
	f->c = NULL;
	if (t_daemon_end(&f->d)) {
		f->passed = false;
		rc = -1;
	}
	if (!f->passed)
		t_daemon_print_log_tail(&f->d, 60);
	if (f->mounted && umount2(f->d.data_dir, MNT_DETACH) < 0) {
		fprintf(stderr, "umount %s: %s\n", f->d.data_dir,
			strerror(errno));
		rc = -1;
	}
	t_daemon_cleanup(&f->d);
	free(f);
	return rc;
}

static struct sfshm_client *connect_or_err(const struct t_daemon *d, int *err)
{
	struct sfshm_client_opts o = {
		.size = sizeof(o),
		.run_dir = d->run_dir,
		.client_id = "test_daemon",
		.timeout_ms = 5000 * t_slowdown(),
	};
	struct sfshm_client *c = NULL;

	*err = sfshm_connect(&o, &c);
	return c;
}

static struct sfshm_client *connect_ok(const struct t_daemon *d)
{
	int err;
	struct sfshm_client *c = connect_or_err(d, &err);

	if (!c)
		fail_msg("connect to %s: %s", d->run_dir, sfshm_strerror(err));
	track(c, H_CLIENT);
	return c;
}

/* Start the daemon with @flags (NULL-terminated) and connect f->c. */
static void start_with(struct fx *f, const char *const *flags)
{
	t_daemon_set_extra(&f->d, flags);
	if (t_daemon_start(&f->d))
		fail_msg("sfshmd did not start");
	f->c = connect_ok(&f->d);
}

#define START(f, ...) start_with(f, (const char *const[]){ __VA_ARGS__, NULL })

static bool daemon_alive(struct fx *f)
{
	int st;

	return f->d.pid > 0 && waitpid(f->d.pid, &st, WNOHANG) == 0;
}

/* ---- records ------------------------------------------------------------- */

static uint8_t pattern(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (i >> 8));
}

static void fill_value(uint8_t *buf, uint32_t len, uint64_t seq)
{
	memcpy(buf, &seq, sizeof(seq));
	for (uint32_t i = sizeof(seq); i < len; i++)
		buf[i] = pattern(seq, i);
}

/* The sequence number of an intact record, or fail. */
static uint64_t record_seq(const struct sfshm_record *r)
{
	const uint8_t *v = r->value;
	uint64_t seq;

	if (r->value_len < (int32_t)sizeof(seq))
		fail_msg("offset %lld: value of %d bytes", (long long)r->offset,
			 r->value_len);
	memcpy(&seq, v, sizeof(seq));
	for (uint32_t i = sizeof(seq); i < (uint32_t)r->value_len; i++)
		if (v[i] != pattern(seq, i))
			fail_msg("offset %lld (seq %llu): byte %u corrupt",
				 (long long)r->offset, (unsigned long long)seq,
				 i);
	return seq;
}

static int send_seq(struct sfshm_producer *p, int32_t part, uint64_t seq,
		    uint32_t len, struct sfshm_delivery *d)
{
	static uint8_t buf[VAL_MAX];
	struct sfshm_rec rec = { .key_len = -1,
				 .value = buf,
				 .value_len = (int32_t)len };

	fill_value(buf, len, seq);
	return sfshm_producer_send(p, part, &rec, d);
}

/* Send with an acknowledgement; it must come with offset @seq. */
static void send_acked(struct sfshm_producer *p, uint64_t seq, uint32_t len)
{
	struct sfshm_delivery d;
	int err = send_seq(p, 0, seq, len, &d);

	if (err)
		fail_msg("send seq %llu: %s", (unsigned long long)seq,
			 sfshm_strerror(err));
	assert_int_equal(d.offset, (int64_t)seq);
}

static struct sfshm_producer *
producer_ok(struct sfshm_client *c, const char *topic, enum sfshm_acks acks)
{
	struct sfshm_producer_opts o = {
		.size = sizeof(o),
		.acks = acks,
		.timeout_ms = SEND_TIMEOUT_MS * t_slowdown(),
	};
	struct sfshm_producer *p = NULL;
	int err = sfshm_producer_open(c, topic, &o, &p);

	if (err)
		fail_msg("producer_open %s: %s (%s)", topic,
			 sfshm_strerror(err), sfshm_last_error(c));
	track(p, H_PRODUCER);
	return p;
}

static struct sfshm_consumer *consumer_ok(struct sfshm_client *c,
					  enum sfshm_offset_reset reset)
{
	struct sfshm_consumer_opts o = { .size = sizeof(o), .reset = reset };
	struct sfshm_consumer *cons = NULL;

	assert_int_equal(sfshm_consumer_open(c, &o, &cons), 0);
	track(cons, H_CONSUMER);
	return cons;
}

/* A consumer assigned to @topic / @part from @offset. */
static struct sfshm_consumer *consumer_at(struct sfshm_client *c,
					  enum sfshm_offset_reset reset,
					  const char *topic, int32_t part,
					  int64_t offset)
{
	struct sfshm_consumer *cons = consumer_ok(c, reset);
	int err = sfshm_consumer_assign(cons, topic, part, offset);

	if (err)
		fail_msg("assign %s/%d at %lld: %s (%s)", topic, part,
			 (long long)offset, sfshm_strerror(err),
			 sfshm_last_error(c));
	return cons;
}

/* The next record must be offset @off holding seq @seq. */
static void expect_record(struct sfshm_consumer *cons, int64_t off,
			  uint64_t seq)
{
	struct sfshm_record r;
	int n = sfshm_consumer_poll(cons, &r, WAIT_MS * t_slowdown());

	if (n != 1)
		fail_msg("poll for offset %lld: %d (%s)", (long long)off, n,
			 n < 0 ? sfshm_strerror(n) : "timed out");
	if (r.offset != off || record_seq(&r) != seq)
		fail_msg("expected offset %lld seq %llu, got offset %lld seq "
			 "%llu",
			 (long long)off, (unsigned long long)seq,
			 (long long)r.offset,
			 (unsigned long long)record_seq(&r));
}

/* Nothing more to read (a short wait). */
static void expect_nothing(struct sfshm_consumer *cons)
{
	struct sfshm_record r;
	int n = sfshm_consumer_poll(cons, &r, 50);

	if (n != 0)
		fail_msg("expected nothing more, poll gave %d (offset %lld)", n,
			 n == 1 ? (long long)r.offset : -1LL);
}

static void create_topic(struct sfshm_client *c, const char *name,
			 const struct sfshm_topic_config *cfg)
{
	int err = sfshm_topic_create(c, name, cfg);

	if (err)
		fail_msg("create %s: %s (%s)", name, sfshm_strerror(err),
			 sfshm_last_error(c));
}

static void create_simple(struct sfshm_client *c, const char *name,
			  uint32_t parts, uint64_t ring_bytes, uint32_t mode)
{
	struct sfshm_topic_config cfg;

	sfshm_topic_config_init(&cfg);
	cfg.partitions = parts;
	cfg.ring_bytes = ring_bytes;
	cfg.mode = mode;
	create_topic(c, name, &cfg);
}

static void part_info(struct sfshm_client *c, const char *topic, uint32_t part,
		      struct sfshm_partition_info *out)
{
	struct sfshm_topic_info *ti = NULL;
	int err = sfshm_topic_describe(c, topic, &ti);

	if (err)
		fail_msg("describe %s: %s (%s)", topic, sfshm_strerror(err),
			 sfshm_last_error(c));
	assert_true(part < ti->partition_count);
	*out = ti->partitions[part];
	sfshm_topic_info_free(ti);
}

/* ---- the daemon's log ---------------------------------------------------- */

struct log_wait {
	const struct t_daemon *d;
	const char *a, *b;
};

static bool log_wait_cond(void *arg)
{
	const struct log_wait *w = arg;

	return t_daemon_log_has(w->d, w->a, w->b);
}

static bool wait_log(const struct t_daemon *d, const char *a, const char *b)
{
	struct log_wait w = { d, a, b };

	return t_wait_for(log_wait_cond, &w, WAIT_MS);
}

/* ---- files --------------------------------------------------------------- */

/* Entries of @dir other than . and ..; -1 if it does not exist. */
static int dir_entries(const char *dir, char *names, size_t len)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (names && len)
		names[0] = '\0';
	if (!dp)
		return -1;
	while ((e = readdir(dp))) {
		size_t used = names ? strlen(names) : 0;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (names && used < len)
			snprintf(names + used, len - used, " %s", e->d_name);
	}
	closedir(dp);
	return n;
}

static void write_file(const char *path, size_t bytes)
{
	static const char zeros[64 << 10];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		fail_msg("create %s: %s", path, strerror(errno));
	while (bytes) {
		size_t n = bytes < sizeof(zeros) ? bytes : sizeof(zeros);
		ssize_t w = write(fd, zeros, n);

		if (w <= 0) {
			close(fd);
			fail_msg("write %s: %s", path, strerror(errno));
		}
		bytes -= (size_t)w;
	}
	close(fd);
}

static uint64_t free_bytes(const char *dir)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) < 0)
		fail_msg("statvfs %s: %s", dir, strerror(errno));
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* ---- 1. a full disk ------------------------------------------------------ */

static const char *full_topic = "full";

/*
 * Mount an 8 MiB tmpfs as the data dir, take half of it with a filler,
 * start the daemon with disk.full.policy=@policy and create a topic whose
 * ring is larger than the space left.  Return: false if the test must be
 * skipped (no mount).
 */
static bool full_disk_setup(struct fx *f, const char *policy_flag, char *filler,
			    size_t filler_len)
{
	uint64_t left;

	if (mount("tmpfs", f->d.data_dir, "tmpfs", 0, FULL_FS_OPTS) < 0) {
		t_skip_note("cannot mount a tmpfs on %s (%s): the full-disk "
			    "tests need root",
			    f->d.data_dir, strerror(errno));
		f->passed = true;
		return false;
	}
	f->mounted = true;
	snprintf(filler, filler_len, "%s/filler", f->d.data_dir);
	write_file(filler, FILLER_BYTES);
	START(f, policy_flag);
	create_simple(f->c, full_topic, 1, FULL_RING, 0);
	left = free_bytes(f->d.data_dir);
	printf("  full disk: %llu KiB free for a ring of %u KiB\n",
	       (unsigned long long)(left >> 10), FULL_RING >> 10);
	assert_true(left < FULL_RING);
	return true;
}

/* A t_wait_for() condition on partition 0 of @topic, last seen as @pi. */
struct part_wait {
	struct sfshm_client *c;
	const char *topic;
	struct sfshm_partition_info pi;
};

/* Everything in the ring is written and published. */
static bool caught_up_cond(void *arg)
{
	struct part_wait *w = arg;

	part_info(w->c, w->topic, 0, &w->pi);
	return w->pi.ring_written == w->pi.ring_tail &&
	       w->pi.written_offset == w->pi.log_end;
}

/*
 * disk.full.policy=fail: a producer with acks=written fills the disk and
 * gets -ENOSPC, promptly; what was acknowledged stays readable; once space
 * is freed the daemon persists again by itself, the records that were
 * refused included, and new sends are acknowledged.
 */
static void test_full_disk_fail(void **state)
{
	struct fx *f = *state;
	struct part_wait w = { .topic = full_topic };
	struct sfshm_producer *p;
	struct sfshm_consumer *cons;
	struct sfshm_delivery d;
	char filler[PATH_MAX];
	uint64_t seq, acked, limit = 2ull * FULL_RING / FULL_VAL, t0 = 0, ms;
	int err = 0;

	if (!full_disk_setup(f, "--disk.full.policy=fail", filler,
			     sizeof(filler)))
		skip();
	w.c = f->c;
	p = producer_ok(f->c, full_topic, SFSHM_ACKS_WRITTEN);
	for (seq = 0; seq < limit; seq++) {
		t0 = t_now_ms();
		err = send_seq(p, 0, seq, FULL_VAL, &d);
		if (err)
			break;
		assert_int_equal(d.offset, (int64_t)seq);
	}
	ms = t_now_ms() - t0;
	acked = seq;
	if (err != -ENOSPC)
		fail_msg("after %llu acknowledged records (%llu KiB) the send "
			 "gave %d (%s), expected -ENOSPC",
			 (unsigned long long)acked,
			 (unsigned long long)(acked * FULL_VAL >> 10), err,
			 err ? sfshm_strerror(err) : "no error");
	printf("  fail policy: -ENOSPC after %llu acknowledged records "
	       "(%llu KiB), the failing send took %llu ms\n",
	       (unsigned long long)acked,
	       (unsigned long long)(acked * FULL_VAL >> 10),
	       (unsigned long long)ms);
	/* Not a hang: well within the producer's timeout. */
	assert_true(ms < (uint64_t)SEND_TIMEOUT_MS * t_slowdown() / 2);
	/* The next one is refused too, at once. */
	assert_int_equal(send_seq(p, 0, acked + 1, FULL_VAL, &d), -ENOSPC);
	/* The daemon says which partition and why. */
	assert_true(wait_log(&f->d, "full-0", "No space left on device"));

	/* What was acknowledged can be read while the disk is full. */
	cons = consumer_at(f->c, SFSHM_RESET_NONE, full_topic, 0,
			   SFSHM_OFFSET_BEGINNING);
	for (seq = 0; seq < acked; seq++)
		expect_record(cons, (int64_t)seq, seq);

	/* Free space: the daemon resumes without a restart. */
	assert_int_equal(unlink(filler), 0);
	if (!t_wait_for(caught_up_cond, &w, WAIT_MS))
		fail_msg("persisting did not resume: log end %lld written "
			 "%lld, ring tail %llu written %llu",
			 (long long)w.pi.log_end,
			 (long long)w.pi.written_offset,
			 (unsigned long long)w.pi.ring_tail,
			 (unsigned long long)w.pi.ring_written);
	/* The two refused records were in the ring: persisted now. */
	assert_int_equal(w.pi.log_end, (int64_t)acked + 2);
	for (seq = acked + 2; seq < acked + 22; seq++)
		send_acked(p, seq, FULL_VAL);
	part_info(f->c, full_topic, 0, &w.pi);
	assert_int_equal(w.pi.log_end, (int64_t)seq);
	for (uint64_t i = acked; i < seq; i++)
		expect_record(cons, (int64_t)i, i);
	expect_nothing(cons);
	assert_true(t_daemon_log_has(&f->d, "persisting again", NULL));
	cons_close(cons);
	prod_close(p);
	f->passed = true;
}

/* The blocked producer of the block-policy test (a child process). */
struct blk_shared {
	uint64_t acked;
	int err;
	struct t_note note;
};

static struct blk_shared *g_blk;
static const struct t_daemon *g_child_daemon;

/* More than the space left at first, less than the file system. */
#define BLK_RECORDS ((6u << 20) / FULL_VAL)

static int blk_producer(void *arg)
{
	struct sfshm_producer_opts o = {
		.size = sizeof(o),
		.acks = SFSHM_ACKS_WRITTEN,
		.timeout_ms = 4 * WAIT_MS * t_slowdown(),
	};
	struct sfshm_client *c;
	struct sfshm_producer *p;
	struct sfshm_delivery d;
	int err;

	(void)arg;
	c = connect_or_err(g_child_daemon, &err);
	if (!c || (err = sfshm_producer_open(c, full_topic, &o, &p))) {
		t_note_set(&g_blk->note, "producer: %s", sfshm_strerror(err));
		return 1;
	}
	for (uint64_t seq = 0; seq < BLK_RECORDS; seq++) {
		err = send_seq(p, 0, seq, FULL_VAL, &d);
		if (err || d.offset != (int64_t)seq) {
			__atomic_store_n(&g_blk->err, err, __ATOMIC_RELEASE);
			t_note_set(&g_blk->note,
				   "producer: seq %llu: %s (offset %lld)",
				   (unsigned long long)seq, sfshm_strerror(err),
				   (long long)d.offset);
			return 2;
		}
		__atomic_store_n(&g_blk->acked, seq + 1, __ATOMIC_RELEASE);
	}
	prod_close(p);
	client_close(c);
	return 0;
}

struct blk_wait {
	struct fx *f;
	pid_t pid;
};

static bool blk_stuck_cond(void *arg)
{
	struct blk_wait *w = arg;
	int st;

	return t_daemon_log_has(&w->f->d, "persist",
				"No space left on device") ||
	       waitpid(w->pid, &st, WNOHANG) != 0;
}

/*
 * disk.full.policy=block: the producer is held, never told -ENOSPC, and
 * goes on by itself when space is freed; every record arrives once.
 */
static void test_full_disk_block(void **state)
{
	struct fx *f = *state;
	struct sfshm_partition_info pi;
	struct sfshm_consumer *cons;
	struct blk_wait w = { .f = f };
	char filler[PATH_MAX];
	uint64_t held;
	int st;

	if (!full_disk_setup(f, "--disk.full.policy=block", filler,
			     sizeof(filler)))
		skip();
	g_blk = t_shared_alloc(sizeof(*g_blk));
	g_child_daemon = &f->d;
	w.pid = t_fork_clean(blk_producer, NULL);
	if (!t_wait_for(blk_stuck_cond, &w, WAIT_MS)) {
		t_wait_child(w.pid, 0);
		fail_msg("the disk never filled up (%llu records acked)",
			 (unsigned long long)g_blk->acked);
	}
	held = __atomic_load_n(&g_blk->acked, __ATOMIC_ACQUIRE);
	/* Observation window: the producer must wait, not fail. */
	t_sleep_us(500000ull * t_slowdown());
	if (waitpid(w.pid, &st, WNOHANG) != 0)
		fail_msg("the producer ended while the disk was full: %s",
			 t_note_msg(&g_blk->note));
	assert_int_equal(__atomic_load_n(&g_blk->err, __ATOMIC_ACQUIRE), 0);
	assert_int_equal(__atomic_load_n(&g_blk->acked, __ATOMIC_ACQUIRE),
			 held);
	part_info(f->c, full_topic, 0, &pi);
	assert_true(pi.ring_tail > pi.ring_written);
	printf("  block policy: producer held after %llu records (%llu KiB); "
	       "ring %llu bytes ahead of the log\n",
	       (unsigned long long)held,
	       (unsigned long long)(held * FULL_VAL >> 10),
	       (unsigned long long)(pi.ring_tail - pi.ring_written));

	assert_int_equal(unlink(filler), 0);
	st = t_wait_child(w.pid, 2 * WAIT_MS * t_slowdown());
	if (st != 0)
		fail_msg("producer exited with %d: %s", st,
			 t_note_msg(&g_blk->note));
	assert_int_equal(g_blk->acked, BLK_RECORDS);
	part_info(f->c, full_topic, 0, &pi);
	assert_int_equal(pi.log_end, BLK_RECORDS);
	cons = consumer_at(f->c, SFSHM_RESET_NONE, full_topic, 0,
			   SFSHM_OFFSET_BEGINNING);
	for (uint64_t seq = 0; seq < BLK_RECORDS; seq++)
		expect_record(cons, (int64_t)seq, seq);
	expect_nothing(cons);
	cons_close(cons);
	assert_true(t_daemon_log_has(&f->d, "persisting again", NULL));
	munmap(g_blk, sizeof(*g_blk));
	g_blk = NULL;
	f->passed = true;
}

struct end_wait {
	struct sfshm_client *c;
	const char *topic;
	int64_t want;
	struct sfshm_partition_info pi;
};

static bool log_end_reached(void *arg)
{
	struct end_wait *w = arg;

	part_info(w->c, w->topic, 0, &w->pi);
	return w->pi.log_end >= w->want && w->pi.written_offset >= w->want;
}

#define KEPT_RECORDS ((5u << 20) / FULL_VAL)

/*
 * SIGTERM while the disk is full: the daemon cannot persist everything,
 * so it exits leaving the rings for the next start.  Started again with
 * space, it must persist them and serve the topic as usual.
 */
static void test_restart_after_full_disk(void **state)
{
	struct fx *f = *state;
	struct end_wait w = { .topic = full_topic, .want = KEPT_RECORDS };
	struct sfshm_partition_info pi;
	struct sfshm_producer *p;
	struct sfshm_consumer *cons;
	char filler[PATH_MAX], names[512];
	int st;

	if (!full_disk_setup(f, "--disk.full.policy=block", filler,
			     sizeof(filler)))
		skip();
	p = producer_ok(f->c, full_topic, SFSHM_ACKS_NONE);
	for (uint64_t seq = 0; seq < KEPT_RECORDS; seq++)
		assert_int_equal(send_seq(p, 0, seq, FULL_VAL, NULL), 0);
	assert_true(wait_log(&f->d, "persist", "No space left on device"));
	part_info(f->c, full_topic, 0, &pi);
	assert_true(pi.ring_tail > pi.ring_written);
	prod_close(p);
	client_close(f->c);
	f->c = NULL;
	st = t_daemon_stop(&f->d, SIGTERM);
	assert_int_equal(st, 0);
	assert_true(t_daemon_log_has(&f->d, "could not be persisted", NULL));
	assert_true(dir_entries(f->d.run_dir, names, sizeof(names)) > 0);
	printf("  kept in the run dir:%s\n", names);

	assert_int_equal(unlink(filler), 0);
	START(f, "--disk.full.policy=block");
	w.c = f->c;
	if (!t_wait_for(log_end_reached, &w, WAIT_MS))
		fail_msg("after the restart the log ends at %lld, not %u",
			 (long long)w.pi.log_end, KEPT_RECORDS);
	assert_int_equal(w.pi.log_end, KEPT_RECORDS);
	cons = consumer_at(f->c, SFSHM_RESET_NONE, full_topic, 0,
			   SFSHM_OFFSET_BEGINNING);
	for (uint64_t seq = 0; seq < KEPT_RECORDS; seq++)
		expect_record(cons, (int64_t)seq, seq);
	p = producer_ok(f->c, full_topic, SFSHM_ACKS_WRITTEN);
	send_acked(p, KEPT_RECORDS, FULL_VAL);
	expect_record(cons, KEPT_RECORDS, KEPT_RECORDS);
	cons_close(cons);
	prod_close(p);
	f->passed = true;
}

/* ---- 2. retention -------------------------------------------------------- */

static int is_log_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 4 && !strcmp(e->d_name + n - 4, ".log");
}

/*
 * Retention is done: the segments on disk, without the oldest, are
 * within the limit (sfd_log_retain() deletes while they are not).
 */
struct ret_wait {
	struct fx *f;
	char dir[PATH_MAX];
	struct sfshm_partition_info pi;
	uint64_t total;
	int segs;
};

static bool retention_done(void *arg)
{
	struct ret_wait *w = arg;
	struct dirent **v;
	uint64_t oldest = 0;
	int n = scandir(w->dir, &v, is_log_file, alphasort);

	if (n <= 0)
		return false;
	w->total = 0;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX + 256];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", w->dir, v[i]->d_name);
		if (stat(path, &st) == 0) {
			w->total += (uint64_t)st.st_size;
			if (i == 0)
				oldest = (uint64_t)st.st_size;
		}
		free(v[i]);
	}
	free(v);
	w->segs = n;
	part_info(w->f->c, "retained", 0, &w->pi);
	return w->pi.log_start > 0 && n > 1 &&
	       w->total - oldest < (uint64_t)RET_BYTES;
}

static void test_retention(void **state)
{
	struct fx *f = *state;
	struct sfshm_topic_config cfg;
	struct sfshm_producer *p;
	struct sfshm_consumer *cons;
	struct sfshm_record r;
	struct ret_wait w = { .f = f };
	int64_t start, end, pos;

	START(f, "--log.retention.check.interval.ms=100");
	sfshm_topic_config_init(&cfg);
	cfg.ring_bytes = SMALL_RING;
	cfg.segment_bytes = RET_SEGMENT;
	cfg.retention_bytes = RET_BYTES;
	create_topic(f->c, "retained", &cfg);
	p = producer_ok(f->c, "retained", SFSHM_ACKS_WRITTEN);
	for (uint64_t seq = 0; seq < RET_RECORDS; seq++)
		assert_int_equal(send_seq(p, 0, seq, RET_VAL, NULL), 0);
	assert_int_equal(sfshm_producer_flush(p, WAIT_MS * t_slowdown()), 0);
	snprintf(w.dir, sizeof(w.dir), "%s/retained-0", f->d.data_dir);
	if (!t_wait_for(retention_done, &w, WAIT_MS))
		fail_msg("retention did not happen: log start %lld, %d "
			 "segments, %llu bytes",
			 (long long)w.pi.log_start, w.segs,
			 (unsigned long long)w.total);
	start = w.pi.log_start;
	end = w.pi.log_end;
	printf("  retention: log [%lld, %lld), %u segments, %llu bytes "
	       "kept of %u produced\n",
	       (long long)start, (long long)end, w.pi.segments,
	       (unsigned long long)w.pi.log_bytes, RET_RECORDS * RET_VAL);
	assert_int_equal(end, RET_RECORDS);
	assert_true(w.pi.log_bytes <= (uint64_t)RET_BYTES + RET_SEGMENT);

	/* NONE: offset 0 is gone, -ERANGE (sticky until a seek). */
	cons = consumer_at(f->c, SFSHM_RESET_NONE, "retained", 0, 0);
	assert_int_equal(sfshm_consumer_poll(cons, &r, 100), -ERANGE);
	assert_int_equal(sfshm_consumer_poll(cons, &r, 0), -ERANGE);
	assert_int_equal(sfshm_consumer_seek(cons, "retained", 0,
					     SFSHM_OFFSET_BEGINNING),
			 0);
	expect_record(cons, start, (uint64_t)start);
	/* Beyond the end is out of range too. */
	assert_int_equal(sfshm_consumer_seek(cons, "retained", 0, end + 100),
			 0);
	assert_int_equal(sfshm_consumer_poll(cons, &r, 100), -ERANGE);
	cons_close(cons);

	/* EARLIEST: from the log start, everything to the end. */
	cons = consumer_at(f->c, SFSHM_RESET_EARLIEST, "retained", 0, 0);
	for (int64_t off = start; off < end; off++)
		expect_record(cons, off, (uint64_t)off);
	expect_nothing(cons);
	cons_close(cons);

	/* LATEST: at the end, then the next record produced. */
	cons = consumer_at(f->c, SFSHM_RESET_LATEST, "retained", 0, 0);
	expect_nothing(cons);
	assert_int_equal(sfshm_consumer_position(cons, "retained", 0, &pos), 0);
	assert_int_equal(pos, end);
	send_acked(p, (uint64_t)end, RET_VAL);
	expect_record(cons, end, (uint64_t)end);
	cons_close(cons);
	prod_close(p);
	f->passed = true;
}

/* ---- 3. bad input -------------------------------------------------------- */

static const char *bad_names[] = { "",	     NULL /* 250 chars */, "a/b", "..",
				   "sp ace", "../../etc",	   "x\n" };
#define NBAD (sizeof(bad_names) / sizeof(bad_names[0]))

static char long_name[251];

static void init_bad_names(void)
{
	memset(long_name, 'n', 250);
	long_name[250] = '\0';
	bad_names[1] = long_name;
}

/* Every library call that takes a topic name refuses the bad ones. */
static void bad_names_library(struct sfshm_client *c)
{
	for (size_t i = 0; i < NBAD; i++) {
		struct sfshm_consumer *cons = consumer_ok(c, 0);
		struct sfshm_producer *p = NULL;
		struct sfshm_topic_info *ti = NULL;
		const char *n = bad_names[i];

		assert_int_equal(sfshm_topic_create(c, n, NULL), -EINVAL);
		assert_true(sfshm_last_error(c)[0] != '\0');
		assert_int_equal(sfshm_topic_delete(c, n), -EINVAL);
		assert_true(sfshm_last_error(c)[0] != '\0');
		assert_int_equal(sfshm_topic_describe(c, n, &ti), -EINVAL);
		assert_null(ti);
		assert_int_equal(sfshm_producer_open(c, n, NULL, &p), -EINVAL);
		assert_null(p);
		assert_int_equal(sfshm_consumer_assign(cons, n, -1, 0),
				 -EINVAL);
		cons_close(cons);
	}
}

/* A raw SOCK_SEQPACKET connection to the control socket. */
static int raw_connect(const struct t_daemon *d)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (snprintf(a.sun_path, sizeof(a.sun_path), "%.90s/sfshmd.sock",
		     d->run_dir) >= (int)sizeof(a.sun_path))
		fail_msg("run dir too long for a socket address");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail_msg("connect %s: %s", a.sun_path, strerror(errno));
	return fd;
}

static void raw_send(int fd, const void *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

	if (n != (ssize_t)len)
		fail_msg("send %zu bytes: %s", len,
			 n < 0 ? strerror(errno) : "short");
}

struct raw_reply {
	uint8_t buf[SFP_MAX_MSG];
	struct sfp_msg m;
	char errmsg[256];
};

/*
 * Receive one reply.  Return: 1 with @r filled; 0 if the daemon closed
 * the connection.  Fails on a timeout or an unparsable reply.
 */
static int raw_recv(int fd, struct raw_reply *r)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	const char *s;
	ssize_t n;

	if (poll(&pfd, 1, WAIT_MS * t_slowdown()) != 1)
		fail_msg("no reply from the daemon");
	n = recv(fd, r->buf, sizeof(r->buf), MSG_TRUNC);
	if (n <= 0)
		return 0; /* closed (0, or ECONNRESET) */
	assert_true((size_t)n <= sizeof(r->buf));
	if (sfp_parse(r->buf, (size_t)n, &r->m))
		fail_msg("the daemon sent a malformed reply (%zd bytes)", n);
	r->errmsg[0] = '\0';
	if (!sfp_get_str(&r->m.t, SFA_ERRMSG, &s))
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", s);
	return 1;
}

/* Send raw bytes; the reply must be status @status (with a message if an
 * error), or, if @may_close, the connection may be closed instead. */
static void raw_expect(int fd, const void *buf, size_t len, int status,
		       bool may_close, const char *what)
{
	struct raw_reply *r = malloc(sizeof(*r));
	char msg[256];
	int got, s;

	assert_non_null(r);
	raw_send(fd, buf, len);
	got = raw_recv(fd, r);
	s = got ? r->m.status : 0;
	snprintf(msg, sizeof(msg), "%s", got ? r->errmsg : "");
	free(r);
	if (!got && !may_close)
		fail_msg("%s: the daemon closed the connection", what);
	if (got && s != status)
		fail_msg("%s: status %d (%s), expected %d (%s)", what, s,
			 sfshm_strerror(s), status, sfshm_strerror(status));
	if (got && status && !msg[0])
		fail_msg("%s: error reply without a message", what);
	for (char *p = msg; *p; p++)
		*p = *p < ' ' ? '?' : *p;
	printf("  %-34s -> %s%s%s\n", what,
	       got ? strerror(-s) : "connection closed", msg[0] ? ": " : "",
	       msg);
}

static int msg_hello(uint8_t *buf, uint32_t cap, uint32_t seq, uint32_t ver)
{
	struct sfp_buf b;

	sfp_begin(&b, buf, cap, SFP_HELLO, seq, 0);
	sfp_put_u32(&b, SFA_VERSION, ver);
	sfp_put_str(&b, SFA_CLIENT_ID, "raw");
	return sfp_end(&b);
}

/* A raw connection that has said HELLO. */
static int raw_hello(const struct t_daemon *d)
{
	uint8_t buf[256];
	int fd = raw_connect(d);
	int n = msg_hello(buf, sizeof(buf), 1, SFP_VERSION);

	raw_expect(fd, buf, (size_t)n, 0, false, "HELLO");
	return fd;
}

static int msg_topic(uint8_t *buf, uint32_t cap, uint16_t type,
		     const char *name)
{
	struct sfp_buf b;

	sfp_begin(&b, buf, cap, type, 9, 0);
	sfp_put_str(&b, SFA_TOPIC, name);
	return sfp_end(&b);
}

/*
 * A DESCRIBE whose attribute area is @depth SFA_TOPIC_INFOs, each inside
 * the one before, around one valid SFA_PARTITION.  Return: its length.
 */
static int msg_nested(uint8_t *buf, uint32_t depth)
{
	uint32_t total = SFP_HDR_SIZE + depth * SFP_ATTR_HDR + 8, zero = 0;
	uint16_t t = SFA_TOPIC_INFO, l;
	uint8_t *p = buf + SFP_HDR_SIZE;
	struct sfp_buf b;

	sfp_begin(&b, buf, 256, SFP_TOPIC_DESCRIBE, 11, 0);
	sfp_end(&b);
	for (uint32_t i = 0; i < depth; i++) {
		l = (uint16_t)(total - SFP_HDR_SIZE - i * SFP_ATTR_HDR);
		memcpy(p, &l, 2);
		memcpy(p + 2, &t, 2);
		p += SFP_ATTR_HDR;
	}
	l = 8;
	t = SFA_PARTITION;
	memcpy(p, &l, 2);
	memcpy(p + 2, &t, 2);
	memcpy(p + 4, &zero, 4);
	memcpy(buf, &total, 4);
	return (int)total;
}

/* The daemon still answers a new client and the old one. */
static void still_serving(struct fx *f)
{
	char **names = NULL;
	struct sfshm_client *c;

	assert_true(daemon_alive(f));
	c = connect_ok(&f->d);
	assert_true(sfshm_topic_list(c, &names) >= 0);
	sfshm_free_list(names);
	client_close(c);
	assert_true(sfshm_topic_list(f->c, &names) >= 0);
	sfshm_free_list(names);
}

/* Malformed headers and attributes, on fresh connections. */
static void raw_framing(struct fx *f)
{
	uint8_t *buf = calloc(1, SFP_MAX_MSG + 1024);
	uint32_t len;
	uint16_t alen;
	int fd, n;

	assert_non_null(buf);
	/* A request before HELLO; then HELLO still works. */
	fd = raw_connect(&f->d);
	n = msg_topic(buf, 256, SFP_TOPIC_LIST, "x");
	raw_expect(fd, buf, (size_t)n, -EPROTO, false, "LIST before HELLO");
	n = msg_hello(buf, 256, 2, SFP_VERSION);
	raw_expect(fd, buf, (size_t)n, 0, false, "HELLO after that");
	close(fd);

	/* A truncated header. */
	fd = raw_connect(&f->d);
	n = msg_hello(buf, 256, 1, SFP_VERSION);
	raw_expect(fd, buf, 8, -EPROTO, true, "8-byte header");
	close(fd);

	/* Another version in the header. */
	fd = raw_connect(&f->d);
	n = msg_hello(buf, 256, 1, SFP_VERSION);
	buf[6] = SFP_VERSION + 1;
	raw_expect(fd, buf, (size_t)n, -EPROTONOSUPPORT, true,
		   "header version 2");
	close(fd);

	/* HELLO asking for another protocol version. */
	fd = raw_connect(&f->d);
	n = msg_hello(buf, 256, 1, 99);
	raw_expect(fd, buf, (size_t)n, -EPROTONOSUPPORT, true,
		   "HELLO version 99");
	close(fd);

	/* Length fields that lie. */
	fd = raw_connect(&f->d);
	n = msg_hello(buf, 256, 1, SFP_VERSION);
	len = (uint32_t)n + 100;
	memcpy(buf, &len, 4);
	raw_expect(fd, buf, (size_t)n, -EPROTO, true, "length +100");
	len = SFP_HDR_SIZE;
	memcpy(buf, &len, 4);
	raw_expect(fd, buf, (size_t)n, -EPROTO, true, "length = header only");
	len = 0xffffffffu;
	memcpy(buf, &len, 4);
	raw_expect(fd, buf, (size_t)n, -EPROTO, true, "length 4 GiB");
	close(fd);

	fd = raw_hello(&f->d);
	/* An attribute running past the end of the message. */
	n = msg_topic(buf, 256, SFP_TOPIC_DESCRIBE, "some-topic");
	alen = 200;
	memcpy(buf + SFP_HDR_SIZE, &alen, 2);
	raw_expect(fd, buf, (size_t)n, -EPROTO, true, "attribute past end");
	/* An attribute shorter than its own header. */
	n = msg_topic(buf, 256, SFP_TOPIC_DESCRIBE, "some-topic");
	alen = 2;
	memcpy(buf + SFP_HDR_SIZE, &alen, 2);
	raw_expect(fd, buf, (size_t)n, -EPROTO, true, "attribute of 2 bytes");
	/* A trailing half attribute header. */
	n = msg_topic(buf, 256, SFP_TOPIC_DESCRIBE, "some-topic");
	memset(buf + n, 0xee, 2);
	len = (uint32_t)n + 2;
	memcpy(buf, &len, 4);
	raw_expect(fd, buf, len, -EPROTO, true, "trailing 2 bytes");
	close(fd);

	/* Nesting deeper than the protocol allows. */
	fd = raw_hello(&f->d);
	n = msg_nested(buf, SFP_MAX_DEPTH + 3);
	raw_expect(fd, buf, (size_t)n, -EPROTO, true, "nesting 7 deep");
	close(fd);

	/* A message larger than the protocol's maximum. */
	fd = raw_hello(&f->d);
	memset(buf, 0, SFP_MAX_MSG + 1024);
	n = msg_topic(buf, 256, SFP_TOPIC_LIST, "x");
	len = SFP_MAX_MSG + 1024;
	memcpy(buf, &len, 4);
	raw_expect(fd, buf, len, -EPROTO, true, "message of 65 KiB");
	close(fd);

	/* An empty message. */
	fd = raw_hello(&f->d);
	raw_send(fd, buf, 0);
	{
		struct raw_reply *r = malloc(sizeof(*r));

		assert_non_null(r);
		n = raw_recv(fd, r);
		printf("  %-34s -> %s\n", "empty message",
		       n ? sfshm_strerror(r->m.status) : "connection closed");
		free(r);
	}
	close(fd);
	free(buf);
	still_serving(f);
}

/* Well-framed requests with bad contents. */
static void raw_contents(struct fx *f)
{
	uint8_t buf[1024];
	struct sfp_buf b;
	char what[80];
	int fd = raw_hello(&f->d), n;

	sfp_begin(&b, buf, sizeof(buf), 77, 3, 0);
	n = sfp_end(&b);
	raw_expect(fd, buf, (size_t)n, -EOPNOTSUPP, false, "request type 77");

	/* Bad names reach the daemon's own check. */
	for (size_t i = 0; i < NBAD; i++) {
		n = msg_topic(buf, sizeof(buf), SFP_TOPIC_CREATE, bad_names[i]);
		snprintf(what, sizeof(what), "CREATE \"%.12s%s\"", bad_names[i],
			 strlen(bad_names[i]) > 12 ? "..." : "");
		for (char *p = what; *p; p++)
			*p = *p == '\n' ? '?' : *p;
		raw_expect(fd, buf, (size_t)n, -EINVAL, false, what);
	}
	assert_false(t_path_exists("%s/a", f->d.data_dir));
	assert_false(t_path_exists("%s/etc-0", f->d.data_dir));

	/* A topic name without its NUL, and one with a NUL inside. */
	n = msg_topic(buf, sizeof(buf), SFP_TOPIC_CREATE, "abc");
	buf[SFP_HDR_SIZE + SFP_ATTR_HDR + 3] = 'd';
	raw_expect(fd, buf, (size_t)n, -EINVAL, false, "name without NUL");
	n = msg_topic(buf, sizeof(buf), SFP_TOPIC_CREATE, "abcdefg");
	buf[SFP_HDR_SIZE + SFP_ATTR_HDR + 3] = '\0';
	raw_expect(fd, buf, (size_t)n, -EINVAL, false, "NUL inside the name");
	sfp_begin(&b, buf, sizeof(buf), SFP_TOPIC_CREATE, 4, 0);
	n = sfp_end(&b);
	raw_expect(fd, buf, (size_t)n, -EINVAL, false, "CREATE without name");

	/* Settings out of range. */
	sfp_begin(&b, buf, sizeof(buf), SFP_TOPIC_CREATE, 5, 0);
	sfp_put_str(&b, SFA_TOPIC, "ranges");
	sfp_put_u32(&b, SFA_PARTITIONS, 5000);
	n = sfp_end(&b);
	raw_expect(fd, buf, (size_t)n, -EINVAL, false, "5000 partitions");
	sfp_begin(&b, buf, sizeof(buf), SFP_TOPIC_CREATE, 6, 0);
	sfp_put_str(&b, SFA_TOPIC, "ranges");
	sfp_put_u64(&b, SFA_RING_BYTES, 3);
	n = sfp_end(&b);
	raw_expect(fd, buf, (size_t)n, -EINVAL, false, "ring of 3 bytes");
	sfp_begin(&b, buf, sizeof(buf), SFP_TOPIC_CREATE, 7, 0);
	sfp_put_str(&b, SFA_TOPIC, "ranges");
	sfp_put_u32(&b, SFA_MODE, 01777);
	n = sfp_end(&b);
	raw_expect(fd, buf, (size_t)n, -EINVAL, false, "mode 01777");
	/* A setting of the wrong size is refused, not ignored. */
	sfp_begin(&b, buf, sizeof(buf), SFP_TOPIC_CREATE, 8, 0);
	sfp_put_str(&b, SFA_TOPIC, "ranges");
	sfp_put_u32(&b, SFA_RING_BYTES, 1u << 20);
	n = sfp_end(&b);
	raw_expect(fd, buf, (size_t)n, -EINVAL, false, "ring bytes as u32");
	assert_false(t_path_exists("%s/meta/ranges.topic", f->d.data_dir));

	/* ATTACH with a role that does not exist; LIST_OFFSETS half asked. */
	sfp_begin(&b, buf, sizeof(buf), SFP_ATTACH, 10, 0);
	sfp_put_str(&b, SFA_TOPIC, "nosuch");
	sfp_put_u32(&b, SFA_ROLE, 7);
	n = sfp_end(&b);
	raw_expect(fd, buf, (size_t)n, -EINVAL, false, "ATTACH role 7");
	n = msg_topic(buf, sizeof(buf), SFP_LIST_OFFSETS, "nosuch");
	raw_expect(fd, buf, (size_t)n, -EINVAL, false,
		   "LIST_OFFSETS without partition");
	close(fd);
	still_serving(f);
}

/*
 * Clients that misbehave at the socket level: one that pipelines requests
 * and never reads its replies, and many that connect and say nothing.
 * Other clients must still be served, and SIGTERM must still work.
 */
static void raw_hogs(struct fx *f)
{
	uint8_t buf[256];
	int idle[64], hog = raw_hello(&f->d), sent = 0, got = 0;
	struct raw_reply *r = malloc(sizeof(*r));
	uint32_t seq = 100;
	int n;

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		idle[i] = raw_connect(&f->d);
	/*
	 * Pipeline requests until the daemon stops taking them (our socket
	 * stays full for 200 ms): by then it has more replies for us than
	 * its socket buffer holds.
	 */
	while (sent < 20000) {
		struct pollfd pfd = { .fd = hog, .events = POLLOUT };
		struct sfp_buf b;

		sfp_begin(&b, buf, sizeof(buf), SFP_BROKER_INFO,
			  seq + (uint32_t)sent, 0);
		n = sfp_end(&b);
		if (send(hog, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) ==
		    n) {
			sent++;
			continue;
		}
		assert_int_equal(errno, EAGAIN);
		if (poll(&pfd, 1, 200) == 0)
			break;
	}
	printf("  %-34s -> %d requests queued unread\n", "pipelining client",
	       sent);
	still_serving(f);
	/* The hog's replies come, in order, once it reads them. */
	while (got < sent) {
		if (!raw_recv(hog, r))
			break;
		if (r->m.seq != seq + (uint32_t)got || r->m.status != 0)
			fail_msg("hog reply %d: seq %u status %d", got,
				 r->m.seq, r->m.status);
		got++;
	}
	printf("  %-34s -> %d replies read afterwards\n", "pipelining client",
	       got);
	assert_int_equal(got, sent);
	close(hog);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		close(idle[i]);
	free(r);
	still_serving(f);
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct sfshm_producer *p = NULL;
	struct sfshm_consumer *cons;
	struct sfshm_topic_info *ti = NULL;
	struct sfshm_delivery d;
	struct sfshm_claim claim;
	struct sfshm_partition_info pi;
	static uint8_t big[SMALL_RING + 1024];
	struct sfshm_rec rec = { .key_len = -1, .value = big };
	int32_t vmax;

	START(f, "--log-level=info");
	init_bad_names();
	bad_names_library(f->c);

	/* A record the ring cannot hold; the partition goes on. */
	create_simple(f->c, "small", 1, SMALL_RING, 0);
	p = producer_ok(f->c, "small", SFSHM_ACKS_WRITTEN);
	/* The largest frame is an eighth of the ring (ring.h). */
	rec.value_len = SMALL_RING / 8;
	while (sfshm_rec_frame_len(&rec) > SMALL_RING / 8)
		rec.value_len--;
	vmax = rec.value_len;
	rec.value_len = vmax + 1;
	assert_int_equal(sfshm_producer_send(p, 0, &rec, &d), -EMSGSIZE);
	rec.value_len = SMALL_RING;
	assert_int_equal(sfshm_producer_send(p, 0, &rec, &d), -EMSGSIZE);
	rec.value_len = sizeof(big);
	assert_int_equal(sfshm_producer_send(p, 0, &rec, NULL), -EMSGSIZE);
	assert_int_equal(sfshm_producer_send_batch(p, 0, &rec, 1, &d),
			 -EMSGSIZE);
	assert_int_equal(sfshm_producer_claim(p, 0, &rec, &claim), -EMSGSIZE);
	send_acked(p, 0, 100);
	send_acked(p, 1, (uint32_t)vmax);
	part_info(f->c, "small", 0, &pi);
	assert_int_equal(pi.log_end, 2);
	cons = consumer_at(f->c, SFSHM_RESET_NONE, "small", 0,
			   SFSHM_OFFSET_BEGINNING);
	expect_record(cons, 0, 0);
	expect_record(cons, 1, 1);
	expect_nothing(cons);
	cons_close(cons);
	prod_close(p);

	/* Unknown topics. */
	p = NULL;
	assert_int_equal(sfshm_producer_open(f->c, "nosuch", NULL, &p),
			 -ENOENT);
	assert_null(p);
	assert_non_null(strstr(sfshm_last_error(f->c), "nosuch"));
	cons = consumer_ok(f->c, SFSHM_RESET_EARLIEST);
	assert_int_equal(sfshm_consumer_assign(cons, "nosuch", -1, 0), -ENOENT);
	assert_int_equal(sfshm_consumer_assign(cons, "small", 5, 0), -ENOENT);
	cons_close(cons);
	assert_int_equal(sfshm_topic_describe(f->c, "nosuch", &ti), -ENOENT);
	assert_null(ti);
	assert_int_equal(sfshm_topic_delete(f->c, "nosuch"), -ENOENT);
	assert_non_null(strstr(sfshm_last_error(f->c), "nosuch"));

	/* An existing name. */
	assert_int_equal(sfshm_topic_create(f->c, "small", NULL), -EEXIST);
	assert_true(sfshm_last_error(f->c)[0] != '\0');
	part_info(f->c, "small", 0, &pi);
	assert_int_equal(pi.log_end, 2); /* untouched */

	raw_framing(f);
	raw_contents(f);
	raw_hogs(f);
	f->passed = true;
}

/* ---- 4. permissions ------------------------------------------------------ */

static struct t_note *g_perm_note;

#define PERM_CHECK(cond, ...)                                 \
	do {                                                  \
		if (!(cond)) {                                \
			t_note_set(g_perm_note, __VA_ARGS__); \
			return 1;                             \
		}                                             \
	} while (0)

/* As nobody: what a user without rights may and may not do. */
static int perm_child(void *arg)
{
	struct sfshm_consumer_opts co = { .size = sizeof(co) };
	struct sfshm_client *c;
	struct sfshm_producer *p = NULL;
	struct sfshm_consumer *cons = NULL;
	struct sfshm_record r;
	int err;

	(void)arg;
	PERM_CHECK(setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 &&
			   setuid(NOBODY) == 0,
		   "cannot become nobody: %s", strerror(errno));
	prctl(PR_SET_DUMPABLE, 1); /* for the sanitizers' /proc reads */
	c = connect_or_err(g_child_daemon, &err);
	PERM_CHECK(c, "connect as nobody: %s", sfshm_strerror(err));

	err = sfshm_topic_create(c, "mine", NULL);
	PERM_CHECK(err == -EACCES, "create as nobody: %d", err);
	PERM_CHECK(sfshm_last_error(c)[0], "create: no message");
	err = sfshm_topic_delete(c, "public");
	PERM_CHECK(err == -EACCES, "delete as nobody: %d", err);

	err = sfshm_producer_open(c, "private", NULL, &p);
	PERM_CHECK(err == -EACCES && !p, "produce to 0660: %d", err);
	err = sfshm_consumer_open(c, &co, &cons);
	PERM_CHECK(!err, "consumer_open: %d", err);
	err = sfshm_consumer_assign(cons, "private", -1,
				    SFSHM_OFFSET_BEGINNING);
	PERM_CHECK(err == -EACCES, "consume from 0660: %d", err);

	err = sfshm_producer_open(c, "public", NULL, &p);
	PERM_CHECK(err == -EACCES && !p, "produce to 0664: %d", err);
	err = sfshm_consumer_assign(cons, "public", 0, SFSHM_OFFSET_BEGINNING);
	PERM_CHECK(!err, "consume from 0664: %s", sfshm_strerror(err));
	for (int64_t i = 0; i < 3; i++) {
		uint64_t seq;

		err = sfshm_consumer_poll(cons, &r, WAIT_MS * t_slowdown());
		PERM_CHECK(err == 1, "poll 0664 offset %lld: %d (%s)",
			   (long long)i, err, sfshm_strerror(err));
		memcpy(&seq, r.value, sizeof(seq));
		PERM_CHECK(r.offset == i && seq == (uint64_t)i,
			   "0664: offset %lld seq %llu", (long long)r.offset,
			   (unsigned long long)seq);
	}
	cons_close(cons);
	client_close(c);
	return 0;
}

static bool nobody_attached(void *arg)
{
	struct part_wait *w = arg;

	part_info(w->c, w->topic, 0, &w->pi);
	return w->pi.producers == 0 && w->pi.consumers == 0;
}

static void test_permissions(void **state)
{
	struct fx *f = *state;
	struct part_wait w = { .topic = "public" };
	struct sfshm_producer *p;
	char why[64];
	int st;

	if (geteuid() != 0) {
		t_skip_note("not root: cannot become another user for the "
			    "permission test");
		f->passed = true;
		skip();
	}
	/* mkdtemp made them 0700: let other users reach socket and logs. */
	assert_int_equal(chmod(f->d.run_dir, 0755), 0);
	assert_int_equal(chmod(f->d.data_dir, 0755), 0);
	START(f, "--log-level=info");
	create_simple(f->c, "private", 1, SMALL_RING, 0660);
	create_simple(f->c, "public", 1, SMALL_RING, 0664);
	p = producer_ok(f->c, "public", SFSHM_ACKS_WRITTEN);
	for (uint64_t i = 0; i < 3; i++)
		send_acked(p, i, 200);
	prod_close(p);

	g_perm_note = t_shared_alloc(sizeof(*g_perm_note));
	g_child_daemon = &f->d;
	st = t_run_child(perm_child, NULL, 2 * WAIT_MS * t_slowdown());
	if (st != 0)
		fail_msg("as nobody: %s: %s",
			 t_status_str(st, why, sizeof(why)),
			 t_note_msg(g_perm_note));
	munmap(g_perm_note, sizeof(*g_perm_note));
	/* Nothing was created or deleted; the child's attachments ended
	 * with its connection. */
	assert_false(t_path_exists("%s/meta/mine.topic", f->d.data_dir));
	assert_true(t_path_exists("%s/meta/public.topic", f->d.data_dir));
	w.c = f->c;
	if (!t_wait_for(nobody_attached, &w, WAIT_MS))
		fail_msg("still attached after the client left: %u producers, "
			 "%u consumers",
			 w.pi.producers, w.pi.consumers);
	f->passed = true;
}

/* ---- 5. delete while attached -------------------------------------------- */

struct gone_wait {
	struct fx *f;
	const char *topic;
	uint32_t parts;
};

static bool topic_files_gone(void *arg)
{
	struct gone_wait *w = arg;
	const struct t_daemon *d = &w->f->d;

	if (t_path_exists("%s/meta/%s.topic", d->data_dir, w->topic))
		return false;
	for (uint32_t i = 0; i < w->parts; i++)
		if (t_path_exists("%s/%s-%u.ring", d->run_dir, w->topic, i) ||
		    t_path_exists("%s/%s-%u.ctl", d->run_dir, w->topic, i) ||
		    t_path_exists("%s/%s-%u", d->data_dir, w->topic, i))
			return false;
	return true;
}

static bool topic_files_there(struct fx *f, const char *topic, uint32_t parts)
{
	const struct t_daemon *d = &f->d;

	for (uint32_t i = 0; i < parts; i++)
		if (!t_path_exists("%s/%s-%u.ring", d->run_dir, topic, i) ||
		    !t_path_exists("%s/%s-%u.ctl", d->run_dir, topic, i) ||
		    !t_path_exists("%s/%s-%u", d->data_dir, topic, i))
			return false;
	return t_path_exists("%s/meta/%s.topic", d->data_dir, topic);
}

static void test_delete_attached(void **state)
{
	struct fx *f = *state;
	struct gone_wait w = { .f = f, .topic = "doomed", .parts = 2 };
	struct sfshm_producer *p, *p2;
	struct sfshm_consumer *cons, *cons2;
	struct sfshm_topic_info *ti = NULL;
	struct sfshm_partition_info pi;
	struct sfshm_client *old;
	struct sfshm_delivery d;
	struct sfshm_record r;

	START(f, "--log-level=info");
	create_simple(f->c, "doomed", 2, SMALL_RING, 0);
	assert_true(topic_files_there(f, "doomed", 2));
	/* The old topic's clients come from a connection of their own. */
	old = connect_ok(&f->d);
	p = producer_ok(old, "doomed", SFSHM_ACKS_WRITTEN);
	cons = consumer_at(old, SFSHM_RESET_EARLIEST, "doomed", -1,
			   SFSHM_OFFSET_BEGINNING);
	for (int32_t part = 0; part < 2; part++) {
		assert_int_equal(send_seq(p, part, 7, 64, &d), 0);
		assert_int_equal(d.offset, 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sfshm_consumer_poll(cons, &r, WAIT_MS), 1);
		assert_int_equal(record_seq(&r), 7);
	}

	assert_int_equal(sfshm_topic_delete(f->c, "doomed"), 0);
	assert_int_equal(send_seq(p, 0, 8, 64, &d), -ENOENT);
	assert_int_equal(send_seq(p, 1, 8, 64, NULL), -ENOENT);
	assert_int_equal(sfshm_consumer_poll(cons, &r, 100), -ENOENT);
	assert_int_equal(sfshm_topic_describe(f->c, "doomed", &ti), -ENOENT);
	if (!t_wait_for(topic_files_gone, &w, WAIT_MS))
		fail_msg("the files of the deleted topic are still there");

	/* The same name again: a new, empty topic. */
	create_simple(f->c, "doomed", 2, SMALL_RING, 0);
	assert_int_equal(sfshm_topic_describe(f->c, "doomed", &ti), 0);
	for (uint32_t i = 0; i < ti->partition_count; i++) {
		assert_int_equal(ti->partitions[i].log_start, 0);
		assert_int_equal(ti->partitions[i].log_end, 0);
	}
	sfshm_topic_info_free(ti);
	cons2 = consumer_at(f->c, SFSHM_RESET_EARLIEST, "doomed", -1,
			    SFSHM_OFFSET_BEGINNING);
	expect_nothing(cons2);
	p2 = producer_ok(f->c, "doomed", SFSHM_ACKS_WRITTEN);
	assert_int_equal(send_seq(p2, 1, 9, 64, &d), 0);
	assert_int_equal(d.offset, 0);
	assert_int_equal(sfshm_consumer_poll(cons2, &r, WAIT_MS), 1);
	assert_int_equal(record_seq(&r), 9);
	assert_int_equal(r.partition, 1);
	/* The old handles stay on the old, deleted topic. */
	assert_int_equal(send_seq(p, 1, 10, 64, &d), -ENOENT);
	assert_int_equal(sfshm_consumer_poll(cons, &r, 50), -ENOENT);
	/* Closing them does not count as leaving the new topic. */
	cons_close(cons);
	prod_close(p);
	client_close(old);
	part_info(f->c, "doomed", 1, &pi);
	if (pi.producers != 1 || pi.consumers != 1)
		fail_msg("new topic: %u producers, %u consumers attached "
			 "(expected 1 and 1)",
			 pi.producers, pi.consumers);
	cons_close(cons2);
	prod_close(p2);
	part_info(f->c, "doomed", 1, &pi);
	assert_int_equal(pi.producers, 0);
	assert_int_equal(pi.consumers, 0);
	assert_int_equal(sfshm_topic_delete(f->c, "doomed"), 0);
	f->passed = true;
}

/*
 * The same, from one connection: handles of the deleted topic and of its
 * successor share the client.  Closing an old handle must not take the
 * new handle's place in the attachment counts (describe's producers and
 * consumers), nor drive them below zero.  (A DETACH names topic and role
 * only; the daemon drops a stale attachment first, so the counts are
 * right when the old handles go first, and in the end either way.)
 */
static void test_attach_counts_same_client(void **state)
{
	struct fx *f = *state;
	struct sfshm_producer *p[2], *p2;
	struct sfshm_consumer *cons[2], *cons2;
	struct sfshm_partition_info pi;
	struct gone_wait w = { .f = f, .topic = "reborn", .parts = 1 };
	uint32_t seen[2][2];

	START(f, "--log-level=info");
	create_simple(f->c, "reborn", 1, SMALL_RING, 0);
	for (int i = 0; i < 2; i++) {
		p[i] = producer_ok(f->c, "reborn", SFSHM_ACKS_WRITTEN);
		cons[i] =
			consumer_at(f->c, SFSHM_RESET_EARLIEST, "reborn", 0, 0);
	}
	assert_int_equal(sfshm_topic_delete(f->c, "reborn"), 0);
	/* (Recreating at once has a bug of its own: see _recreate_now.) */
	if (!t_wait_for(topic_files_gone, &w, WAIT_MS))
		fail_msg("the files of the deleted topic are still there");
	create_simple(f->c, "reborn", 1, SMALL_RING, 0);
	/* Old handle closed before the new one is, then after. */
	for (int i = 0; i < 2; i++) {
		p2 = producer_ok(f->c, "reborn", SFSHM_ACKS_WRITTEN);
		cons2 = consumer_at(f->c, SFSHM_RESET_EARLIEST, "reborn", 0, 0);
		if (i == 1) {
			cons_close(cons2);
			prod_close(p2);
		}
		cons_close(cons[i]);
		prod_close(p[i]);
		part_info(f->c, "reborn", 0, &pi);
		seen[i][0] = pi.producers;
		seen[i][1] = pi.consumers;
		printf("  old handles closed %s the new ones: %u producers, "
		       "%u consumers (%d and %d open)\n",
		       i ? "after" : "before", pi.producers, pi.consumers, !i,
		       !i);
		if (i == 0) {
			cons_close(cons2);
			prod_close(p2);
		}
	}
	for (int i = 0; i < 2; i++)
		if (seen[i][0] != (uint32_t)!i || seen[i][1] != (uint32_t)!i)
			fail_msg("closing the deleted topic's handles %s the "
				 "new topic's counts wrong: %u producers, %u "
				 "consumers",
				 i ? "after the new ones left" : "first made",
				 seen[i][0], seen[i][1]);
	f->passed = true;
}

/* Reply statuses of two pipelined requests on a raw connection. */
static void raw_two(int fd, const uint8_t *m1, int n1, const uint8_t *m2,
		    int n2, int st[2])
{
	struct raw_reply *r = malloc(sizeof(*r));

	assert_non_null(r);
	raw_send(fd, m1, (size_t)n1);
	raw_send(fd, m2, (size_t)n2);
	for (int i = 0; i < 2; i++) {
		if (!raw_recv(fd, r)) {
			free(r);
			fail_msg("the daemon closed the connection");
		}
		st[i] = r->m.status;
	}
	free(r);
}

/* One round: a topic with records, deleted and created again at once. */
static void recreate_round(struct fx *f, int fd, int round)
{
	struct gone_wait w = { .f = f, .topic = "again", .parts = 1 };
	uint8_t del[512], cre[512];
	struct sfshm_partition_info pi;
	struct sfshm_producer *p;
	struct sfshm_consumer *cons;
	struct sfshm_delivery d;
	struct sfp_buf b;
	int n1, n2, st[2], err;

	create_simple(f->c, "again", 1, SMALL_RING, 0);
	p = producer_ok(f->c, "again", SFSHM_ACKS_WRITTEN);
	for (uint64_t i = 0; i < 5; i++)
		send_acked(p, i, 64);
	prod_close(p);
	n1 = msg_topic(del, sizeof(del), SFP_TOPIC_DELETE, "again");
	sfp_begin(&b, cre, sizeof(cre), SFP_TOPIC_CREATE, 10, 0);
	sfp_put_str(&b, SFA_TOPIC, "again");
	sfp_put_u64(&b, SFA_RING_BYTES, SMALL_RING);
	n2 = sfp_end(&b);
	raw_two(fd, del, n1, cre, n2, st);
	assert_int_equal(st[0], 0);
	assert_int_equal(st[1], 0);

	part_info(f->c, "again", 0, &pi);
	if (pi.log_end != 0)
		fail_msg("round %d: the new topic holds %lld records of the "
			 "deleted one",
			 round, (long long)pi.log_end);
	/* After an acknowledgement the persister has had a pass. */
	p = NULL;
	err = sfshm_producer_open(f->c, "again", NULL, &p);
	if (err)
		fail_msg("round %d: producer_open on the new topic: %s (%s)",
			 round, sfshm_strerror(err), sfshm_last_error(f->c));
	track(p, H_PRODUCER);
	assert_int_equal(send_seq(p, 0, 0, 64, &d), 0);
	assert_int_equal(d.offset, 0);
	prod_close(p);
	if (!topic_files_there(f, "again", 1))
		fail_msg("round %d: the new topic lost its files to the "
			 "removal of the old one",
			 round);
	cons = consumer_at(f->c, SFSHM_RESET_NONE, "again", 0,
			   SFSHM_OFFSET_BEGINNING);
	expect_record(cons, 0, 0);
	expect_nothing(cons);
	cons_close(cons);
	assert_int_equal(sfshm_topic_delete(f->c, "again"), 0);
	if (!t_wait_for(topic_files_gone, &w, WAIT_MS))
		fail_msg("the files of the deleted topic are still there");
}

/*
 * Delete a topic and create it again in the same breath (two pipelined
 * requests), before the daemon has finished removing the old one: the
 * new topic must be empty and keep its files.
 */
static void test_delete_recreate_now(void **state)
{
	struct fx *f = *state;
	int fd;

	START(f, "--log-level=info");
	fd = raw_hello(&f->d);
	for (int round = 0; round < 30; round++)
		recreate_round(f, fd, round);
	close(fd);
	f->passed = true;
}

/* ---- 6. clean shutdown --------------------------------------------------- */

#define SD_TOPICS 2
#define SD_MAX_PARTS 2
#define SD_VAL 256u
#define SD_MIN_RECORDS 3000u /* per producer before the SIGTERM */

#define SD_ROUNDS 4 /* the shutdown, again and again: races show */

static char sd_topic[SD_TOPICS][32]; /* this round's topics */
static const uint32_t sd_parts[SD_TOPICS] = { 2, 1 };

struct sd_shared {
	uint64_t committed[SD_TOPICS][SD_MAX_PARTS];
	uint64_t total[SD_TOPICS];
	int end_err[SD_TOPICS + 1]; /* how each child's loop ended */
	uint64_t consumed;
	struct t_note note;
};

static struct sd_shared *g_sd;

/* Producer @arg: acks none, round robin over the partitions. */
static int sd_producer(void *arg)
{
	int t = (int)(intptr_t)arg, err;
	struct sfshm_producer_opts o = {
		.size = sizeof(o),
		.acks = SFSHM_ACKS_NONE,
		.timeout_ms = 4 * WAIT_MS * t_slowdown(),
	};
	struct sfshm_client *c = connect_or_err(g_child_daemon, &err);
	struct sfshm_producer *p;
	uint32_t np = sd_parts[t];

	if (!c || (err = sfshm_producer_open(c, sd_topic[t], &o, &p))) {
		t_note_set(&g_sd->note, "producer %d: %s", t,
			   sfshm_strerror(err));
		return 1;
	}
	for (uint64_t seq = 0;; seq++) {
		uint32_t part = (uint32_t)(seq % np);

		err = send_seq(p, (int32_t)part, seq, SD_VAL, NULL);
		if (err)
			break;
		/* Release: the count after the commit it counts. */
		__atomic_store_n(&g_sd->committed[t][part],
				 g_sd->committed[t][part] + 1,
				 __ATOMIC_RELEASE);
		__atomic_store_n(&g_sd->total[t], seq + 1, __ATOMIC_RELEASE);
	}
	g_sd->end_err[t] = err;
	/* Not closed: the daemon is gone.  Free our memory only. */
	prod_close(p);
	client_close(c);
	return err == -ESHUTDOWN ? 0 : 2;
}

/* A consumer attached to everything until the daemon stops. */
static int sd_consumer(void *arg)
{
	struct sfshm_consumer_opts o = { .size = sizeof(o) };
	struct sfshm_consumer *cons;
	struct sfshm_record r;
	struct sfshm_client *c;
	int err;

	(void)arg;
	c = connect_or_err(g_child_daemon, &err);
	if (!c || (err = sfshm_consumer_open(c, &o, &cons))) {
		t_note_set(&g_sd->note, "consumer: %s", sfshm_strerror(err));
		return 1;
	}
	for (int t = 0; t < SD_TOPICS; t++) {
		err = sfshm_consumer_assign(cons, sd_topic[t], -1,
					    SFSHM_OFFSET_BEGINNING);
		if (err) {
			t_note_set(&g_sd->note, "consumer assign: %s",
				   sfshm_strerror(err));
			return 1;
		}
	}
	while ((err = sfshm_consumer_poll(cons, &r, 100)) >= 0)
		if (err == 1)
			__atomic_add_fetch(&g_sd->consumed, 1,
					   __ATOMIC_RELAXED);
	g_sd->end_err[SD_TOPICS] = err;
	cons_close(cons);
	client_close(c);
	return err == -ESHUTDOWN ? 0 : 2;
}

static bool sd_busy(void *arg)
{
	(void)arg;
	for (int t = 0; t < SD_TOPICS; t++)
		if (__atomic_load_n(&g_sd->total[t], __ATOMIC_ACQUIRE) <
		    SD_MIN_RECORDS)
			return false;
	return __atomic_load_n(&g_sd->consumed, __ATOMIC_RELAXED) > 0;
}

/* The first @n records of a partition, once, in order; then nothing. */
static void sd_check_part(struct sfshm_client *c, int t, uint32_t part,
			  uint64_t n)
{
	uint32_t np = sd_parts[t];
	struct sfshm_consumer *cons = consumer_at(c, SFSHM_RESET_NONE,
						  sd_topic[t], (int32_t)part,
						  SFSHM_OFFSET_BEGINNING);

	for (uint64_t k = 0; k < n; k++)
		expect_record(cons, (int64_t)k, k * np + part);
	expect_nothing(cons);
	cons_close(cons);
}

/*
 * Start the clients, wait until they are busy, SIGTERM the daemon.
 * @before: per partition, records committed when the signal was sent.
 */
static void sd_run_and_stop(struct fx *f, uint64_t before[][SD_MAX_PARTS])
{
	pid_t kids[SD_TOPICS + 1];
	char why[64];
	int st;

	g_child_daemon = &f->d;
	for (int t = 0; t < SD_TOPICS; t++)
		kids[t] = t_fork_clean(sd_producer, (void *)(intptr_t)t);
	kids[SD_TOPICS] = t_fork_clean(sd_consumer, NULL);
	if (!t_wait_for(sd_busy, NULL, WAIT_MS)) {
		for (int i = 0; i <= SD_TOPICS; i++)
			t_wait_child(kids[i], 0);
		fail_msg("the clients did not get going: %s",
			 t_note_msg(&g_sd->note));
	}
	client_close(f->c);
	f->c = NULL;
	for (int t = 0; t < SD_TOPICS; t++)
		for (uint32_t i = 0; i < sd_parts[t]; i++)
			before[t][i] = __atomic_load_n(&g_sd->committed[t][i],
						       __ATOMIC_ACQUIRE);
	st = t_daemon_stop(&f->d, SIGTERM);
	if (st != 0)
		fail_msg("sfshmd after SIGTERM: %s",
			 t_status_str(st, why, sizeof(why)));
	for (int i = 0; i <= SD_TOPICS; i++) {
		st = t_wait_child(kids[i], WAIT_MS * t_slowdown());
		if (st != 0)
			fail_msg("client %d: %s, ended with %d (%s) %s", i,
				 t_status_str(st, why, sizeof(why)),
				 g_sd->end_err[i],
				 sfshm_strerror(g_sd->end_err[i]),
				 t_note_msg(&g_sd->note));
	}
}

/*
 * SIGTERM with producers (acks none, so records are committed to the
 * rings right up to the signal), a consumer attached, rings full: exit
 * 0, nothing left in the run dir, and after a restart every record whose
 * send returned 0 is in the log, once, in order.
 */
/* After a restart: is every record of this round's topics in the log? */
static void sd_check_round(struct fx *f, uint64_t before[][SD_MAX_PARTS],
			   uint64_t *dropped)
{
	for (int t = 0; t < SD_TOPICS; t++) {
		for (uint32_t i = 0; i < sd_parts[t]; i++) {
			uint64_t after = g_sd->committed[t][i];
			struct sfshm_partition_info pi;

			part_info(f->c, sd_topic[t], i, &pi);
			printf("  shutdown: %s-%u: %llu committed before the "
			       "SIGTERM, %llu in all; log end %lld\n",
			       sd_topic[t], i, (unsigned long long)before[t][i],
			       (unsigned long long)after,
			       (long long)pi.log_end);
			if (pi.log_end < (int64_t)before[t][i])
				fail_msg("%s-%u: records committed before the "
					 "SIGTERM were lost",
					 sd_topic[t], i);
			assert_true(pi.log_end <= (int64_t)after);
			*dropped += after - (uint64_t)pi.log_end;
		}
	}
}

/* The records of this round's topics, as many as their logs hold. */
static void sd_check_records(struct fx *f)
{
	for (int t = 0; t < SD_TOPICS; t++) {
		for (uint32_t i = 0; i < sd_parts[t]; i++) {
			struct sfshm_partition_info pi;

			part_info(f->c, sd_topic[t], i, &pi);
			sd_check_part(f->c, t, i, (uint64_t)pi.log_end);
		}
	}
}

/*
 * SIGTERM with producers (acks none, so records are committed to the
 * rings right up to the signal), a consumer attached, rings full: exit
 * 0, nothing left in the run dir, and after a restart every record whose
 * send returned 0 is in the log, once, in order.  Several rounds, new
 * topics each time, on the same dirs.
 */
static void test_clean_shutdown(void **state)
{
	struct fx *f = *state;
	uint64_t before[SD_TOPICS][SD_MAX_PARTS], dropped = 0;
	char names[512];
	bool kept_rings;
	int left;

	START(f, "--log-level=info");
	g_sd = t_shared_alloc(sizeof(*g_sd));
	for (int round = 0; round < SD_ROUNDS; round++) {
		for (int t = 0; t < SD_TOPICS; t++) {
			snprintf(sd_topic[t], sizeof(sd_topic[t]), "stop-%c%d",
				 'a' + t, round);
			create_simple(f->c, sd_topic[t], sd_parts[t],
				      256u << 10, 0);
		}
		memset(g_sd, 0, sizeof(*g_sd));
		sd_run_and_stop(f, before);
		left = dir_entries(f->d.run_dir, names, sizeof(names));
		kept_rings =
			t_daemon_log_has(&f->d, "could not be persisted", NULL);

		/* Again on the same dirs: what is in the log? */
		START(f, "--log-level=info");
		sd_check_round(f, before, &dropped);
		if (dropped)
			fail_msg("round %d: %llu records whose send returned "
				 "0 while the daemon stopped are not in the "
				 "log: committed to a ring after the "
				 "persister's final pass, then dropped",
				 round, (unsigned long long)dropped);
		if (left > 0)
			fail_msg("round %d: after SIGTERM the run dir still "
				 "held:%s%s",
				 round, names,
				 kept_rings ? " (sfshmd: some records could "
					      "not be persisted)" :
					      "");
		sd_check_records(f);
	}
	munmap(g_sd, sizeof(*g_sd));
	g_sd = NULL;
	f->passed = true;
}

/* ---- 7. idle ------------------------------------------------------------- */

/* utime + stime of @pid, in clock ticks. */
static uint64_t cpu_ticks(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut = 0, st = 0;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	assert_non_null(p);
	/* After "(comm)": state is field 3; utime 14, stime 15. */
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		   &st) != 2)
		fail_msg("cannot parse %s", path);
	return ut + st;
}

/* Sum over the threads of @pid: ns on a CPU, and voluntary switches. */
static void thread_stats(pid_t pid, uint64_t *ns, uint64_t *wakeups)
{
	char dir[64], path[64 + 300], line[256];
	struct dirent *e;
	DIR *dp;

	*ns = *wakeups = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	dp = opendir(dir);
	assert_non_null(dp);
	while ((e = readdir(dp))) {
		unsigned long long v;
		FILE *fp;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/schedstat", dir, e->d_name);
		fp = fopen(path, "r");
		if (fp && fscanf(fp, "%llu", &v) == 1)
			*ns += v;
		if (fp)
			fclose(fp);
		snprintf(path, sizeof(path), "%s/%s/status", dir, e->d_name);
		fp = fopen(path, "r");
		while (fp && fgets(line, sizeof(line), fp))
			if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) ==
			    1)
				*wakeups += v;
		if (fp)
			fclose(fp);
	}
	closedir(dp);
}

static void test_idle(void **state)
{
	struct fx *f = *state;
	uint64_t t0, t1, c0, c1, ns0, ns1, w0, w1;
	long hz = sysconf(_SC_CLK_TCK);
	double secs, pct, pct_ns;
	char name[32];

	START(f, "--log-level=info");
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "idle-%d", i);
		create_simple(f->c, name, 1, 0, 0);
	}
	/* Measurement window: 2 s of nothing. */
	t0 = t_now_ms();
	c0 = cpu_ticks(f->d.pid);
	thread_stats(f->d.pid, &ns0, &w0);
	t_sleep_us(2000000);
	t1 = t_now_ms();
	c1 = cpu_ticks(f->d.pid);
	thread_stats(f->d.pid, &ns1, &w1);
	secs = (double)(t1 - t0) / 1000.0;
	pct = 100.0 * (double)(c1 - c0) / (double)hz / secs;
	pct_ns = 100.0 * (double)(ns1 - ns0) / 1e9 / secs;
	printf("  idle: 10 topics, %.2f s: %llu ticks = %.2f%% CPU "
	       "(schedstat %.3f%%, %.1f ms), %.1f wakeups/s\n",
	       secs, (unsigned long long)(c1 - c0), pct, pct_ns,
	       (double)(ns1 - ns0) / 1e6, (double)(w1 - w0) / secs);
	assert_true(pct < 1.0);
	f->passed = true;
}

/* ---- main ---------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_full_disk_fail),
		T(test_full_disk_block),
		T(test_restart_after_full_disk),
		T(test_retention),
		T(test_bad_input),
		T(test_permissions),
		T(test_delete_attached),
		T(test_attach_counts_same_client),
		T(test_delete_recreate_now),
		T(test_clean_shutdown),
		T(test_idle),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* TEST_DAEMON_ONLY=substring: run the matching tests only. */
	return T_RUN_ONLY("test_daemon", "TEST_DAEMON_ONLY", tests);
}
