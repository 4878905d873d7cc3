// SPDX-License-Identifier: MIT
/*
 * sfctl_table.c - aligned text tables: cells are added row by row, left
 * to right; the widths are known only when the table is printed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfctl_int.h"

void table_init(struct table *t, unsigned ncols, const char *const *heads,
		const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->heads = heads;
	t->align = align;
}

/* Append the next cell (the row ends after ncols of them). */
void table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		sft_oom(SFCTL);
	if (t->ncells == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->cells =
			sft_realloc(SFCTL, t->cells, t->cap, sizeof(*t->cells));
	}
	t->cells[t->ncells++] = s;
}

static void print_row(const struct table *t, const char *const *row,
		      const size_t *width, FILE *f)
{
	for (unsigned c = 0; c < t->ncols; c++) {
		const char *s = row[c] ? row[c] : "";
		bool last = c + 1 == t->ncols;

		if (t->align[c] == 'l' && last)
			fputs(s, f);
		else if (t->align[c] == 'l')
			fprintf(f, "%-*s", (int)width[c], s);
		else
			fprintf(f, "%*s", (int)width[c], s);
		fputs(last ? "\n" : "  ", f);
	}
}

void table_print(const struct table *t, FILE *f)
{
	size_t *width = sft_alloc(SFCTL, t->ncols, sizeof(*width));
	size_t rows = t->ncells / t->ncols;

	for (unsigned c = 0; c < t->ncols; c++)
		width[c] = strlen(t->heads[c]);
	for (size_t i = 0; i < rows * t->ncols; i++) {
		size_t len = strlen(t->cells[i]);
		unsigned c = i % t->ncols;

		if (len > width[c])
			width[c] = len;
	}
	print_row(t, t->heads, width, f);
	for (size_t r = 0; r < rows; r++)
		print_row(t, (const char *const *)&t->cells[r * t->ncols],
			  width, f);
	free(width);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
