/* SPDX-License-Identifier: MIT */
/*
 * sfbench.h - what the files of sfbench share: the option parsers
 * (sfbench.c), the statistics, the JSON writer and the machine description
 * (sfbench_stats.c), and each command's entry points (sfbench_<command>.c).
 *
 * Context: the JSON writer and the machine description keep their state in
 * static objects: call them from one thread, the coordinator's.
 */
#ifndef SFBENCH_H
#define SFBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* ---- the commands (sfbench_<command>.c) ------------------------------------ */

int sfbench_ring_main(int argc, char **argv);
void sfbench_ring_help(FILE *f);
int sfbench_daemon_main(int argc, char **argv);
void sfbench_daemon_help(FILE *f);

#endif
