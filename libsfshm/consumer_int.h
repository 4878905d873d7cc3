/* SPDX-License-Identifier: MIT */
/*
 * consumer_int.h - what group membership (member.c) needs of a consumer
 * (consumer.c): its partitions, added and dropped as the group decides.
 */
#ifndef SF_CONSUMER_INT_H
#define SF_CONSUMER_INT_H

#include "client_int.h"

struct sf_member;

struct sfshm_client *sf_cons_client(struct sfshm_consumer *cons);
const struct sfshm_consumer_opts *sf_cons_opts(struct sfshm_consumer *cons);
struct sf_member **sf_cons_member(struct sfshm_consumer *cons);

/* Manually assigned partitions exist (no subscribe then). */
bool sf_cons_manual(const struct sfshm_consumer *cons);

/* Add one partition for the group, reading from @offset. */
int sf_cons_add(struct sfshm_consumer *cons, const char *topic,
		uint32_t partition, int64_t offset);

/* Drop every partition (and detach from their topics). */
void sf_cons_clear(struct sfshm_consumer *cons);

/* The partitions owned now; *tps from malloc, names inside it. */
int sf_cons_list(struct sfshm_consumer *cons, struct sfshm_tp **tps,
		 unsigned *n);

/* Records handed out by poll so far. */
uint64_t sf_cons_delivered(const struct sfshm_consumer *cons);

/* Group duties due now (notices, heartbeat, auto-commit).  member.c. */
int sf_member_service(struct sfshm_consumer *cons);

/* Leave the group and free the member (on close).  member.c. */
void sf_member_close(struct sfshm_consumer *cons);

#endif
