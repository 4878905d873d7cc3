/* SPDX-License-Identifier: MIT */
/*
 * sfatomic.h - the only place where libsfshm and sfshmd touch memory
 * shared with other processes.
 *
 * Thin, named wrappers over C11 <stdatomic.h>.  Shared-memory fields are
 * plain fixed-width integers in the layout headers (so the layout is one
 * C definition usable by BPF programs too); these helpers view them as
 * _Atomic objects of the same size, which is valid on every target we
 * build for (gcc and clang give _Atomic uint32_t/uint64_t the size and
 * alignment of the plain type; ring_layout.h asserts the alignment).
 *
 * Every call site names the operation it pairs with.
 */
#ifndef SFSHM_SFATOMIC_H
#define SFSHM_SFATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

_Static_assert(sizeof(_Atomic uint64_t) == 8, "atomic u64 size");
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic u32 size");
_Static_assert(_Alignof(_Atomic uint64_t) == 8, "atomic u64 alignment");

#define SF_A64(p) ((_Atomic uint64_t *)(p))
#define SF_A32(p) ((_Atomic uint32_t *)(p))

static inline uint64_t sf_load_acquire64(const uint64_t *p)
{
	return atomic_load_explicit(SF_A64(p), memory_order_acquire);
}

static inline uint64_t sf_load_relaxed64(const uint64_t *p)
{
	return atomic_load_explicit(SF_A64(p), memory_order_relaxed);
}

static inline uint64_t sf_load_seqcst64(const uint64_t *p)
{
	return atomic_load_explicit(SF_A64(p), memory_order_seq_cst);
}

static inline void sf_store_release64(uint64_t *p, uint64_t v)
{
	atomic_store_explicit(SF_A64(p), v, memory_order_release);
}

static inline void sf_store_seqcst64(uint64_t *p, uint64_t v)
{
	atomic_store_explicit(SF_A64(p), v, memory_order_seq_cst);
}

static inline void sf_store_relaxed64(uint64_t *p, uint64_t v)
{
	atomic_store_explicit(SF_A64(p), v, memory_order_relaxed);
}

/* Strong CAS; on failure *expected holds the value found. */
static inline bool sf_cas_acqrel64(uint64_t *p, uint64_t *expected,
				   uint64_t desired)
{
	return atomic_compare_exchange_strong_explicit(SF_A64(p), expected,
						       desired,
						       memory_order_acq_rel,
						       memory_order_acquire);
}

static inline bool sf_cas_relaxed64(uint64_t *p, uint64_t *expected,
				    uint64_t desired)
{
	return atomic_compare_exchange_strong_explicit(SF_A64(p), expected,
						       desired,
						       memory_order_relaxed,
						       memory_order_relaxed);
}

static inline bool sf_cas_seqcst64(uint64_t *p, uint64_t *expected,
				   uint64_t desired)
{
	return atomic_compare_exchange_strong_explicit(SF_A64(p), expected,
						       desired,
						       memory_order_seq_cst,
						       memory_order_seq_cst);
}

static inline uint32_t sf_load_relaxed32(const uint32_t *p)
{
	return atomic_load_explicit(SF_A32(p), memory_order_relaxed);
}

static inline uint32_t sf_load_acquire32(const uint32_t *p)
{
	return atomic_load_explicit(SF_A32(p), memory_order_acquire);
}

static inline void sf_store_relaxed32(uint32_t *p, uint32_t v)
{
	atomic_store_explicit(SF_A32(p), v, memory_order_relaxed);
}

static inline uint32_t sf_load_seqcst32(const uint32_t *p)
{
	return atomic_load_explicit(SF_A32(p), memory_order_seq_cst);
}

static inline void sf_store_release32(uint32_t *p, uint32_t v)
{
	atomic_store_explicit(SF_A32(p), v, memory_order_release);
}

static inline uint32_t sf_add_seqcst32(uint32_t *p, uint32_t v)
{
	return atomic_fetch_add_explicit(SF_A32(p), v, memory_order_seq_cst);
}

static inline uint32_t sf_sub_seqcst32(uint32_t *p, uint32_t v)
{
	return atomic_fetch_sub_explicit(SF_A32(p), v, memory_order_seq_cst);
}

/* Decrement unless zero (counters other processes may scribble on). */
static inline void sf_dec_sat_seqcst32(uint32_t *p)
{
	uint32_t v = atomic_load_explicit(SF_A32(p), memory_order_relaxed);

	while (v && !atomic_compare_exchange_weak_explicit(
			    SF_A32(p), &v, v - 1, memory_order_seq_cst,
			    memory_order_relaxed))
		;
}

static inline uint32_t sf_xchg_seqcst32(uint32_t *p, uint32_t v)
{
	return atomic_exchange_explicit(SF_A32(p), v, memory_order_seq_cst);
}

static inline void sf_store_seqcst32(uint32_t *p, uint32_t v)
{
	atomic_store_explicit(SF_A32(p), v, memory_order_seq_cst);
}

static inline uint32_t sf_add_release32(uint32_t *p, uint32_t v)
{
	return atomic_fetch_add_explicit(SF_A32(p), v, memory_order_release);
}

static inline bool sf_cas_acqrel32(uint32_t *p, uint32_t *expected,
				   uint32_t desired)
{
	return atomic_compare_exchange_strong_explicit(SF_A32(p), expected,
						       desired,
						       memory_order_acq_rel,
						       memory_order_acquire);
}

static inline void sf_fence_acquire(void)
{
	atomic_thread_fence(memory_order_acquire);
}

static inline void sf_fence_release(void)
{
	atomic_thread_fence(memory_order_release);
}

static inline void sf_fence_seqcst(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

static inline void sf_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

#endif /* SFSHM_SFATOMIC_H */
