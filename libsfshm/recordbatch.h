/* SPDX-License-Identifier: MIT */
/*
 * recordbatch.h - Kafka RecordBatch v2 ("magic 2") encoder and decoder.
 *
 * The batch is Kafka's on-disk and on-wire unit, byte for byte.  All
 * integers are big-endian; "varint"/"varlong" are zigzag-encoded base-128
 * integers of at most 5/10 bytes.
 *
 *   off  size  field
 *     0     8  baseOffset            \ "log overhead", outside the CRC:
 *     8     4  batchLength            | the log rewrites baseOffset and
 *    12     4  partitionLeaderEpoch   | the leader epoch without touching
 *    16     1  magic (= 2)           /  the CRC
 *    17     4  crc (CRC-32C of bytes 21 .. end)
 *    21     2  attributes (bits 0-2 compression, 3 log-append time,
 *              4 transactional, 5 control, 6 delete horizon)
 *    23     4  lastOffsetDelta
 *    27     8  baseTimestamp
 *    35     8  maxTimestamp
 *    43     8  producerId
 *    51     2  producerEpoch
 *    53     4  baseSequence
 *    57     4  recordCount
 *    61     .  records (compressed as a whole when bits 0-2 are not 0)
 *
 * batchLength counts the bytes after itself: a batch is batchLength + 12
 * bytes long.  A record is:
 *
 *   length varint (bytes after this field), attributes int8,
 *   timestampDelta varlong, offsetDelta varint,
 *   keyLength varint (-1 = null), key, valueLength varint (-1 = null), value,
 *   headerCount varint, then per header:
 *     keyLength varint (>= 0), key, valueLength varint (-1 = null), value.
 *
 * Decoding is strict: every length is checked against the bytes that are
 * there, varints must be in minimal form and fit their type, offset deltas
 * must increase and stay within lastOffsetDelta, a record must use exactly
 * its length and the batch exactly its record count.  Anything else is
 * -EBADMSG.  Nothing here allocates, except a growable builder.
 */
#ifndef SF_RECORDBATCH_H
#define SF_RECORDBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SF_RB_MAGIC 2
#define SF_RB_LOG_OVERHEAD 12 /* baseOffset + batchLength */
#define SF_RB_HEADER_SIZE 61
#define SF_RB_CRC_START 21 /* the CRC covers [21, end of batch) */
/* Largest batch the format can describe: batchLength is an int32. */
#define SF_RB_MAX_SIZE ((size_t)INT32_MAX + SF_RB_LOG_OVERHEAD)

/* Byte offsets of the batch header fields. */
enum {
	SF_RB_OFF_BASE_OFFSET = 0,
	SF_RB_OFF_LENGTH = 8,
	SF_RB_OFF_LEADER_EPOCH = 12,
	SF_RB_OFF_MAGIC = 16,
	SF_RB_OFF_CRC = 17,
	SF_RB_OFF_ATTRIBUTES = 21,
	SF_RB_OFF_LAST_OFFSET_DELTA = 23,
	SF_RB_OFF_BASE_TIMESTAMP = 27,
	SF_RB_OFF_MAX_TIMESTAMP = 35,
	SF_RB_OFF_PRODUCER_ID = 43,
	SF_RB_OFF_PRODUCER_EPOCH = 51,
	SF_RB_OFF_BASE_SEQUENCE = 53,
	SF_RB_OFF_RECORD_COUNT = 57,
};

_Static_assert(SF_RB_OFF_RECORD_COUNT + 4 == SF_RB_HEADER_SIZE,
	       "record batch header is 61 bytes");
_Static_assert(SF_RB_OFF_CRC + 4 == SF_RB_CRC_START,
	       "the CRC covers everything after itself");

/* Batch attributes. */
#define SF_RB_ATTR_COMPRESSION 0x07 /* mask; 0 = none */
#define SF_RB_ATTR_LOG_APPEND_TIME 0x08
#define SF_RB_ATTR_TRANSACTIONAL 0x10
#define SF_RB_ATTR_CONTROL 0x20
#define SF_RB_ATTR_DELETE_HORIZON 0x40

enum sf_rb_compression {
	SF_RB_COMPRESSION_NONE = 0,
	SF_RB_COMPRESSION_GZIP = 1,
	SF_RB_COMPRESSION_SNAPPY = 2,
	SF_RB_COMPRESSION_LZ4 = 3,
	SF_RB_COMPRESSION_ZSTD = 4,
};

#define SF_RB_NULL (-1) /* length of a null key or value */
#define SF_RB_NO_TIMESTAMP (-1LL)
#define SF_RB_NO_PRODUCER_ID (-1LL)
#define SF_RB_VARINT_MAX 5
#define SF_RB_VARLONG_MAX 10

/* A byte string that may be null: len == SF_RB_NULL, ptr ignored. */
struct sf_rb_bytes {
	const void *ptr;
	int32_t len;
};

/* A record header; the key is never null. */
struct sf_rb_header {
	struct sf_rb_bytes key;
	struct sf_rb_bytes value;
};

/* The batch header, decoded. */
struct sf_rb_hdr {
	int64_t base_offset;
	int32_t batch_length;
	int32_t leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t record_count;
};

/* A decoded record; pointers point into the batch. */
struct sf_rb_record {
	int64_t offset; /* base offset + offset delta */
	int64_t timestamp; /* absolute, ms */
	int8_t attributes;
	struct sf_rb_bytes key;
	struct sf_rb_bytes value;
	int32_t header_count;
	const uint8_t *headers; /* encoded headers: see sf_rb_headers_next() */
	size_t headers_len;
};

/* Record iterator over one validated batch. */
struct sf_rb_iter {
	struct sf_rb_hdr hdr;
	const uint8_t *p;
	const uint8_t *end;
	int32_t left; /* records not yet returned */
	int32_t prev_delta;
	int err; /* sticky error */
};

/* Iterator over the headers of one record. */
struct sf_rb_header_iter {
	const uint8_t *p;
	const uint8_t *end;
	int32_t left;
};

/* A record to encode. */
struct sf_rb_msg {
	int64_t timestamp; /* ms */
	struct sf_rb_bytes key;
	struct sf_rb_bytes value;
	const struct sf_rb_header *headers;
	uint32_t header_count;
};

/* Batch builder; fields are private. */
struct sf_rb_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool owned; /* buf is ours and may grow */
	bool finished;
	int16_t attributes;
	int32_t leader_epoch;
	int64_t base_offset;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int32_t count;
};

/* ---- varints -------------------------------------------------------- */

/**
 * sf_rb_varint_size() - encoded size of a zigzag varint.
 * @v: value.
 *
 * Context: any.
 * Return: 1 to SF_RB_VARINT_MAX.
 */
size_t sf_rb_varint_size(int32_t v);

/**
 * sf_rb_varlong_size() - encoded size of a zigzag varlong.
 * @v: value.
 *
 * Context: any.
 * Return: 1 to SF_RB_VARLONG_MAX.
 */
size_t sf_rb_varlong_size(int64_t v);

/**
 * sf_rb_put_varint() - encode a zigzag varint in minimal form.
 * @p: destination, room for SF_RB_VARINT_MAX bytes.
 * @v: value.
 *
 * Context: any.
 * Return: bytes written.
 */
size_t sf_rb_put_varint(uint8_t *p, int32_t v);

/**
 * sf_rb_put_varlong() - encode a zigzag varlong in minimal form.
 * @p: destination, room for SF_RB_VARLONG_MAX bytes.
 * @v: value.
 *
 * Context: any.
 * Return: bytes written.
 */
size_t sf_rb_put_varlong(uint8_t *p, int64_t v);

/**
 * sf_rb_get_varint() - decode a zigzag varint.
 * @p: encoded bytes.
 * @len: bytes available at @p.
 * @v: decoded value (set on success only).
 *
 * Rejects encodings that run past @len, are longer than 5 bytes, carry bits
 * beyond 32 in the last byte, or are not minimal (a final zero byte).
 *
 * Context: any.
 * Return: bytes consumed (1..5), or -EBADMSG.
 */
int sf_rb_get_varint(const uint8_t *p, size_t len, int32_t *v);

/**
 * sf_rb_get_varlong() - decode a zigzag varlong.
 * @p: encoded bytes.
 * @len: bytes available at @p.
 * @v: decoded value (set on success only).
 *
 * As sf_rb_get_varint(), for 64 bits and at most 10 bytes.
 *
 * Context: any.
 * Return: bytes consumed (1..10), or -EBADMSG.
 */
int sf_rb_get_varlong(const uint8_t *p, size_t len, int64_t *v);

/* ---- batch header, CRC ---------------------------------------------- */

/**
 * sf_rb_parse_header() - decode and sanity-check a batch header.
 * @buf: start of a batch.
 * @len: bytes available (at least SF_RB_HEADER_SIZE for success).
 * @h: decoded header (set on success only).
 *
 * Checks what the header alone can tell: magic 2, batchLength large
 * enough for the header, non-negative base offset, lastOffsetDelta and
 * record count, no offset overflow.  Does not need the whole batch and
 * does not check the CRC.
 *
 * Context: any.
 * Return: 0, or -EBADMSG.
 */
int sf_rb_parse_header(const void *buf, size_t len, struct sf_rb_hdr *h);

/**
 * sf_rb_size() - total size of a batch whose header was parsed.
 * @h: header from sf_rb_parse_header().
 *
 * Context: any.
 * Return: batchLength + 12.
 */
static inline size_t sf_rb_size(const struct sf_rb_hdr *h)
{
	return (size_t)h->batch_length + SF_RB_LOG_OVERHEAD;
}

/**
 * sf_rb_compression() - compression codec of a batch.
 * @h: parsed header.
 *
 * Context: any.
 * Return: the attributes' bits 0-2 (enum sf_rb_compression, or 5-7 for
 * codecs Kafka has not defined).
 */
static inline int sf_rb_compression(const struct sf_rb_hdr *h)
{
	return h->attributes & SF_RB_ATTR_COMPRESSION;
}

/**
 * sf_rb_crc() - compute the CRC a batch should carry.
 * @batch: start of the batch.
 * @size: its total size (>= SF_RB_HEADER_SIZE).
 *
 * Context: any.
 * Return: CRC-32C of bytes SF_RB_CRC_START .. @size.
 */
uint32_t sf_rb_crc(const void *batch, size_t size);

/**
 * sf_rb_check() - validate the header and CRC of the batch at @buf.
 * @buf: start of a batch.
 * @len: bytes available; the batch must fit (more may follow).
 * @h: decoded header (set on success only).
 *
 * Records are not looked at: this is what a compressed batch can be
 * checked for without decompressing it, and what log recovery checks.
 *
 * Context: any.
 * Return: 0, or -EBADMSG (bad header, truncated, CRC mismatch).
 */
int sf_rb_check(const void *buf, size_t len, struct sf_rb_hdr *h);

/**
 * sf_rb_set_base_offset() - rewrite the base offset of a batch.
 * @batch: start of the batch (at least 8 bytes).
 * @base_offset: new value.
 *
 * The field is outside the CRC, so the CRC stays valid.
 *
 * Context: any.
 */
void sf_rb_set_base_offset(void *batch, int64_t base_offset);

/**
 * sf_rb_set_leader_epoch() - rewrite the partition leader epoch.
 * @batch: start of the batch (at least 16 bytes).
 * @epoch: new value.
 *
 * Outside the CRC as well.
 *
 * Context: any.
 */
void sf_rb_set_leader_epoch(void *batch, int32_t epoch);

/* ---- decoding records ----------------------------------------------- */

/**
 * sf_rb_iter_init() - validate a batch and prepare to read its records.
 * @it: iterator to initialise.
 * @buf: start of a batch.
 * @len: bytes available; only the first batch is used.
 *
 * Runs sf_rb_check(); on success @it->hdr holds the header.  A
 * compressed batch initialises fine (its header and CRC are good) but
 * sf_rb_iter_next() then answers -EOPNOTSUPP.
 *
 * Context: any.
 * Return: 0, or -EBADMSG.
 */
int sf_rb_iter_init(struct sf_rb_iter *it, const void *buf, size_t len);

/**
 * sf_rb_iter_next() - decode the next record.
 * @it: iterator.
 * @rec: the record (set when 1 is returned); it points into the batch.
 *
 * After the last record, checks that the batch has no bytes left over.
 * An error is sticky: every later call returns it again.
 *
 * Context: any.
 * Return: 1 for a record, 0 at the end, -EBADMSG for a malformed record or
 * a wrong record count, -EOPNOTSUPP for a compressed batch.
 */
int sf_rb_iter_next(struct sf_rb_iter *it, struct sf_rb_record *rec);

/**
 * sf_rb_headers_begin() - start iterating over a record's headers.
 * @rec: a record from sf_rb_iter_next().
 * @hi: iterator to initialise.
 *
 * Context: any.
 */
void sf_rb_headers_begin(const struct sf_rb_record *rec,
			 struct sf_rb_header_iter *hi);

/**
 * sf_rb_headers_next() - decode the next header of a record.
 * @hi: iterator.
 * @h: the header (set when 1 is returned).
 *
 * Context: any.
 * Return: 1 for a header, 0 at the end, -EBADMSG if malformed (cannot
 * happen for a record sf_rb_iter_next() returned).
 */
int sf_rb_headers_next(struct sf_rb_header_iter *hi, struct sf_rb_header *h);

/**
 * sf_rb_validate() - fully validate a batch: header, CRC and records.
 * @buf: start of a batch.
 * @len: bytes available; only the first batch is used.
 * @h: decoded header (set when 0 or -EOPNOTSUPP is returned); may be NULL.
 *
 * Context: any.
 * Return: 0 if valid, -EOPNOTSUPP if header and CRC are valid but the
 * records are compressed and were not checked, -EBADMSG otherwise.
 */
int sf_rb_validate(const void *buf, size_t len, struct sf_rb_hdr *h);

/* ---- encoding ------------------------------------------------------- */

/**
 * sf_rb_builder_init() - start a batch in a caller buffer.
 * @b: builder.
 * @buf: destination; must stay valid while the builder is used.
 * @cap: its size.  Records that do not fit are refused with -ENOBUFS.
 *
 * Defaults: base offset 0, leader epoch -1, no producer id (-1/-1/-1),
 * attributes 0 (uncompressed, create time).
 *
 * Context: any.
 */
void sf_rb_builder_init(struct sf_rb_builder *b, void *buf, size_t cap);

/**
 * sf_rb_builder_init_alloc() - start a batch in a growable buffer.
 * @b: builder.
 * @hint: initial capacity in bytes (0 for a default).
 *
 * Free the buffer with sf_rb_builder_release().
 *
 * Context: process context; allocates.
 * Return: 0, or -ENOMEM.
 */
int sf_rb_builder_init_alloc(struct sf_rb_builder *b, size_t hint);

/**
 * sf_rb_builder_release() - free a growable builder's buffer.
 * @b: builder (either kind; may be already released).
 *
 * Context: any.
 */
void sf_rb_builder_release(struct sf_rb_builder *b);

/**
 * sf_rb_builder_reset() - drop all records and start a new batch.
 * @b: builder; keeps its buffer and its producer/attribute settings.
 *
 * Context: any.
 */
void sf_rb_builder_reset(struct sf_rb_builder *b);

/**
 * sf_rb_builder_set_producer() - set the idempotent-producer fields.
 * @b: builder.
 * @producer_id: producer id (-1 for none).
 * @producer_epoch: producer epoch (-1 for none).
 * @base_sequence: sequence number of the first record (-1 for none).
 *
 * Context: any.
 */
void sf_rb_builder_set_producer(struct sf_rb_builder *b, int64_t producer_id,
				int16_t producer_epoch, int32_t base_sequence);

/**
 * sf_rb_builder_set_attributes() - set the batch attributes.
 * @b: builder.
 * @attributes: SF_RB_ATTR_* flags; compression bits must be 0.
 *
 * Context: any.
 * Return: 0, or -EINVAL (compression requested: not supported yet).
 */
int sf_rb_builder_set_attributes(struct sf_rb_builder *b, int16_t attributes);

/**
 * sf_rb_builder_add() - append a record.
 * @b: builder.
 * @m: the record; null and empty keys/values are distinct.
 *
 * On failure the builder is unchanged, so a caller whose buffer is full
 * can finish this batch and put the record into the next one.
 *
 * Context: any; a growable builder may allocate.
 * Return: 0; -ENOBUFS if it does not fit the caller buffer; -EMSGSIZE if
 * the batch would exceed the format's limits; -EINVAL for a bad length
 * (below -1, a null header key), a timestamp delta that overflows or a
 * finished builder; -ENOMEM.
 */
int sf_rb_builder_add(struct sf_rb_builder *b, const struct sf_rb_msg *m);

/**
 * sf_rb_builder_count() - records added so far.
 * @b: builder.
 *
 * Context: any.
 * Return: the record count.
 */
static inline int32_t sf_rb_builder_count(const struct sf_rb_builder *b)
{
	return b->count;
}

/**
 * sf_rb_builder_finish() - write the batch header and CRC.
 * @b: builder with at least one record.
 * @batch: set to the encoded batch (owned by the builder).
 * @len: set to its size.
 *
 * The builder takes no more records until sf_rb_builder_reset().
 *
 * Context: any.
 * Return: 0, or -EINVAL (no records, or already finished).
 */
int sf_rb_builder_finish(struct sf_rb_builder *b, const uint8_t **batch,
			 size_t *len);

#endif
