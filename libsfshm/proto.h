/* SPDX-License-Identifier: MIT */
/*
 * proto.h - the control protocol between libsfshm and sfshmd.
 *
 * One request or reply per SOCK_SEQPACKET message on the daemon's UNIX
 * socket (<run-dir>/sfshmd.sock).  A message is a fixed header followed by
 * attributes, netlink style:
 *
 *   header (16 bytes, host byte order: both ends are on one machine)
 *     u32 len       whole message, header included
 *     u16 type      SFP_*
 *     u8  version   SFP_VERSION; a daemon answers a version it does not
 *                   speak with -EPROTONOSUPPORT
 *     u8  flags     SFP_F_*
 *     u32 seq       chosen by the client, echoed in the reply
 *     s32 status    replies: 0 or -errno; requests: 0
 *   attributes, each 4-byte aligned
 *     u16 len       attribute header (4) + value, without the padding
 *     u16 type      SFA_*
 *     value         fixed-size numbers, or a string with its NUL, or
 *                   nested attributes (SFA_NESTED types)
 *
 * A reply too large for one message (a topic list, a describe of many
 * partitions) is sent as several with SFP_F_MORE on all but the last.
 * Unknown attribute types are skipped, so either side may add new ones
 * without a version change; removing or changing one needs a new version.
 * Everything that arrives is validated (sfp_parse()); nothing is asserted.
 */
#ifndef SF_PROTO_H
#define SF_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SFP_VERSION 1
#define SFP_HDR_SIZE 16u
#define SFP_ATTR_HDR 4u
#define SFP_MAX_MSG (64u << 10) /* one message, header included */
#define SFP_MAX_ATTR 64u /* attribute types 1..63 */
#define SFP_MAX_DEPTH 4u /* nesting */

/* Message types. */
enum {
	SFP_HELLO = 1, /* -> SFA_VERSION, SFA_CLIENT_ID; <- broker info */
	SFP_BROKER_INFO, /* <- SFA_BROKER_ID, dirs, counts, uptime */
	SFP_TOPIC_CREATE, /* -> SFA_TOPIC + config attributes */
	SFP_TOPIC_DELETE, /* -> SFA_TOPIC */
	SFP_TOPIC_LIST, /* <- SFA_TOPIC_INFO (nested: name, partitions) */
	SFP_TOPIC_DESCRIBE, /* -> SFA_TOPIC; <- config + SFA_PART_INFO */
	SFP_ATTACH, /* -> SFA_TOPIC, SFA_ROLE; <- config + SFA_PART_INFO */
	SFP_DETACH, /* -> SFA_TOPIC, SFA_ROLE */
	SFP_LIST_OFFSETS, /* -> topic, partition, SFA_TIMESTAMP; <- OFFSET */
	/* consumer groups (see docs/ARCHITECTURE.md §3) */
	SFP_GROUP_JOIN, /* -> group, subscriptions; <- member id */
	SFP_GROUP_REVOKED, /* -> group, generation: done with the old one */
	SFP_GROUP_HEARTBEAT, /* -> group: still polling */
	SFP_GROUP_LEAVE, /* -> group */
	SFP_GROUP_NOTIFY, /* <- unsolicited (seq 0): REVOKE or ASSIGN */
	SFP_OFFSET_COMMIT, /* -> group, generation, SFA_TP (+OFFSET, META) */
	SFP_OFFSET_FETCH, /* -> group, SFA_TP...; <- SFA_TP with OFFSET */
	SFP_GROUP_LIST, /* <- SFA_GROUP_INFO (nested: group, state, members) */
	SFP_GROUP_DESCRIBE, /* -> group; <- info, SFA_MEMBER..., SFA_TP... */
	SFP_GROUP_DELETE, /* -> group (no live members) */
	SFP_GROUP_RESET, /* -> group, SFA_TP (+OFFSET)...: set offsets */
	SFP_TYPE_MAX
};

/* SFA_GROUP_EVENT values of SFP_GROUP_NOTIFY. */
enum {
	SFP_EVENT_REVOKE = 1, /* stop delivering, commit, answer REVOKED */
	SFP_EVENT_ASSIGN = 2, /* the member's partitions for the generation */
	SFP_EVENT_FENCED = 3, /* removed (max poll interval): join again */
};

/* Header flags. */
#define SFP_F_MORE 0x01 /* more messages of this reply follow */

/* Attribute types. */
enum {
	SFA_UNSPEC,
	SFA_VERSION, /* u32 */
	SFA_CLIENT_ID, /* string */
	SFA_ERRMSG, /* string: why a request failed, for humans */
	SFA_TOPIC, /* string */
	SFA_PARTITION, /* u32 */
	SFA_PARTITIONS, /* u32 */
	SFA_RING_BYTES, /* u64 */
	SFA_SEGMENT_BYTES, /* s64 */
	SFA_SEGMENT_MS, /* s64 */
	SFA_RETENTION_BYTES, /* s64 */
	SFA_RETENTION_MS, /* s64 */
	SFA_FLUSH_MESSAGES, /* s64 */
	SFA_FLUSH_MS, /* s64 */
	SFA_MODE, /* u32: permission bits of the topic's files */
	SFA_ROLE, /* u32: enum sfshm_role (PRODUCER, READER) */
	SFA_TOPIC_INFO, /* nested: one topic */
	SFA_PART_INFO, /* nested: one partition */
	SFA_RING_PATH, /* string */
	SFA_CTL_PATH, /* string */
	SFA_LOG_DIR, /* string */
	SFA_LOG_START, /* s64 */
	SFA_LOG_END, /* s64: the next offset (high watermark) */
	SFA_WRITTEN_OFFSET, /* s64 */
	SFA_DURABLE_OFFSET, /* s64 */
	SFA_RING_TAIL, /* u64 positions in the ring */
	SFA_RING_CLEAN, /* u64 */
	SFA_RING_WRITTEN, /* u64 */
	SFA_RING_DURABLE, /* u64 */
	SFA_PRODUCERS, /* u32 */
	SFA_CONSUMERS, /* u32 */
	SFA_LOG_BYTES, /* u64 */
	SFA_SEGMENTS, /* u32 */
	SFA_TIMESTAMP, /* s64, ms; -1 latest, -2 earliest */
	SFA_OFFSET, /* s64 */
	SFA_BROKER_ID, /* s32 */
	SFA_DATA_DIR, /* string */
	SFA_RUN_DIR, /* string */
	SFA_PID, /* u32 */
	SFA_UPTIME_MS, /* u64 */
	SFA_TOPICS, /* u32 */
	SFA_CLIENTS, /* u32 */
	SFA_SOFTWARE, /* string: "sfshmd 0.1.0" */
	SFA_UNBLOCK_MS, /* s64 */
	SFA_GROUP, /* string */
	SFA_MEMBER_ID, /* string */
	SFA_INSTANCE_ID, /* string: static membership */
	SFA_SUBSCRIBE, /* string, repeated: a topic name, or ^regex */
	SFA_ASSIGNOR, /* string: range, roundrobin, sticky */
	SFA_MAX_POLL_MS, /* s64 */
	SFA_SESSION_MS, /* s64: static member's grace period */
	SFA_GENERATION, /* s32 */
	SFA_GROUP_EVENT, /* u32: SFP_EVENT_* */
	SFA_TP, /* nested: topic, partition [, offset, metadata, log end] */
	SFA_METADATA, /* string */
	SFA_GROUP_INFO, /* nested: group, state, generation, members... */
	SFA_MEMBER, /* nested: member id, instance, client id, pid, TPs */
	SFA_STATE, /* string: Empty, Stable, PreparingRebalance */
	SFA_MEMBERS, /* u32 */
	SFA_TYPE_MAX
};

_Static_assert(SFA_TYPE_MAX <= SFP_MAX_ATTR, "attribute table too small");

/* A parsed message: the first attribute of each type, found by type. */
struct sfp_attr {
	const uint8_t *val;
	uint16_t len; /* of the value */
	uint16_t type;
};

struct sfp_table {
	struct sfp_attr a[SFP_MAX_ATTR];
	bool present[SFP_MAX_ATTR];
};

struct sfp_msg {
	uint32_t len;
	uint16_t type;
	uint8_t version;
	uint8_t flags;
	uint32_t seq;
	int32_t status;
	const uint8_t *attrs; /* the attribute area and its size */
	uint32_t attrs_len;
	struct sfp_table t;
};

/* Iterate the attributes of an area (e.g. all SFA_PART_INFO of a reply). */
struct sfp_iter {
	const uint8_t *p;
	uint32_t left;
};

/* An encoder over a caller's buffer; errors are sticky (see sfp_end()). */
struct sfp_buf {
	uint8_t *p;
	uint32_t len, cap;
	uint32_t nest[SFP_MAX_DEPTH];
	uint32_t depth;
	int err;
};

/*
 * sfp_parse() - check a received message and index its attributes.
 * Return: 0; -EPROTO for a malformed message (short, bad lengths, an
 * attribute running past the end, nesting too deep); -EPROTONOSUPPORT for
 * another version.
 */
int sfp_parse(const void *buf, size_t len, struct sfp_msg *m);

/* Index the attributes nested in @a.  Return: 0 or -EPROTO. */
int sfp_parse_nested(const struct sfp_attr *a, struct sfp_table *t);

void sfp_iter_init(struct sfp_iter *it, const uint8_t *area, uint32_t len);
void sfp_iter_nested(struct sfp_iter *it, const struct sfp_attr *a);
/* Next attribute; false at the end (areas were checked by sfp_parse()). */
bool sfp_iter_next(struct sfp_iter *it, struct sfp_attr *a);

/* Getters.  Return: 0; -ENOENT if absent; -EPROTO if the size is wrong or
 * a string is not one NUL-terminated string. */
int sfp_get_u32(const struct sfp_table *t, int type, uint32_t *v);
int sfp_get_u64(const struct sfp_table *t, int type, uint64_t *v);
int sfp_get_s64(const struct sfp_table *t, int type, int64_t *v);
int sfp_get_s32(const struct sfp_table *t, int type, int32_t *v);
int sfp_get_str(const struct sfp_table *t, int type, const char **s);
int sfp_attr_str(const struct sfp_attr *a, const char **s);

/* Encoder: begin a message, add attributes, end it (returns its size). */
void sfp_begin(struct sfp_buf *b, void *buf, uint32_t cap, uint16_t type,
	       uint32_t seq, int32_t status);
void sfp_put(struct sfp_buf *b, uint16_t type, const void *v, uint16_t len);
void sfp_put_u32(struct sfp_buf *b, uint16_t type, uint32_t v);
void sfp_put_u64(struct sfp_buf *b, uint16_t type, uint64_t v);
void sfp_put_s64(struct sfp_buf *b, uint16_t type, int64_t v);
void sfp_put_s32(struct sfp_buf *b, uint16_t type, int32_t v);
void sfp_put_str(struct sfp_buf *b, uint16_t type, const char *s);
void sfp_nest_begin(struct sfp_buf *b, uint16_t type);
void sfp_nest_end(struct sfp_buf *b);
/* Room left for attributes, counting open nests. */
uint32_t sfp_room(const struct sfp_buf *b);
void sfp_set_flags(struct sfp_buf *b, uint8_t flags);
/* Return: the message size, or -EMSGSIZE if it did not fit. */
int sfp_end(struct sfp_buf *b);

#endif
