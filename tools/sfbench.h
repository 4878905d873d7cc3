/* SPDX-License-Identifier: MIT */
/*
 * sfbench.h - what the files of sfbench share: the option parsers
 * (sfbench.c), the statistics, the JSON writer and the machine description
 * (sfbench_stats.c), the daemon and worker-process helpers
 * (sfbench_daemon.c), and each command's entry points
 * (sfbench_<command>.c).
 *
 * Context: the JSON writer and the machine description keep their state in
 * static objects: call them from one thread, the coordinator's.
 */
#ifndef SFBENCH_H
#define SFBENCH_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- option values (sfbench.c) ------------------------------------------- */

/* Report a usage error of command @cmd.  Return: 2, the exit status. */
int sfb_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A plain decimal count.  Return: 0, -EINVAL or -ERANGE. */
int sfb_parse_u64(const char *s, uint64_t *out);
/* A byte count with an optional K/M/G suffix.  Return: as above. */
int sfb_parse_bytes(const char *s, uint64_t *out);
/* A positive duration: "1", "0.25", "250ms", "2s".  Return: as above. */
int sfb_parse_seconds(const char *s, double *out);
/*
 * A comma-separated list of counts (of byte sizes if @bytes).
 * Return: the number of items in @out (at most @max), -EINVAL, -ERANGE or
 * -E2BIG.
 */
int sfb_parse_list(const char *s, bool bytes, uint64_t *out, int max);

#define SFB_MAX_CPUS 64

/* --cpu LIST: CPUs this process may run on.  Return: 0 or 2 (usage). */
int sfb_opt_cpus(const char *cmd, const char *arg, int *cpus, int max,
		 int *ncpus);
/* --only LIST: a bit per name of @names.  Return: 0 or 2 (usage). */
int sfb_opt_only(const char *cmd, const char *arg, const char *const *names,
		 int n, unsigned int *parts);

/* A count in [@min, @max] for option @name.  Return: 0 or 2 (usage). */
int sfb_opt_count(const char *cmd, const char *name, const char *arg,
		  uint64_t min, uint64_t max, uint64_t *out);
struct option;

/*
 * sfb_getopt() - the command line of command @cmd: getopt_long() with
 * @shortopts (starting with ':') and @longopts; -h prints @help on
 * stdout; every other option goes to @apply(@ctx, c, optarg), whose
 * non-zero return ends the parse.  Arguments left over are an error.
 * Return: 0; -1 after --help; 2 for a usage error; what @apply returned.
 */
int sfb_getopt(int argc, char **argv, const char *cmd, const char *shortopts,
	       const struct option *longopts, void (*help)(FILE *),
	       int (*apply)(void *ctx, int c, const char *arg), void *ctx);

/* A size in bytes (K, M, G) for option @name.  Return: 0 or 2 (usage). */
int sfb_opt_bytes(const char *cmd, const char *name, const char *arg,
		  uint64_t *out);
/* A duration for option @name.  Return: 0 or 2 (usage). */
int sfb_opt_seconds(const char *cmd, const char *name, const char *arg,
		    double *out);
/* --data-dir: an existing directory, copied to @buf.  Return: 0 or 2. */
int sfb_opt_data_dir(const char *cmd, const char *arg, char *buf, size_t len);

/* ---- time, CPU time, small things (sfbench.c) ---------------------------- */

/* CLOCK_MONOTONIC in ns. */
uint64_t sfb_now_ns(void);
/* Sleep @ns, through signals. */
void sfb_sleep_ns(uint64_t ns);

/* CPU time of the calling thread, split as getrusage() does. */
struct sfb_cpu_time {
	uint64_t user_ns;
	uint64_t sys_ns;
};

void sfb_cpu_now(struct sfb_cpu_time *c);
/* Turn an sfb_cpu_now() snapshot into the CPU time used since. */
void sfb_cpu_since(struct sfb_cpu_time *c);

/* qsort() comparison of doubles. */
int sfb_cmp_double(const void *a, const void *b);
/* "16 MiB", "64 KiB", "100 B": the largest unit that divides @n. */
const char *sfb_human_bytes(uint64_t n, char *buf, size_t len);
/* Store @x at byte @at of @v (unaligned, host order). */
void sfb_put_u64(uint8_t *v, size_t at, uint64_t x);

/* A benchmark goal and whether this run met it. */
struct sfb_goal {
	const char *what;
	char measured[96];
	int met; /* 1, 0; -1: not measured */
};

/* The closing "Goals" table. */
void sfb_goals_print(const struct sfb_goal *g, int n);

/* ---- statistics (sfbench_stats.c) ------------------------------------------ */

/* Nearest-rank percentiles @pct (0..100) of @n samples, sorted in place. */
void sfb_percentiles(uint64_t *v, size_t n, const double *pct, size_t npct,
		     uint64_t *out);
double sfb_mean(const uint64_t *v, size_t n);

/* ---- one JSON document per run (sfbench_stats.c) ---------------------------- */

void sfb_json_begin(FILE *f);
void sfb_json_end(void);
/* Open an object or an array (@key NULL inside arrays); close the last. */
void sfb_json_object(const char *key);
void sfb_json_array(const char *key);
void sfb_json_close(void);
void sfb_json_str(const char *key, const char *v);
void sfb_json_u64(const char *key, uint64_t v);
/* NaN and infinity become null. */
void sfb_json_num(const char *key, double v);
void sfb_json_bool(const char *key, bool v);

/* ---- the machine the numbers came from (sfbench_stats.c) ------------------- */

void sfb_machine_probe(void);
void sfb_machine_print(FILE *f);
void sfb_machine_json(void);

/* ---- the ring's 1->1 case as other commands' baseline (sfbench_ring.c) ---- */

/* What sfb_ring_1to1() measured. */
struct sfb_tp {
	uint64_t records; /* read and checked by the reader */
	double secs; /* from the start until the reader had them all */
	uint64_t cpu_ns; /* user+sys CPU time of producer and reader */
};

/*
 * sfb_ring_1to1() - `sfbench ring`'s 1->1 throughput case, unchanged: one
 * producer thread sends @count records of @value_len bytes through a fresh
 * memfd ring of @ring_size bytes, one reader thread, the ring's owner,
 * reads and checks them and erases behind itself every quarter ring.
 * @cpus, @ncpus: the producer goes to cpus[0], the reader to cpus[1]
 * (ncpus 0: not pinned).
 * Return: 0, or 1 if a worker failed (it said why on stderr).
 */
int sfb_ring_1to1(uint64_t value_len, uint64_t count, uint64_t ring_size,
		  const int *cpus, int ncpus, struct sfb_tp *out);

/* ---- a real sfshmd and worker processes (sfbench_daemon.c) ---------------- */

struct sfshm_client;

/*
 * Before a command starts daemons: messages then say "sfbench @cmd: ";
 * fails if there is no sfshmd next to sfbench; at exit a daemon still
 * running is killed and its dirs (and metrics pins) removed, on SIGINT,
 * SIGTERM and SIGHUP too; SIGPIPE is ignored.
 */
void sfb_daemon_setup(const char *cmd);
/*
 * A run-time failure: print "sfbench <cmd>: ..." and exit 1 (a forked
 * worker just exits 1, and its parent notices).
 */
void sfb_fail(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
/* calloc() or fail. */
void *sfb_xcalloc(size_t n, size_t size);
/* Zeroed MAP_SHARED memory, inherited by forked workers; or fail. */
void *sfb_shm_zalloc(size_t len);

/* A start line for threads, or processes when it is in shared memory. */
struct sfb_gate {
	atomic_int ready; /* workers set up and waiting */
	atomic_int go;
	uint64_t t0; /* CLOCK_MONOTONIC ns at go */
};

/* A worker: count itself ready, wait for the go. */
void sfb_gate_wait(struct sfb_gate *g);
/* Wait until @n workers are ready; fail if one of @pids (or NULL) exits. */
void sfb_gate_ready(struct sfb_gate *g, int n, const pid_t *pids);
/* Note t0, then let the workers go. */
void sfb_gate_go(struct sfb_gate *g);

/*
 * Fork a worker process that runs @fn(@arg) pinned to @cpu (-1: not
 * pinned) and exits 0; it is SIGKILLed if we die.  Return: its pid.
 */
pid_t sfb_spawn(void (*fn)(void *), void *arg, int cpu);
/* Fail if worker @pid (named @who) has exited: it was not supposed to. */
void sfb_check_alive(pid_t pid, const char *who);
/* Wait for worker @pid; SIGKILL it after @timeout_ns.  Return: exited 0? */
bool sfb_reap(pid_t pid, uint64_t timeout_ns);

struct sfb_daemon {
	pid_t pid;
	char data_dir[PATH_MAX];
	char run_dir[PATH_MAX];
	char log_path[PATH_MAX + 8];
	char bpf_dir[128]; /* its pinned metrics, "" when started --no-bpf */
};

struct sfb_daemon_opts {
	const char *data_base; /* data dirs are made in here */
	const int *cpus; /* --cpu: the daemon gets cpus[2..] */
	int ncpus;
	/*
	 * NULL (the default): the daemon runs --no-bpf.  Else its metrics are
	 * on, pinned under SFM_BPFFS_ROOT/<bpf_instance>/, which is removed
	 * before the start and with the daemon's dirs.
	 */
	const char *bpf_instance;
};

/* <dir of sfbench>/../sfshmd, or fail. */
const char *sfb_daemon_exe(void);
/*
 * Start sfshmd on a fresh data dir (in @o->data_base) and run dir (in
 * /dev/shm), both named after @tag, its stderr going to <data dir>.log;
 * return once it answers.  It inherits our resource limits.  Its BPF
 * metrics are off (--no-bpf) unless @o->bpf_instance names an instance.
 */
void sfb_daemon_start(struct sfb_daemon *d, const struct sfb_daemon_opts *o,
		      const char *tag);
/* SIGTERM; fail unless it exits 0 in time; remove its dirs and pins. */
void sfb_daemon_stop(struct sfb_daemon *d);

/* CPU a process used so far. */
struct sfb_proc_cpu {
	uint64_t stat_ns; /* utime + stime of /proc/PID/stat, in ns */
	uint64_t clock_ns; /* the process CPU clock */
	uint64_t runs; /* times its threads were scheduled in */
};

void sfb_proc_cpu(pid_t pid, struct sfb_proc_cpu *c);
/* A client of daemon @d (client id "sfbench", 10 s timeout), or fail. */
struct sfshm_client *sfb_client_open(const struct sfb_daemon *d);

/* ---- the commands (sfbench_<command>.c) ------------------------------------ */

int sfbench_ring_main(int argc, char **argv);
void sfbench_ring_help(FILE *f);
int sfbench_daemon_main(int argc, char **argv);
void sfbench_daemon_help(FILE *f);
int sfbench_group_main(int argc, char **argv);
void sfbench_group_help(FILE *f);

#endif
