// SPDX-License-Identifier: MIT
/* util.c - small helpers shared by sfshmd's modules (sfd.h). */
#include <errno.h>
#include <stdlib.h>

#include "sfd.h"

int sfd_grow(void **v, uint32_t *cap, uint32_t need, size_t elem,
	     uint32_t first)
{
	uint32_t n = *cap ? *cap : first;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*v, (size_t)n * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = n;
	return 0;
}
