// SPDX-License-Identifier: MIT
/*
 * test_sync_errors.c - sfshmd when fdatasync of the log fails.
 *
 * Not a full disk at write time (test_daemon.c covers that): the writes
 * succeed into the page cache and the later fdatasync fails, as on a
 * device that loses its writeback.  The data dir is an ext2 file system on
 * a loop device whose backing file (4 MiB, sparse) lives on a small tmpfs
 * that the test fills once the topic exists: the loop driver's writes of
 * new blocks into the backing file then fail with ENOSPC, the file
 * system's writeback fails, and fdatasync() reports it (once: the kernel
 * gives a writeback error to each open file once, a second fdatasync
 * succeeds without having written anything).
 *
 * What must hold:
 *  - the daemon logs "cannot fsync the log";
 *  - no durable acknowledgement: the durable offset stays below the log end
 *    (sfctl topic describe --json), through several flush.ms periods and
 *    retries, and a producer with acks=durable fails (non-zero exit, an
 *    error message), promptly under disk.full.policy=fail, at its
 *    message.timeout.ms under disk.full.policy=block;
 *  - the error is kept: a new acks=written producer is refused;
 *  - on SIGTERM the daemon does not claim it persisted everything: it logs
 *    "some records could not be persisted; their rings stay in <run dir>"
 *    and leaves <run-dir>/<topic>-0.ring for the next start.
 *
 * Needs root (mount, losetup), mkfs.ext2 and losetup; without them the
 * program says SKIP and exits 77 when nothing failed.  The teardown
 * undoes everything in reverse order even after a failure: stop the
 * daemon, free the tmpfs, unmount the ext2, detach the loop device,
 * unmount the tmpfs, remove the directories.
 *
 * The tools run through t_daemon_sh() under timeout(1), with -b
 * "$SFSHM_RUN_DIR" (a shell variable there, not exported); waits poll a
 * condition against a deadline scaled by t_slowdown().  The one timed
 * window (DURABLE_WINDOW_MS) is a window in which something must NOT
 * happen: the durable offset must not reach the log end.
 *
 * TEST_SYNC_ERRORS_ONLY=substring runs the matching tests only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "t_daemon.h"
#include "t_util.h"

#define WAIT_MS 20000 /* a condition must hold within this (scaled) */
#define TOOL_S 60 /* timeout(1) of one tool run, seconds (scaled) */
#define DURABLE_WINDOW_MS 1500 /* durable must stay behind for this long */
#define BACK_OPTS "size=8m,mode=0700" /* the tmpfs under the loop device */
#define IMAGE_BYTES (4u << 20) /* the loop device's backing file */
#define TOPIC "syncerr"
#define FLUSH_MS "300"
#define NRECS 64 /* records of the acks=written producer */
#define REC_BYTES 4000 /* each: about a file system block */

/* The tools, under timeout(1) (its %d: seconds), on the daemon's run dir. */
#define TMO "timeout -k 5 %d "
#define SFCTL "\"$B\"/tools/sfctl -b \"$SFSHM_RUN_DIR\" "
#define SFCAT "\"$B\"/tools/sfcat -b \"$SFSHM_RUN_DIR\" "

/* ---- fixture ------------------------------------------------------------- */

struct fx {
	struct t_daemon d;
	char work[128]; /* scratch: tool input and output */
	char back[128]; /* the tmpfs mount point holding the image */
	char image[160]; /* <back>/image: the loop device's backing file */
	char filler[160]; /* <back>/filler: takes the tmpfs's last byte */
	char loop[64]; /* /dev/loopN while attached, else "" */
	bool back_mounted;
	bool data_mounted; /* ext2 on d.data_dir */
	bool passed; /* set at the end of the test: no log dump needed */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || t_daemon_init(&f->d, "syncerr") ||
	    t_tmpdir(f->work, sizeof(f->work), "sfshm-syncerr-work") ||
	    t_tmpdir(f->back, sizeof(f->back), "sfshm-syncerr-back")) {
		fprintf(stderr, "fixture: cannot make the test dirs: %s\n",
			strerror(errno));
		if (f) {
			t_daemon_cleanup(&f->d);
			t_rm_rf(f->work);
			t_rm_rf(f->back);
		}
		free(f);
		return -1;
	}
	snprintf(f->image, sizeof(f->image), "%s/image", f->back);
	snprintf(f->filler, sizeof(f->filler), "%s/filler", f->back);
	*state = f;
	return 0;
}

/* Unmount @dir; lazily if it is busy.  Return: 0 or -1 (said). */
static int unmount_dir(const char *dir)
{
	if (umount(dir) == 0)
		return 0;
	fprintf(stderr, "umount %s: %s; detaching it\n", dir, strerror(errno));
	if (umount2(dir, MNT_DETACH) == 0)
		return 0;
	fprintf(stderr, "umount -l %s: %s\n", dir, strerror(errno));
	return -1;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[256];
	int rc = 0;

	if (t_daemon_end(&f->d)) {
		f->passed = false;
		rc = -1;
	}
	if (!f->passed)
		t_daemon_print_log_tail(&f->d, 60);
	/* Room again, so that unmounting the ext2 can write what it has. */
	if (f->back_mounted)
		unlink(f->filler);
	if (f->data_mounted && unmount_dir(f->d.data_dir))
		rc = -1;
	f->data_mounted = false;
	if (f->loop[0]) {
		snprintf(cmd, sizeof(cmd), "losetup -d '%s'", f->loop);
		if (system(cmd) != 0) {
			fprintf(stderr, "%s failed\n", cmd);
			rc = -1;
		}
		f->loop[0] = '\0';
	}
	if (f->back_mounted && unmount_dir(f->back))
		rc = -1;
	f->back_mounted = false;
	t_daemon_cleanup(&f->d);
	t_rm_rf(f->work);
	t_rm_rf(f->back);
	free(f);
	return rc;
}

/* ---- shell and files ----------------------------------------------------- */

/* The exit status of a system() status: 0..255, 128 + signal, or -1. */
static int exit_code(int st)
{
	if (st == -1)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

/* Run a shell command (t_daemon_sh()).  Return: its exit code. */
static int sh(const struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int sh(const struct fx *f, const char *fmt, ...)
{
	char cmd[3072];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return exit_code(t_daemon_sh(&f->d, "%s", cmd));
}

/* The contents of @path, NUL-terminated (malloc()ed); "" if none. */
static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	size_t n;

	assert_non_null(buf);
	while (fp && (n = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	if (fp)
		fclose(fp);
	return buf;
}

/* @f->work/@name */
static void work_path(const struct fx *f, char *buf, size_t len,
		      const char *name)
{
	snprintf(buf, len, "%s/%s", f->work, name);
}

/* ---- the failing file system --------------------------------------------- */

static bool skip_test(struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Note why the test cannot run here.  Return: false. */
static bool skip_test(struct fx *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t_skip_vnote(fmt, ap);
	va_end(ap);
	f->passed = true;
	return false;
}

/*
 * The data dir: ext2 on a loop device backed by a sparse 4 MiB file on an
 * 8 MiB tmpfs, not filled yet.  Return: false if the test must be skipped
 * (no root, no tools, no loop device).
 */
static bool failing_fs_setup(struct fx *f)
{
	char out[PATH_MAX];
	char *dev;
	int fd, rc;

	if (sh(f, "command -v mkfs.ext2 >/dev/null && "
		  "command -v losetup >/dev/null"))
		return skip_test(f, "mkfs.ext2 or losetup missing: the "
				    "fsync-error tests need e2fsprogs and "
				    "util-linux (mount)");
	if (mount("tmpfs", f->back, "tmpfs", 0, BACK_OPTS) < 0) {
		if (errno != EPERM)
			fail_msg("mount a tmpfs on %s: %s", f->back,
				 strerror(errno));
		return skip_test(f,
				 "cannot mount a tmpfs on %s (%s): the "
				 "fsync-error tests need root",
				 f->back, strerror(errno));
	}
	f->back_mounted = true;
	fd = open(f->image, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, IMAGE_BYTES) < 0)
		fail_msg("create %s: %s", f->image, strerror(errno));
	close(fd);
	work_path(f, out, sizeof(out), "losetup.out");
	rc = sh(f, "losetup -f --show '%s' >'%s' 2>&1", f->image, out);
	dev = slurp(out);
	dev[strcspn(dev, "\n")] = '\0';
	if (rc || strncmp(dev, "/dev/", 5) != 0) {
		skip_test(f,
			  "losetup -f --show %s failed (exit %d: %s): no "
			  "loop device here",
			  f->image, rc, dev);
		free(dev);
		return false;
	}
	snprintf(f->loop, sizeof(f->loop), "%s", dev);
	free(dev);
	/* nodiscard: nothing to discard in a fresh sparse image. */
	rc = sh(f, "mkfs.ext2 -q -F -m 0 -E nodiscard '%s' >'%s' 2>&1", f->loop,
		out);
	if (rc) {
		char *msg = slurp(out);

		fail_msg("mkfs.ext2 %s: exit %d: %s", f->loop, rc, msg);
	}
	/* errors=continue: an I/O error must not make it read-only. */
	if (mount(f->loop, f->d.data_dir, "ext2", 0, "errors=continue") < 0) {
		if (errno == ENODEV)
			return skip_test(f, "the kernel cannot mount ext2 "
					    "(neither ext2 nor ext4 for ext2)");
		fail_msg("mount %s on %s: %s", f->loop, f->d.data_dir,
			 strerror(errno));
	}
	f->data_mounted = true;
	printf("  data dir: ext2 on %s, backed by %s (tmpfs %s)\n", f->loop,
	       f->image, BACK_OPTS);
	return true;
}

static uint64_t free_bytes(const char *dir)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) < 0)
		fail_msg("statvfs %s: %s", dir, strerror(errno));
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/*
 * Make the data dir's writeback fail: sync it first (everything the setup
 * wrote reaches the device), then fill the tmpfs under the image, so that
 * the loop device can no longer store a block it has not stored before.
 */
static void break_writeback(struct fx *f)
{
	static const char zeros[64 << 10];
	uint64_t total = 0;
	int fd = open(f->d.data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || syncfs(fd) < 0)
		fail_msg("syncfs %s: %s", f->d.data_dir, strerror(errno));
	close(fd);
	fd = open(f->filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		fail_msg("create %s: %s", f->filler, strerror(errno));
	for (;;) {
		ssize_t w = write(fd, zeros, sizeof(zeros));

		if (w > 0) {
			total += (uint64_t)w;
			continue;
		}
		if (w < 0 && errno == ENOSPC)
			break;
		close(fd);
		fail_msg("fill %s: %s", f->filler,
			 w < 0 ? strerror(errno) : "wrote nothing");
	}
	close(fd);
	assert_int_equal(free_bytes(f->back), 0);
	printf("  filled the tmpfs under the image: %llu KiB\n",
	       (unsigned long long)(total >> 10));
}

/* ---- the daemon and its log ---------------------------------------------- */

/* Start sfshmd with @flags (NULL-terminated) and create the topic. */
static void start_with(struct fx *f, const char *const *flags)
{
	char err[PATH_MAX];
	int rc;

	t_daemon_set_extra(&f->d, flags);
	if (t_daemon_start(&f->d))
		fail_msg("sfshmd did not start");
	work_path(f, err, sizeof(err), "create.err");
	rc = sh(f,
		TMO SFCTL "topic create " TOPIC
			  " --ring-bytes 1M --flush-ms " FLUSH_MS
			  " 2>'%s' >/dev/null",
		TOOL_S * t_slowdown(), err);
	if (rc) {
		char *msg = slurp(err);

		fail_msg("sfctl topic create: exit %d: %s", rc, msg);
	}
}

#define START(f, ...) start_with(f, (const char *const[]){ __VA_ARGS__, NULL })

/* Poll t_daemon_log_has() every 5 ms until it holds or WAIT_MS (scaled) pass. */
static bool wait_log(const struct t_daemon *d, const char *a, const char *b)
{
	uint64_t deadline = T_DEADLINE((uint64_t)WAIT_MS * t_slowdown());

	for (;;) {
		if (t_daemon_log_has(d, a, b))
			return true;
		if (t_now_ms() >= deadline)
			return false;
		t_sleep_us(5000); /* pacing the polls */
	}
}

/* ---- the tools ----------------------------------------------------------- */

/* What sfctl topic describe --json says of partition 0. */
struct part {
	long long log_end, written, durable, ring_tail, ring_durable;
};

/* The number after "@key": in @doc (the first one), or fail. */
static long long json_num(const char *doc, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(doc, pat);
	if (!p)
		fail_msg("no %s in: %s", pat, doc);
	return strtoll(p + strlen(pat), NULL, 10);
}

static void describe(struct fx *f, struct part *pt)
{
	char out[PATH_MAX], err[PATH_MAX];
	char *doc;
	int rc;

	work_path(f, out, sizeof(out), "describe.json");
	work_path(f, err, sizeof(err), "describe.err");
	rc = sh(f, TMO SFCTL "topic describe " TOPIC " --json >'%s' 2>'%s'",
		TOOL_S * t_slowdown(), out, err);
	if (rc) {
		char *msg = slurp(err);

		fail_msg("sfctl topic describe: exit %d: %s", rc, msg);
	}
	doc = slurp(out);
	pt->log_end = json_num(doc, "log_end");
	pt->written = json_num(doc, "written_offset");
	pt->durable = json_num(doc, "durable_offset");
	pt->ring_tail = json_num(doc, "tail");
	pt->ring_durable = json_num(doc, "durable");
	free(doc);
}

/* @n records of REC_BYTES (a line each, numbered) in @f->work/@name. */
static void write_input(const struct fx *f, const char *name, int n)
{
	char path[PATH_MAX], line[REC_BYTES + 1];
	FILE *fp;

	work_path(f, path, sizeof(path), name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < n; i++) {
		int k = snprintf(line, sizeof(line), "rec-%06d-", i);

		memset(line + k, 'a' + i % 26, REC_BYTES - 1 - (size_t)k);
		line[REC_BYTES - 1] = '\n';
		fwrite(line, 1, REC_BYTES, fp);
	}
	assert_int_equal(fclose(fp), 0);
}

/* How an sfcat -P run ended. */
struct run {
	int rc; /* exit code; 124 or 137: timeout(1) stopped it */
	uint64_t ms; /* how long it took */
	char *err; /* its standard error (malloc()ed) */
};

/*
 * sfcat -P of @f->work/@input to partition 0 with the -X settings @xs,
 * under timeout(1).  The caller frees r->err.
 */
static void produce(struct fx *f, const char *input, const char *xs,
		    struct run *r)
{
	char in[PATH_MAX], err[PATH_MAX];
	uint64_t t0 = t_now_ms();

	work_path(f, in, sizeof(in), input);
	work_path(f, err, sizeof(err), "sfcat.err");
	r->rc = sh(f, TMO SFCAT "-P -t " TOPIC " -p 0 %s <'%s' 2>'%s'",
		   TOOL_S * t_slowdown(), xs, in, err);
	r->ms = t_now_ms() - t0;
	r->err = slurp(err);
	printf("  sfcat -P %s: exit %d after %llu ms%s%s", xs, r->rc,
	       (unsigned long long)r->ms, r->err[0] ? ": " : "\n", r->err);
	/* An expected failure must not hide a sanitizer's report. */
	if (strstr(r->err, "Sanitizer") || strstr(r->err, "runtime error:"))
		fail_msg("sfcat: a sanitizer report: %s", r->err);
}

/* sfcat ended by itself (not killed by timeout(1) or a signal). */
static void expect_ended(const struct run *r)
{
	if (r->rc < 0 || r->rc == 124 || r->rc > 128)
		fail_msg("sfcat did not end by itself: exit %d: %s", r->rc,
			 r->err);
}

/*
 * Did sfcat's message name the log's disk error, ENOSPC or EIO, as
 * sfshm_strerror() words them?
 */
static bool names_disk_error(const char *msg)
{
	return strstr(msg, "no space left") ||
	       strstr(msg, "Input/output error");
}

/* ---- the checks shared by the tests -------------------------------------- */

/*
 * The durable offset stays below the log end, and the ring's durable
 * position below its tail, for DURABLE_WINDOW_MS (several flush.ms periods
 * and 100 ms error retries): no durable acknowledgement is ever published.
 * Return: the last look.
 */
static struct part never_durable(struct fx *f, const char *when)
{
	uint64_t end = T_DEADLINE(DURABLE_WINDOW_MS);
	struct part pt;
	unsigned looks = 0;

	do {
		describe(f, &pt);
		looks++;
		if (pt.durable >= pt.log_end || pt.ring_durable >= pt.ring_tail)
			fail_msg("%s: durable acknowledgement published: log "
				 "end %lld written %lld durable %lld, ring "
				 "tail %lld durable %lld",
				 when, pt.log_end, pt.written, pt.durable,
				 pt.ring_tail, pt.ring_durable);
		t_sleep_us(50000); /* pacing the looks */
	} while (t_now_ms() < end);
	printf("  %s: %u looks in %d ms: log end %lld written %lld durable "
	       "%lld, ring tail %lld durable %lld\n",
	       when, looks, DURABLE_WINDOW_MS, pt.log_end, pt.written,
	       pt.durable, pt.ring_tail, pt.ring_durable);
	return pt;
}

/*
 * SIGTERM: the daemon exits (status 0, as after a full disk) without
 * claiming it persisted everything, and leaves the ring for the next
 * start.
 */
static void expect_rings_kept(struct fx *f)
{
	int st = t_daemon_stop(&f->d, SIGTERM);
	char why[64];

	if (st != 0)
		fail_msg("sfshmd on SIGTERM: %s",
			 t_status_str(st, why, sizeof(why)));
	if (!t_daemon_log_has(&f->d,
			      "some records could not be persisted; their rings "
			      "stay in",
			      f->d.run_dir))
		fail_msg("the daemon did not say that records could not be "
			 "persisted");
	if (!t_path_exists("%s/%s-0.ring", f->d.run_dir, TOPIC))
		fail_msg("%s/%s-0.ring was removed at shutdown", f->d.run_dir,
			 TOPIC);
	assert_true(t_path_exists("%s/%s-0.ctl", f->d.run_dir, TOPIC));
	printf("  SIGTERM: exit 0, %s/%s-0.ring kept\n", f->d.run_dir, TOPIC);
}

/* ---- 1. acks=written, flush.ms ------------------------------------------- */

/*
 * Records acknowledged as written, then a flush.ms fdatasync that fails:
 * the daemon says so and never publishes them as durable.
 */
static void written_then_sync_fails(struct fx *f)
{
	struct part pt;
	struct run r;

	if (!failing_fs_setup(f))
		skip();
	START(f, "--disk.full.policy=fail");
	break_writeback(f);
	write_input(f, "recs", NRECS);
	produce(f, "recs", "-X acks=written", &r);
	expect_ended(&r);
	/*
	 * Written acknowledgements are right (the page cache has them)
	 * unless the failed sync came first: then the sticky error refuses
	 * the rest, and sfcat must say so.
	 */
	if (r.rc != 0 && !names_disk_error(r.err))
		fail_msg("sfcat acks=written: exit %d: %s", r.rc, r.err);
	if (!wait_log(&f->d, "cannot fsync the log", NULL))
		fail_msg("no \"cannot fsync the log\" in the daemon's log");
	pt = never_durable(f, "after the failed fsync");
	if (r.rc == 0) {
		assert_int_equal(pt.log_end, NRECS);
		assert_int_equal(pt.written, NRECS);
	}
	assert_true(pt.durable < pt.written);
	free(r.err);
}

/*
 * Nothing but the failed fsync (every record written): SIGTERM must not
 * count them as persisted.
 */
static void test_flush_fails(void **state)
{
	struct fx *f = *state;

	written_then_sync_fails(f);
	expect_rings_kept(f);
	f->passed = true;
}

/* After the failed fsync the error is kept: new records are refused. */
static void test_error_kept(void **state)
{
	struct fx *f = *state;
	struct run r;

	written_then_sync_fails(f);
	write_input(f, "one", 1);
	produce(f, "one", "-X acks=written", &r);
	expect_ended(&r);
	if (r.rc == 0 || !names_disk_error(r.err))
		fail_msg("a producer after the failed fsync: exit %d: %s", r.rc,
			 r.err);
	free(r.err);
	never_durable(f, "after a second producer");
	expect_rings_kept(f);
	f->passed = true;
}

/* ---- 2. acks=durable ----------------------------------------------------- */

/*
 * A producer that asks for durable acknowledgements must fail: under
 * disk.full.policy=@policy, with message.timeout.ms @timeout_ms (scaled);
 * @prompt: well before that timeout.
 */
static void durable_fails(struct fx *f, const char *policy_flag, int timeout_ms,
			  bool prompt)
{
	char xs[128];
	struct run r;

	if (!failing_fs_setup(f))
		skip();
	START(f, policy_flag);
	break_writeback(f);
	write_input(f, "recs", NRECS);
	snprintf(xs, sizeof(xs), "-X acks=durable -X message.timeout.ms=%d",
		 timeout_ms * t_slowdown());
	produce(f, "recs", xs, &r);
	expect_ended(&r);
	if (r.rc == 0)
		fail_msg("sfcat acks=durable exited 0: records acknowledged as "
			 "durable after a failed fsync");
	if (!strstr(r.err, "not all acknowledged (acks=durable)"))
		fail_msg("sfcat acks=durable: exit %d, unexpected message: %s",
			 r.rc, r.err);
	if (prompt && (!names_disk_error(r.err) ||
		       r.ms >= (uint64_t)timeout_ms * t_slowdown() / 2))
		fail_msg("sfcat acks=durable: exit %d after %llu ms (timeout "
			 "%d ms): expected the disk error, promptly: %s",
			 r.rc, (unsigned long long)r.ms,
			 timeout_ms * t_slowdown(), r.err);
	free(r.err);
	if (!wait_log(&f->d, "cannot fsync the log", NULL))
		fail_msg("no \"cannot fsync the log\" in the daemon's log");
	never_durable(f, "after the durable producer");
	expect_rings_kept(f);
	f->passed = true;
}

static void test_durable_fails(void **state)
{
	durable_fails(*state, "--disk.full.policy=fail", 20000, true);
}

/* The block policy holds producers: a durable one must time out. */
static void test_durable_block_times_out(void **state)
{
	durable_fails(*state, "--disk.full.policy=block", 2000, false);
}

/* ---- main ---------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_flush_fails),
		T(test_error_kept),
		T(test_durable_fails),
		T(test_durable_block_times_out),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* TEST_SYNC_ERRORS_ONLY=substring: run the matching tests only. */
	return T_RUN_ONLY("test_sync_errors", "TEST_SYNC_ERRORS_ONLY", tests);
}
