// SPDX-License-Identifier: MIT
/*
 * crc32c.c - CRC-32C, with the SSE4.2 instruction when there is one.
 *
 * The software path processes eight bytes per step with eight 256-entry
 * tables ("slicing"): table k maps a byte to its CRC contribution when k
 * more zero bytes follow it, so eight lookups replace eight dependent
 * byte steps.  The tables are built once, on first use.
 *
 * The hardware path feeds 8-byte words to crc32q; the instruction
 * implements exactly this reflected polynomial, so both paths agree bit
 * for bit (tests/test_recordbatch.c checks that on random data).
 */
#include <pthread.h>
#include <string.h>

#include "crc32c.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#define CRC32C_POLY 0x82f63b78u /* 0x1EDC6F41 bit-reversed */

static uint32_t crc_tab[8][256];
static pthread_once_t crc_tab_once = PTHREAD_ONCE_INIT;

static void crc_tab_build(void)
{
	for (unsigned b = 0; b < 256; b++) {
		uint32_t c = b;

		for (int i = 0; i < 8; i++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc_tab[0][b] = c;
	}
	for (unsigned b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			crc_tab[k][b] = (crc_tab[k - 1][b] >> 8) ^
					crc_tab[0][crc_tab[k - 1][b] & 0xff];
}

static inline uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint32_t crc_step8(uint32_t c, const uint8_t *p)
{
	uint32_t lo = load_le32(p) ^ c;
	uint32_t hi = load_le32(p + 4);

	return crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
	       crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
	       crc_tab[3][hi & 0xff] ^ crc_tab[2][(hi >> 8) & 0xff] ^
	       crc_tab[1][(hi >> 16) & 0xff] ^ crc_tab[0][hi >> 24];
}

uint32_t sf_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	pthread_once(&crc_tab_once, crc_tab_build);
	for (; len >= 8; len -= 8, p += 8)
		c = crc_step8(c, p);
	while (len--)
		c = (c >> 8) ^ crc_tab[0][(c ^ *p++) & 0xff];
	return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t
sf_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = (uint32_t)~crc;
	uint64_t w;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8); /* unaligned load; x86 is little-endian */
		c = _mm_crc32_u64(c, w);
	}
	while (len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

bool sf_crc32c_hw_available(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
uint32_t sf_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	return sf_crc32c_sw(crc, buf, len);
}

bool sf_crc32c_hw_available(void)
{
	return false;
}
#endif

uint32_t sf_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (sf_crc32c_hw_available())
		return sf_crc32c_hw(crc, buf, len);
	return sf_crc32c_sw(crc, buf, len);
}
