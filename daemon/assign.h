/* SPDX-License-Identifier: MIT */
/*
 * assign.h - partition assignors of the consumer-group coordinator.
 *
 * The coordinator, not a leader member, decides who consumes what, with
 * the semantics of Kafka's client-side assignors (the protocol names a
 * Kafka consumer sends in JoinGroup):
 *
 *  - range: per topic, the partitions in numeric order are cut into
 *    consecutive runs over the topic's subscribers sorted by member id;
 *    each gets n/m of them and the first n%m one more.
 *  - roundrobin: every (topic, partition) of every subscribed topic,
 *    sorted by topic name then partition, is dealt to the members sorted
 *    by id in turn; a member not subscribed to the topic is skipped.
 *  - sticky: as balanced as possible, then as little movement as possible
 *    from the previous generation's assignment (see assign.c).
 *
 * All three are pure functions of their input: no I/O, no globals, the
 * same result whatever the order of the members and topics arrays.
 */
#ifndef SFD_ASSIGN_H
#define SFD_ASSIGN_H

#include <stdint.h>

/* A partition, naming its topic by index into the topics array. */
struct sfd_tp {
	uint32_t topic;
	uint32_t partition;
};

/* A topic that exists, with its partition count (0 is allowed). */
struct sfd_assign_topic {
	const char *name;
	uint32_t partitions;
};

/*
 * A group member.  @topics are the names it subscribes to, patterns
 * already resolved; names not in the topics array are ignored, as Kafka
 * ignores topics without metadata, and so are repeats.  @prev is what it
 * owned in the previous generation (read by sticky only); entries naming
 * a topic or partition that no longer exists, or a topic the member no
 * longer subscribes to, are ignored, and a partition claimed by two
 * members is taken as owned by neither (Kafka's rule for two owners in
 * one generation).
 */
struct sfd_assign_member {
	const char *id; /* unique in the group */
	const char *const *topics;
	uint32_t ntopics;
	const struct sfd_tp *prev;
	uint32_t nprev;
};

/* One member's result: @n partitions sorted by (topic, partition). */
struct sfd_assignment {
	struct sfd_tp *tp; /* malloc'd, NULL when @n is 0 */
	uint32_t n;
};

enum sfd_assignor {
	SFD_ASSIGN_RANGE,
	SFD_ASSIGN_ROUNDROBIN,
	SFD_ASSIGN_STICKY,
};

/**
 * sfd_assignor_parse() - an assignor from its name.
 * @name: "range", "roundrobin" or "sticky" (Kafka's protocol names), or
 *        the Java class name, e.g. "org.apache.kafka.clients.consumer.
 *        RangeAssignor".  Case matters, as in Kafka.
 * @out:  the assignor, set only on success.
 *
 * "cooperative-sticky" is refused: it needs the incremental (two-round)
 * rebalance protocol, which the coordinator does not speak.
 *
 * Context: any thread.
 * Return: 0, or -EINVAL for an unknown or NULL name.
 */
int sfd_assignor_parse(const char *name, enum sfd_assignor *out);

/**
 * sfd_assignor_name() - the protocol name of @a.
 * @a: an assignor.
 *
 * Context: any thread.
 * Return: "range", "roundrobin", "sticky", or "unknown" for a value out
 * of the enum.
 */
const char *sfd_assignor_name(enum sfd_assignor a);

/**
 * sfd_assign() - assign the partitions of @topics to @members.
 * @a:        the assignor.
 * @topics:   the topics that exist, @ntopics of them, names unique.
 * @members:  the group, @nmembers of them, ids unique; in any order.
 * @out:      @nmembers entries, filled on success: @out[i] is @members[i]'s
 *            share, sorted by (topic index, partition).  Left untouched on
 *            failure.
 *
 * Every partition of a topic that at least one member subscribes to goes
 * to exactly one member that subscribes to it; the others go to nobody.
 * The result depends on the member ids and the topic names only, not on
 * the order of either array (@out's topic indices follow @topics).
 *
 * Context: any thread; no locks, no I/O.  Time: about linear in the
 * subscriptions and partitions, times the members at worst: for 1000
 * members, a few ms over 1000 partitions of one topic, some 60 ms when
 * each subscribes to 1000 topics of one partition (10^6 subscriptions).
 * Return: 0; -EINVAL for a bad argument (NULL pointers, duplicate member
 * ids or topic names, an unknown @a, more than 2^31 partitions); -ENOMEM.
 */
int sfd_assign(enum sfd_assignor a, const struct sfd_assign_topic *topics,
	       uint32_t ntopics, const struct sfd_assign_member *members,
	       uint32_t nmembers, struct sfd_assignment *out);

/**
 * sfd_assignment_free() - free what sfd_assign() put in @out.
 * @out:      the array given to sfd_assign(), or NULL.
 * @nmembers: its length.
 *
 * Frees each entry's @tp and zeroes the entries; the array itself is the
 * caller's.  Safe on zeroed entries and twice in a row.
 *
 * Context: any thread.
 */
void sfd_assignment_free(struct sfd_assignment *out, uint32_t nmembers);

#endif /* SFD_ASSIGN_H */
