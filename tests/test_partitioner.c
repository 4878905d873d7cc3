// SPDX-License-Identifier: MIT
/*
 * test_partitioner.c - sfshm_partition_for_key(), Kafka's default
 * partitioner for keyed records.
 *
 * The hash is not exported on its own, but with 2^31 partitions the
 * partition is murmur2(key) & 0x7fffffff itself, so Kafka's murmur2 test
 * vectors (UtilsTest.testMurmur2 in the Java client, and the ones
 * librdkafka's rdmurmur2.c checks against the Java client) are checked
 * through the public call.  Key -> partition answers for 1000 partitions
 * are the ones kafka-python's test suite took from the Java producer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sfshm/sfshm.h>

#define ALL_BITS 0x80000000u /* partitions: the positive hash itself */

struct vec {
	const char *key;
	uint32_t murmur2; /* Kafka's signed int, as its bit pattern */
};

/* Java client, UtilsTest.testMurmur2. */
static const struct vec java_vecs[] = {
	{ "21", (uint32_t)-973932308 },
	{ "foobar", (uint32_t)-790332482 },
	{ "a-little-bit-long-string", (uint32_t)-985981536 },
	{ "a-little-bit-longer-string", (uint32_t)-1486304829 },
	{ "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
	  (uint32_t)-58897971 },
	{ "abc", 479470107u },
};

/* librdkafka's unittest_murmur2(), checked there against the Java client:
 * every tail length (0..3 trailing bytes) and the empty key. */
static const struct vec rdkafka_vecs[] = {
	{ "kafka", 0xd067cf64u },
	{ "giberish123456789", 0x8f552b0cu },
	{ "1234", 0x9fc97b14u },
	{ "234", 0xe7c009cau },
	{ "34", 0x873930dau },
	{ "4", 0x5a4b5ca1u },
	{ "PreAmbleWillBeRemoved,ThePrePartThatIs", 0x78424f1cu },
	{ "reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62b377u },
	{ "eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4e09eu },
	{ "AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8b43fu },
	{ "", 0x106e08d9u },
};

static void check_vecs(const struct vec *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t want = v[i].murmur2 & 0x7fffffffu;
		uint32_t got = sfshm_partition_for_key(
			v[i].key, strlen(v[i].key), ALL_BITS);

		if (got != want)
			fail_msg("key \"%s\": got %u, want %u", v[i].key, got,
				 want);
	}
}

static void test_java_murmur2(void **state)
{
	(void)state;
	check_vecs(java_vecs, sizeof(java_vecs) / sizeof(java_vecs[0]));
}

static void test_librdkafka_murmur2(void **state)
{
	(void)state;
	check_vecs(rdkafka_vecs,
		   sizeof(rdkafka_vecs) / sizeof(rdkafka_vecs[0]));
}

/* The hash reads bytes, not words: an unaligned key hashes the same. */
static void test_unaligned(void **state)
{
	static const char key[] = "PreAmbleWillBeRemoved,ThePrePartThatIs";
	char *buf = malloc(sizeof(key) + 8);

	(void)state;
	assert_non_null(buf);
	for (size_t shift = 0; shift < 8; shift++) {
		memcpy(buf + shift, key, sizeof(key));
		assert_int_equal(sfshm_partition_for_key(buf + shift,
							 sizeof(key) - 1,
							 ALL_BITS),
				 0x78424f1cu);
	}
	free(buf);
}

/* kafka-python's Java-compatibility test: 1000 partitions. */
static void test_java_partitions(void **state)
{
	static const struct {
		const char *key;
		size_t len;
		uint32_t partition;
	} cases[] = {
		{ "", 0, 681 },	   { "a", 1, 524 },	    { "ab", 2, 434 },
		{ "abc", 3, 107 }, { "123456789", 9, 566 }, { "\x00 ", 2, 742 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sfshm_partition_for_key(cases[i].key,
							 cases[i].len, 1000),
				 cases[i].partition);
}

/* Small partition counts follow from the hash: abc -> 479470107. */
static void test_small_counts(void **state)
{
	(void)state;
	assert_int_equal(sfshm_partition_for_key("abc", 3, 1), 0);
	assert_int_equal(sfshm_partition_for_key("abc", 3, 2), 1);
	assert_int_equal(sfshm_partition_for_key("abc", 3, 3), 479470107 % 3);
	assert_int_equal(sfshm_partition_for_key("abc", 3, 10), 7);
	/* kafka: 0xd067cf64 & 0x7fffffff = 1348980580. */
	assert_int_equal(sfshm_partition_for_key("kafka", 5, 6),
			 1348980580u % 6);
}

/* Every answer is in range, and the same key always gives the same one. */
static void test_range_and_stable(void **state)
{
	uint8_t key[64];

	(void)state;
	for (uint32_t parts = 1; parts <= 70; parts += 3) {
		for (size_t len = 0; len < sizeof(key); len++) {
			uint32_t p;

			key[len] = (uint8_t)(len * 37 + parts);
			p = sfshm_partition_for_key(key, len, parts);
			assert_true(p < parts);
			assert_int_equal(
				sfshm_partition_for_key(key, len, parts), p);
		}
	}
}

/* No partitions: documented to answer 0, and must not divide by zero. */
static void test_zero_partitions(void **state)
{
	(void)state;
	assert_int_equal(sfshm_partition_for_key("abc", 3, 0), 0);
	assert_int_equal(sfshm_partition_for_key("", 0, 0), 0);
	assert_int_equal(sfshm_partition_for_key(NULL, 0, 0), 0);
}

/* A NULL pointer with length 0 is the empty key, not a crash. */
static void test_null_pointer_empty(void **state)
{
	(void)state;
	assert_int_equal(sfshm_partition_for_key(NULL, 0, 1000), 681);
	assert_int_equal(sfshm_partition_for_key(NULL, 0, ALL_BITS),
			 0x106e08d9u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_java_murmur2),
		cmocka_unit_test(test_librdkafka_murmur2),
		cmocka_unit_test(test_unaligned),
		cmocka_unit_test(test_java_partitions),
		cmocka_unit_test(test_small_counts),
		cmocka_unit_test(test_range_and_stable),
		cmocka_unit_test(test_zero_partitions),
		cmocka_unit_test(test_null_pointer_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
