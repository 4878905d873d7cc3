// SPDX-License-Identifier: MIT
/*
 * partition.c - Kafka's default partitioner for keyed records.
 *
 * Kafka's Java producer (and librdkafka's "murmur2" partitioners) map a
 * non-null key to murmur2(key) with the sign bit cleared, modulo the
 * partition count.  Producing the same key from sfshm and from a Kafka
 * client must land on the same partition number, so the hash below is
 * Kafka's variant of MurmurHash2 bit for bit: seed 0x9747b28c, the length
 * mixed into the seed, 4-byte little-endian blocks, the 1 to 3 trailing
 * bytes folded in lowest first, and MurmurHash2's final avalanche.  All
 * arithmetic is on uint32_t, where Java's int wraps the same way and its
 * ">>>" is our unsigned shift.
 */
#include <stddef.h>
#include <stdint.h>

#include <sfshm/sfshm.h>

#define MURMUR2_SEED 0x9747b28cu
#define MURMUR2_M 0x5bd1e995u
#define MURMUR2_R 24

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The trailing 1..3 bytes, folded in as Kafka's fall-through switch does. */
static uint32_t murmur2_tail(uint32_t h, const uint8_t *p, size_t n)
{
	if (n == 0)
		return h;
	if (n >= 3)
		h ^= (uint32_t)p[2] << 16;
	if (n >= 2)
		h ^= (uint32_t)p[1] << 8;
	h ^= p[0];
	return h * MURMUR2_M;
}

/*
 * Kafka's Utils.murmur2().  Java hashes an int-sized length; keys longer
 * than 4 GiB cannot reach a Kafka client, so truncating @len to 32 bits
 * in the seed only matters for keys no Kafka peer could compare with.
 */
static uint32_t kafka_murmur2(const uint8_t *p, size_t len)
{
	uint32_t h = MURMUR2_SEED ^ (uint32_t)len;
	size_t blocks = len / 4;

	for (size_t i = 0; i < blocks; i++, p += 4) {
		uint32_t k = load_le32(p) * MURMUR2_M;

		k ^= k >> MURMUR2_R;
		h = h * MURMUR2_M ^ k * MURMUR2_M;
	}
	h = murmur2_tail(h, p, len % 4);
	h ^= h >> 13;
	h *= MURMUR2_M;
	return h ^ h >> 15;
}

/*
 * Kafka: Utils.toPositive(Utils.murmur2(key)) % numPartitions.  With no
 * partitions there is nothing to choose: answer 0 rather than divide by
 * zero (callers check the count; this only keeps a bad call harmless).
 */
SFSHM_API uint32_t sfshm_partition_for_key(const void *key, size_t len,
					   uint32_t partitions)
{
	if (partitions == 0)
		return 0;
	if (!key)
		len = 0;
	return (kafka_murmur2(key, len) & 0x7fffffffu) % partitions;
}
