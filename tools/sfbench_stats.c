// SPDX-License-Identifier: MIT
/*
 * sfbench_stats.c - what sfbench reports with: exact percentiles over
 * stored samples, a small streaming JSON writer, and a description of the
 * machine the numbers came from.
 *
 * Percentiles are exact: callers keep every sample (8 bytes each; a million
 * round trips is 8 MB) and we sort them, so there is no histogram error to
 * reason about.  The JSON writer keeps its state in one static object: a
 * command prints at most one document per run.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sfbench.h"

/* ---- percentiles ----------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/**
 * sfb_percentiles() - nearest-rank percentiles of @n samples.
 * @v:    the samples; sorted in place.
 * @pct:  the percentiles wanted, 0 (the minimum) to 100 (the maximum).
 * @out:  @npct values, one per @pct.
 */
void sfb_percentiles(uint64_t *v, size_t n, const double *pct, size_t npct,
		     uint64_t *out)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < npct; i++) {
		/* The smallest sample with at least pct% of them at or below. */
		double rank = ceil(pct[i] / 100.0 * (double)n);
		size_t k = rank < 1 ? 0 : (size_t)rank - 1;

		out[i] = n ? v[k < n ? k : n - 1] : 0;
	}
}

double sfb_mean(const uint64_t *v, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	return n ? sum / (double)n : 0;
}

/* ---- JSON ------------------------------------------------------------------- */

#define JSON_DEPTH 8

static struct {
	FILE *f;
	int depth;
	bool more[JSON_DEPTH]; /* an item was written at this depth */
	char close[JSON_DEPTH]; /* '}' or ']' */
} js;

static void json_string(const char *s)
{
	fputc('"', js.f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(js.f, "\\%c", c);
		else if (c < 0x20)
			fprintf(js.f, "\\u%04x", c);
		else
			fputc(c, js.f);
	}
	fputc('"', js.f);
}

/* Start an item: comma and newline as needed, indent, "key": in objects. */
static void json_item(const char *key)
{
	if (js.more[js.depth])
		fputc(',', js.f);
	js.more[js.depth] = true;
	fprintf(js.f, "\n%*s", 2 * js.depth, "");
	if (key) {
		json_string(key);
		fputs(": ", js.f);
	}
}

static void json_open(const char *key, char open, char close)
{
	if (js.depth > 0)
		json_item(key);
	fputc(open, js.f);
	js.depth++;
	js.more[js.depth] = false;
	js.close[js.depth] = close;
}

/* Begin the document (an object) on @f. */
void sfb_json_begin(FILE *f)
{
	memset(&js, 0, sizeof(js));
	js.f = f;
	json_open(NULL, '{', '}');
}

/* Close what is still open and end the document with a newline. */
void sfb_json_end(void)
{
	while (js.depth > 0)
		sfb_json_close();
	fputc('\n', js.f);
	fflush(js.f);
}

/* Open an object (@key NULL inside arrays). */
void sfb_json_object(const char *key)
{
	if (js.depth < JSON_DEPTH - 1)
		json_open(key, '{', '}');
}

void sfb_json_array(const char *key)
{
	if (js.depth < JSON_DEPTH - 1)
		json_open(key, '[', ']');
}

/* Close the innermost object or array. */
void sfb_json_close(void)
{
	if (js.depth <= 0)
		return;
	if (js.more[js.depth])
		fprintf(js.f, "\n%*s", 2 * (js.depth - 1), "");
	fputc(js.close[js.depth], js.f);
	js.depth--;
}

void sfb_json_str(const char *key, const char *v)
{
	json_item(key);
	json_string(v);
}

void sfb_json_u64(const char *key, uint64_t v)
{
	json_item(key);
	fprintf(js.f, "%llu", (unsigned long long)v);
}

/* A number; JSON has no NaN or infinity, so those become null. */
void sfb_json_num(const char *key, double v)
{
	json_item(key);
	if (!isfinite(v))
		fputs("null", js.f);
	else if (fabs(v) >= 1e6)
		fprintf(js.f, "%.0f", v);
	else
		fprintf(js.f, "%.6g", v);
}

void sfb_json_bool(const char *key, bool v)
{
	json_item(key);
	fputs(v ? "true" : "false", js.f);
}

/* ---- the machine ------------------------------------------------------------ */

struct machine {
	long nproc;
	char cpu[128];
	char kernel[200];
	char clocksource[32];
	char date[32];
	double load[3]; /* load average when the run started */
};

/* Copy the value of the first "@field : value" line of @path. */
static void read_field(const char *path, const char *field, char *out,
		       size_t len)
{
	size_t flen = strlen(field);
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + flen;

		if (strncmp(line, field, flen) || !strchr(" \t:", *p))
			continue;
		p += strspn(p, " \t:");
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, len, "%s", p);
		break;
	}
	fclose(f);
}

/* The first line of a one-line file such as a sysfs attribute. */
static void read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static void probe_kernel(char *out, size_t len)
{
	struct utsname u;

	if (uname(&u) == 0)
		snprintf(out, len, "%s %s %s", u.sysname, u.release, u.machine);
}

static void probe_date(char *out, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm))
		strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Probed once, so that the table header and the JSON agree. */
static const struct machine *machine(void)
{
	static struct machine m;

	if (m.nproc)
		return &m;
	m.nproc = sysconf(_SC_NPROCESSORS_ONLN);
	strcpy(m.cpu, "unknown");
	strcpy(m.kernel, "unknown");
	strcpy(m.clocksource, "unknown");
	read_field("/proc/cpuinfo", "model name", m.cpu, sizeof(m.cpu));
	read_line("/sys/devices/system/clocksource/clocksource0/"
		  "current_clocksource",
		  m.clocksource, sizeof(m.clocksource));
	probe_kernel(m.kernel, sizeof(m.kernel));
	probe_date(m.date, sizeof(m.date));
	if (getloadavg(m.load, 3) < 0)
		m.load[0] = m.load[1] = m.load[2] = -1;
	return &m;
}

/* Look at the machine now (the date and load when a run starts). */
void sfb_machine_probe(void)
{
	machine();
}

/* Lines for the top of the human-readable report. */
void sfb_machine_print(FILE *f)
{
	const struct machine *m = machine();

	fprintf(f, "machine: %ld CPUs, %s, %s, clocksource %s\n", m->nproc,
		m->cpu, m->kernel, m->clocksource);
	fprintf(f, "date: %s, load average %.2f %.2f %.2f\n", m->date,
		m->load[0], m->load[1], m->load[2]);
	/* Other work on the CPUs shows up as long tails and low rates. */
	if (m->load[0] > 0.5 * (double)m->nproc)
		fprintf(f,
			"warning: the machine is busy (load %.2f on %ld "
			"CPUs): expect noisy results\n",
			m->load[0], m->nproc);
}

/* The "machine" member of the JSON document. */
void sfb_machine_json(void)
{
	const struct machine *m = machine();

	sfb_json_object("machine");
	sfb_json_u64("nproc", (uint64_t)m->nproc);
	sfb_json_str("cpu_model", m->cpu);
	sfb_json_str("kernel", m->kernel);
	sfb_json_str("clocksource", m->clocksource);
	sfb_json_str("date", m->date);
	sfb_json_array("loadavg");
	for (int i = 0; i < 3; i++)
		sfb_json_num(NULL, m->load[i]);
	sfb_json_close();
	sfb_json_close();
}
