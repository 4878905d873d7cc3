// SPDX-License-Identifier: MIT
/*
 * offsets.c - consumer groups' committed offsets in a Kafka-format log.
 *
 * Records
 * -------
 * Kafka's group coordinator (GroupMetadataManager; the schemas
 * OffsetCommitKey.json and OffsetCommitValue.json) writes, per committed
 * partition, a record whose key is a version-prefixed OffsetCommitKey and
 * whose value a version-prefixed OffsetCommitValue:
 *
 *   key v0, v1        group string, topic string, partition int32
 *   key v2            a group's metadata (members, generation): not ours
 *   value v0          offset int64, metadata string, timestamp int64
 *   value v1          offset, metadata, commit timestamp, expire timestamp
 *   value v2          offset, metadata, commit timestamp
 *   value v3          offset, leader epoch int32, metadata, commit timestamp
 *
 * We write key v1 (the current offset key) and value v3 (what Kafka 2.1+
 * writes when no expire timestamp is given; v1 carries one, v4 would be
 * the flexible form with tagged fields).  A string is an int16 length,
 * never negative, then that many UTF-8 bytes.  A null value is a
 * tombstone.  Replay reads every version above; a record that does not
 * parse exactly (bad version, short, trailing bytes, negative length, a
 * NUL inside a string, a negative partition) is skipped and counted, a
 * group metadata record is counted as ignored, and so are control and
 * transactional batches, which this store never writes.
 *
 * The table
 * ---------
 * Groups sit in an array sorted by name, each with its offsets in an
 * array sorted by (topic, partition): lookups are binary searches and
 * listings come out sorted.  Names compare as bytes.
 *
 * Why a crash never loses an acknowledged offset nor brings back an
 * older one
 * ----------------------------------------------------------------------
 * 1. A change is one batch (all of a commit's records, or a group's
 *    tombstones; a group too large for one batch is deleted in several,
 *    each all or nothing), appended and fdatasync'ed before the call
 *    returns; the table changes only after that.  Every allocation the
 *    table needs is made before the write, so applying an acknowledged
 *    change cannot fail.  The batch CRC makes a batch all or nothing.
 * 2. Replay applies records in log order, last one wins.  Since each
 *    acknowledged change was durable before the next one was written,
 *    the log after a crash is the acknowledged history plus, at most, the
 *    one change that was in flight.
 * 3. If a write or sync fails after a batch was appended, the log may
 *    later write a batch the table does not show.  The store then refuses
 *    changes (o->err) until reopened, and replay tells the truth.
 *
 * Compaction
 * ----------
 * The log grows with every commit.  When it holds more than compact_ratio
 * times as many records as the table has offsets, and at least a
 * segment's worth of bytes, sfd_offsets_compact():
 *
 *   a. rolls the log (log.c makes the old active segment durable first);
 *   b. appends the whole table as new records into the new segment, which
 *      it must fit (checked beforehand, so the log never rolls midway);
 *   c. fdatasyncs it;
 *   d. deletes every older segment (sfd_log_retain() with retention_bytes
 *      0, oldest first) and fsyncs the directory.
 *
 * A crash before (c) completes leaves every old segment, and after them a
 * partial copy of the table: replay ends with values the table already
 * had, the same ones.  A crash during (d) leaves a suffix of the old
 * segments then the whole copy.  For any key, either its last record in
 * the full log is still there (and everything after it: a suffix), or
 * none of its old records is; the copy then decides, and the copy holds
 * exactly the live keys.  So replay gives the table either way, and a
 * deleted key cannot come back from an old segment.  (This relies on
 * unlinks reaching the disk in the order they were made, as journaling
 * file systems do; the directory fsync in (d) ends the window.)
 *
 * The log is opened with retention_bytes = 0 and retention_ms = -1:
 * segments are deleted only when this file calls sfd_log_retain(), right
 * after (c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "offsets.h"
#include "recordbatch.h"
#include "sf_be.h"
#include "sfd.h"

#define DEFAULT_SEGMENT_BYTES (100ull << 20)
#define DEFAULT_MAX_BATCH (1u << 20)
#define DEFAULT_RATIO 4
#define MAX_MAX_BATCH (64u << 20)

#define KEY_V0 0
#define KEY_V1 1 /* what we write */
#define KEY_GROUP 2 /* group metadata */
#define VALUE_V1 1 /* has an expire timestamp */
#define VALUE_V3 3 /* what we write */
#define STR_MAX INT16_MAX /* a Kafka STRING */

/* Largest encoded key and value (names and metadata from other writers). */
#define KEY_MAX (2 + 2 + STR_MAX + 2 + STR_MAX + 4)
#define VALUE_MAX (2 + 8 + 4 + 2 + STR_MAX + 8)
/* A batch must take at least one record of the largest kind. */
#define MIN_MAX_BATCH (SF_RB_HEADER_SIZE + KEY_MAX + VALUE_MAX + 64)

/* A string that need not end in NUL. */
struct sv {
	const char *p;
	size_t len;
};

struct ent {
	char *topic;
	size_t topic_len;
	uint32_t partition;
	int32_t leader_epoch;
	int64_t offset;
	int64_t commit_ts;
	char *metadata;
};

struct group {
	char *name;
	size_t name_len;
	struct ent *ents; /* sorted by (topic, partition) */
	uint32_t n, cap;
};

/* A decoded key and value. */
struct okey {
	struct sv group;
	struct sv topic;
	int32_t partition;
};

struct oval {
	int64_t offset;
	int32_t leader_epoch;
	struct sv metadata;
	int64_t commit_ts;
};

struct sfd_offsets {
	struct sfd_offsets_config cfg;
	char *dir;
	struct sfd_log *log;
	int err; /* sticky: a batch may be in the log and not in the table */

	struct group **groups; /* sorted by name */
	uint32_t ngroups, groups_cap;
	uint64_t live;
	uint64_t log_records;

	uint8_t *batch; /* cfg.max_batch_bytes: the batch being built */
	uint8_t *kv; /* KEY_MAX + VALUE_MAX: one record's key and value */
	uint8_t *rbuf; /* replay reads (freed once open) */
	size_t rcap;
	struct sfd_offsets_stats st;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sv sv_of(const char *s)
{
	return (struct sv){ s, strlen(s) };
}

static int sv_cmp(struct sv a, struct sv b)
{
	int r = memcmp(a.p, b.p, a.len < b.len ? a.len : b.len);

	return r ? r : (a.len > b.len) - (a.len < b.len);
}

/* ---- the table ---------------------------------------------------------- */

static struct sv group_sv(const struct group *g)
{
	return (struct sv){ g->name, g->name_len };
}

/* Index of @name in the groups, or where it would go. */
static uint32_t group_index(const struct sfd_offsets *o, struct sv name,
			    bool *found)
{
	uint32_t lo = 0, hi = o->ngroups;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int r = sv_cmp(group_sv(o->groups[mid]), name);

		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct group *group_find(const struct sfd_offsets *o, struct sv name)
{
	bool found;
	uint32_t i = group_index(o, name, &found);

	return found ? o->groups[i] : NULL;
}

static int group_insert(struct sfd_offsets *o, uint32_t i, struct sv name,
			struct group **out)
{
	struct group *g;

	if (sfd_grow((void **)&o->groups, &o->groups_cap, o->ngroups + 1,
		     sizeof(*o->groups), 8))
		return -ENOMEM;
	g = calloc(1, sizeof(*g));
	if (g)
		g->name = strndup(name.p, name.len);
	if (!g || !g->name) {
		free(g);
		return -ENOMEM;
	}
	g->name_len = name.len;
	memmove(&o->groups[i + 1], &o->groups[i],
		(o->ngroups - i) * sizeof(*o->groups));
	o->groups[i] = g;
	o->ngroups++;
	*out = g;
	return 0;
}

/* Find a group, creating an empty one if needed. */
static int group_get(struct sfd_offsets *o, struct sv name, struct group **out)
{
	bool found;
	uint32_t i = group_index(o, name, &found);

	if (found) {
		*out = o->groups[i];
		return 0;
	}
	return group_insert(o, i, name, out);
}

static void ent_free(struct ent *e)
{
	free(e->topic);
	free(e->metadata);
}

static void group_free(struct group *g)
{
	for (uint32_t i = 0; i < g->n; i++)
		ent_free(&g->ents[i]);
	free(g->ents);
	free(g->name);
	free(g);
}

/* Remove a group and its offsets from the table. */
static void group_remove(struct sfd_offsets *o, struct group *g)
{
	bool found;
	uint32_t i = group_index(o, group_sv(g), &found);

	o->live -= g->n;
	group_free(g);
	o->ngroups--;
	memmove(&o->groups[i], &o->groups[i + 1],
		(o->ngroups - i) * sizeof(*o->groups));
}

static void group_drop_if_empty(struct sfd_offsets *o, struct group *g)
{
	if (g && g->n == 0)
		group_remove(o, g);
}

static int ent_cmp(const struct ent *e, struct sv topic, uint32_t partition)
{
	int r = sv_cmp((struct sv){ e->topic, e->topic_len }, topic);

	if (r)
		return r;
	return (e->partition > partition) - (e->partition < partition);
}

/* Index of (topic, partition) in @g, or where it would go. */
static uint32_t ent_index(const struct group *g, struct sv topic,
			  uint32_t partition, bool *found)
{
	uint32_t lo = 0, hi = g->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int r = ent_cmp(&g->ents[mid], topic, partition);

		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int ent_reserve(struct group *g, uint32_t more)
{
	if (more > UINT32_MAX - g->n)
		return -ENOMEM;
	return sfd_grow((void **)&g->ents, &g->cap, g->n + more,
			sizeof(*g->ents), 8);
}

/* Insert a new entry at @i (room reserved); it takes @topic. */
static struct ent *ent_insert(struct sfd_offsets *o, struct group *g,
			      uint32_t i, char *topic, uint32_t partition)
{
	struct ent *e = &g->ents[i];

	memmove(e + 1, e, (g->n - i) * sizeof(*e));
	memset(e, 0, sizeof(*e));
	e->topic = topic;
	e->topic_len = strlen(topic);
	e->partition = partition;
	g->n++;
	o->live++;
	return e;
}

/* Give an entry its value; it takes @metadata. */
static void ent_assign(struct ent *e, const struct oval *v, char *metadata)
{
	free(e->metadata);
	e->metadata = metadata;
	e->offset = v->offset;
	e->leader_epoch = v->leader_epoch;
	e->commit_ts = v->commit_ts;
}

static void ent_remove(struct sfd_offsets *o, struct group *g, uint32_t i)
{
	ent_free(&g->ents[i]);
	g->n--;
	memmove(&g->ents[i], &g->ents[i + 1], (g->n - i) * sizeof(*g->ents));
	o->live--;
}

/* Replay: the entry of (topic, partition) in @g, inserted if new. */
static struct ent *ent_get(struct sfd_offsets *o, struct group *g,
			   struct sv topic, uint32_t partition)
{
	bool found;
	uint32_t i = ent_index(g, topic, partition, &found);
	char *t;

	if (found)
		return &g->ents[i];
	t = strndup(topic.p, topic.len);
	if (!t || ent_reserve(g, 1)) {
		free(t);
		return NULL;
	}
	return ent_insert(o, g, i, t, partition);
}

/* Replay: set a key.  Return: 0 or -ENOMEM. */
static int table_put(struct sfd_offsets *o, const struct okey *k,
		     const struct oval *v)
{
	char *md = strndup(v->metadata.p, v->metadata.len);
	struct group *g = NULL;
	struct ent *e = NULL;

	if (md && !group_get(o, k->group, &g))
		e = ent_get(o, g, k->topic, (uint32_t)k->partition);
	if (!e) {
		free(md);
		group_drop_if_empty(o, g);
		return -ENOMEM;
	}
	ent_assign(e, v, md);
	return 0;
}

/* Replay: a tombstone. */
static void table_del(struct sfd_offsets *o, const struct okey *k)
{
	struct group *g = group_find(o, k->group);
	bool found;
	uint32_t i;

	if (!g)
		return;
	i = ent_index(g, k->topic, (uint32_t)k->partition, &found);
	if (found)
		ent_remove(o, g, i);
	group_drop_if_empty(o, g);
}

static void table_free(struct sfd_offsets *o)
{
	for (uint32_t i = 0; i < o->ngroups; i++)
		group_free(o->groups[i]);
	free(o->groups);
	o->groups = NULL;
	o->ngroups = o->groups_cap = 0;
	o->live = 0;
}

/* ---- record codec ------------------------------------------------------ */

/* A reader over foreign bytes: any shortfall marks it bad. */
struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static int16_t rd_i16(struct rd *r)
{
	const uint8_t *p = rd_take(r, 2);

	return p ? (int16_t)sf_get_be16(p) : -1;
}

static int32_t rd_i32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);

	return p ? (int32_t)sf_get_be32(p) : -1;
}

static int64_t rd_i64(struct rd *r)
{
	const uint8_t *p = rd_take(r, 8);

	return p ? (int64_t)sf_get_be64(p) : -1;
}

/* A Kafka STRING; one with a NUL inside is refused (we keep C strings). */
static struct sv rd_str(struct rd *r)
{
	int16_t n = rd_i16(r);
	const uint8_t *p = rd_take(r, n < 0 ? SIZE_MAX : (size_t)n);

	if (!p || memchr(p, 0, (size_t)n))
		r->bad = true;
	return r->bad ? (struct sv){ "", 0 } :
			(struct sv){ (const char *)p, (size_t)n };
}

static struct rd rd_init(const struct sf_rb_bytes *b)
{
	if (b->len < 0)
		return (struct rd){ NULL, 0, true };
	return (struct rd){ b->ptr, (size_t)b->len, false };
}

/*
 * Decode a record key.
 * Return: 0 an offset key; 1 a well-formed key of another kind; -EBADMSG.
 */
static int key_decode(const struct sf_rb_bytes *b, struct okey *k)
{
	struct rd r = rd_init(b);
	int16_t v = rd_i16(&r);

	if (!r.bad && v == KEY_GROUP)
		return 1;
	k->group = rd_str(&r);
	k->topic = rd_str(&r);
	k->partition = rd_i32(&r);
	if (r.bad || r.left || (v != KEY_V0 && v != KEY_V1) || k->partition < 0)
		return -EBADMSG;
	return 0;
}

/* Decode a record value of any version 0..3.  Return: 0 or -EBADMSG. */
static int value_decode(const struct sf_rb_bytes *b, struct oval *v)
{
	struct rd r = rd_init(b);
	int16_t ver = rd_i16(&r);

	v->offset = rd_i64(&r);
	v->leader_epoch = ver >= VALUE_V3 ? rd_i32(&r) : SFD_OFFSETS_NO_EPOCH;
	v->metadata = rd_str(&r);
	v->commit_ts = rd_i64(&r);
	if (ver == VALUE_V1)
		rd_i64(&r); /* expire timestamp: not kept */
	if (r.bad || r.left || ver < 0 || ver > VALUE_V3)
		return -EBADMSG;
	return 0;
}

static uint8_t *put_str(uint8_t *p, struct sv s)
{
	sf_put_be16(p, (uint16_t)s.len);
	memcpy(p + 2, s.p, s.len);
	return p + 2 + s.len;
}

static size_t key_encode(uint8_t *buf, struct sv group, struct sv topic,
			 uint32_t partition)
{
	uint8_t *p = buf;

	sf_put_be16(p, KEY_V1);
	p = put_str(p + 2, group);
	p = put_str(p, topic);
	sf_put_be32(p, partition);
	return (size_t)(p + 4 - buf);
}

static size_t value_encode(uint8_t *buf, const struct oval *v)
{
	uint8_t *p = buf;

	sf_put_be16(p, VALUE_V3);
	sf_put_be64(p + 2, (uint64_t)v->offset);
	sf_put_be32(p + 10, (uint32_t)v->leader_epoch);
	p = put_str(p + 14, v->metadata);
	sf_put_be64(p, (uint64_t)v->commit_ts);
	return (size_t)(p + 8 - buf);
}

/* Add one record to @b: the value @v, or a tombstone if @v is NULL. */
static int add_record(struct sfd_offsets *o, struct sf_rb_builder *b,
		      struct sv group, struct sv topic, uint32_t partition,
		      const struct oval *v, int64_t now)
{
	struct sf_rb_msg m = {
		.timestamp = now,
		.key = { o->kv,
			 (int32_t)key_encode(o->kv, group, topic, partition) },
		.value = { NULL, SF_RB_NULL },
	};

	if (v)
		m.value = (struct sf_rb_bytes){
			o->kv + KEY_MAX,
			(int32_t)value_encode(o->kv + KEY_MAX, v),
		};
	return sf_rb_builder_add(b, &m);
}

/* ---- appending ---------------------------------------------------------- */

/* Finish the batch in @b, append it and start a new one. */
static int append_built(struct sfd_offsets *o, struct sf_rb_builder *b)
{
	int32_t count = sf_rb_builder_count(b);
	const uint8_t *batch;
	size_t len;
	int64_t base;
	int ret = sf_rb_builder_finish(b, &batch, &len);

	if (!ret)
		ret = sfd_log_append(o->log, batch, len, &base);
	sf_rb_builder_reset(b);
	if (ret)
		return ret;
	o->log_records += (uint64_t)count;
	o->st.appended_batches++;
	return 0;
}

/* fdatasync what was appended; a failure makes the store refuse changes. */
static int make_durable(struct sfd_offsets *o)
{
	int ret = sfd_log_flush(o->log);

	if (ret)
		o->err = ret;
	return ret;
}

/* Finish the batch in @b and append it, or with @size_only measure it. */
static int close_batch(struct sfd_offsets *o, struct sf_rb_builder *b,
		       bool size_only, uint64_t *bytes)
{
	const uint8_t *batch;
	size_t len;
	int ret;

	if (!size_only)
		return append_built(o, b);
	ret = sf_rb_builder_finish(b, &batch, &len);
	if (!ret)
		*bytes += len;
	sf_rb_builder_reset(b);
	return ret;
}

/* Add a record, closing the batch first when @b is full. */
static int add_split(struct sfd_offsets *o, struct sf_rb_builder *b,
		     bool size_only, uint64_t *bytes, struct sv group,
		     struct sv topic, uint32_t partition, const struct oval *v,
		     int64_t now)
{
	int ret = add_record(o, b, group, topic, partition, v, now);

	if (ret != -ENOBUFS || !sf_rb_builder_count(b))
		return ret;
	ret = close_batch(o, b, size_only, bytes);
	if (!ret)
		ret = add_record(o, b, group, topic, partition, v, now);
	return ret;
}

/* Close the last batch of a split run, if it has records. */
static int end_split(struct sfd_offsets *o, struct sf_rb_builder *b,
		     bool size_only, uint64_t *bytes)
{
	return sf_rb_builder_count(b) ? close_batch(o, b, size_only, bytes) : 0;
}

/* ---- replay ------------------------------------------------------------- */

static int replay_record(struct sfd_offsets *o, const struct sf_rb_record *rec)
{
	struct okey k;
	struct oval v;
	int ret = key_decode(&rec->key, &k);

	o->st.replayed_records++;
	if (ret == 1) {
		o->st.ignored_records++;
		return 0;
	}
	if (ret) {
		o->st.bad_records++;
		return 0;
	}
	if (rec->value.len == SF_RB_NULL) {
		table_del(o, &k);
		return 0;
	}
	if (value_decode(&rec->value, &v)) {
		o->st.bad_records++;
		return 0;
	}
	return table_put(o, &k, &v);
}

/* Apply the records of one whole batch.  Return: 0 or -ENOMEM. */
static int replay_batch(struct sfd_offsets *o, const uint8_t *p, size_t len,
			const struct sf_rb_hdr *h)
{
	struct sf_rb_record rec;
	struct sf_rb_iter it;
	int ret;

	o->log_records += (uint64_t)h->record_count;
	if (sf_rb_validate(p, len, NULL) || sf_rb_iter_init(&it, p, len)) {
		o->st.bad_batches++; /* CRC, malformed or compressed */
		return 0;
	}
	if (h->attributes & (SF_RB_ATTR_CONTROL | SF_RB_ATTR_TRANSACTIONAL)) {
		o->st.ignored_records += (uint64_t)h->record_count;
		return 0;
	}
	while ((ret = sf_rb_iter_next(&it, &rec)) == 1) {
		ret = replay_record(o, &rec);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Apply the whole batches sfd_log_read() put in @buf; *@next becomes the
 * offset after the last one.
 */
static int replay_chunk(struct sfd_offsets *o, const uint8_t *buf, size_t len,
			int64_t *next)
{
	struct sf_rb_hdr h;
	size_t pos = 0;
	int ret = 0;

	while (!ret && len - pos >= SF_RB_HEADER_SIZE &&
	       !sf_rb_parse_header(buf + pos, len - pos, &h) &&
	       sf_rb_size(&h) <= len - pos) {
		ret = replay_batch(o, buf + pos, sf_rb_size(&h), &h);
		pos += sf_rb_size(&h);
		if (h.base_offset + h.last_offset_delta >= *next)
			*next = h.base_offset + h.last_offset_delta + 1;
	}
	return ret;
}

/* The base of the first segment after the one holding @offset, or @end. */
static int64_t next_segment(const struct sfd_log *log, int64_t offset,
			    int64_t end)
{
	unsigned n = sfd_log_segment_count(log);

	for (unsigned i = 0; i < n; i++)
		if (sfd_log_segment_base(log, i) > offset)
			return sfd_log_segment_base(log, i);
	return end;
}

/* Make the read buffer hold the batch at @offset. */
static int rbuf_fit(struct sfd_offsets *o, int64_t offset)
{
	struct sfd_log_loc loc;
	uint8_t *p;
	int ret = sfd_log_find(o->log, offset, &loc);

	if (ret)
		return ret;
	p = realloc(o->rbuf, loc.size);
	if (!p)
		return -ENOMEM;
	o->rbuf = p;
	o->rcap = loc.size;
	return 0;
}

/*
 * Apply what one read from @off gives; *@next becomes the offset to go on
 * from (@off again after growing the buffer).
 * Return: 0; -EBADMSG where the log is damaged; or another -errno.
 */
static int replay_step(struct sfd_offsets *o, int64_t off, int64_t *next)
{
	ssize_t n = sfd_log_read(o->log, off, o->rbuf, o->rcap);
	int ret;

	if (n == -EMSGSIZE)
		return rbuf_fit(o, off);
	if (n < 0)
		return (int)n;
	ret = replay_chunk(o, o->rbuf, (size_t)n, next);
	if (!ret && *next == off)
		ret = -EBADMSG; /* no whole batch: never loop */
	return ret;
}

static int replay(struct sfd_offsets *o)
{
	int64_t off = sfd_log_start_offset(o->log);
	int64_t end = sfd_log_end_offset(o->log);

	while (off < end) {
		int64_t next = off;
		int ret = replay_step(o, off, &next);

		if (ret == -EBADMSG) { /* go on with the next segment */
			o->st.bad_batches++;
			next = next_segment(o->log, off, end);
		} else if (ret) {
			return ret;
		}
		off = next;
	}
	return 0;
}

/* ---- open and close ----------------------------------------------------- */

void sfd_offsets_config_init(struct sfd_offsets_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->segment_bytes = DEFAULT_SEGMENT_BYTES;
	cfg->max_batch_bytes = DEFAULT_MAX_BATCH;
	cfg->compact_ratio = DEFAULT_RATIO;
}

static int config_load(struct sfd_offsets_config *c,
		       const struct sfd_offsets_config *in)
{
	sfd_offsets_config_init(c);
	if (!in)
		return 0;
	if (in->size < sizeof(in->size))
		return -EINVAL;
	memcpy(c, in, in->size < sizeof(*c) ? in->size : sizeof(*c));
	c->size = sizeof(*c);
	if (c->max_batch_bytes < MIN_MAX_BATCH ||
	    c->max_batch_bytes > MAX_MAX_BATCH || c->compact_ratio < 1)
		return -EINVAL;
	return 0;
}

static void log_config(const struct sfd_offsets_config *c,
		       struct sfd_log_config *lc)
{
	sfd_log_config_init(lc);
	lc->segment_bytes = c->segment_bytes;
	lc->segment_ms = 0; /* roll by size only */
	lc->retention_bytes = 0; /* see "Compaction" above */
	lc->retention_ms = -1;
	lc->max_batch_bytes = c->max_batch_bytes;
	lc->write_buffer_bytes = c->max_batch_bytes;
	lc->uio = c->uio;
}

static int buffers_alloc(struct sfd_offsets *o, const char *dir)
{
	o->dir = strdup(dir);
	o->batch = malloc(o->cfg.max_batch_bytes);
	o->kv = malloc(KEY_MAX + VALUE_MAX);
	o->rcap = o->cfg.max_batch_bytes;
	o->rbuf = malloc(o->rcap);
	return o->dir && o->batch && o->kv && o->rbuf ? 0 : -ENOMEM;
}

static void offsets_free(struct sfd_offsets *o)
{
	sfd_log_close(o->log);
	table_free(o);
	free(o->dir);
	free(o->batch);
	free(o->kv);
	free(o->rbuf);
	free(o);
}

int sfd_offsets_open_config(const char *dir,
			    const struct sfd_offsets_config *cfg,
			    struct sfd_offsets **out)
{
	struct sfd_offsets *o = calloc(1, sizeof(*o));
	struct sfd_log_config lc;
	int ret;

	if (!o)
		return -ENOMEM;
	ret = config_load(&o->cfg, cfg);
	if (!ret)
		ret = buffers_alloc(o, dir);
	if (!ret) {
		log_config(&o->cfg, &lc);
		ret = sfd_log_open(dir, &lc, &o->log);
	}
	if (!ret)
		ret = replay(o);
	free(o->rbuf); /* only replay reads */
	o->rbuf = NULL;
	if (ret) {
		offsets_free(o);
		return ret;
	}
	*out = o;
	return 0;
}

int sfd_offsets_open(const char *dir, struct sfd_offsets **out)
{
	return sfd_offsets_open_config(dir, NULL, out);
}

void sfd_offsets_close(struct sfd_offsets *o)
{
	if (o)
		offsets_free(o);
}

/* ---- commit ------------------------------------------------------------- */

static int check_name(const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max + 1) : 0;

	return n >= 1 && n <= max ? 0 : -EINVAL;
}

static int check_commit(const char *group, const struct sfd_offset_commit *c,
			unsigned n)
{
	if (check_name(group, SFD_OFFSETS_GROUP_MAX) || !c || !n)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (check_name(c[i].topic, SFD_OFFSETS_TOPIC_MAX) ||
		    c[i].partition > INT32_MAX || c[i].offset < 0)
			return -EINVAL;
		if (c[i].metadata &&
		    strnlen(c[i].metadata, SFD_OFFSETS_METADATA_MAX + 1) >
			    SFD_OFFSETS_METADATA_MAX)
			return -EMSGSIZE;
	}
	return 0;
}

static struct oval commit_value(const struct sfd_offset_commit *c, int64_t now)
{
	return (struct oval){ c->offset, SFD_OFFSETS_NO_EPOCH,
			      sv_of(c->metadata ? c->metadata : ""), now };
}

/* Everything applying a commit needs, allocated before it is written. */
struct prep {
	struct group *g;
	char **strs; /* per entry: topic, metadata (NULL once taken) */
	unsigned n;
};

static void prep_release(struct sfd_offsets *o, struct prep *p)
{
	for (unsigned i = 0; p->strs && i < 2 * p->n; i++)
		free(p->strs[i]);
	free(p->strs);
	group_drop_if_empty(o, p->g);
}

static int prep_commit(struct sfd_offsets *o, const char *group,
		       const struct sfd_offset_commit *c, unsigned n,
		       struct prep *p)
{
	int ret = group_get(o, sv_of(group), &p->g);

	p->n = n;
	p->strs = ret ? NULL : calloc(2 * (size_t)n, sizeof(*p->strs));
	if (!ret && !p->strs)
		ret = -ENOMEM;
	if (!ret)
		ret = ent_reserve(p->g, n);
	for (unsigned i = 0; !ret && i < n; i++) {
		p->strs[2 * i] = strdup(c[i].topic);
		p->strs[2 * i + 1] = strdup(c[i].metadata ? c[i].metadata : "");
		if (!p->strs[2 * i] || !p->strs[2 * i + 1])
			ret = -ENOMEM;
	}
	return ret;
}

/* The commit is durable: change the table (cannot fail). */
static void apply_commit(struct sfd_offsets *o, struct prep *p,
			 const struct sfd_offset_commit *c, int64_t now)
{
	for (unsigned i = 0; i < p->n; i++) {
		struct oval v = commit_value(&c[i], now);
		struct sv topic = sv_of(c[i].topic);
		bool found;
		uint32_t at = ent_index(p->g, topic, c[i].partition, &found);

		if (!found) {
			ent_insert(o, p->g, at, p->strs[2 * i], c[i].partition);
			p->strs[2 * i] = NULL;
		}
		ent_assign(&p->g->ents[at], &v, p->strs[2 * i + 1]);
		p->strs[2 * i + 1] = NULL;
	}
}

/* Build the commit's one batch in o->batch. */
static int build_commit(struct sfd_offsets *o, struct sf_rb_builder *b,
			const char *group, const struct sfd_offset_commit *c,
			unsigned n, int64_t now)
{
	sf_rb_builder_init(b, o->batch, o->cfg.max_batch_bytes);
	for (unsigned i = 0; i < n; i++) {
		struct oval v = commit_value(&c[i], now);
		int ret = add_record(o, b, sv_of(group), sv_of(c[i].topic),
				     c[i].partition, &v, now);

		if (ret)
			return ret == -ENOBUFS ? -EMSGSIZE : ret;
	}
	return 0;
}

int sfd_offsets_commit(struct sfd_offsets *o, const char *group,
		       const struct sfd_offset_commit *c, unsigned n)
{
	struct prep p = { 0 };
	struct sf_rb_builder b;
	int64_t now = now_ms();
	int ret = o->err ? o->err : check_commit(group, c, n);

	if (ret)
		return ret;
	ret = build_commit(o, &b, group, c, n, now);
	if (!ret)
		ret = prep_commit(o, group, c, n, &p);
	if (!ret)
		ret = append_built(o, &b);
	if (!ret)
		ret = make_durable(o);
	if (!ret)
		apply_commit(o, &p, c, now);
	prep_release(o, &p);
	return ret;
}

/* ---- reading ------------------------------------------------------------ */

static const struct ent *lookup(const struct sfd_offsets *o, const char *group,
				const char *topic, uint32_t partition)
{
	const struct group *g = group_find(o, sv_of(group));
	bool found;
	uint32_t i;

	if (!g)
		return NULL;
	i = ent_index(g, sv_of(topic), partition, &found);
	return found ? &g->ents[i] : NULL;
}

int sfd_offsets_get(struct sfd_offsets *o, const char *group, const char *topic,
		    uint32_t partition, int64_t *offset, const char **metadata)
{
	const struct ent *e = lookup(o, group, topic, partition);

	if (!e)
		return -ENOENT;
	*offset = e->offset;
	if (metadata)
		*metadata = e->metadata;
	return 0;
}

static int group_foreach(const struct group *g, sfd_offsets_fn fn, void *arg)
{
	int ret = 0;

	for (uint32_t i = 0; !ret && i < g->n; i++) {
		const struct ent *e = &g->ents[i];

		ret = fn(arg, g->name, e->topic, e->partition, e->offset,
			 e->metadata);
	}
	return ret;
}

int sfd_offsets_foreach(struct sfd_offsets *o, const char *group,
			sfd_offsets_fn fn, void *arg)
{
	const struct group *g;
	int ret = 0;

	if (group) {
		g = group_find(o, sv_of(group));
		return g ? group_foreach(g, fn, arg) : 0;
	}
	for (uint32_t i = 0; !ret && i < o->ngroups; i++)
		ret = group_foreach(o->groups[i], fn, arg);
	return ret;
}

int sfd_offsets_groups(struct sfd_offsets *o, sfd_offsets_group_fn fn,
		       void *arg)
{
	int ret = 0;

	for (uint32_t i = 0; !ret && i < o->ngroups; i++)
		ret = fn(arg, o->groups[i]->name, o->groups[i]->n);
	return ret;
}

/* ---- deleting a group --------------------------------------------------- */

/* Append tombstones for every key of @g (several batches if needed). */
static int write_tombstones(struct sfd_offsets *o, const struct group *g)
{
	struct sf_rb_builder b;
	int64_t now = now_ms();
	int ret = 0;

	sf_rb_builder_init(&b, o->batch, o->cfg.max_batch_bytes);
	for (uint32_t i = 0; !ret && i < g->n; i++) {
		const struct ent *e = &g->ents[i];

		ret = add_split(o, &b, false, NULL, group_sv(g),
				(struct sv){ e->topic, e->topic_len },
				e->partition, NULL, now);
	}
	if (!ret)
		ret = end_split(o, &b, false, NULL);
	return ret;
}

int sfd_offsets_delete_group(struct sfd_offsets *o, const char *group)
{
	struct group *g;
	uint64_t batches;
	int ret;

	if (o->err)
		return o->err;
	if (check_name(group, STR_MAX))
		return -EINVAL;
	g = group_find(o, sv_of(group));
	if (!g)
		return -ENOENT;
	batches = o->st.appended_batches;
	ret = write_tombstones(o, g);
	if (ret && o->st.appended_batches != batches)
		o->err = ret; /* some tombstones are queued, not all */
	if (!ret)
		ret = make_durable(o);
	if (!ret)
		group_remove(o, g);
	return ret;
}

/* ---- compaction --------------------------------------------------------- */

bool sfd_offsets_compact_needed(const struct sfd_offsets *o)
{
	return o->log_records > (uint64_t)o->cfg.compact_ratio * o->live &&
	       sfd_log_size(o->log) >= o->cfg.segment_bytes;
}

/* Append the whole table as records, or with @size_only measure it. */
static int snapshot(struct sfd_offsets *o, bool size_only, uint64_t *bytes)
{
	struct sf_rb_builder b;
	int64_t now = now_ms();
	int ret = 0;

	*bytes = 0;
	sf_rb_builder_init(&b, o->batch, o->cfg.max_batch_bytes);
	for (uint32_t i = 0; !ret && i < o->ngroups; i++) {
		const struct group *g = o->groups[i];

		for (uint32_t j = 0; !ret && j < g->n; j++) {
			const struct ent *e = &g->ents[j];
			struct oval v = { e->offset, e->leader_epoch,
					  sv_of(e->metadata), e->commit_ts };

			ret = add_split(o, &b, size_only, bytes, group_sv(g),
					(struct sv){ e->topic, e->topic_len },
					e->partition, &v, now);
		}
	}
	if (!ret)
		ret = end_split(o, &b, size_only, bytes);
	return ret;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = fsync(fd) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * The copy starting at @base is durable: delete every older segment.  If
 * the copy does not start the active segment (it cannot, as checked
 * before writing it), nothing is deleted.
 */
static int drop_older(struct sfd_offsets *o, int64_t base)
{
	unsigned n = sfd_log_segment_count(o->log);
	int ret;

	if (sfd_log_segment_base(o->log, n - 1) != base)
		return -EFBIG;
	ret = sfd_log_retain(o->log);
	if (ret < 0)
		return ret;
	o->log_records = o->live;
	return sync_dir(o->dir);
}

int sfd_offsets_compact(struct sfd_offsets *o)
{
	uint64_t bytes;
	int64_t base;
	int ret;

	if (o->err)
		return o->err;
	if (!sfd_offsets_compact_needed(o))
		return 0;
	ret = snapshot(o, true, &bytes);
	if (!ret && bytes > o->cfg.segment_bytes)
		ret = -EFBIG;
	if (!ret)
		ret = sfd_log_roll(o->log);
	base = sfd_log_end_offset(o->log);
	if (!ret)
		ret = snapshot(o, false, &bytes);
	if (!ret)
		ret = make_durable(o);
	if (!ret)
		ret = drop_older(o, base);
	if (ret)
		return ret;
	o->st.compactions++;
	return 1;
}

/* ---- statistics --------------------------------------------------------- */

void sfd_offsets_get_stats(const struct sfd_offsets *o,
			   struct sfd_offsets_stats *st)
{
	*st = o->st;
	st->groups = o->ngroups;
	st->live = o->live;
	st->log_records = o->log_records;
	st->log_bytes = sfd_log_size(o->log);
}

const struct sfd_log_recovery *
sfd_offsets_recovery_info(const struct sfd_offsets *o)
{
	return sfd_log_recovery_info(o->log);
}
