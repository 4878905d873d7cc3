/* SPDX-License-Identifier: MIT */
/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of Kafka record batches.
 *
 * Reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF:
 * the "CRC-32C" of iSCSI, ext4 and Kafka.  The running value passed in and
 * returned is the finished CRC, so a buffer may be fed in pieces:
 *
 *	crc = sf_crc32c(0, a, alen);
 *	crc = sf_crc32c(crc, b, blen);	    (== sf_crc32c(0, a || b, ...))
 */
#ifndef SF_CRC32C_H
#define SF_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * sf_crc32c() - CRC-32C of a buffer, continuing from @crc.
 * @crc: 0 to start, or the result of a previous call to continue.
 * @buf: data (any alignment).
 * @len: number of bytes.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it, the table-driven
 * code otherwise.
 *
 * Context: any; thread-safe; does not block.
 * Return: the CRC-32C of everything fed so far.
 */
uint32_t sf_crc32c(uint32_t crc, const void *buf, size_t len);

/**
 * sf_crc32c_sw() - sf_crc32c() computed with tables only.
 * @crc: as for sf_crc32c().
 * @buf: data.
 * @len: number of bytes.
 *
 * Context: any; thread-safe.
 * Return: the CRC-32C of everything fed so far.
 */
uint32_t sf_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/**
 * sf_crc32c_hw() - sf_crc32c() computed with the crc32 instruction.
 * @crc: as for sf_crc32c().
 * @buf: data.
 * @len: number of bytes.
 *
 * Only call this when sf_crc32c_hw_available() says so.
 *
 * Context: any; thread-safe.
 * Return: the CRC-32C of everything fed so far.
 */
uint32_t sf_crc32c_hw(uint32_t crc, const void *buf, size_t len);

/**
 * sf_crc32c_hw_available() - whether sf_crc32c() uses the instruction.
 *
 * Context: any.
 * Return: true if the CPU has SSE4.2 (x86-64 only).
 */
bool sf_crc32c_hw_available(void);

#endif
