// SPDX-License-Identifier: MIT
/*
 * sfbench_daemon.c - `sfbench daemon`: what a real sfshmd costs and
 * delivers on top of the bare ring, each figure next to a baseline taken
 * in the same run.
 *
 * The daemon
 * ----------
 * Every part starts its own sfshmd, the one built next to this program
 * (<dir of sfbench>/../sfshmd), on a fresh data dir (mkdtemp under /tmp or
 * --data-dir) and a fresh run dir under /dev/shm, its log going to
 * <data-dir>.log; creates its topics through the client API; measures;
 * stops the daemon with SIGTERM (it persists and fsyncs what is left and
 * must exit 0) and removes both dirs and the log.  A failure stops the
 * daemon and removes them too (atexit), and the daemon dies with us
 * (PR_SET_PDEATHSIG) if we are killed.  Nothing pins the daemon unless
 * --cpu names more than two CPUs: it gets the third and later ones.  Its
 * BPF metrics are off (--no-bpf) except in the metrics part: they attach
 * probes to sfshmd and to sfbench itself, which would change every other
 * figure, and their pins would outlive the run.
 *
 * The parts
 * ---------
 * persist   1 producer -> 1 consumer, 100 B values, one partition.
 *           Baseline: `sfbench ring`'s 1->1 case, unchanged
 *           (sfb_ring_1to1(): a bare ring in memfds whose reader is the
 *           owner and erases behind itself), same count and ring size.
 *           Through the daemon: a producer thread sends --count records
 *           with sfshm_producer_send(d = NULL), then sfshm_producer_flush();
 *           a consumer thread polls them all meanwhile, checking every
 *           offset and sequence number.  The time runs from the start until
 *           both are done.  acks=written is the case with a goal; none and
 *           durable (flush.ms 1000: the final flush waits for one fsync)
 *           give context.  Daemon CPU is the process's CPU clock from the
 *           start until the log has every record.
 * latency   A topic with flush.ms=1.  We map its ring file ourselves as a
 *           producer and send 100 B records paced at --rate (the records
 *           due, every PACE_NS), noting each one's ring position and send
 *           time.  A watcher thread polls the ring header's written and
 *           durable positions every POLL_NS; a record is written (durable)
 *           once its position is below them, and its latency is when the
 *           watcher saw that minus its send time: late by at most one poll.
 *           The watcher must not wait in sfshm_ring_wait_persisted(): a
 *           waiter makes the persister fsync at once, which is not what
 *           flush.ms=1 promises.  Baseline: pwrite() of a millisecond's
 *           worth of values plus fdatasync(), every millisecond, in the
 *           data dir: the floor under any durable acknowledgement there.
 * catchup   A backlog (--backlog bytes of --record-size values) sent with
 *           acks=none through sfshm_producer_send_batch(), then waited for
 *           until the log has written it all (sfshm_topic_describe():
 *           written_offset reaches the count).  The page cache is left
 *           warm.  A consumer then reads from offset 0 to the end with
 *           sfshm_consumer_poll(): the ring holds only the newest records,
 *           so it reads the segment files.  Baseline: read(2) of the same
 *           segment files in 1 MiB chunks, right before and right after
 *           the consumer, on the same CPU; the faster pass counts.
 * recovery  Producer A (a process) sends all the time, every value
 *           stamped with its send time; producer B (a process) claims a
 *           record (sfshm_producer_claim()) and is SIGKILLed.  A consumer
 *           process notes when the first record A stamped after B's claim
 *           arrives: it lies beyond B's hole, so nobody can read it before
 *           the daemon pads the hole.  Recovery = that moment minus the
 *           return of waitpid(B) in the parent.  --reps times.  Baseline:
 *           Aeron's default publication unblock timeout, 15 s (a documented
 *           default, not measured here).
 * idle      A daemon with no topic, then with 10 topics, no traffic, for
 *           --idle seconds each: utime + stime from /proc/PID/stat (clock
 *           ticks), the process CPU clock (ns), and how often its threads
 *           were scheduled in (/proc/PID/task/TID/schedstat).  The daemon
 *           without topics is the baseline.
 * metrics   persist's acks=written case with the producer and the consumer
 *           in processes of their own, on a daemon with metrics on
 *           (instance sfbench-<pid>, whose pins are removed after each
 *           run, on failure too) and, as the baseline, on one started
 *           --no-bpf: --pairs pairs of runs, off and on in turn, a fresh
 *           daemon each.  The probes fire in every process running an
 *           attached binary, so before each run without metrics we wait
 *           until our own probes' semaphores are back to 0 (the kernel
 *           takes the uprobes off about a second after the pins go), and
 *           we wait for, or skip because of, another instance that has
 *           attached sfbench or sfshmd.  After each run with metrics the
 *           pinned topic_stats must count every record in and out: else
 *           the run measured a broken setup, and fails.  Skipped (not
 *           failed) when not root or when the daemon says "metrics off".
 *
 * Checking: consumers check every offset, value length, sequence number
 * and last byte; a lost, duplicated or corrupt record, a daemon that does
 * not answer, or no progress for 10 s fails the run (exit status 1).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <sfshm/sfshm.h>

#include "probes.h" /* libsfshm's, linked in: our probes' semaphores */
#include "sfbench.h"
#include "sfm.h"

#define CMD "daemon"
#define NS 1000000000ull
#define MSEC 1000000ull
#define USEC 1000ull
#define MB 1e6
#define GB 1e9
#define MAX_CPUS 64
#define VALUE_LEN 100u /* persist and latency values */
#define WATCHDOG_NS (10 * NS) /* no progress this long fails the run */
#define START_NS (10 * NS) /* the daemon must answer by then */
#define STOP_NS (120 * NS) /* and exit after SIGTERM by then */
#define SEND_TIMEOUT_MS 30000
#define FLUSH_TIMEOUT_MS 60000
#define PACE_NS (20 * USEC) /* latency: the producer's sleep */
#define POLL_NS (20 * USEC) /* latency: the watcher's sleep */
#define TIMER_SLACK_NS 1000 /* for those sleeps (default: 50 us) */
#define FSYNC_SAMPLES 300 /* latency baseline (50 with --quick) */
#define CU_BATCH 64 /* catch-up: records per send_batch */
#define CU_CHUNK (1u << 20) /* catch-up baseline: bytes per read() */
#define DISK_RESERVE (256ull << 20) /* left free in the data dir */
#define RC_PACE_NS (20 * USEC) /* recovery: producer A's sleep */
#define RC_HOLD_NS (5 * MSEC) /* B holds its claim before the kill */
#define AERON_UNBLOCK_MS 15000.0 /* aeron.publication.unblock.timeout */
#define IDLE_TOPICS 10
#define SETTLE_NS (300 * MSEC) /* before an idle measurement */

/* The goals of the issue, checked in the summary. */
#define GOAL_PERSIST_RATIO 0.5
#define GOAL_DURABLE_P99_MS 2.0
#define GOAL_CATCHUP_GBS 2.0
#define GOAL_RECOVERY_MS 100.0
#define GOAL_IDLE_PCT 1.0
#define GOAL_METRICS_RATIO 0.98

enum part {
	PART_PERSIST = 1,
	PART_LATENCY = 2,
	PART_CATCHUP = 4,
	PART_RECOVERY = 8,
	PART_IDLE = 16,
	PART_METRICS = 32,
};

#define NPARTS 6
static const char *const part_names[NPARTS] = { "persist", "latency",
						"catchup", "recovery",
						"idle",	   "metrics" };

struct opts {
	unsigned int parts;
	bool json, quick;
	int cpus[MAX_CPUS];
	int ncpus;
	uint64_t count; /* persist: records per case */
	uint64_t runs; /* persist: rounds of all cases */
	uint64_t ring_size; /* of every topic */
	uint64_t rate; /* latency: records per second */
	double lat_secs; /* latency: how long */
	uint64_t backlog, record_size; /* catch-up */
	uint64_t reps; /* recovery */
	double idle_secs;
	uint64_t pairs; /* metrics: off/on pairs of runs */
	char data_base[PATH_MAX]; /* data dirs are made in here */
};

/* ---- failing -------------------------------------------------------------- */

static bool g_child; /* this process is a forked worker */
static bool g_failed;
static const char *g_cmd = CMD; /* the command named in messages */

/*
 * sfb_fail() - a run-time failure: say what and exit with status 1.  In
 * the main process the atexit handler then kills the daemon and removes
 * its dirs; a forked worker just exits, and the parent notices.
 */
void sfb_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sfbench %s: ", g_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	g_failed = true;
	if (g_child)
		_exit(1);
	exit(1);
}

/* ---- time, CPU, memory ------------------------------------------------------ */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static double secs_between(uint64_t from, uint64_t to)
{
	return (double)(to - from) / NS;
}

static uint64_t cpu_total(const struct sfb_cpu_time *c)
{
	return c->user_ns + c->sys_ns;
}

void *sfb_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		sfb_fail("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

/* Zeroed memory that forked workers share with us. */
void *sfb_shm_zalloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		sfb_fail("mmap of %zu shared bytes: %s", len, strerror(errno));
	return p;
}

/* Short sleeps should be short: the default slack is 50 us. */
static void fine_sleeps(void)
{
	prctl(PR_SET_TIMERSLACK, (unsigned long)TIMER_SLACK_NS);
}

/* ---- threads and processes ------------------------------------------------ */

void sfb_gate_wait(struct sfb_gate *g)
{
	atomic_fetch_add(&g->ready, 1);
	/* Pairs with the release store in sfb_gate_go(). */
	while (!atomic_load_explicit(&g->go, memory_order_acquire))
		sched_yield();
}

/* Wait until @n workers are set up; @pids: fail if one of them exits. */
void sfb_gate_ready(struct sfb_gate *g, int n, const pid_t *pids)
{
	while (atomic_load(&g->ready) < n) {
		for (int i = 0; pids && i < n; i++)
			if (waitpid(pids[i], NULL, WNOHANG) == pids[i])
				sfb_fail(
					"a worker process failed while setting "
					"up");
		sfb_sleep_ns(100 * USEC);
	}
}

void sfb_gate_go(struct sfb_gate *g)
{
	g->t0 = sfb_now_ns();
	/* Release: t0 and the setup before are visible to the workers. */
	atomic_store_explicit(&g->go, 1, memory_order_release);
}

/* The CPU of worker role @i (0 producer, 1 consumer), or -1. */
static int cpu_of(const struct opts *o, int i)
{
	return o->ncpus ? o->cpus[i % o->ncpus] : -1;
}

static void pin_self(int cpu)
{
	cpu_set_t set;
	int err;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err)
		sfb_fail("cannot pin to CPU %d: %s", cpu, strerror(err));
}

struct worker {
	void (*fn)(void *arg);
	void *arg;
	int cpu; /* -1: not pinned */
	pthread_t tid;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pin_self(w->cpu);
	w->fn(w->arg);
	return NULL;
}

static void start_workers(struct worker *w, int n)
{
	for (int i = 0; i < n; i++) {
		int err = pthread_create(&w[i].tid, NULL, worker_main, &w[i]);

		if (err)
			sfb_fail("pthread_create: %s", strerror(err));
	}
}

static void join_workers(struct worker *w, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(w[i].tid, NULL);
}

/* Run @fn(@arg) on a thread pinned to @cpu and wait for it. */
static void run_pinned(void (*fn)(void *), void *arg, int cpu)
{
	struct worker w = { fn, arg, cpu, 0 };

	start_workers(&w, 1);
	join_workers(&w, 1);
}

/* Fork a worker process running @fn(@arg) on @cpu; it dies with us. */
pid_t sfb_spawn(void (*fn)(void *), void *arg, int cpu)
{
	pid_t parent = getpid(), pid;

	fflush(NULL); /* or the child would print our buffered output too */
	pid = fork();
	if (pid < 0)
		sfb_fail("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	g_child = true;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	pin_self(cpu);
	fn(arg);
	_exit(0);
}

/* Has worker process @pid exited?  Then it failed: say so. */
void sfb_check_alive(pid_t pid, const char *who)
{
	int st;

	if (waitpid(pid, &st, WNOHANG) != pid)
		return;
	sfb_fail("%s exited early (status 0x%x)", who, (unsigned int)st);
}

/* Wait for a worker process; after @timeout_ns SIGKILL it.  Return: ok? */
bool sfb_reap(pid_t pid, uint64_t timeout_ns)
{
	uint64_t t0 = sfb_now_ns();
	int st = 0;
	pid_t r;

	while ((r = waitpid(pid, &st, WNOHANG)) == 0) {
		if (sfb_now_ns() - t0 > timeout_ns) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return false;
		}
		sfb_sleep_ns(MSEC);
	}
	return r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- the daemon ------------------------------------------------------------ */

static struct sfb_daemon *g_daemon; /* running now: for cleaning up at exit */

/* <dir of this program>/../sfshmd */
const char *sfb_daemon_exe(void)
{
	static char path[PATH_MAX + 16];
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (path[0])
		return path;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		sfb_fail("readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/../sfshmd", exe);
	if (access(path, X_OK))
		sfb_fail("cannot run %s: %s (build it: make daemon)", path,
			 strerror(errno));
	if (realpath(path, exe))
		snprintf(path, sizeof(path), "%s", exe);
	return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(const char *dir)
{
	if (dir[0])
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Its dirs, its log, and its pinned metrics (which detaches them). */
static void daemon_remove(struct sfb_daemon *d)
{
	rm_tree(d->data_dir);
	rm_tree(d->run_dir);
	rm_tree(d->bpf_dir);
	if (d->log_path[0])
		unlink(d->log_path);
}

/* The end of the daemon's log, for failures. */
static void daemon_print_log(const struct sfb_daemon *d)
{
	char buf[4096];
	int fd = open(d->log_path, O_RDONLY | O_CLOEXEC);
	off_t end = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	ssize_t n;

	if (end < 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1,
		  end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 :
						 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	fprintf(stderr, "---- the end of %s ----\n%s", d->log_path, buf);
}

static void at_exit_cleanup(void)
{
	struct sfb_daemon *d = g_daemon;

	if (g_child || !d)
		return;
	g_daemon = NULL;
	if (d->pid > 0) {
		if (g_failed)
			daemon_print_log(d);
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	daemon_remove(d);
}

/*
 * A signal that ends us: clean up as at exit, then die of it.  Not
 * async-signal-safe (nftw() allocates), but pins left behind would keep
 * the probes of sfbench and sfshmd attached, slowing every later run of
 * both: a rare deadlock on Ctrl-C is the lesser evil.
 */
static void on_fatal_signal(int sig)
{
	if (!g_child)
		at_exit_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * In the child: pin to the CPUs after the second, log, exec.  Metrics
 * off unless the caller named an instance.
 */
static void __attribute__((noreturn))
daemon_exec(const struct sfb_daemon *d, const struct sfb_daemon_opts *o)
{
	const char *argv[] = { "sfshmd",    "--data-dir", d->data_dir,
			       "--run-dir", d->run_dir,	  "--log-level",
			       "info",	    "--no-bpf",	  NULL,
			       NULL };
	int fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0644);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	cpu_set_t set;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (fd < 0 || null < 0 || dup2(fd, 2) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 0) < 0)
		_exit(126);
	if (o->ncpus > 2) {
		CPU_ZERO(&set);
		for (int i = 2; i < o->ncpus; i++)
			CPU_SET(o->cpus[i], &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (o->bpf_instance) {
		argv[7] = "--instance";
		argv[8] = o->bpf_instance;
	}
	execv(sfb_daemon_exe(), (char *const *)argv);
	_exit(127);
}

static bool daemon_answers(const struct sfb_daemon *d)
{
	struct sfshm_client_opts co = { .size = sizeof(co),
					.run_dir = d->run_dir,
					.client_id = "sfbench",
					.timeout_ms = 1000 };
	struct sfshm_client *c;

	if (sfshm_connect(&co, &c))
		return false;
	sfshm_disconnect(c);
	return true;
}

static void daemon_wait_ready(struct sfb_daemon *d)
{
	uint64_t t0 = sfb_now_ns();
	int st;

	while (!daemon_answers(d)) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = -1;
			g_failed = true;
			daemon_print_log(d);
			sfb_fail("sfshmd exited at start (status 0x%x)",
				 (unsigned int)st);
		}
		if (sfb_now_ns() - t0 > START_NS)
			sfb_fail(
				"sfshmd did not answer on %s/sfshmd.sock within "
				"%llu s",
				d->run_dir, START_NS / NS);
		sfb_sleep_ns(5 * MSEC);
	}
}

/* Start a daemon on fresh dirs named after @tag. */
void sfb_daemon_start(struct sfb_daemon *d, const struct sfb_daemon_opts *o,
		      const char *tag)
{
	memset(d, 0, sizeof(*d));
	d->pid = -1;
	if (o->bpf_instance) {
		snprintf(d->bpf_dir, sizeof(d->bpf_dir), "%s/%.64s",
			 SFM_BPFFS_ROOT, o->bpf_instance);
		/* Ours by name: left by a run killed with our pid. */
		rm_tree(d->bpf_dir);
	}
	/* --data-dir is at most PATH_MAX - 64 bytes (sfb_opt_data_dir()). */
	snprintf(d->data_dir, sizeof(d->data_dir), "%.4000s/sfbench-%s-XXXXXX",
		 o->data_base, tag);
	snprintf(d->run_dir, sizeof(d->run_dir), "/dev/shm/sfbench-%s-XXXXXX",
		 tag);
	if (!mkdtemp(d->data_dir))
		sfb_fail("mkdtemp %s: %s", d->data_dir, strerror(errno));
	g_daemon = d;
	if (!mkdtemp(d->run_dir))
		sfb_fail("mkdtemp %s: %s", d->run_dir, strerror(errno));
	snprintf(d->log_path, sizeof(d->log_path), "%s.log", d->data_dir);
	sfb_daemon_exe(); /* fail here, not in the child */
	fflush(NULL);
	d->pid = fork();
	if (d->pid < 0)
		sfb_fail("fork: %s", strerror(errno));
	if (d->pid == 0)
		daemon_exec(d, o);
	daemon_wait_ready(d);
}

/* SIGTERM, wait for a clean exit, remove the dirs. */
void sfb_daemon_stop(struct sfb_daemon *d)
{
	uint64_t t0 = sfb_now_ns();
	int st = 0;
	pid_t r;

	kill(d->pid, SIGTERM);
	while ((r = waitpid(d->pid, &st, WNOHANG)) == 0) {
		if (sfb_now_ns() - t0 > STOP_NS)
			sfb_fail("sfshmd did not stop within %llu s of SIGTERM",
				 STOP_NS / NS);
		sfb_sleep_ns(2 * MSEC);
	}
	d->pid = -1;
	if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		g_failed = true;
		daemon_print_log(d);
		sfb_fail(
			"sfshmd did not exit cleanly after SIGTERM (status 0x%x)",
			(unsigned int)st);
	}
	daemon_remove(d);
	g_daemon = NULL;
}

/* This command's daemons: its --data-dir and --cpu. */
static void daemon_start(struct sfb_daemon *d, const struct opts *o,
			 const char *tag)
{
	struct sfb_daemon_opts dopts = { o->data_base, o->cpus, o->ncpus };

	sfb_daemon_start(d, &dopts, tag);
}

/*
 * sfb_daemon_setup() - before a command starts daemons: name it in
 * messages, fail now if there is no sfshmd to run, stop a daemon left
 * running at exit, and take EPIPE from dead peers as an error, not a
 * signal.
 */
void sfb_daemon_setup(const char *cmd)
{
	g_cmd = cmd;
	sfb_daemon_exe();
	atexit(at_exit_cleanup);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_fatal_signal);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGHUP, on_fatal_signal);
}

/* ---- the daemon's CPU -------------------------------------------------------- */

/* utime + stime (fields 14 and 15) of /proc/@pid/stat, in ns. */
static uint64_t stat_cpu_ns(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long ut = 0, st = 0;
	const char *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name (field 2) may hold spaces: count from its ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu",
			 &ut, &st) != 2)
		return 0;
	return (ut + st) * NS / (uint64_t)sysconf(_SC_CLK_TCK);
}

/* Sum of the third field of /proc/@pid/task/TID/schedstat. */
static uint64_t sched_runs(pid_t pid)
{
	char path[300];
	unsigned long long runs;
	uint64_t sum = 0;
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.200s/schedstat",
			 (int)pid, de->d_name);
		f = fopen(path, "r");
		if (f && fscanf(f, "%*u %*u %llu", &runs) == 1)
			sum += runs;
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	return sum;
}

void sfb_proc_cpu(pid_t pid, struct sfb_proc_cpu *c)
{
	clockid_t id;

	c->stat_ns = stat_cpu_ns(pid);
	c->clock_ns = clock_getcpuclockid(pid, &id) ? 0 : clock_ns(id);
	c->runs = sched_runs(pid);
}

/* ---- clients ------------------------------------------------------------------ */

struct sfshm_client *sfb_client_open(const struct sfb_daemon *d)
{
	struct sfshm_client_opts co = { .size = sizeof(co),
					.run_dir = d->run_dir,
					.client_id = "sfbench",
					.timeout_ms = 10000 };
	struct sfshm_client *c;
	int err = sfshm_connect(&co, &c);

	if (err)
		sfb_fail("cannot connect to sfshmd in %s: %s", d->run_dir,
			 sfshm_strerror(err));
	return c;
}

/* One partition; @ring_bytes, and @flush_ms unless 0 (the default). */
static void topic_create(const struct sfb_daemon *d, const char *name,
			 uint64_t ring_bytes, int64_t flush_ms)
{
	struct sfshm_client *c = sfb_client_open(d);
	struct sfshm_topic_config cfg;
	int err;

	sfshm_topic_config_init(&cfg);
	cfg.partitions = 1;
	cfg.ring_bytes = ring_bytes;
	cfg.flush_ms = flush_ms;
	err = sfshm_topic_create(c, name, &cfg);
	if (err)
		sfb_fail("cannot create topic %s: %s (%s)", name,
			 sfshm_strerror(err), sfshm_last_error(c));
	sfshm_disconnect(c);
}

static void topic_delete(const struct sfb_daemon *d, const char *name)
{
	struct sfshm_client *c = sfb_client_open(d);
	int err = sfshm_topic_delete(c, name);

	if (err)
		sfb_fail("cannot delete topic %s: %s", name,
			 sfshm_strerror(err));
	sfshm_disconnect(c);
}

static void describe0(struct sfshm_client *c, const char *topic,
		      struct sfshm_partition_info *out)
{
	struct sfshm_topic_info *ti;
	int err = sfshm_topic_describe(c, topic, &ti);

	if (err)
		sfb_fail("cannot describe topic %s: %s", topic,
			 sfshm_strerror(err));
	*out = ti->partitions[0];
	sfshm_topic_info_free(ti);
}

/* Wait until the log of @topic has @n records written (page cache). */
static void wait_written(const struct sfb_daemon *d, const char *topic,
			 int64_t n, struct sfshm_partition_info *out)
{
	struct sfshm_client *c = sfb_client_open(d);
	uint64_t since = sfb_now_ns();
	int64_t last = -1;

	for (;;) {
		describe0(c, topic, out);
		if (out->written_offset >= n)
			break;
		if (out->written_offset != last) {
			last = out->written_offset;
			since = sfb_now_ns();
		} else if (sfb_now_ns() - since > WATCHDOG_NS) {
			sfb_fail("%s: the log stays at %" PRId64 " of %" PRId64
				 " records written",
				 topic, last, n);
		}
		sfb_sleep_ns(2 * MSEC);
	}
	sfshm_disconnect(c);
}

static struct sfshm_producer *
producer_on(struct sfshm_client *c, const char *topic, enum sfshm_acks acks)
{
	struct sfshm_producer_opts po = { .size = sizeof(po),
					  .acks = acks,
					  .timeout_ms = SEND_TIMEOUT_MS };
	struct sfshm_producer *p;
	int err = sfshm_producer_open(c, topic, &po, &p);

	if (err)
		sfb_fail("%s: cannot open a producer: %s", topic,
			 sfshm_strerror(err));
	return p;
}

static struct sfshm_consumer *consumer_on(struct sfshm_client *c,
					  const char *topic, int64_t offset)
{
	struct sfshm_consumer *cons;
	int err = sfshm_consumer_open(c, NULL, &cons);

	if (!err)
		err = sfshm_consumer_assign(cons, topic, 0, offset);
	if (err)
		sfb_fail("%s: cannot open a consumer: %s", topic,
			 sfshm_strerror(err));
	return cons;
}

/* ---- records -------------------------------------------------------------------- */

/* A value: a sequence word (the offset the record must get), a pattern. */
static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + 1);
}

static void fill_value(uint8_t *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		v[i] = pattern(i);
}

static uint64_t get_u64(const void *v, size_t at)
{
	uint64_t x;

	memcpy(&x, (const uint8_t *)v + at, sizeof(x));
	return x;
}

static struct sfshm_rec keyless(const void *value, uint32_t len)
{
	return (struct sfshm_rec){
		.key_len = -1,
		.value = value,
		.value_len = (int32_t)len,
		/* Explicit: 0 would cost a clock read per record. */
		.timestamp = (int64_t)clock_ns(CLOCK_REALTIME),
	};
}

/* Record @n of a topic that one producer filled in order. */
static void check_record(const struct sfshm_record *r, const char *topic,
			 uint64_t n, uint32_t vlen)
{
	const uint8_t *v = r->value;

	if (r->offset != (int64_t)n)
		sfb_fail("%s: got offset %" PRId64 " where %" PRIu64 " was "
			 "expected (lost or duplicated)",
			 topic, r->offset, n);
	if (r->value_len != (int32_t)vlen || get_u64(v, 0) != n ||
	    v[vlen - 1] != pattern(vlen - 1))
		sfb_fail("%s: the record at offset %" PRIu64 " is corrupt "
			 "(value %d B, expected %u B)",
			 topic, n, r->value_len, vlen);
}

/* Poll @count records from offset 0 on, checking each. */
static void read_all(struct sfshm_consumer *cons, const char *topic,
		     uint64_t count, uint32_t vlen)
{
	struct sfshm_record rec;
	uint64_t n = 0, stalled = 0;

	while (n < count) {
		int r = sfshm_consumer_poll(cons, &rec, 100);

		if (r < 0)
			sfb_fail("%s: poll at offset %" PRIu64 ": %s", topic, n,
				 sfshm_strerror(r));
		if (r == 1) {
			check_record(&rec, topic, n++, vlen);
			stalled = 0;
		} else if (!stalled) {
			stalled = sfb_now_ns();
		} else if (sfb_now_ns() - stalled > WATCHDOG_NS) {
			sfb_fail("%s: no record for 10 s at offset %" PRIu64
				 " of %" PRIu64,
				 topic, n, count);
		}
	}
}

/* ---- results ------------------------------------------------------------------- */

/* Percentiles of the latency parts: min, p50, p99, p99.9, max. */
#define NPCT 5
static const double pcts[NPCT] = { 0, 50, 99, 99.9, 100 };
static const char *const pct_names[NPCT] = { "min", "p50", "p99", "p99.9",
					     "max" };

struct pers_result {
	char label[24];
	bool baseline;
	uint64_t records;
	double secs; /* until everything was read (and flushed) */
	double send_s, flush_s, read_s; /* each side's end; NaN: none */
	double daemon_ns; /* daemon CPU per record; NaN for the ring */
	double client_ns; /* producer + consumer CPU per record */
};

#define MAX_RUNS 15
#define NCASES 4 /* the ring, then acks=written, none, durable */

/* One persist case over the --runs rounds. */
struct pers_case {
	struct pers_result run[MAX_RUNS];
	double ratio[MAX_RUNS]; /* records/s over the ring's, same round */
	int med; /* the run with the median records/s */
	double ratio_med; /* the median of ratio[] */
	double min_rate, max_rate;
};

struct lat_result {
	uint64_t sent;
	double send_s; /* first to last send */
	uint64_t pct[2][NPCT]; /* written, durable; ns */
	uint64_t base[NPCT]; /* pwrite + fdatasync; ns */
	uint64_t base_n, base_bytes;
	double poll_ns; /* the watcher's measured poll period */
};

struct cu_result {
	uint64_t asked, backlog; /* bytes: asked for, produced */
	uint64_t avail; /* free bytes in the data dir before */
	uint64_t records, record_size, log_bytes;
	uint32_t segments;
	double produce_s, persist_s; /* from the first send */
	double read_s;
	struct sfb_cpu_time read_cpu;
	double base_s[2]; /* read(2) before and after the consumer */
	uint64_t base_bytes;
};

#define RC_FAST_MS 0.5 /* recoveries this quick are counted apart */

struct rc_result {
	uint64_t reps;
	double ms[5]; /* min, median, mean, p90, max */
	double *all; /* every repetition, sorted (owned) */
	uint64_t fast; /* repetitions within RC_FAST_MS */
	uint64_t a_sent, c_read;
	double a_rate;
};

struct idle_result {
	int topics;
	double secs;
	struct sfb_proc_cpu cpu; /* used during secs */
};

/*
 * The metrics part: runs of the persist acks=written case with worker
 * processes, metrics off ([0], --no-bpf) and on ([1]) in turn.
 */
struct met_result {
	int pairs;
	struct pers_result run[2][MAX_RUNS];
	double ratio[MAX_RUNS]; /* on over off, pair by pair */
	double rate[2], min_rate[2], max_rate[2]; /* records/s: median, range */
	double daemon_ns[2], client_ns[2]; /* CPU per record: medians */
	double ratio_med; /* rate[1] / rate[0] */
	struct sfm_stats stats; /* topic_stats after the last run with metrics */
	uint64_t detach_ns; /* the longest wait for our probes to go */
	uint64_t wait_ns; /* the last one */
	char others[128]; /* other metrics instances pinned, "" if none */
	char skipped[320]; /* why the part was skipped, "" if measured */
};

struct report {
	const struct opts *o;
	unsigned int done; /* parts measured */
	struct pers_case pers[NCASES];
	int nruns;
	struct lat_result lat;
	struct cu_result cu;
	struct rc_result rc;
	struct idle_result idle[2];
	struct met_result met;
};

static double pers_rate(const struct pers_result *r)
{
	return (double)r->records / r->secs;
}

/* The median run of a persist case. */
static const struct pers_result *pers_med(const struct pers_case *c)
{
	return &c->run[c->med];
}

/* ---- persist throughput ------------------------------------------------------------ */

/* One producer -> consumer run through the daemon. */
struct flow {
	const struct sfb_daemon *d;
	char topic[32];
	enum sfshm_acks acks;
	uint64_t count;
	struct sfb_gate gate;
	uint64_t t_sent, t_flushed, t_read;
	struct sfb_cpu_time cpu[2]; /* producer, consumer */
};

static const char *acks_name(enum sfshm_acks a)
{
	return a == SFSHM_ACKS_NONE    ? "none" :
	       a == SFSHM_ACKS_WRITTEN ? "written" :
					 "durable";
}

static void flow_producer(void *arg)
{
	struct flow *f = arg;
	struct sfshm_client *c = sfb_client_open(f->d);
	struct sfshm_producer *p = producer_on(c, f->topic, f->acks);
	uint8_t val[VALUE_LEN];
	struct sfshm_rec rec = keyless(val, VALUE_LEN);
	int err;

	fill_value(val, VALUE_LEN);
	sfb_gate_wait(&f->gate);
	sfb_cpu_now(&f->cpu[0]);
	for (uint64_t i = 0; i < f->count; i++) {
		sfb_put_u64(val, 0, i);
		err = sfshm_producer_send(p, 0, &rec, NULL);
		if (err)
			sfb_fail("%s: send #%" PRIu64 ": %s", f->topic, i,
				 sfshm_strerror(err));
	}
	f->t_sent = sfb_now_ns();
	err = sfshm_producer_flush(p, FLUSH_TIMEOUT_MS);
	if (err)
		sfb_fail("%s: flush: %s", f->topic, sfshm_strerror(err));
	f->t_flushed = sfb_now_ns();
	sfb_cpu_since(&f->cpu[0]);
	sfshm_producer_close(p);
	sfshm_disconnect(c);
}

static void flow_consumer(void *arg)
{
	struct flow *f = arg;
	struct sfshm_client *c = sfb_client_open(f->d);
	struct sfshm_consumer *cons =
		consumer_on(c, f->topic, SFSHM_OFFSET_BEGINNING);

	sfb_gate_wait(&f->gate);
	sfb_cpu_now(&f->cpu[1]);
	read_all(cons, f->topic, f->count, VALUE_LEN);
	f->t_read = sfb_now_ns();
	sfb_cpu_since(&f->cpu[1]);
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);
}

static void flow_result(const struct flow *f, const struct sfb_proc_cpu *c0,
			const struct sfb_proc_cpu *c1, struct pers_result *r)
{
	uint64_t end = f->t_flushed > f->t_read ? f->t_flushed : f->t_read;
	double n = (double)f->count;

	memset(r, 0, sizeof(*r));
	snprintf(r->label, sizeof(r->label), "daemon acks=%s",
		 acks_name(f->acks));
	r->records = f->count;
	r->secs = secs_between(f->gate.t0, end);
	r->send_s = secs_between(f->gate.t0, f->t_sent);
	r->flush_s = secs_between(f->t_sent, f->t_flushed);
	r->read_s = secs_between(f->gate.t0, f->t_read);
	r->daemon_ns = (double)(c1->clock_ns - c0->clock_ns) / n;
	r->client_ns =
		(double)(cpu_total(&f->cpu[0]) + cpu_total(&f->cpu[1])) / n;
}

static void run_flow(const struct opts *o, const struct sfb_daemon *d,
		     enum sfshm_acks acks, int round, struct pers_result *res)
{
	struct flow *f = sfb_xcalloc(1, sizeof(*f));
	struct worker w[2] = { { flow_producer, f, cpu_of(o, 0), 0 },
			       { flow_consumer, f, cpu_of(o, 1), 0 } };
	struct sfshm_partition_info pi;
	struct sfb_proc_cpu c0, c1;

	f->d = d;
	f->acks = acks;
	f->count = o->count;
	snprintf(f->topic, sizeof(f->topic), "persist-%s-%d", acks_name(acks),
		 round);
	topic_create(d, f->topic, o->ring_size,
		     acks == SFSHM_ACKS_DURABLE ? 1000 : 0);
	start_workers(w, 2);
	sfb_gate_ready(&f->gate, 2, NULL);
	sfb_proc_cpu(d->pid, &c0);
	sfb_gate_go(&f->gate);
	join_workers(w, 2);
	/* acks=none returns early: count the daemon until it is done. */
	wait_written(d, f->topic, (int64_t)o->count, &pi);
	sfb_proc_cpu(d->pid, &c1);
	flow_result(f, &c0, &c1, res);
	topic_delete(d, f->topic);
	free(f);
}

static void ring_baseline(const struct opts *o, struct pers_result *r)
{
	struct sfb_tp tp;

	if (sfb_ring_1to1(VALUE_LEN, o->count, o->ring_size, o->cpus, o->ncpus,
			  &tp))
		sfb_fail("the ring baseline failed");
	memset(r, 0, sizeof(*r));
	snprintf(r->label, sizeof(r->label), "ring 1->1 (baseline)");
	r->baseline = true;
	r->records = tp.records;
	r->secs = tp.secs;
	r->send_s = r->flush_s = r->read_s = NAN;
	r->read_s = tp.secs;
	r->daemon_ns = NAN;
	r->client_ns = (double)tp.cpu_ns / (double)tp.records;
}
static void persist_header(const struct opts *o)
{
	char rs[32];

	printf("\nPersist throughput: 1 producer -> 1 consumer, %u B values, "
	       "%" PRIu64 " records, one partition,\nring %s; the median of "
	       "%" PRIu64 " round%s of the four cases\n",
	       VALUE_LEN, o->count,
	       sfb_human_bytes(o->ring_size, rs, sizeof(rs)), o->runs,
	       o->runs == 1 ? "" : "s");
	printf("%-20s %7s %6s %11s %6s %6s %7s %6s %7s %7s %7s\n", "case",
	       "Mrec/s", "MB/s", "range", "time s", "send s", "flush s",
	       "read s", "daemon", "client", "vs ring");
}

static void print_opt(const char *fmt, double v, int width)
{
	if (isnan(v))
		printf(" %*s", width, "-");
	else
		printf(fmt, v);
}

static void persist_row(const struct pers_case *c)
{
	const struct pers_result *r = pers_med(c);
	double rate = pers_rate(r);
	char range[24];

	snprintf(range, sizeof(range), "%.2f-%.2f", c->min_rate / 1e6,
		 c->max_rate / 1e6);
	printf("%-20s %7.3f %6.1f %11s %6.3f", r->label, rate / 1e6,
	       rate * VALUE_LEN / MB, range, r->secs);
	print_opt(" %6.3f", r->send_s, 6);
	print_opt(" %7.3f", r->flush_s, 7);
	print_opt(" %6.3f", r->read_s, 6);
	print_opt(" %7.0f", r->daemon_ns, 7);
	printf(" %7.0f %6.0f%%\n", r->client_ns, 100 * c->ratio_med);
}

static void persist_footer(void)
{
	printf("  Each row is the case's median run; range: its lowest and "
	       "highest Mrec/s.\n  time: from the start until the consumer "
	       "had every record and flush() returned;\n  send s: when the "
	       "producer's last send returned, flush s: how long its flush()"
	       "\n  took then, read s: when the consumer had everything (all "
	       "from the start).\n  daemon: sfshmd's CPU ns per record (until "
	       "the log had them all); client:\n  producer + consumer CPU ns "
	       "per record.  MB = 10^6 B of values.\n  vs ring: the median "
	       "over the rounds of records/s over the ring's in the same\n  "
	       "round (cases alternate, so each ratio compares runs seconds "
	       "apart).\n");
}

/* The median of @n values (the lower middle one for even @n). */
static double median(const double *v, int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), sfb_cmp_double);
	return s[(n - 1) / 2];
}

/* Median run, median ratio and range of a case over @n rounds. */
static void pers_summary(struct pers_case *c, const struct pers_case *ring,
			 int n)
{
	double rate[MAX_RUNS], med;

	for (int i = 0; i < n; i++) {
		rate[i] = pers_rate(&c->run[i]);
		c->ratio[i] = rate[i] / pers_rate(&ring->run[i]);
	}
	med = median(rate, n);
	c->min_rate = c->max_rate = rate[0];
	for (int i = 0; i < n; i++) {
		if (rate[i] == med)
			c->med = i;
		c->min_rate = rate[i] < c->min_rate ? rate[i] : c->min_rate;
		c->max_rate = rate[i] > c->max_rate ? rate[i] : c->max_rate;
	}
	c->ratio_med = median(c->ratio, n);
}

static int run_persist(struct report *rep)
{
	static const enum sfshm_acks acks[] = { SFSHM_ACKS_WRITTEN,
						SFSHM_ACKS_NONE,
						SFSHM_ACKS_DURABLE };
	const struct opts *o = rep->o;
	struct pers_case *c = rep->pers;
	struct sfb_daemon d;

	rep->nruns = (int)o->runs;
	daemon_start(&d, o, "persist");
	for (int r = 0; r < rep->nruns; r++) {
		ring_baseline(o, &c[0].run[r]);
		for (int i = 0; i < NCASES - 1; i++)
			run_flow(o, &d, acks[i], r, &c[1 + i].run[r]);
	}
	sfb_daemon_stop(&d);
	for (int i = 0; i < NCASES; i++)
		pers_summary(&c[i], &c[0], rep->nruns);
	if (o->json)
		return 1;
	persist_header(o);
	for (int i = 0; i < NCASES; i++)
		persist_row(&c[i]);
	persist_footer();
	return 1;
}

/* ---- durable acknowledgement latency ------------------------------------------------- */

struct lat_sample {
	uint64_t pos; /* ring position of the record */
	uint64_t t; /* when its send began */
};

struct lat_run {
	char ring_path[PATH_MAX + 32];
	char ctl_path[PATH_MAX + 32];
	uint64_t total, rate;
	struct lat_sample *s;
	_Atomic uint64_t published; /* samples s[0..published) are set */
	uint64_t *lat[2]; /* written, durable latency of each record; ns */
	uint64_t t_first, t_last; /* sends */
	uint64_t polls, t_poll0, t_poll1;
	struct sfb_gate gate;
};

static struct sfshm_ring *map_ring_file(const struct lat_run *l,
					enum sfshm_role role)
{
	int rfd = open(l->ring_path,
		       (role == SFSHM_ROLE_READER ? O_RDONLY : O_RDWR) |
			       O_CLOEXEC);
	int cfd = open(l->ctl_path, O_RDWR | O_CLOEXEC);
	struct sfshm_ring *r = NULL;
	int err = rfd < 0 || cfd < 0 ? -errno : 0;

	if (!err)
		err = sfshm_ring_map(rfd, cfd, role, &r);
	if (rfd >= 0)
		close(rfd);
	if (cfd >= 0)
		close(cfd);
	if (err)
		sfb_fail("cannot map %s: %s", l->ring_path,
			 sfshm_strerror(err));
	return r;
}

static void lat_send(struct lat_run *l, struct sfshm_ring *r,
		     struct sfshm_rec *rec, uint8_t *val, uint64_t i)
{
	uint64_t t, pos;
	int err;

	sfb_put_u64(val, 0, i);
	t = sfb_now_ns();
	err = sfshm_ring_send(r, rec, SEND_TIMEOUT_MS, &pos);
	if (err)
		sfb_fail("latency: send #%" PRIu64 ": %s", i,
			 sfshm_strerror(err));
	l->s[i] = (struct lat_sample){ pos, t };
}

/* Send the records due at --rate, a few every PACE_NS. */
static void lat_producer(void *arg)
{
	struct lat_run *l = arg;
	struct sfshm_ring *r = map_ring_file(l, SFSHM_ROLE_PRODUCER);
	uint8_t val[VALUE_LEN];
	struct sfshm_rec rec = keyless(val, VALUE_LEN);
	uint64_t sent = 0, t0;

	fill_value(val, VALUE_LEN);
	fine_sleeps();
	sfb_gate_wait(&l->gate);
	t0 = l->t_first = sfb_now_ns();
	while (sent < l->total) {
		uint64_t due = (sfb_now_ns() - t0) * l->rate / NS + 1;

		due = due < l->total ? due : l->total;
		for (; sent < due; sent++)
			lat_send(l, r, &rec, val, sent);
		/* Release: the samples before are visible to the watcher. */
		atomic_store_explicit(&l->published, sent,
				      memory_order_release);
		sfb_sleep_ns(PACE_NS);
	}
	l->t_last = sfb_now_ns();
	sfshm_ring_unmap(r);
}

/* Records [@i, @n) below @upto got there by @now: note their latency. */
static uint64_t settle(const struct lat_run *l, uint64_t *lat, uint64_t i,
		       uint64_t n, uint64_t upto, uint64_t now)
{
	for (; i < n && l->s[i].pos < upto; i++)
		lat[i] = now - l->s[i].t;
	return i;
}

static void lat_watcher(void *arg)
{
	struct lat_run *l = arg;
	struct sfshm_ring *r = map_ring_file(l, SFSHM_ROLE_READER);
	uint64_t iw = 0, id = 0, moved = 0;

	fine_sleeps();
	sfb_gate_wait(&l->gate);
	l->t_poll0 = sfb_now_ns();
	while (id < l->total) {
		uint64_t w = sfshm_ring_written(r), d = sfshm_ring_durable(r);
		/* Pairs with the release store in lat_producer(). */
		uint64_t n = atomic_load_explicit(&l->published,
						  memory_order_acquire);
		uint64_t now = sfb_now_ns(), before = id;
		int err = sfshm_ring_error(r);

		if (err)
			sfb_fail("latency: the daemon reports %s",
				 sfshm_strerror(err));
		iw = settle(l, l->lat[0], iw, n, w, now);
		id = settle(l, l->lat[1], id, n, d, now);
		if (id != before || !moved)
			moved = now;
		else if (now - moved > WATCHDOG_NS)
			sfb_fail("latency: nothing became durable for 10 s "
				 "(%" PRIu64 " of %" PRIu64 ")",
				 id, l->total);
		l->polls++;
		sfb_sleep_ns(POLL_NS);
	}
	l->t_poll1 = sfb_now_ns();
	sfshm_ring_unmap(r);
}

/* pwrite() of @chunk bytes and fdatasync(), @n times, 1 ms apart. */
static void fsync_baseline(const char *dir, uint64_t chunk, uint64_t n,
			   uint64_t *s)
{
	char path[PATH_MAX + 32];
	uint8_t *buf = sfb_xcalloc(1, chunk);
	int fd;

	snprintf(path, sizeof(path), "%s/fsync-baseline", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		sfb_fail("open %s: %s", path, strerror(errno));
	fill_value(buf, chunk);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t = sfb_now_ns();

		if (pwrite(fd, buf, chunk, (off_t)(i * chunk)) !=
			    (ssize_t)chunk ||
		    fdatasync(fd))
			sfb_fail("write or fdatasync %s: %s", path,
				 strerror(errno));
		s[i] = sfb_now_ns() - t;
		sfb_sleep_ns(MSEC);
	}
	close(fd);
	unlink(path);
	free(buf);
}

static struct lat_run *
lat_run_new(const struct opts *o, const struct sfb_daemon *d, const char *topic)
{
	struct lat_run *l = sfb_xcalloc(1, sizeof(*l));

	l->rate = o->rate;
	l->total = (uint64_t)((double)o->rate * o->lat_secs);
	l->total = l->total ? l->total : 1;
	l->s = sfb_xcalloc(l->total, sizeof(*l->s));
	l->lat[0] = sfb_xcalloc(l->total, sizeof(uint64_t));
	l->lat[1] = sfb_xcalloc(l->total, sizeof(uint64_t));
	snprintf(l->ring_path, sizeof(l->ring_path), "%s/%s-0.ring", d->run_dir,
		 topic);
	snprintf(l->ctl_path, sizeof(l->ctl_path), "%s/%s-0.ctl", d->run_dir,
		 topic);
	return l;
}

static void lat_run_free(struct lat_run *l)
{
	free(l->s);
	free(l->lat[0]);
	free(l->lat[1]);
	free(l);
}

static void lat_measure(const struct opts *o, const struct sfb_daemon *d,
			struct lat_result *res)
{
	struct lat_run *l = lat_run_new(o, d, "latency");
	struct worker w[2] = { { lat_producer, l, cpu_of(o, 0), 0 },
			       { lat_watcher, l, cpu_of(o, 1), 0 } };

	start_workers(w, 2);
	sfb_gate_ready(&l->gate, 2, NULL);
	sfb_gate_go(&l->gate);
	join_workers(w, 2);
	res->sent = l->total;
	res->send_s = secs_between(l->t_first, l->t_last);
	res->poll_ns = (double)(l->t_poll1 - l->t_poll0) / (double)l->polls;
	for (int k = 0; k < 2; k++)
		sfb_percentiles(l->lat[k], l->total, pcts, NPCT, res->pct[k]);
	lat_run_free(l);
}

static void lat_row(const char *what, const uint64_t *pct, uint64_t n)
{
	printf("%-38s", what);
	for (int i = 0; i < NPCT; i++)
		printf(" %9.1f", (double)pct[i] / 1000);
	printf(" %9" PRIu64 "\n", n);
}

static void lat_print(const struct opts *o, const struct lat_result *r)
{
	char base[64];

	printf("\nDurable acknowledgement latency: %u B records paced at "
	       "%" PRIu64 "/s for %.2f s (%" PRIu64 " sent, %.0f/s), topic "
	       "flush.ms=1; us\n",
	       VALUE_LEN, o->rate, o->lat_secs, r->sent,
	       (double)r->sent / r->send_s);
	printf("%-38s", "what");
	for (int i = 0; i < NPCT; i++)
		printf(" %9s", pct_names[i]);
	printf(" %9s\n", "samples");
	lat_row("written (in the log, page cache)", r->pct[0], r->sent);
	lat_row("durable (fsynced)", r->pct[1], r->sent);
	snprintf(base, sizeof(base), "baseline: pwrite %" PRIu64 " B+fdatasync",
		 r->base_bytes);
	lat_row(base, r->base, r->base_n);
	printf("  durable / baseline: p50 %.2fx, p99 %.2fx\n",
	       (double)r->pct[1][1] / (double)r->base[1],
	       (double)r->pct[1][2] / (double)r->base[2]);
	printf("  A record's latency: when a watcher thread saw the ring "
	       "header's written (durable)\n  position pass the record, minus "
	       "when its send began.  The watcher polls every\n  %.1f us on "
	       "average (it sleeps %llu us), so samples are late by up to "
	       "that.\n  The baseline writes a millisecond's worth of values "
	       "and fdatasyncs, every\n  millisecond, in the data dir, half "
	       "the times before and half after: the\n  floor under a durable "
	       "acknowledgement there.\n",
	       r->poll_ns / 1000, POLL_NS / USEC);
}

static int run_latency(struct report *rep)
{
	const struct opts *o = rep->o;
	struct lat_result *r = &rep->lat;
	uint64_t *base, half;
	struct sfb_daemon d;

	daemon_start(&d, o, "latency");
	r->base_n = o->quick ? FSYNC_SAMPLES / 6 : FSYNC_SAMPLES;
	r->base_bytes = o->rate / 1000 * VALUE_LEN;
	r->base_bytes = r->base_bytes ? r->base_bytes : VALUE_LEN;
	base = sfb_xcalloc(r->base_n, sizeof(*base));
	half = r->base_n / 2;
	/* The disk is shared: half the baseline before, half after. */
	fsync_baseline(d.data_dir, r->base_bytes, half, base);
	topic_create(&d, "latency", o->ring_size, 1);
	lat_measure(o, &d, r);
	fsync_baseline(d.data_dir, r->base_bytes, r->base_n - half,
		       base + half);
	sfb_percentiles(base, r->base_n, pcts, NPCT, r->base);
	free(base);
	sfb_daemon_stop(&d);
	if (!o->json)
		lat_print(o, r);
	return 1;
}

/* ---- catch-up read -------------------------------------------------------------------- */

/* The backlog that fits the data dir (with room to spare), or 0. */
static uint64_t fit_backlog(const struct opts *o, uint64_t *avail)
{
	uint64_t want = o->backlog, need = want + want / 8 + DISK_RESERVE;
	struct statvfs sv;

	if (statvfs(o->data_base, &sv))
		return want; /* cannot tell: try */
	*avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (*avail >= need)
		return want;
	if (*avail <= DISK_RESERVE + 16 * o->record_size)
		return 0;
	return (*avail - DISK_RESERVE) / 9 * 8 / o->record_size *
	       o->record_size;
}

struct cu_run {
	const struct sfb_daemon *d;
	const char *topic;
	char log_dir[PATH_MAX + 64];
	uint64_t records;
	uint32_t size;
	struct cu_result *res;
};

/* The backlog, @CU_BATCH records per sfshm_producer_send_batch(). */
static void cu_produce(const struct cu_run *cr)
{
	struct sfshm_client *c = sfb_client_open(cr->d);
	struct sfshm_producer *p = producer_on(c, cr->topic, SFSHM_ACKS_NONE);
	uint8_t *vals = sfb_xcalloc(CU_BATCH, cr->size);
	struct sfshm_rec recs[CU_BATCH];

	for (int j = 0; j < CU_BATCH; j++) {
		fill_value(vals + (size_t)j * cr->size, cr->size);
		recs[j] = keyless(vals + (size_t)j * cr->size, cr->size);
	}
	for (uint64_t i = 0; i < cr->records;) {
		uint64_t left = cr->records - i;
		unsigned k = left < CU_BATCH ? (unsigned)left : CU_BATCH;
		int n;

		for (unsigned j = 0; j < k; j++)
			sfb_put_u64(vals + (size_t)j * cr->size, 0, i + j);
		n = sfshm_producer_send_batch(p, 0, recs, k, NULL);
		if (n <= 0)
			sfb_fail("%s: send_batch at #%" PRIu64 ": %s",
				 cr->topic, i, sfshm_strerror(n ? n : -EPROTO));
		i += (uint64_t)n;
	}
	sfshm_producer_close(p);
	sfshm_disconnect(c);
	free(vals);
}

static int is_log_file(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return n > 4 && !strcmp(de->d_name + n - 4, ".log");
}

/* read(2) every segment file in 1 MiB chunks.  Return: the seconds. */
static double read_segments(const char *dir, uint64_t *bytes)
{
	struct dirent **names;
	char path[PATH_MAX + 300];
	uint8_t *buf = sfb_xcalloc(1, CU_CHUNK);
	int n = scandir(dir, &names, is_log_file, alphasort);
	uint64_t t0 = sfb_now_ns();

	if (n <= 0)
		sfb_fail("no segment files in %s", dir);
	*bytes = 0;
	for (int i = 0; i < n; i++) {
		int fd;
		ssize_t got;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			sfb_fail("open %s: %s", path, strerror(errno));
		while ((got = read(fd, buf, CU_CHUNK)) > 0)
			*bytes += (uint64_t)got;
		if (got < 0)
			sfb_fail("read %s: %s", path, strerror(errno));
		close(fd);
	}
	t0 = sfb_now_ns() - t0;
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(buf);
	return (double)t0 / NS;
}

/* On the consumer's CPU: read(2) pass, the consumer, read(2) again. */
static void cu_read(void *arg)
{
	struct cu_run *cr = arg;
	struct cu_result *r = cr->res;
	struct sfshm_client *c = sfb_client_open(cr->d);
	struct sfshm_consumer *cons = consumer_on(c, cr->topic, 0);
	uint64_t t0;

	r->base_s[0] = read_segments(cr->log_dir, &r->base_bytes);
	t0 = sfb_now_ns();
	sfb_cpu_now(&r->read_cpu);
	read_all(cons, cr->topic, cr->records, cr->size);
	sfb_cpu_since(&r->read_cpu);
	r->read_s = secs_between(t0, sfb_now_ns());
	r->base_s[1] = read_segments(cr->log_dir, &r->base_bytes);
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);
}

static void cu_measure(const struct opts *o, const struct sfb_daemon *d,
		       struct cu_result *r)
{
	struct cu_run cr = { .d = d,
			     .topic = "backlog",
			     .records = r->records,
			     .size = (uint32_t)o->record_size,
			     .res = r };
	struct sfshm_partition_info pi;
	uint64_t t0;

	snprintf(cr.log_dir, sizeof(cr.log_dir), "%s/%s-0", d->data_dir,
		 cr.topic);
	topic_create(d, cr.topic, o->ring_size, 0);
	t0 = sfb_now_ns();
	cu_produce(&cr);
	r->produce_s = secs_between(t0, sfb_now_ns());
	wait_written(d, cr.topic, (int64_t)r->records, &pi);
	r->persist_s = secs_between(t0, sfb_now_ns());
	r->log_bytes = pi.log_bytes;
	r->segments = pi.segments;
	run_pinned(cu_read, &cr, cpu_of(o, 1));
}

static double cu_base_s(const struct cu_result *r)
{
	return r->base_s[0] < r->base_s[1] ? r->base_s[0] : r->base_s[1];
}

static double cu_payload_gbs(const struct cu_result *r)
{
	return (double)r->records * (double)r->record_size / r->read_s / GB;
}

static void cu_print(const struct cu_result *r)
{
	double base = (double)r->base_bytes / cu_base_s(r) / GB;
	double log = (double)r->log_bytes / r->read_s / GB;
	uint64_t cpu = cpu_total(&r->read_cpu);
	char b1[32], b2[32];

	printf("Catch-up read: a %s backlog of %s records (%" PRIu64
	       "), one partition; page cache warm\n",
	       sfb_human_bytes(r->backlog, b1, sizeof(b1)),
	       sfb_human_bytes(r->record_size, b2, sizeof(b2)), r->records);
	printf("  produced with acks=none, %d records per send_batch, in "
	       "%.2f s (%.2f GB/s of values);\n  the log had it all written "
	       "%.2f s after the first send: %.3f GB in %u segment(s)\n",
	       CU_BATCH, r->produce_s, (double)r->backlog / r->produce_s / GB,
	       r->persist_s, (double)r->log_bytes / GB, r->segments);
	printf("%-34s %8s %12s %7s %6s %6s %10s\n", "what", "GB/s",
	       "payload GB/s", "time s", "cpu %", "sys %", "vs read(2)");
	printf("%-34s %8.2f %12s %7.3f %6s %6s %10s\n",
	       "read(2), 1 MiB chunks (baseline)", base, "-", cu_base_s(r), "-",
	       "-", "1.00x");
	printf("%-34s %8.2f %12.2f %7.3f %6.1f %6.1f %9.2fx\n",
	       "sfshm_consumer_poll from offset 0", log, cu_payload_gbs(r),
	       r->read_s, 100.0 * (double)cpu / (r->read_s * NS),
	       cpu ? 100.0 * (double)r->read_cpu.sys_ns / (double)cpu : 0,
	       log / base);
	printf("  GB/s: segment-file bytes per second (GB = 10^9 B); "
	       "payload: value bytes.\n  The baseline reads the same files "
	       "right before and after the consumer, on\n  its CPU; the "
	       "faster pass counts (%.2f and %.2f GB/s).  cpu %%: the "
	       "consumer\n  thread's CPU time over its time, sys %%: the "
	       "kernel's share of it.\n",
	       (double)r->base_bytes / r->base_s[0] / GB,
	       (double)r->base_bytes / r->base_s[1] / GB);
}

static void cu_scaled_note(const struct opts *o, const struct cu_result *r)
{
	char b1[32], b2[32];

	if (r->backlog == r->asked)
		return;
	fprintf(o->json ? stderr : stdout,
		"note: the data dir %s has %.2f GB free: the catch-up "
		"backlog is scaled\ndown from %s to %s (--backlog or "
		"--data-dir to change it)\n",
		o->data_base, (double)r->avail / GB,
		sfb_human_bytes(r->asked, b1, sizeof(b1)),
		sfb_human_bytes(r->backlog, b2, sizeof(b2)));
}

static int run_catchup(struct report *rep)
{
	const struct opts *o = rep->o;
	struct cu_result *r = &rep->cu;
	struct sfb_daemon d;

	r->asked = o->backlog;
	r->record_size = o->record_size;
	r->backlog = fit_backlog(o, &r->avail);
	if (!r->backlog) {
		fprintf(stderr,
			"sfbench " CMD ": catchup skipped: %s has only "
			"%.2f GB free\n",
			o->data_base, (double)r->avail / GB);
		return 0;
	}
	r->records = r->backlog / o->record_size;
	r->records = r->records ? r->records : 1;
	r->backlog = r->records * o->record_size;
	if (!o->json)
		printf("\n");
	cu_scaled_note(o, r);
	daemon_start(&d, o, "catchup");
	cu_measure(o, &d, r);
	sfb_daemon_stop(&d);
	if (!o->json)
		cu_print(r);
	return 1;
}

/* ---- dead-producer recovery ---------------------------------------------------------- */

/* Shared by the parent and the worker processes. */
struct rc_shared {
	const struct sfb_daemon *d;
	struct sfb_gate gate; /* producer A and the consumer */
	atomic_int stop; /* producer A stops */
	uint64_t reps;
	uint64_t rep; /* the claimer's repetition (set before its fork) */
	_Atomic uint64_t a_sent, c_read;
	_Atomic uint64_t a_final; /* A's count + 1 once it exited, else 0 */
	/* Per repetition: B's claim returned; the consumer's first record
	 * stamped after that arrived (CLOCK_MONOTONIC ns, 0: not yet). */
	_Atomic uint64_t *t_claim;
	_Atomic uint64_t *t_after;
};

#define RC_TOPIC "recovery"

/* A: sends records stamped [seq, send time] until told to stop. */
static void rc_producer(void *arg)
{
	struct rc_shared *sh = arg;
	struct sfshm_client *c = sfb_client_open(sh->d);
	struct sfshm_producer *p = producer_on(c, RC_TOPIC, SFSHM_ACKS_NONE);
	uint8_t val[VALUE_LEN];
	struct sfshm_rec rec = keyless(val, VALUE_LEN);
	uint64_t i;

	fill_value(val, VALUE_LEN);
	fine_sleeps();
	sfb_gate_wait(&sh->gate);
	for (i = 0; !atomic_load_explicit(&sh->stop, memory_order_relaxed);
	     i++) {
		int err;

		sfb_put_u64(val, 0, i);
		sfb_put_u64(val, 8, sfb_now_ns());
		err = sfshm_producer_send(p, 0, &rec, NULL);
		if (err)
			sfb_fail("recovery: producer A: send #%" PRIu64 ": %s",
				 i, sfshm_strerror(err));
		atomic_store_explicit(&sh->a_sent, i + 1, memory_order_relaxed);
		sfb_sleep_ns(RC_PACE_NS);
	}
	sfshm_producer_close(p);
	sfshm_disconnect(c);
}

/* B: claims one record, says when, and waits to be killed. */
static void rc_claimer(void *arg)
{
	struct rc_shared *sh = arg;
	struct sfshm_client *c = sfb_client_open(sh->d);
	struct sfshm_producer *p = producer_on(c, RC_TOPIC, SFSHM_ACKS_NONE);
	struct sfshm_rec shape = keyless(NULL, VALUE_LEN);
	struct sfshm_claim cl;
	int part = sfshm_producer_claim(p, 0, &shape, &cl);

	if (part < 0)
		sfb_fail("recovery: producer B: claim: %s",
			 sfshm_strerror(part));
	atomic_store(&sh->t_claim[sh->rep], sfb_now_ns());
	for (;;)
		pause();
}

/* The consumer's check of record @n (A's sequence, nothing lost). */
static void rc_check(const struct sfshm_record *r, uint64_t n)
{
	if (r->value_len != (int32_t)VALUE_LEN || get_u64(r->value, 0) != n)
		sfb_fail("recovery: the consumer got record #%" PRIu64
			 " (%d B) "
			 "where #%" PRIu64 " was due: lost, duplicated or "
			 "corrupt",
			 get_u64(r->value, 0), r->value_len, n);
}

static void rc_consumer(void *arg)
{
	struct rc_shared *sh = arg;
	struct sfshm_client *c = sfb_client_open(sh->d);
	struct sfshm_consumer *cons =
		consumer_on(c, RC_TOPIC, SFSHM_OFFSET_BEGINNING);
	struct sfshm_record rec;
	uint64_t n = 0, cur = 0, stalled = 0, fin;

	sfb_gate_wait(&sh->gate);
	/* Until every record A sent has arrived. */
	while (!(fin = atomic_load(&sh->a_final)) || n + 1 < fin) {
		int r = sfshm_consumer_poll(cons, &rec, 100);
		uint64_t tc;

		if (r < 0)
			sfb_fail("recovery: poll: %s", sfshm_strerror(r));
		if (r == 0 && !stalled)
			stalled = sfb_now_ns();
		else if (r == 0 && sfb_now_ns() - stalled > WATCHDOG_NS)
			sfb_fail(
				"recovery: the consumer got no record for 10 s "
				"(%" PRIu64 " so far)",
				n);
		if (r == 0)
			continue;
		stalled = 0;
		rc_check(&rec, n++);
		atomic_store_explicit(&sh->c_read, n, memory_order_relaxed);
		tc = cur < sh->reps ? atomic_load(&sh->t_claim[cur]) : 0;
		if (tc && get_u64(rec.value, 8) > tc)
			atomic_store(&sh->t_after[cur++], sfb_now_ns());
	}
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);
}

/* Wait until *@v is set, failing if a worker exits or after 10 s. */
static uint64_t rc_wait(_Atomic uint64_t *v, const pid_t *pids, int n,
			const char *what)
{
	uint64_t t0 = sfb_now_ns(), x;

	while (!(x = atomic_load(v))) {
		for (int i = 0; i < n; i++)
			sfb_check_alive(pids[i], "a recovery worker");
		if (sfb_now_ns() - t0 > WATCHDOG_NS)
			sfb_fail("recovery: no %s within 10 s", what);
		sfb_sleep_ns(50 * USEC);
	}
	return x;
}

/* One repetition: fork B, let it claim, kill it.  Return: recovery ms. */
static double rc_once(struct rc_shared *sh, uint64_t k, const pid_t *ac)
{
	pid_t all[3] = { ac[0], ac[1], 0 };
	uint64_t t_death, t_after;
	int st;

	sh->rep = k;
	all[2] = sfb_spawn(rc_claimer, sh, -1);
	rc_wait(&sh->t_claim[k], all, 3, "claim by producer B");
	sfb_sleep_ns(RC_HOLD_NS);
	kill(all[2], SIGKILL);
	while (waitpid(all[2], &st, 0) < 0 && errno == EINTR)
		;
	t_death = sfb_now_ns();
	t_after = rc_wait(&sh->t_after[k], ac, 2,
			  "record after the dead producer's hole");
	return ((double)t_after - (double)t_death) / MSEC;
}

/* Sort @ms (@n repetitions) and keep it, with its statistics, in @r. */
static void rc_stats(double *ms, uint64_t n, struct rc_result *r)
{
	double sum = 0;

	qsort(ms, n, sizeof(*ms), sfb_cmp_double);
	r->fast = 0;
	for (uint64_t i = 0; i < n; i++) {
		sum += ms[i];
		r->fast += ms[i] <= RC_FAST_MS;
	}
	r->ms[0] = ms[0];
	r->ms[1] = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
	r->ms[2] = sum / (double)n;
	r->ms[3] = ms[(uint64_t)ceil(0.9 * (double)n) - 1];
	r->ms[4] = ms[n - 1];
	r->all = ms;
}

static struct rc_shared *rc_shared_new(const struct sfb_daemon *d,
				       uint64_t reps)
{
	struct rc_shared *sh = sfb_shm_zalloc(sizeof(*sh));

	sh->d = d;
	sh->reps = reps;
	sh->t_claim = sfb_shm_zalloc(reps * sizeof(*sh->t_claim));
	sh->t_after = sfb_shm_zalloc(reps * sizeof(*sh->t_after));
	return sh;
}

static void rc_measure(const struct opts *o, const struct sfb_daemon *d,
		       struct rc_result *r)
{
	struct rc_shared *sh = rc_shared_new(d, o->reps);
	double *ms = sfb_xcalloc(o->reps, sizeof(*ms));
	pid_t ac[2];
	bool ok;

	topic_create(d, RC_TOPIC, o->ring_size, 0);
	ac[0] = sfb_spawn(rc_producer, sh, cpu_of(o, 0));
	ac[1] = sfb_spawn(rc_consumer, sh, cpu_of(o, 1));
	sfb_gate_ready(&sh->gate, 2, ac);
	sfb_gate_go(&sh->gate);
	for (uint64_t k = 0; k < o->reps; k++)
		ms[k] = rc_once(sh, k, ac);
	atomic_store(&sh->stop, 1);
	ok = sfb_reap(ac[0], WATCHDOG_NS);
	atomic_store(&sh->a_final, atomic_load(&sh->a_sent) + 1);
	ok = sfb_reap(ac[1], 2 * WATCHDOG_NS) && ok;
	if (!ok)
		sfb_fail("recovery: a worker failed at the end");
	r->reps = o->reps;
	r->a_sent = atomic_load(&sh->a_sent);
	r->c_read = atomic_load(&sh->c_read);
	r->a_rate = (double)r->a_sent / secs_between(sh->gate.t0, sfb_now_ns());
	rc_stats(ms, o->reps, r);
	munmap(sh->t_claim, o->reps * sizeof(*sh->t_claim));
	munmap(sh->t_after, o->reps * sizeof(*sh->t_after));
	munmap(sh, sizeof(*sh));
}

static void rc_print(const struct rc_result *r)
{
	printf("\nDead-producer recovery: %" PRIu64 " times, producer B "
	       "claims a record and is SIGKILLed\nwhile producer A sends "
	       "%.0f records/s; ms\n",
	       r->reps, r->a_rate);
	printf("%6s %8s %8s %8s %8s %8s %9s %13s\n", "reps", "min", "median",
	       "mean", "p90", "max", "<=0.5 ms", "Aeron/median");
	printf("%6" PRIu64 " %8.2f %8.2f %8.2f %8.2f %8.2f %9" PRIu64
	       " %12.0fx\n",
	       r->reps, r->ms[0], r->ms[1], r->ms[2], r->ms[3], r->ms[4],
	       r->fast, AERON_UNBLOCK_MS / r->ms[1]);
	printf("  From waitpid() of B returning in the parent to the consumer "
	       "receiving the first\n  record A stamped after B's claim "
	       "returned (it lies beyond B's hole).  A sent\n  %" PRIu64
	       " records; the consumer got %" PRIu64 ", each in order (B's "
	       "claims never arrive).\n  Below zero: the record came before "
	       "waitpid() returned (B's files, its\n  control socket among "
	       "them, close before its parent hears of the death).\n  "
	       "Baseline: Aeron's publication unblock timeout defaults to 15 s "
	       "(not measured).\n",
	       r->a_sent, r->c_read);
}

static int run_recovery(struct report *rep)
{
	const struct opts *o = rep->o;
	struct sfb_daemon d;

	daemon_start(&d, o, "recovery");
	rc_measure(o, &d, &rep->rc);
	sfb_daemon_stop(&d);
	if (!o->json)
		rc_print(&rep->rc);
	return 1;
}

/* ---- idle CPU -------------------------------------------------------------------------- */

static void idle_measure(const struct sfb_daemon *d, double secs, int topics,
			 struct idle_result *r)
{
	struct sfb_proc_cpu a, b;
	uint64_t t0;

	sfb_sleep_ns(SETTLE_NS);
	sfb_proc_cpu(d->pid, &a);
	t0 = sfb_now_ns();
	sfb_sleep_ns((uint64_t)(secs * NS));
	sfb_proc_cpu(d->pid, &b);
	r->secs = secs_between(t0, sfb_now_ns());
	r->topics = topics;
	r->cpu.stat_ns = b.stat_ns - a.stat_ns;
	r->cpu.clock_ns = b.clock_ns - a.clock_ns;
	r->cpu.runs = b.runs - a.runs;
}

static double idle_pct(const struct idle_result *r, bool clock)
{
	uint64_t ns = clock ? r->cpu.clock_ns : r->cpu.stat_ns;

	return 100.0 * (double)ns / (r->secs * NS);
}

static void idle_print(const struct report *rep)
{
	const struct idle_result *r = rep->idle;

	printf("\nIdle CPU: sfshmd with no traffic, %.2f s each\n",
	       rep->o->idle_secs);
	printf("%-16s %12s %13s %11s %10s\n", "topics", "cpu % (stat)",
	       "cpu % (clock)", "wake-ups/s", "vs none");
	for (int i = 0; i < 2; i++) {
		char name[24];

		snprintf(name, sizeof(name), "%d%s", r[i].topics,
			 i ? "" : " (baseline)");
		printf("%-16s %12.3f %13.4f %11.1f %9.2fx\n", name,
		       idle_pct(&r[i], false), idle_pct(&r[i], true),
		       (double)r[i].cpu.runs / r[i].secs,
		       (double)r[i].cpu.clock_ns /
			       (double)(r[0].cpu.clock_ns ? r[0].cpu.clock_ns :
							    1));
	}
	printf("  cpu %% (stat): utime+stime of /proc/PID/stat (%ld ticks/s) "
	       "in %% of one core;\n  cpu %% (clock): the process CPU clock "
	       "(ns); wake-ups: times its threads were\n  scheduled in "
	       "(/proc/PID/task/TID/schedstat); vs none: clock over the "
	       "baseline's.\n",
	       sysconf(_SC_CLK_TCK));
}

static int run_idle(struct report *rep)
{
	const struct opts *o = rep->o;
	char name[32];
	struct sfb_daemon d;

	daemon_start(&d, o, "idle");
	idle_measure(&d, o->idle_secs, 0, &rep->idle[0]);
	for (int i = 0; i < IDLE_TOPICS; i++) {
		snprintf(name, sizeof(name), "idle-%d", i);
		topic_create(&d, name, 0, 0);
	}
	idle_measure(&d, o->idle_secs, IDLE_TOPICS, &rep->idle[1]);
	sfb_daemon_stop(&d);
	if (!o->json)
		idle_print(rep);
	return 1;
}

/* ---- metrics overhead ------------------------------------------------------------------ */

#define MET_INSTANCE "sfbench-%d" /* our pid */
#define MET_OTHERS_WAIT_NS (120 * NS) /* for another instance's probes to go */
#define MET_DETACH_NS (30 * NS) /* for ours to go once unpinned */

/*
 * Wait for worker @pid without waking up meanwhile: its sends, flush and
 * polls time out on their own.  Return: did it exit 0?
 */
static bool reap_blocking(pid_t pid)
{
	int st = 0;
	pid_t r;

	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	return r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/*
 * The persist acks=written case with the producer and the consumer in
 * processes of their own (flow_producer(), flow_consumer()), as clients
 * of a monitored daemon are.
 */
static void run_flow_procs(const struct opts *o, const struct sfb_daemon *d,
			   const char *topic, struct pers_result *res)
{
	struct flow *f = sfb_shm_zalloc(sizeof(*f));
	struct sfshm_partition_info pi;
	struct sfb_proc_cpu c0, c1;
	pid_t pid[2];
	bool ok;

	f->d = d;
	f->acks = SFSHM_ACKS_WRITTEN;
	f->count = o->count;
	snprintf(f->topic, sizeof(f->topic), "%s", topic);
	topic_create(d, f->topic, o->ring_size, 0);
	pid[0] = sfb_spawn(flow_producer, f, cpu_of(o, 0));
	pid[1] = sfb_spawn(flow_consumer, f, cpu_of(o, 1));
	sfb_gate_ready(&f->gate, 2, pid);
	sfb_proc_cpu(d->pid, &c0);
	sfb_gate_go(&f->gate);
	ok = reap_blocking(pid[0]);
	ok = reap_blocking(pid[1]) && ok;
	if (!ok)
		sfb_fail("metrics: a worker process failed");
	wait_written(d, f->topic, (int64_t)o->count, &pi);
	sfb_proc_cpu(d->pid, &c1);
	flow_result(f, &c0, &c1, res);
	munmap(f, sizeof(*f));
}

/*
 * The pinned counters of partition 0 of @topic in instance dir @dir; all
 * zero if the maps have no entry for it.  Return: 0 or -errno (-EPROTO:
 * the map is not laid out as sfm.h says).
 */
static int met_stats(const char *dir, const char *topic, struct sfm_stats *out)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct sfm_tp key;
	char path[192];
	int fd, err;

	snprintf(path, sizeof(path), "%s/" SFM_MAP_STATS, dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (!err &&
	    (info.type != BPF_MAP_TYPE_HASH || info.key_size != sizeof(key) ||
	     info.value_size != sizeof(*out)))
		err = -EPROTO;
	memset(&key, 0, sizeof(key));
	snprintf(key.topic, sizeof(key.topic), "%s", topic);
	memset(out, 0, sizeof(*out));
	if (!err && bpf_map_lookup_elem(fd, &key, out) && errno != ENOENT)
		err = -errno;
	close(fd);
	return err;
}

/*
 * The probes must have counted every record the run persisted and read:
 * if not, the run measured a broken setup, not the cost of metrics.
 */
static void met_check(const struct sfb_daemon *d, const char *topic, uint64_t n,
		      struct sfm_stats *s)
{
	int err = met_stats(d->bpf_dir, topic, s);

	if (err)
		sfb_fail("metrics: cannot read %s/" SFM_MAP_STATS ": %s",
			 d->bpf_dir, strerror(-err));
	if (s->records_in != n || s->records_out != n)
		sfb_fail("metrics: %s/" SFM_MAP_STATS " of %s says records_in "
			 "%llu, records_out %llu, where %" PRIu64 " records "
			 "were persisted and read: the probes do not see what "
			 "the run did",
			 d->bpf_dir, topic, (unsigned long long)s->records_in,
			 (unsigned long long)s->records_out, n);
}

/* The rest of the line of @d's log from @what on, in @buf; or NULL. */
static const char *log_find(const struct sfb_daemon *d, const char *what,
			    char *buf, size_t len)
{
	char log[16384];
	int fd = open(d->log_path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, log, sizeof(log) - 1);
	const char *p;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return NULL;
	log[n] = '\0';
	p = strstr(log, what);
	if (!p)
		return NULL;
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

/* Did daemon @d load its metrics?  If not, @why says why. */
static bool met_loaded(const struct sfb_daemon *d, char *why, size_t len)
{
	char line[256];

	if (log_find(d, "metrics: on, maps in ", line, sizeof(line)))
		return true;
	if (!log_find(d, "metrics off", line, sizeof(line)))
		snprintf(line, sizeof(line),
			 "sfshmd's log says neither \"metrics: on\" nor "
			 "\"metrics off\"");
	snprintf(why, len, "%s", line);
	return false;
}

/* links/<dev>-<ino>-<mtime_ns> of the binary at @path in @inst (sfm.h). */
static bool bin_links(const char *inst, const char *path, char *buf, size_t len)
{
	struct stat st;

	if (stat(path, &st))
		return false;
	snprintf(buf, len, "%s/%.64s/links/%llx-%llx-%llx", SFM_BPFFS_ROOT,
		 inst, (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino,
		 (unsigned long long)st.st_mtim.tv_sec * NS +
			 (unsigned long long)st.st_mtim.tv_nsec);
	return true;
}

/*
 * The metrics instances pinned now other than ours, in @m->others.
 * Return: whether one of them has attached the probes of sfbench or
 * sfshmd (their programs would then run in our runs too, and the runs
 * "without metrics" would not be); @why says which.
 */
static bool met_scan(struct met_result *m, char *why, size_t len)
{
	const char *bins[2] = { "/proc/self/exe", sfb_daemon_exe() };
	char ours[32], path[PATH_MAX];
	size_t at = 0;
	bool hit = false;
	struct dirent *de;
	DIR *dir = opendir(SFM_BPFFS_ROOT);

	snprintf(ours, sizeof(ours), MET_INSTANCE, (int)getpid());
	m->others[0] = '\0';
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, ours))
			continue;
		if (at < sizeof(m->others))
			at += (size_t)snprintf(m->others + at,
					       sizeof(m->others) - at, "%s%s",
					       at ? ", " : "", de->d_name);
		for (int i = 0; i < 2 && !hit; i++) {
			if (!bin_links(de->d_name, bins[i], path,
				       sizeof(path)) ||
			    access(path, F_OK))
				continue;
			hit = true;
			snprintf(why, len,
				 "metrics instance %.64s has the probes of %s "
				 "attached (%s/%.64s)",
				 de->d_name, i ? "sfshmd" : "sfbench",
				 SFM_BPFFS_ROOT, de->d_name);
		}
	}
	if (dir)
		closedir(dir);
	return hit;
}

/*
 * Wait a while for another instance's probes on our binaries to go (test
 * suites of sfshmd pin instances for tens of seconds).  Return: gone?
 */
static bool met_quiet(struct met_result *m)
{
	uint64_t t0 = sfb_now_ns();
	bool said = false;

	while (met_scan(m, m->skipped, sizeof(m->skipped))) {
		if (sfb_now_ns() - t0 > MET_OTHERS_WAIT_NS)
			return false;
		if (!said)
			fprintf(stderr,
				"sfbench " CMD ": metrics: %s: waiting up to "
				"%llu s for it to go\n",
				m->skipped, MET_OTHERS_WAIT_NS / NS);
		said = true;
		sfb_sleep_ns(100 * MSEC);
	}
	m->skipped[0] = '\0';
	return true;
}

/*
 * How many probes of this program are attached: the kernel raises a
 * probe's semaphore in every process mapping the program while a uprobe
 * is on its site, and our workers are forks of this process.
 */
static unsigned int met_semaphores(void)
{
	return atomic_load(&sfshm_ring_map_semaphore) +
	       atomic_load(&sfshm_consume_semaphore) +
	       atomic_load(&sfshm_e2e_semaphore) +
	       atomic_load(&sfshm_backpressure_semaphore) +
	       atomic_load(&sfshm_error_semaphore);
}

/*
 * Wait until no probe of ours is attached.  Removing the pins drops the
 * links at once, but the kernel takes the uprobes off only later (0.4 to
 * 1.5 s on the machine of docs/BENCHMARKS.md): a run started before then
 * fires them.  sfshmd's probes, which we cannot see from here, go with
 * ours; they fire per persisted batch, a few hundred times a run.
 * Return: false if they stay (@m->skipped says so).
 */
static bool met_detached(struct met_result *m)
{
	uint64_t t0 = sfb_now_ns(), waited;

	while (met_semaphores()) {
		if (sfb_now_ns() - t0 > MET_DETACH_NS) {
			snprintf(m->skipped, sizeof(m->skipped),
				 "sfbench's probes stay attached %llu s after "
				 "its pins were removed: another daemon with "
				 "metrics (in another mount namespace?) has "
				 "them",
				 MET_DETACH_NS / NS);
			return false;
		}
		sfb_sleep_ns(5 * MSEC);
	}
	waited = sfb_now_ns() - t0;
	m->detach_ns = waited > m->detach_ns ? waited : m->detach_ns;
	m->wait_ns = waited;
	return true;
}

/*
 * One run on a daemon of its own, metrics @on or off; with metrics, the
 * counters are checked and the pins removed with the daemon.
 * Return: false if the part is to be skipped (@m->skipped says why).
 */
static bool met_run(const struct opts *o, struct met_result *m, int on,
		    int pair)
{
	struct sfb_daemon_opts dopts = { o->data_base, o->cpus, o->ncpus,
					 NULL };
	struct pers_result *r = &m->run[on][pair];
	char inst[32], topic[32];
	struct sfb_daemon d;

	if (!met_quiet(m) || (!on && !met_detached(m)))
		return false;
	/* The same pause before both kinds of run (--quick: no time). */
	if (on && !o->quick)
		sfb_sleep_ns(m->wait_ns);
	snprintf(inst, sizeof(inst), MET_INSTANCE, (int)getpid());
	dopts.bpf_instance = on ? inst : NULL;
	sfb_daemon_start(&d, &dopts, on ? "metrics-on" : "metrics-off");
	if (on && !met_loaded(&d, m->skipped, sizeof(m->skipped))) {
		sfb_daemon_stop(&d);
		return false;
	}
	snprintf(topic, sizeof(topic), "metrics-%d", pair);
	run_flow_procs(o, &d, topic, r);
	snprintf(r->label, sizeof(r->label), "%s",
		 on ? "metrics on" : "metrics off (baseline)");
	r->baseline = !on;
	if (on)
		met_check(&d, topic, o->count, &m->stats);
	sfb_daemon_stop(&d);
	if (!on && met_semaphores()) {
		snprintf(m->skipped, sizeof(m->skipped),
			 "sfbench's probes were attached during a run "
			 "without metrics, by another daemon");
		return false;
	}
	return !met_scan(m, m->skipped, sizeof(m->skipped));
}

/* The median of the @n values @get picks from runs @r. */
static double met_median(const struct pers_result *r, int n,
			 double (*get)(const struct pers_result *))
{
	double v[MAX_RUNS];

	for (int i = 0; i < n; i++)
		v[i] = get(&r[i]);
	return median(v, n);
}

static double get_daemon_ns(const struct pers_result *r)
{
	return r->daemon_ns;
}

static double get_client_ns(const struct pers_result *r)
{
	return r->client_ns;
}

static void met_summary(struct met_result *m)
{
	int n = m->pairs;

	for (int k = 0; k < 2; k++) {
		const struct pers_result *r = m->run[k];

		m->rate[k] = met_median(r, n, pers_rate);
		m->min_rate[k] = m->max_rate[k] = pers_rate(&r[0]);
		for (int i = 1; i < n; i++) {
			m->min_rate[k] = fmin(m->min_rate[k], pers_rate(&r[i]));
			m->max_rate[k] = fmax(m->max_rate[k], pers_rate(&r[i]));
		}
		m->daemon_ns[k] = met_median(r, n, get_daemon_ns);
		m->client_ns[k] = met_median(r, n, get_client_ns);
	}
	for (int i = 0; i < n; i++)
		m->ratio[i] =
			pers_rate(&m->run[1][i]) / pers_rate(&m->run[0][i]);
	m->ratio_med = m->rate[1] / m->rate[0];
}

static void met_row(const struct met_result *m, int k)
{
	char range[24];

	snprintf(range, sizeof(range), "%.2f-%.2f", m->min_rate[k] / 1e6,
		 m->max_rate[k] / 1e6);
	printf("%-24s %7.3f %6.1f %11s %7.0f %7.0f %7.1f%%\n",
	       m->run[k][0].label, m->rate[k] / 1e6,
	       m->rate[k] * VALUE_LEN / MB, range, m->daemon_ns[k],
	       m->client_ns[k], 100 * m->rate[k] / m->rate[0]);
}

static void met_footer(const struct met_result *m, bool quick)
{
	const struct sfm_stats *s = &m->stats;

	printf("  Each run has a daemon of its own: --no-bpf (off), or metrics "
	       "on, pinned as\n  instance " MET_INSTANCE " and removed after "
	       "the run (on).  Runs alternate off, on,\n  off, on...  Mrec/s: "
	       "the median run, range: the lowest and highest; vs off:\n  the "
	       "median on over the median off.  daemon, client: CPU ns per "
	       "record (medians;\n  client: producer + consumer process).\n",
	       (int)getpid());
	printf("  After the last run with metrics, topic_stats said: "
	       "records_in %llu,\n  records_out %llu (= records sent and "
	       "read), %llu batches persisted,\n  %llu consumer reports, %llu "
	       "futex waits, %llu wakes.\n",
	       (unsigned long long)s->records_in,
	       (unsigned long long)s->records_out,
	       (unsigned long long)s->batches_in,
	       (unsigned long long)s->polls_out,
	       (unsigned long long)s->futex_waits,
	       (unsigned long long)s->futex_wakes);
	printf("  Before each run without metrics sfbench waited for its "
	       "probes to be detached\n  (their semaphores back to 0): at "
	       "most %.0f ms after the pins were removed.\n  %s\n",
	       (double)m->detach_ns / MSEC,
	       quick ? "With --quick the runs with metrics follow without "
		       "a pause." :
		       "Each run with metrics follows the same pause after "
		       "the run before.");
	if (m->others[0])
		printf("  Other metrics instances were pinned (%s): their "
		       "futex tracepoints ran\n  in both cases.\n",
		       m->others);
}

static void met_print(const struct opts *o, const struct met_result *m)
{
	char rs[32];

	printf("\nMetrics overhead: 1 producer process -> 1 consumer process, "
	       "%u B values, acks=written,\n%" PRIu64 " records, one "
	       "partition, ring %s; %d pair%s of runs, metrics off and on in "
	       "turn\n",
	       VALUE_LEN, o->count,
	       sfb_human_bytes(o->ring_size, rs, sizeof(rs)), m->pairs,
	       m->pairs == 1 ? "" : "s");
	printf("%-24s %7s %6s %11s %7s %7s %8s\n", "case", "Mrec/s", "MB/s",
	       "range", "daemon", "client", "vs off");
	met_row(m, 0);
	met_row(m, 1);
	printf("  on / off, pair by pair:");
	for (int i = 0; i < m->pairs; i++)
		printf(" %.3f", m->ratio[i]);
	printf(" (median %.3f)\n", median(m->ratio, m->pairs));
	met_footer(m, o->quick);
}

static int met_skip(struct met_result *m)
{
	fprintf(stderr, "sfbench " CMD ": metrics skipped: %s\n", m->skipped);
	return 0;
}

static int run_metrics(struct report *rep)
{
	const struct opts *o = rep->o;
	struct met_result *m = &rep->met;

	m->pairs = (int)o->pairs;
	if (geteuid() != 0) {
		snprintf(m->skipped, sizeof(m->skipped),
			 "not root: sfshmd cannot load BPF programs, nor "
			 "sfbench read their maps");
		return met_skip(m);
	}
	/* off, on, off, on...: a drift of the machine hits both alike. */
	for (int i = 0; i < 2 * m->pairs; i++)
		if (!met_run(o, m, i % 2, i / 2))
			return met_skip(m);
	met_summary(m);
	if (!o->json)
		met_print(o, m);
	return 1;
}

/* ---- goals ------------------------------------------------------------------------------ */

#define NGOALS 6

static void goal_persist(const struct report *rep, struct sfb_goal *g)
{
	double ratio = rep->pers[1].ratio_med;

	snprintf(g->measured, sizeof(g->measured),
		 "%.0f%% (%.2f vs %.2f M records/s)", 100 * ratio,
		 pers_rate(pers_med(&rep->pers[1])) / 1e6,
		 pers_rate(pers_med(&rep->pers[0])) / 1e6);
	g->met = ratio >= GOAL_PERSIST_RATIO;
}

static void goal_latency(const struct report *rep, struct sfb_goal *g)
{
	double p99 = (double)rep->lat.pct[1][2] / MSEC;

	snprintf(g->measured, sizeof(g->measured),
		 "p99 %.2f ms (p50 %.2f) at %" PRIu64 "/s", p99,
		 (double)rep->lat.pct[1][1] / MSEC, rep->o->rate);
	g->met = p99 <= GOAL_DURABLE_P99_MS;
}

static void goal_catchup(const struct report *rep, struct sfb_goal *g)
{
	double gbs = cu_payload_gbs(&rep->cu);

	snprintf(g->measured, sizeof(g->measured),
		 "%.2f GB/s of values (read(2): %.2f GB/s)", gbs,
		 (double)rep->cu.base_bytes / cu_base_s(&rep->cu) / GB);
	g->met = gbs >= GOAL_CATCHUP_GBS;
}

static void goal_recovery(const struct report *rep, struct sfb_goal *g)
{
	snprintf(g->measured, sizeof(g->measured),
		 "median %.2f ms, max %.2f ms", rep->rc.ms[1], rep->rc.ms[4]);
	g->met = rep->rc.ms[4] <= GOAL_RECOVERY_MS;
}

/*
 * Judged by the process CPU clock: /proc/PID/stat counts whole ticks (one
 * is 1% of a core over the 1 s of --quick), so it is shown, not judged.
 */
static void goal_idle(const struct report *rep, struct sfb_goal *g)
{
	double pct = idle_pct(&rep->idle[1], true);

	snprintf(g->measured, sizeof(g->measured),
		 "%.3f%% (CPU clock), %.2f%% (stat ticks)", pct,
		 idle_pct(&rep->idle[1], false));
	g->met = pct < GOAL_IDLE_PCT;
}

/* Not judged with --quick: its short runs are noise at the 2% level. */
static void goal_metrics(const struct report *rep, struct sfb_goal *g)
{
	const struct met_result *m = &rep->met;

	snprintf(g->measured, sizeof(g->measured),
		 "%.1f%% (%.2f vs %.2f M records/s)%s", 100 * m->ratio_med,
		 m->rate[1] / 1e6, m->rate[0] / 1e6,
		 rep->o->quick ? ", quick: not judged" : "");
	g->met = rep->o->quick ? -1 : m->ratio_med >= GOAL_METRICS_RATIO;
}

static void goals(const struct report *rep, struct sfb_goal *g)
{
	static void (*const fn[NGOALS])(const struct report *,
					struct sfb_goal *) = {
		goal_persist,  goal_latency, goal_catchup,
		goal_recovery, goal_idle,    goal_metrics
	};
	static const char *const what[NGOALS] = {
		"persist acks=written >= 50% of the bare ring",
		"durable ack p99 <= 2 ms at 100k records/s",
		"catch-up read >= 2 GB/s",
		"dead-producer recovery <= 100 ms",
		"idle CPU < 1% of a core, 10 topics",
		"with metrics, 1->1 >= 98% of without",
	};

	for (int i = 0; i < NGOALS; i++) {
		g[i] = (struct sfb_goal){ .what = what[i], .met = -1 };
		snprintf(g[i].measured, sizeof(g[i].measured), "not measured");
		if (rep->done & (1u << i))
			fn[i](rep, &g[i]);
	}
	if (rep->met.skipped[0])
		snprintf(g[NGOALS - 1].measured, sizeof(g[0].measured),
			 "skipped: %.80s", rep->met.skipped);
}

static void goals_print(const struct report *rep)
{
	struct sfb_goal g[NGOALS];

	goals(rep, g);
	sfb_goals_print(g, NGOALS);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void json_config(const struct opts *o)
{
	sfb_json_object("config");
	sfb_json_str("sfshmd", sfb_daemon_exe());
	sfb_json_str("data_base", o->data_base);
	sfb_json_array("parts");
	for (int i = 0; i < NPARTS; i++)
		if (o->parts & (1u << i))
			sfb_json_str(NULL, part_names[i]);
	sfb_json_close();
	sfb_json_u64("count", o->count);
	sfb_json_u64("runs", o->runs);
	sfb_json_u64("value_bytes", VALUE_LEN);
	sfb_json_u64("ring_size", o->ring_size);
	sfb_json_u64("rate", o->rate);
	sfb_json_num("latency_s", o->lat_secs);
	sfb_json_u64("backlog", o->backlog);
	sfb_json_u64("record_size", o->record_size);
	sfb_json_u64("reps", o->reps);
	sfb_json_num("idle_s", o->idle_secs);
	sfb_json_u64("pairs", o->pairs);
	sfb_json_array("cpus");
	for (int i = 0; i < o->ncpus; i++)
		sfb_json_u64(NULL, (uint64_t)o->cpus[i]);
	sfb_json_close();
	sfb_json_bool("quick", o->quick);
	sfb_json_close();
}

static void json_runs(const struct pers_case *c, int n)
{
	sfb_json_array("runs");
	for (int i = 0; i < n; i++) {
		sfb_json_object(NULL);
		sfb_json_num("records_per_s", pers_rate(&c->run[i]));
		sfb_json_num("seconds", c->run[i].secs);
		sfb_json_num("ratio_to_ring", c->ratio[i]);
		sfb_json_close();
	}
	sfb_json_close();
}

static void json_pers(const struct pers_case *c, int n)
{
	const struct pers_result *r = pers_med(c);
	double rate = pers_rate(r);

	sfb_json_object(NULL);
	sfb_json_str("case", r->label);
	sfb_json_bool("baseline", r->baseline);
	sfb_json_u64("records", r->records);
	sfb_json_num("seconds", r->secs);
	sfb_json_num("records_per_s", rate);
	sfb_json_num("payload_mb_per_s", rate * VALUE_LEN / MB);
	sfb_json_num("send_s", r->send_s);
	sfb_json_num("flush_s", r->flush_s);
	sfb_json_num("read_s", r->read_s);
	sfb_json_num("daemon_cpu_ns_per_record", r->daemon_ns);
	sfb_json_num("client_cpu_ns_per_record", r->client_ns);
	sfb_json_num("ratio_to_ring", c->ratio_med);
	json_runs(c, n);
	sfb_json_close();
}

static void json_pcts(const char *key, const uint64_t *pct)
{
	char name[24];

	sfb_json_object(key);
	for (int i = 0; i < NPCT; i++) {
		snprintf(name, sizeof(name), "%s_us", pct_names[i]);
		sfb_json_num(name, (double)pct[i] / 1000);
	}
	sfb_json_close();
}

static void json_latency(const struct lat_result *r)
{
	sfb_json_object("latency");
	sfb_json_u64("records", r->sent);
	sfb_json_num("achieved_rate", (double)r->sent / r->send_s);
	sfb_json_num("poll_period_us", r->poll_ns / 1000);
	json_pcts("written", r->pct[0]);
	json_pcts("durable", r->pct[1]);
	json_pcts("baseline_fdatasync", r->base);
	sfb_json_u64("baseline_bytes", r->base_bytes);
	sfb_json_u64("baseline_samples", r->base_n);
	sfb_json_num("durable_over_baseline_p50",
		     (double)r->pct[1][1] / (double)r->base[1]);
	sfb_json_num("durable_over_baseline_p99",
		     (double)r->pct[1][2] / (double)r->base[2]);
	sfb_json_close();
}

static void json_catchup(const struct cu_result *r)
{
	double base = (double)r->base_bytes / cu_base_s(r) / GB;
	double log = (double)r->log_bytes / r->read_s / GB;

	sfb_json_object("catchup");
	sfb_json_u64("backlog_asked", r->asked);
	sfb_json_u64("backlog", r->backlog);
	sfb_json_u64("records", r->records);
	sfb_json_u64("record_size", r->record_size);
	sfb_json_u64("log_bytes", r->log_bytes);
	sfb_json_u64("segments", r->segments);
	sfb_json_num("produce_s", r->produce_s);
	sfb_json_num("persisted_s", r->persist_s);
	sfb_json_num("read_s", r->read_s);
	sfb_json_num("log_gb_per_s", log);
	sfb_json_num("payload_gb_per_s", cu_payload_gbs(r));
	sfb_json_num("cpu_fraction",
		     (double)cpu_total(&r->read_cpu) / (r->read_s * NS));
	sfb_json_num("baseline_read_gb_per_s", base);
	sfb_json_num("baseline_read_s_before", r->base_s[0]);
	sfb_json_num("baseline_read_s_after", r->base_s[1]);
	sfb_json_num("ratio_to_read", log / base);
	sfb_json_close();
}

static void json_recovery(const struct rc_result *r)
{
	sfb_json_object("recovery");
	sfb_json_u64("reps", r->reps);
	sfb_json_num("min_ms", r->ms[0]);
	sfb_json_num("median_ms", r->ms[1]);
	sfb_json_num("mean_ms", r->ms[2]);
	sfb_json_num("p90_ms", r->ms[3]);
	sfb_json_num("max_ms", r->ms[4]);
	sfb_json_u64("within_0_5_ms", r->fast);
	sfb_json_array("all_ms");
	for (uint64_t i = 0; i < r->reps; i++)
		sfb_json_num(NULL, r->all[i]);
	sfb_json_close();
	sfb_json_num("baseline_aeron_unblock_ms", AERON_UNBLOCK_MS);
	sfb_json_num("aeron_over_median", AERON_UNBLOCK_MS / r->ms[1]);
	sfb_json_u64("producer_sent", r->a_sent);
	sfb_json_u64("consumer_read", r->c_read);
	sfb_json_close();
}

static void json_idle(const struct idle_result *r)
{
	sfb_json_array("idle");
	for (int i = 0; i < 2; i++) {
		sfb_json_object(NULL);
		sfb_json_u64("topics", (uint64_t)r[i].topics);
		sfb_json_bool("baseline", i == 0);
		sfb_json_num("seconds", r[i].secs);
		sfb_json_num("cpu_pct_stat", idle_pct(&r[i], false));
		sfb_json_num("cpu_pct_clock", idle_pct(&r[i], true));
		sfb_json_num("wakeups_per_s",
			     (double)r[i].cpu.runs / r[i].secs);
		sfb_json_close();
	}
	sfb_json_close();
}

static void json_met_case(const struct met_result *m, int k)
{
	sfb_json_object(k ? "on" : "off");
	sfb_json_num("records_per_s", m->rate[k]);
	sfb_json_num("payload_mb_per_s", m->rate[k] * VALUE_LEN / MB);
	sfb_json_num("min_records_per_s", m->min_rate[k]);
	sfb_json_num("max_records_per_s", m->max_rate[k]);
	sfb_json_num("daemon_cpu_ns_per_record", m->daemon_ns[k]);
	sfb_json_num("client_cpu_ns_per_record", m->client_ns[k]);
	sfb_json_array("runs");
	for (int i = 0; i < m->pairs; i++) {
		sfb_json_object(NULL);
		sfb_json_num("records_per_s", pers_rate(&m->run[k][i]));
		sfb_json_num("seconds", m->run[k][i].secs);
		sfb_json_close();
	}
	sfb_json_close();
	sfb_json_close();
}

static void json_metrics(const struct report *rep)
{
	const struct met_result *m = &rep->met;
	const struct sfm_stats *s = &m->stats;

	sfb_json_object("metrics");
	if (m->skipped[0]) {
		sfb_json_str("skipped", m->skipped);
		sfb_json_close();
		return;
	}
	sfb_json_u64("records", rep->o->count);
	sfb_json_u64("pairs", (uint64_t)m->pairs);
	json_met_case(m, 0);
	json_met_case(m, 1);
	sfb_json_num("ratio_on_to_off", m->ratio_med);
	sfb_json_array("pair_ratios");
	for (int i = 0; i < m->pairs; i++)
		sfb_json_num(NULL, m->ratio[i]);
	sfb_json_close();
	sfb_json_object("topic_stats");
	sfb_json_u64("records_in", s->records_in);
	sfb_json_u64("records_out", s->records_out);
	sfb_json_u64("batches_in", s->batches_in);
	sfb_json_u64("polls_out", s->polls_out);
	sfb_json_u64("futex_waits", s->futex_waits);
	sfb_json_u64("futex_wakes", s->futex_wakes);
	sfb_json_close();
	sfb_json_num("detach_wait_ms", (double)m->detach_ns / MSEC);
	sfb_json_str("other_instances", m->others);
	sfb_json_close();
}

static void json_goals(const struct report *rep)
{
	struct sfb_goal g[NGOALS];

	goals(rep, g);
	sfb_json_array("goals");
	for (int i = 0; i < NGOALS; i++) {
		sfb_json_object(NULL);
		sfb_json_str("goal", g[i].what);
		sfb_json_str("measured", g[i].measured);
		if (g[i].met >= 0)
			sfb_json_bool("met", g[i].met);
		sfb_json_close();
	}
	sfb_json_close();
}

static void print_json(const struct report *rep)
{
	sfb_json_begin(stdout);
	sfb_json_str("tool", "sfbench");
	sfb_json_str("command", CMD);
	sfb_machine_json();
	json_config(rep->o);
	if (rep->done & PART_PERSIST) {
		sfb_json_array("persist");
		for (int i = 0; i < NCASES; i++)
			json_pers(&rep->pers[i], rep->nruns);
		sfb_json_close();
	}
	if (rep->done & PART_LATENCY)
		json_latency(&rep->lat);
	if (rep->done & PART_CATCHUP)
		json_catchup(&rep->cu);
	if (rep->done & PART_RECOVERY)
		json_recovery(&rep->rc);
	if (rep->done & PART_IDLE)
		json_idle(rep->idle);
	if ((rep->done & PART_METRICS) || rep->met.skipped[0])
		json_metrics(rep);
	json_goals(rep);
	sfb_json_end();
}

/* ---- the run ------------------------------------------------------------------------------ */

static void print_intro(const struct opts *o)
{
	sfb_machine_print(stdout);
	printf("sfshmd: %s, a fresh one per part; data dirs in %s, run dirs "
	       "in /dev/shm\n",
	       sfb_daemon_exe(), o->data_base);
	if (o->ncpus) {
		printf("cpus:");
		for (int i = 0; i < o->ncpus; i++)
			printf(" %d", o->cpus[i]);
		printf(" (producer, consumer/watcher; %s)\n",
		       o->ncpus > 2 ? "the daemon on the others" :
				      "the daemon not pinned");
	}
	fflush(stdout);
}

static int run_parts(struct report *rep)
{
	static int (*const run[NPARTS])(
		struct report *) = { run_persist,  run_latency, run_catchup,
				     run_recovery, run_idle,	run_metrics };

	for (int i = 0; i < NPARTS; i++) {
		if (!(rep->o->parts & (1u << i)))
			continue;
		/* 1: measured; 0: skipped (it said why). */
		if (run[i](rep))
			rep->done |= 1u << i;
		fflush(stdout);
	}
	if (rep->o->json)
		print_json(rep);
	else
		goals_print(rep);
	return 0;
}

/* ---- options -------------------------------------------------------------------------------- */

void sfbench_daemon_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfbench daemon - what sfshmd delivers on top of the bare ring\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfbench daemon [--quick] [--only PARTS] [--cpu LIST] [--json]\n"
	      "                   [options]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Starts the sfshmd built next to sfbench (<dir of sfbench>/../sfshmd)\n"
	      "    on a fresh data dir (under /tmp, or --data-dir) and a fresh run\n"
	      "    dir (under /dev/shm), one daemon per part; creates topics through\n"
	      "    the client API, measures, stops the daemon with SIGTERM (it must\n"
	      "    exit 0) and removes both dirs.  Every figure comes with a baseline\n"
	      "    measured in the same run, and the ratio.  The parts:\n"
	      "\n"
	      "    persist   1 producer -> 1 consumer, 100-byte values, one partition:\n"
	      "              --count records sent with sfshm_producer_send() (no\n"
	      "              delivery report) and then sfshm_producer_flush(), while\n"
	      "              a consumer thread reads them all with\n"
	      "              sfshm_consumer_poll().  With acks=written (goal: at least\n"
	      "              50% of the baseline's records/s), acks=none and\n"
	      "              acks=durable (flush.ms 1000).  Baseline: `sfbench ring`'s\n"
	      "              1->1 case, same count and ring size (a bare memfd ring,\n"
	      "              the reader as owner erasing behind itself).  The four\n"
	      "              cases run in turn, --runs rounds; each row shows the\n"
	      "              case's median run, the ratio is the median of the\n"
	      "              per-round ratios.\n"
	      "    latency   a topic with flush.ms=1; 100-byte records sent at --rate\n"
	      "              for --duration straight into its ring (sfbench maps the\n"
	      "              ring file as a producer, sfshm_ring_send() with the\n"
	      "              position), while a watcher thread polls the ring's\n"
	      "              written and durable positions every 20 us and times\n"
	      "              each record from its send until it is below them.\n"
	      "              p50/p99/p99.9/max of both (goal: durable p99 <= 2 ms at\n"
	      "              100k/s).  Baseline: pwrite() of a millisecond's worth\n"
	      "              of values plus fdatasync() in the data dir, every\n"
	      "              millisecond, half the times before and half after.\n"
	      "    catchup   a --backlog of --record-size records sent with acks=none\n"
	      "              (sfshm_producer_send_batch()), waited for until the log\n"
	      "              has written all of it, then read from offset 0 by a\n"
	      "              consumer: far more than the ring holds, so from the\n"
	      "              segment files.  The page cache stays warm.  GB/s (goal:\n"
	      "              >= 2 GB/s).  Baseline: read(2) of the same segment files\n"
	      "              in 1 MiB chunks, before and after the consumer.  The\n"
	      "              data dir's free space is checked first (statvfs); a\n"
	      "              backlog that does not fit with 256 MiB to spare is\n"
	      "              scaled down, with a note.\n"
	      "    recovery  producer process A sends all the time; producer process\n"
	      "              B claims a record (sfshm_producer_claim()) and is\n"
	      "              SIGKILLed; a consumer process times from the moment\n"
	      "              waitpid(B) returns to the arrival of the first record\n"
	      "              after B's hole.  --reps times: min, median, mean, max\n"
	      "              (goal: <= 100 ms).  Baseline: Aeron's default publication\n"
	      "              unblock timeout, 15 s (documented, not measured).\n"
	      "    idle      the daemon without topics (baseline), then with 10\n"
	      "              topics, no traffic, --idle seconds each: utime+stime\n"
	      "              from /proc/PID/stat in % of one core (goal: < 1%), the\n"
	      "              process CPU clock, and wake-ups per second.\n"
	      "    metrics   the cost of sfshmd's BPF metrics: persist's acks=written\n"
	      "              case (--count records, 100-byte values) with the\n"
	      "              producer and the consumer in processes of their own,\n"
	      "              on a daemon with metrics on (instance sfbench-PID,\n"
	      "              its pins removed after each run) and on one started\n"
	      "              --no-bpf (the baseline): --pairs pairs of runs, off\n"
	      "              and on in turn, a fresh daemon each.  Medians and\n"
	      "              on/off (goal: >= 98%; not judged with --quick).  Each\n"
	      "              run with metrics must find every record counted in\n"
	      "              the pinned topic_stats (records_in, records_out), or\n"
	      "              the run fails.  Skipped when not root or when the\n"
	      "              daemon cannot load its BPF programs.\n"
	      "\n"
	      "    Consumers check every offset, value length, sequence number and\n"
	      "    last byte: a lost, duplicated or corrupt record, a daemon that does\n"
	      "    not answer or exit, or no progress for 10 s fails the run.  Except\n"
	      "    in the metrics part, the daemons run --no-bpf.\n"
	      "\n"
	      "OPTIONS\n"
	      "        --only PARTS      run only some of: persist, latency, catchup,\n"
	      "                          recovery, idle, metrics (comma-separated)\n"
	      "        --quick           a smoke run of a few seconds: 100000 records\n"
	      "                          in one round, 0.3 s of latency, a 64 MiB\n"
	      "                          backlog, 5 kills, 1 s idle, 2 metrics pairs\n"
	      "        --cpu LIST        pin workers, e.g. 0,1: the producer to the\n"
	      "                          first, the consumer (or the latency watcher)\n"
	      "                          to the second; CPUs after the second, if\n"
	      "                          any, take the daemon (else it is not pinned)\n"
	      "    -n, --count N         persist, metrics: records per case or run\n"
	      "                          (default 2000000)\n"
	      "        --runs N          persist: rounds of the four cases, at most\n"
	      "                          15 (default 3)\n"
	      "        --ring-size BYTES ring of every topic and of the baseline, a\n"
	      "                          power of two from 64K to 1G (default 16M)\n"
	      "        --rate N          latency: records per second (default 100000)\n"
	      "    -d, --duration SEC    latency: how long to send (default 2)\n"
	      "        --backlog BYTES   catchup: bytes of values (default 4G)\n"
	      "        --record-size BYTES  catchup: value size (default 1K; at\n"
	      "                          least 16, at most what a ring frame takes)\n"
	      "        --data-dir DIR    make the data dirs in DIR (default /tmp)\n"
	      "        --reps N          recovery: producers killed (default 20)\n"
	      "        --idle SEC        idle: seconds per measurement (default 3)\n"
	      "        --pairs N         metrics: pairs of runs without and with\n"
	      "                          metrics, at most 15 (default 7)\n"
	      "        --json            print one JSON document (machine, config,\n"
	      "                          every result, the goals) instead of tables\n"
	      "    -h, --help            print this text and exit\n"
	      "\n"
	      "OUTPUT\n"
	      "    One table per part, then the goals and whether each is met.  MB =\n"
	      "    10^6 bytes, GB = 10^9 bytes, us = microseconds.  Throughput counts\n"
	      "    value bytes unless a column says otherwise.  Daemon CPU is its\n"
	      "    process CPU clock; client CPU is getrusage() of the worker threads.\n"
	      "\n"
	      "FILES\n"
	      "    DIR/sfbench-PART-XXXXXX, DIR/sfbench-PART-XXXXXX.log (the daemon's\n"
	      "    stderr), /dev/shm/sfbench-PART-XXXXXX, and for the metrics part\n"
	      "    /sys/fs/bpf/sfshm/sfbench-PID/: removed at the end of each part\n"
	      "    (of each metrics run), on failure and on SIGINT, SIGTERM or\n"
	      "    SIGHUP; a run killed by SIGKILL leaves them (rm -r them: pins\n"
	      "    left keep the probes of sfbench and sfshmd attached).\n"
	      "\n"
	      "EXIT STATUS\n"
	      "    0 success, whether goals are met or not, parts skipped or not (they\n"
	      "    say why on stderr); 1 run-time failure (the\n"
	      "    daemon, a library call or a check failed: the message says which,\n"
	      "    with the end of the daemon's log); 2 usage error.\n"
	      "\n"
	      "EXAMPLES\n"
	      "    sfbench daemon --quick\n"
	      "    sfbench daemon --cpu 0,1\n"
	      "    sfbench daemon --only catchup --backlog 16G --data-dir /srv/tmp\n"
	      "    sfbench daemon --only latency --rate 200000 -d 5 --json\n"
	      "    sfbench daemon --only metrics --cpu 0,1 --pairs 15\n",
	      f);
}

enum {
	OPT_ONLY = 256,
	OPT_QUICK,
	OPT_CPU,
	OPT_RING_SIZE,
	OPT_RATE,
	OPT_BACKLOG,
	OPT_RECORD_SIZE,
	OPT_DATA_DIR,
	OPT_REPS,
	OPT_IDLE,
	OPT_RUNS,
	OPT_PAIRS,
	OPT_JSON,
};

static const struct option long_opts[] = {
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "count", required_argument, NULL, 'n' },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "duration", required_argument, NULL, 'd' },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "record-size", required_argument, NULL, OPT_RECORD_SIZE },
	{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
	{ "reps", required_argument, NULL, OPT_REPS },
	{ "idle", required_argument, NULL, OPT_IDLE },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "pairs", required_argument, NULL, OPT_PAIRS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Options without a value, and the ones parsed by a helper. */
static int opt_only(struct opts *o, const char *arg)
{
	return sfb_opt_only(CMD, arg, part_names, NPARTS, &o->parts);
}

static int apply_flag(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_QUICK:
		o->quick = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_ONLY:
		return opt_only(o, arg);
	case OPT_CPU:
		return sfb_opt_cpus(CMD, arg, o->cpus, MAX_CPUS, &o->ncpus);
	case OPT_DATA_DIR:
		return sfb_opt_data_dir(CMD, arg, o->data_base,
					sizeof(o->data_base));
	}
	return sfb_usage(CMD, "unknown option");
}

static int apply_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 'n':
		return sfb_opt_count(CMD, "--count", arg, 1, 1ull << 40,
				     &o->count);
	case 'd':
		return sfb_opt_seconds(CMD, "--duration", arg, &o->lat_secs);
	case OPT_RING_SIZE:
		return sfb_opt_bytes(CMD, "--ring-size", arg, &o->ring_size);
	case OPT_RATE:
		return sfb_opt_count(CMD, "--rate", arg, 1, 100000000,
				     &o->rate);
	case OPT_BACKLOG:
		return sfb_opt_bytes(CMD, "--backlog", arg, &o->backlog);
	case OPT_RECORD_SIZE:
		return sfb_opt_bytes(CMD, "--record-size", arg,
				     &o->record_size);
	case OPT_REPS:
		return sfb_opt_count(CMD, "--reps", arg, 1, 100000, &o->reps);
	case OPT_IDLE:
		return sfb_opt_seconds(CMD, "--idle", arg, &o->idle_secs);
	case OPT_RUNS:
		return sfb_opt_count(CMD, "--runs", arg, 1, MAX_RUNS, &o->runs);
	case OPT_PAIRS:
		return sfb_opt_count(CMD, "--pairs", arg, 1, MAX_RUNS,
				     &o->pairs);
	}
	return apply_flag(o, c, arg);
}

/* Defaults that --quick changes, where no option set them. */
static void finish_defaults(struct opts *o)
{
	bool q = o->quick;

	if (!o->count)
		o->count = q ? 100000 : 2000000;
	if (!o->runs)
		o->runs = q ? 1 : 3;
	if (!o->lat_secs)
		o->lat_secs = q ? 0.3 : 2;
	if (!o->backlog)
		o->backlog = q ? 64ull << 20 : 4ull << 30;
	if (!o->reps)
		o->reps = q ? 5 : 20;
	if (!o->idle_secs)
		o->idle_secs = q ? 1 : 3;
	if (!o->pairs)
		o->pairs = q ? 2 : 7;
}

/* Does a record with a @vlen-byte value fit the ring's largest frame? */
static bool fits(uint64_t ring_size, uint64_t vlen)
{
	struct sfshm_rec rec = { .key_len = -1, .value_len = (int32_t)vlen };
	int64_t len = vlen > INT32_MAX ? -1 : sfshm_rec_frame_len(&rec);

	return len > 0 && (uint64_t)len <= ring_size / 8;
}

static int finish_opts(struct opts *o)
{
	uint64_t rs = o->ring_size;

	finish_defaults(o);
	if (rs < SFSHM_RING_MIN_SIZE || rs > SFSHM_RING_MAX_SIZE ||
	    (rs & (rs - 1)))
		return sfb_usage(CMD,
				 "--ring-size: %" PRIu64 " is not a power "
				 "of two from 64K to 1G",
				 rs);
	if (o->record_size < 16 || !fits(rs, o->record_size))
		return sfb_usage(CMD,
				 "--record-size: %" PRIu64 " is not from 16 "
				 "bytes to what a frame of a %" PRIu64
				 "-byte ring takes (an eighth of it)",
				 o->record_size, rs);
	if (!fits(rs, VALUE_LEN))
		return sfb_usage(CMD, "--ring-size: too small");
	return 0;
}

static void default_opts(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->parts = (1u << NPARTS) - 1;
	o->ring_size = 16ull << 20;
	o->rate = 100000;
	o->record_size = 1024;
	snprintf(o->data_base, sizeof(o->data_base), "/tmp");
}

/* apply_opt() as sfb_getopt() calls it. */
static int apply_any(void *o, int c, const char *arg)
{
	return apply_opt(o, c, arg);
}

/* Return: 0 to run, -1 when --help was printed, 2 for a usage error. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int rc;

	default_opts(o);
	rc = sfb_getopt(argc, argv, CMD, ":n:d:h", long_opts,
			sfbench_daemon_help, apply_any, o);
	return rc ? rc : finish_opts(o);
}

/**
 * sfbench_daemon_main() - `sfbench daemon [options]`.
 * Return: the exit status: 0, 1 (run-time failure) or 2 (usage).
 */
int sfbench_daemon_main(int argc, char **argv)
{
	struct report *rep;
	struct opts o;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	sfb_daemon_setup(CMD);
	rep = sfb_xcalloc(1, sizeof(*rep));
	rep->o = &o;
	sfb_machine_probe();
	if (!o.json)
		print_intro(&o);
	rc = run_parts(rep);
	free(rep->rc.all);
	free(rep);
	return rc;
}
