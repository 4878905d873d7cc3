// SPDX-License-Identifier: MIT
/*
 * producer.c - sending records to a topic's partition rings.
 *
 * A producer attaches to its topic once (SFP_ATTACH) and maps every
 * partition's ring read-write; from then on a send is a claim and a commit
 * in shared memory, without the daemon.  The daemon's persister drains
 * each ring into the partition's log and answers acknowledgements through
 * the ring header: the position up to which frames are written / fsynced
 * and, in this handle's producer slot, the offset it gave the frame we
 * committed last (sfshm_ring_ack_offset()).
 *
 * Waits (a full ring, an acknowledgement) are cut into slices of
 * SLICE_MS so that a topic deleted, a daemon stopped or a disk full
 * (k_state, k_error in the ring header) ends them promptly.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "probes.h"
#include "sfshm_int.h"

#define SLICE_MS 100
#define DEFAULT_TIMEOUT_MS 30000

struct sfshm_producer {
	struct sfshm_client *c;
	char topic[SFSHM_TOPIC_MAX + 1];
	uint32_t nparts;
	struct sfshm_ring **rings;
	uint64_t *last_pos; /* last frame sent, per partition */
	bool *pending; /* sent since the last flush */
	uint32_t rr; /* round-robin cursor for null keys */
	enum sfshm_acks acks;
	int timeout_ms;
};

/* What a sliced wait does in the ring. */
enum ring_op { OP_SEND, OP_BATCH, OP_CLAIM };

struct op_args {
	enum ring_op op;
	const struct sfshm_rec *recs;
	unsigned n;
	uint64_t *pos;
	struct sfshm_claim *claim;
};

static uint64_t align8(uint64_t n)
{
	return (n + SFSHM_FRAME_ALIGN - 1) & ~(uint64_t)(SFSHM_FRAME_ALIGN - 1);
}

/* Timeout of the next slice of a wait that ends at @deadline. */
static int slice_ms(uint64_t deadline)
{
	int left = sf_remaining_ms(deadline);

	return left < 0 || left > SLICE_MS ? SLICE_MS : left;
}

static int do_op(struct sfshm_ring *r, const struct op_args *a, int timeout)
{
	switch (a->op) {
	case OP_SEND:
		return sfshm_ring_send(r, a->recs, timeout, a->pos);
	case OP_BATCH:
		return sfshm_ring_send_batch(r, a->recs, a->n, timeout, a->pos);
	default:
		return sfshm_ring_claim(r, a->recs, timeout, a->claim);
	}
}

/*
 * Run a send or claim, waiting for room in slices up to the producer's
 * timeout; the ring's state is checked first and after every slice.
 * Return: as the ring call, or -ENOENT / -ESHUTDOWN / -ENOSPC.
 */
/* Report a failed call (not back-pressure) to the error probe; return @err. */
static int failed(const struct sfshm_producer *p, int32_t part, int err)
{
	if (err < 0 && err != -EAGAIN && SF_PROBE_ON(error))
		sf_probe_error(p->topic, part, err);
	return err;
}

/* Wait for room in slices up to the producer's timeout. */
static int op_wait(const struct sfshm_producer *p, struct sfshm_ring *r,
		   const struct op_args *a)
{
	uint64_t deadline = sf_deadline(p->timeout_ms);
	int err;

	for (;;) {
		err = sfshm_ring_error(r);
		if (!err)
			err = sf_ring_state_err(r);
		if (err)
			return err;
		err = do_op(r, a, slice_ms(deadline));
		if (err != -ETIMEDOUT && err != -EAGAIN)
			return err;
		if (sf_remaining_ms(deadline) == 0)
			return -ETIMEDOUT;
	}
}

static int op_sliced(const struct sfshm_producer *p, uint32_t part,
		     const struct op_args *a)
{
	struct sfshm_ring *r = p->rings[part];
	uint64_t t0;
	int err = sf_ring_state_err(r);

	if (err)
		return failed(p, (int32_t)part, err);
	/* The common case, room at once, without reading the clock. */
	err = do_op(r, a, 0);
	if (err != -EAGAIN || !p->timeout_ms) {
		if (err == -EAGAIN && SF_PROBE_ON(backpressure))
			sf_probe_backpressure(p->topic, part, 0);
		return failed(p, (int32_t)part, err);
	}
	t0 = SF_PROBE_ON(backpressure) ? sf_now_ns() : 0;
	err = op_wait(p, r, a);
	if (t0)
		sf_probe_backpressure(p->topic, part, sf_now_ns() - t0);
	return failed(p, (int32_t)part, err);
}

/*
 * The partition for @rec: explicit, by key (Kafka's murmur2), or
 * round-robin for a null key (unless @need_key: claims must hash).
 */
static int pick_partition(struct sfshm_producer *p, int32_t part,
			  const struct sfshm_rec *rec, bool need_key)
{
	if (part >= 0)
		return (uint32_t)part < p->nparts ? part : -EINVAL;
	if (part != SFSHM_PARTITION_ANY)
		return -EINVAL;
	if (rec->key_len >= 0 && (rec->key || rec->key_len == 0))
		return (int)sfshm_partition_for_key(
			rec->key, (size_t)rec->key_len, p->nparts);
	if (rec->key_len >= 0 || need_key)
		return -EINVAL;
	return (int)(p->rr++ % p->nparts);
}

/*
 * Wait for the acknowledgement of frames [@first, @last] (one commit, so
 * one acknowledgement: @first's offset) and fill @d.
 */
static int wait_ack(struct sfshm_producer *p, uint32_t part, uint64_t first,
		    uint64_t last, struct sfshm_delivery *d)
{
	struct sfshm_ring *r = p->rings[part];
	int64_t off;
	int err;

	d->partition = (int32_t)part;
	d->offset = -1;
	if (p->acks == SFSHM_ACKS_NONE)
		return 0;
	err = sfshm_ring_wait_persisted(r, last, p->acks == SFSHM_ACKS_DURABLE,
					p->timeout_ms);
	if (err)
		return failed(p, (int32_t)part, err);
	if (sfshm_ring_ack_offset(r, first, &off))
		return -EPROTO; /* persisted without an acknowledgement */
	d->offset = off;
	return 0;
}

/* Book a commit of frames [@first, @last]; wait for its ack if @d. */
static int sent(struct sfshm_producer *p, uint32_t part, uint64_t first,
		uint64_t last, struct sfshm_delivery *d)
{
	p->last_pos[part] = last;
	p->pending[part] = true;
	return d ? wait_ack(p, part, first, last, d) : 0;
}

int sfshm_producer_send(struct sfshm_producer *p, int32_t partition,
			const struct sfshm_rec *rec, struct sfshm_delivery *d)
{
	uint64_t pos;
	struct op_args a = { .op = OP_SEND, .recs = rec, .n = 1, .pos = &pos };
	int part = pick_partition(p, partition, rec, false);
	int err;

	if (part < 0)
		return part;
	err = op_sliced(p, (uint32_t)part, &a);
	if (err)
		return err;
	return sent(p, (uint32_t)part, pos, pos, d);
}

/* Position of the last of the @n frames of a batch starting at @first. */
static uint64_t batch_last(uint64_t first, const struct sfshm_rec *recs,
			   unsigned n)
{
	for (unsigned i = 0; i + 1 < n; i++)
		first += align8((uint64_t)sfshm_rec_frame_len(&recs[i]));
	return first;
}

int sfshm_producer_send_batch(struct sfshm_producer *p, int32_t partition,
			      const struct sfshm_rec *recs, unsigned n,
			      struct sfshm_delivery *d)
{
	uint64_t pos;
	struct op_args a = { .op = OP_BATCH, .recs = recs, .n = n, .pos = &pos };
	int part, count, err;

	if (n == 0)
		return -EINVAL;
	part = pick_partition(p, partition, &recs[0], false);
	if (part < 0)
		return part;
	count = op_sliced(p, (uint32_t)part, &a);
	if (count <= 0)
		return count ? count : -EPROTO;
	err = sent(p, (uint32_t)part, pos,
		   batch_last(pos, recs, (unsigned)count), d);
	return err ? err : count;
}

int sfshm_producer_claim(struct sfshm_producer *p, int32_t partition,
			 const struct sfshm_rec *rec, struct sfshm_claim *c)
{
	struct op_args a = { .op = OP_CLAIM, .recs = rec, .n = 1, .claim = c };
	int part = pick_partition(p, partition, rec, true);
	int err;

	if (part < 0)
		return part;
	err = op_sliced(p, (uint32_t)part, &a);
	return err ? err : part;
}

int sfshm_producer_commit(struct sfshm_producer *p, int32_t partition,
			  struct sfshm_claim *c, struct sfshm_delivery *d)
{
	int err;

	if (partition < 0 || (uint32_t)partition >= p->nparts)
		return -EINVAL;
	err = sfshm_ring_commit(p->rings[partition], c);
	if (err)
		return err;
	return sent(p, (uint32_t)partition, c->pos, c->pos, d);
}

int sfshm_producer_abort(struct sfshm_producer *p, int32_t partition,
			 struct sfshm_claim *c)
{
	if (partition < 0 || (uint32_t)partition >= p->nparts)
		return -EINVAL;
	return sfshm_ring_abort(p->rings[partition], c);
}

int sfshm_producer_flush(struct sfshm_producer *p, int timeout_ms)
{
	uint64_t deadline = sf_deadline(timeout_ms);
	bool durable = p->acks == SFSHM_ACKS_DURABLE;

	if (p->acks == SFSHM_ACKS_NONE)
		return 0;
	for (uint32_t i = 0; i < p->nparts; i++) {
		int err;

		if (!p->pending[i])
			continue;
		err = sfshm_ring_wait_persisted(p->rings[i], p->last_pos[i],
						durable,
						sf_remaining_ms(deadline));
		if (err)
			return err == -EAGAIN ? -ETIMEDOUT : err;
		p->pending[i] = false;
	}
	return 0;
}

uint32_t sfshm_producer_partitions(const struct sfshm_producer *p)
{
	return p->nparts;
}

/* ---- open and close ----------------------------------------------------- */

static int producer_opts(const struct sfshm_producer_opts *opts,
			 struct sfshm_producer_opts *o)
{
	int err;

	if (!opts) {
		*o = (struct sfshm_producer_opts){
			.size = sizeof(*o),
			.acks = SFSHM_ACKS_WRITTEN,
			.timeout_ms = DEFAULT_TIMEOUT_MS,
		};
		return 0;
	}
	err = sf_opts_copy(o, sizeof(*o), opts);
	if (err)
		return err;
	/* An older caller's struct without timeout_ms: the default. */
	if (opts->size < offsetof(struct sfshm_producer_opts, timeout_ms) +
				 sizeof(o->timeout_ms))
		o->timeout_ms = DEFAULT_TIMEOUT_MS;
	if (o->acks > SFSHM_ACKS_DURABLE)
		return -EINVAL;
	return 0;
}

static void producer_free(struct sfshm_producer *p)
{
	if (p->rings)
		for (uint32_t i = 0; i < p->nparts; i++)
			sfshm_ring_unmap(p->rings[i]);
	free(p->rings);
	free(p->last_pos);
	free(p->pending);
	free(p);
}

static int producer_map(struct sfshm_producer *p, const struct sf_attach *a)
{
	p->nparts = a->info->partition_count;
	p->rings = calloc(p->nparts, sizeof(*p->rings));
	p->last_pos = calloc(p->nparts, sizeof(*p->last_pos));
	p->pending = calloc(p->nparts, sizeof(*p->pending));
	if (!p->rings || !p->last_pos || !p->pending)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->nparts; i++) {
		int err = sf_map_partition(p->c, &a->files[i],
					   SFSHM_ROLE_PRODUCER, &p->rings[i]);

		if (err)
			return err;
		if (SF_PROBE_ON(ring_map))
			sf_probe_ring_map(p->topic, i, p->rings[i]);
	}
	return 0;
}

int sfshm_producer_open(struct sfshm_client *c, const char *topic,
			const struct sfshm_producer_opts *opts,
			struct sfshm_producer **out)
{
	struct sfshm_producer_opts o;
	struct sfshm_producer *p;
	struct sf_attach a;
	int err = producer_opts(opts, &o);

	if (err)
		return err;
	err = sf_attach(c, topic, SFSHM_ROLE_PRODUCER, &a);
	if (err)
		return err;
	p = calloc(1, sizeof(*p));
	if (p) {
		p->c = c;
		snprintf(p->topic, sizeof(p->topic), "%s", topic);
	}
	err = p ? producer_map(p, &a) : -ENOMEM;
	sf_attach_free(&a);
	if (err) {
		if (p)
			producer_free(p);
		sf_detach(c, topic, SFSHM_ROLE_PRODUCER);
		return err;
	}
	p->acks = o.acks;
	p->timeout_ms = o.timeout_ms;
	*out = p;
	return 0;
}

void sfshm_producer_close(struct sfshm_producer *p)
{
	if (!p)
		return;
	sf_detach(p->c, p->topic, SFSHM_ROLE_PRODUCER);
	producer_free(p);
}
