/* SPDX-License-Identifier: MIT */
/* t_util.h - helpers shared by the test programs. */
#ifndef SFSHM_T_UTIL_H
#define SFSHM_T_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sfshm/ring.h>

/* A ring in two memfds, inherited by forked children. */
struct t_ring {
	int ring_fd;
	int ctl_fd;
	uint64_t size;
};

/* Create the memfds; aborts the test on failure. */
void t_ring_create(struct t_ring *t, uint64_t size);
void t_ring_destroy(struct t_ring *t);
/* Map in a role; aborts the test on failure. */
struct sfshm_ring *t_ring_map(const struct t_ring *t, enum sfshm_role role);

/* CLOCK_MONOTONIC in ms. */
uint64_t t_now_ms(void);

/* FNV-1a 32-bit. */
uint32_t t_fnv1a(const void *p, size_t n, uint32_t seed);

/* xorshift64* generator. */
uint64_t t_rand(uint64_t *state);

/* Fork a child that runs fn(arg) and _exit()s with its return value. */
pid_t t_fork(int (*fn)(void *), void *arg);

/* Wait for a child with a deadline; SIGKILLs it on timeout.
 * Return: its exit status (0..255), 128+signal, or -1 on timeout. */
int t_wait_child(pid_t pid, int timeout_ms);

/* Shared anonymous memory (MAP_SHARED) visible to forked children. */
void *t_shared_alloc(size_t len);

/* Read everything available into a callback until the predicate holds. */
#define T_DEADLINE(ms) (t_now_ms() + (ms))

#endif
