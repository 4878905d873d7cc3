// SPDX-License-Identifier: MIT
/* t_util.c - helpers shared by the test programs. */
#include <errno.h>
#include <string.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "t_util.h"

void t_ring_create(struct t_ring *t, uint64_t size)
{
	int err = sfshm_ring_create_memfd(size, &t->ring_fd, &t->ctl_fd);

	if (err)
		fail_msg("sfshm_ring_create_memfd(%llu): %s",
			 (unsigned long long)size, sfshm_strerror(err));
	t->size = size;
}

void t_ring_destroy(struct t_ring *t)
{
	close(t->ring_fd);
	close(t->ctl_fd);
}

struct sfshm_ring *t_ring_map(const struct t_ring *t, enum sfshm_role role)
{
	struct sfshm_ring *r = NULL;
	int err = sfshm_ring_map(t->ring_fd, t->ctl_fd, role, &r);

	if (err)
		fail_msg("sfshm_ring_map: %s", sfshm_strerror(err));
	return r;
}

uint64_t t_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint32_t t_fnv1a(const void *p, size_t n, uint32_t seed)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

uint64_t t_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

pid_t t_fork(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

int t_wait_child(pid_t pid, int timeout_ms)
{
	uint64_t deadline = t_now_ms() + (uint64_t)timeout_ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		if (r < 0)
			return -1;
		if (t_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(1000);
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

void *t_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fail_msg("mmap shared: %s", strerror(errno));
	return p;
}
