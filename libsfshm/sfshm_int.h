/* SPDX-License-Identifier: MIT */
/* sfshm_int.h - declarations private to libsfshm. */
#ifndef SFSHM_INT_H
#define SFSHM_INT_H

#include <stdint.h>

#include <sfshm/ring.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t sf_now_ns(void);

#endif /* SFSHM_INT_H */
