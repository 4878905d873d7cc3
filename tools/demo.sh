#!/bin/sh
# demo.sh BUILD [RECORDS] - the main job: start sfshmd on a temporary
# directory, create a topic, produce RECORDS records (default 1,000,000)
# with sfcat, consume them back, check the count, print throughput and
# where the data lives, and stop the daemon cleanly.
set -eu

build=${1:-build}
records=${2:-1000000}
partitions=4

data=$(mktemp -d /tmp/sfshm-demo.XXXXXX)
run=$(mktemp -d /dev/shm/sfshm-demo.XXXXXX 2>/dev/null ||
	mktemp -d /tmp/sfshm-demo-run.XXXXXX)
export SFSHM_RUN_DIR="$run"
log="$data.log"
pid=
# eBPF metrics: on when we may load BPF (root), pinned under this name.
instance=sfshm-demo-$$
bpfdir=/sys/fs/bpf/sfshm/$instance

say() { printf '%s\n' "$*"; }
die() {
	say "demo: $*" >&2
	[ -f "$log" ] && sed 's/^/  sfshmd| /' "$log" >&2
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -d "$bpfdir" ] && rm -rf "$bpfdir"
	exit 1
}
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" -v u="$4" \
	'BEGIN { t = b - a; printf "%.2f s, %.0f %s/s\n", t, n / t, u }'; }

"$build/sfshmd" --data-dir "$data" --run-dir "$run" --instance "$instance" \
	2>"$log" &
pid=$!
i=0
until "$build/tools/sfctl" broker info >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 200 ] && die "sfshmd did not start"
	kill -0 "$pid" 2>/dev/null || die "sfshmd exited"
	sleep 0.05
done
say "sfshmd (pid $pid) is up: run dir $run, data dir $data"

"$build/tools/sfctl" topic create demo --partitions $partitions \
	--ring-bytes 16M || die "cannot create the topic"

input="$data.input"
awk -v n="$records" 'BEGIN { for (i = 0; i < n; i++)
	printf "key-%d:value-%d-%s\n", i, i, "streamflow-demo-payload" }' \
	>"$input"
bytes=$(wc -c <"$input")

say ""
say "producing $records records ($bytes bytes) with acks=written..."
t0=$(now)
"$build/tools/sfcat" -P -t demo -K : -X acks=written "$input" ||
	die "sfcat -P failed"
t1=$(now)
say "  produced and acknowledged in $(rate "$records" "$t0" "$t1" records)"

say "consuming them back from the beginning..."
t0=$(now)
got=$("$build/tools/sfcat" -C -t demo -o beginning -e -f '%o\n' | wc -l) ||
	die "sfcat -C failed"
t1=$(now)
say "  consumed in $(rate "$got" "$t0" "$t1" records)"
[ "$got" -eq "$records" ] ||
	die "consumed $got records, expected $records"
say "  count checked: $got records, every one back"

say ""
"$build/tools/sfctl" topic describe demo
say ""
if grep -q 'metrics: on' "$log"; then
	say "eBPF metrics (maps pinned in $bpfdir; also: sftop," \
		"bpftool map dump pinned $bpfdir/topic_stats):"
	"$build/tools/sfctl" metrics --instance "$instance" ||
		die "sfctl metrics failed"
	inn=$("$build/tools/sfctl" metrics --instance "$instance" --prometheus |
		awk '/^streamflow_messages_total[{]topic="demo"/ { n += $2 }
		END { print n + 0 }')
	[ "$inn" -eq "$records" ] ||
		die "the metrics count $inn records in, expected $records"
	say "  the metrics agree: $inn records in"
else
	say "eBPF metrics are off here:"
	grep 'metrics' "$log" | sed 's/^/  /'
fi

say ""
say "the commit log (Kafka RecordBatch v2 segments) lives in $data:"
ls -l "$data"/demo-0 | sed 's/^/  /'

kill -TERM "$pid"
wait "$pid" || die "sfshmd did not stop cleanly"
pid=
left=$(ls -A "$run" 2>/dev/null || true)
[ -z "$left" ] || die "files left in the run dir: $left"
rm -f "$input" "$log"
# The pins outlive a daemon on purpose (restarts); this one was a demo.
[ -d "$bpfdir" ] && rm -rf "$bpfdir"
rmdir "$run" 2>/dev/null || true
say ""
say "sfshmd stopped cleanly; nothing left in $run."
say "Data kept in $data (remove it with: rm -rf $data)"
