#!/bin/sh
# run-tests.sh DIR [NAME...] - run test programs with a per-program timeout.
#
# Each program is a cmocka test (or any program): exit 0 = pass, 77 = skip
# (the machine lacks a feature), anything else = fail.  Skips are printed
# loudly, and under CI they fail the run unless SFSHM_ALLOW_SKIP lists the
# program.  Ends with the line "N passed, N failed, N skipped".
dir=$1
shift
timeout=${SFSHM_TEST_TIMEOUT:-300}
if [ $# -gt 0 ]; then
	progs=
	for n in "$@"; do progs="$progs $dir/$n"; done
else
	progs=$(ls "$dir"/test_* 2>/dev/null | grep -v '\.d$')
fi
pass=0 fail=0 skip=0 failed= skipped=
log=${TMPDIR:-/tmp}/sfshm-tests.$$
mkdir -p "$log"
for p in $progs; do
	name=${p##*/}
	start=$(date +%s)
	timeout -k 10 "$timeout" "$p" >"$log/$name.out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); printf '  PASS    %s (%ss)\n' "$name" "$secs" ;;
	77) skip=$((skip + 1)); skipped="$skipped $name"
	    printf '  SKIP    %s: %s\n' "$name" \
		"$(grep -i skip "$log/$name.out" | tail -1)" ;;
	*) fail=$((fail + 1)); failed="$failed $name"
	   [ $rc = 124 ] && echo "  TIMEOUT $name after ${timeout}s"
	   printf '  FAIL    %s (exit %s)\n' "$name" "$rc"
	   tail -40 "$log/$name.out" | sed 's/^/    | /' ;;
	esac
done
rm -rf "$log"
if [ -n "$skipped" ]; then
	echo "*** SKIPPED:$skipped"
	if [ -n "$CI" ]; then
		for s in $skipped; do
			case " $SFSHM_ALLOW_SKIP " in
			*" $s "*) ;;
			*) echo "*** skip of $s not allowed in CI"; fail=$((fail + 1)) ;;
			esac
		done
	fi
fi
[ -n "$failed" ] && echo "*** FAILED:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
