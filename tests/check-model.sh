#!/bin/bash
# check-model.sh - model-check the ring protocol (libsfshm/ring.pml) with spin.
#
# Runs, each an exhaustive search within the bounds documented at the top of
# ring.pml:
#   - the properties P1-P5 on the protocol as ring.c has it (lap tags,
#     word_older() in mark_frame(), producer hazards, in CFG_S producer
#     slots that change hands, freed only when their holder is gone, and
#     in the WAKE configurations the k_waiters/k_armed/k_notify wake-up):
#     must hold;
#   - earlier designs (no hazards, no lap tags, mark_frame() taking over
#     any other lap's word): spin must find the counterexamples ("flaw"
#     checks; a counterexample story: KEEP=1, then spin -t in the run's
#     directory), and one check that word_older() alone closes one of them;
#   - earlier producer-slot hand-overs of ring.c (CFG_S: before 2f8d4bb,
#     and without FIX_START or FIX_FORGET): spin must find them;
#   - a limit of the design (a producer stopped for good inside a claim
#     holds cleaning for ever): spin must find it;
#   - mutations (-DBUG_x, one broken step each): spin must find an error,
#     reported by the property the mutation targets, which shows that the
#     property is not vacuous.
# Prints one line per check and ends with "N passed, M failed".
# Exit: 0 all passed, 1 something failed, 77 spin or gcc missing.
#
# Environment: JOBS (parallel verifiers, default 2), MODEL_TIMEOUT (seconds
# per verifier, default 600), MODEL_MEMLIM (MiB per verifier, default 900),
# MODEL_DEEP=1 (also the slower runs: about 2 more minutes on 2 cores, up
# to 1 GiB per verifier; use MODEL_MEMLIM=1500), KEEP=1 (keep the work
# directory).
set -u

here=$(cd "$(dirname "$0")" && pwd)
model=$here/../libsfshm/ring.pml
jobs_max=${JOBS:-2}
tmo=${MODEL_TIMEOUT:-600}
memlim=${MODEL_MEMLIM:-900}

if ! command -v spin >/dev/null 2>&1; then
	echo "check-model: SKIP: spin is not installed (Debian: apt-get install spin)"
	exit 77
fi
if ! command -v gcc >/dev/null 2>&1; then
	echo "check-model: SKIP: gcc is not installed (needed to compile spin's verifier)"
	exit 77
fi
if [ ! -r "$model" ]; then
	echo "check-model: FAIL: no model at $model"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sfshm-model.XXXXXX") || exit 1
cleanup()
{
	local f

	# timeout(1) runs in a process group of its own and passes the
	# signal on to pan; each verify() leaves the pid of its timeout.
	for f in "$work"/*/timeout.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then
		echo "check-model: work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Safety properties are checked together in one run per configuration.
SAFE="-DCHECK_P1 -DCHECK_P2 -DCHECK_P3 -DCHECK_P4"
CC_SAFETY="-DSAFETY -DCOLLAPSE"
CC_LTL="-DCOLLAPSE -DNFAIR=3"
# Long searches are worth gcc's optimiser (the later -O wins); the short
# ones (counterexamples found in a second) compile faster without it.
BIG="-O2"

# verify ID EXPECT MATCH DEFINES PANFLAGS CCFLAGS
#   EXPECT pass: pan must finish the search with no error.
#   EXPECT fail: pan must report an error whose text contains MATCH.
# Leaves ID.res: "PASS|FAIL<TAB>states<TAB>seconds<TAB>detail".
# DEFINES, PANFLAGS and CCFLAGS are lists of words: split on purpose.
# shellcheck disable=SC2086
verify()
{
	local id=$1 expect=$2 match=$3 defs=$4 pflags=$5 cflags=$6
	local d=$work/$id t0 t1 rc errs states secs detail res

	mkdir -p "$d" && cp "$model" "$d/ring.pml" || return
	echo "spin $defs -a ring.pml; gcc -O0 $cflags pan.c; ./pan $pflags" \
		>"$d/cmd"
	if ! (cd "$d" && spin $defs -a ring.pml) >"$d/spin.out" 2>&1; then
		printf 'FAIL\t-\t-\tspin -a failed: %s\n' \
			"$(tail -1 "$d/spin.out")" >"$d/../$id.res"
		return
	fi
	if ! (cd "$d" && gcc -O0 -w $cflags -DMEMLIM=$memlim -o pan pan.c) \
		>"$d/gcc.out" 2>&1; then
		printf 'FAIL\t-\t-\tgcc failed: %s\n' \
			"$(head -1 "$d/gcc.out")" >"$d/../$id.res"
		return
	fi
	t0=$(date +%s.%N)
	(cd "$d" && exec timeout "$tmo" ./pan -m100000 $pflags) \
		>"$d/pan.out" 2>&1 &
	echo $! >"$d/timeout.pid"
	wait $!
	rc=$?
	rm -f "$d/timeout.pid"
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	errs=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$d/pan.out" | head -1)
	states=$(awk '/states, stored/ { print $1; exit }' "$d/pan.out")
	detail=$(grep -m1 -E 'assertion violated|invalid end state|acceptance cycle|non-progress cycle|error:' \
		"$d/pan.out" | sed 's/^pan:[0-9]*: //')
	res=FAIL
	if [ $rc -eq 124 ]; then
		detail="timed out after ${tmo}s"
	elif [ -z "$errs" ]; then
		detail="pan did not finish: $(tail -1 "$d/pan.out")"
	elif grep -qE 'search depth too small|MEMLIM|out of memory' "$d/pan.out"; then
		detail="search incomplete: $(grep -m1 -E 'search depth too small|MEMLIM|out of memory' "$d/pan.out")"
	elif [ "$expect" = pass ]; then
		[ "$errs" = 0 ] && res=PASS
	else
		if [ "$errs" != 0 ] && grep -qF -- "$match" "$d/pan.out"; then
			res=PASS
		elif [ "$errs" = 0 ]; then
			detail="no error found"
		fi
	fi
	printf '%s\t%s\t%s\t%s\n' "$res" "${states:--}" "$secs" "$detail" \
		>"$d/../$id.res"
}

# The story of a counterexample, from the printf lines of the model.
# shellcheck disable=SC2086
trail()
{
	local d=$work/$1 defs=$2

	[ -f "$d/ring.pml.trail" ] || return
	(cd "$d" && spin $defs -t ring.pml 2>&1) |
		grep -E '^ *MSC:|Error|text of failed' | sed 's/^ *MSC: //' |
		head -40 | sed 's/^/        | /'
}

# ---- the checks ----------------------------------------------------------- #
# id | expect | match | defines | pan flags | cc flags | label
W5="$SAFE -DCHECK_P5"
checks=(
"A|pass||-DCFG_A $SAFE||$CC_SAFETY $BIG|CFG_A"
"B|pass||-DCFG_B $SAFE||$CC_SAFETY $BIG|CFG_B"
"L|pass||-DCFG_L -DLTL_P4|-a -f|$CC_LTL $BIG|CFG_L"
"W|pass||-DCFG_W $W5||$CC_SAFETY $BIG|CFG_W"
"V|pass||-DCFG_V $W5||$CC_SAFETY $BIG|CFG_V"
"F|pass||-DCFG_F $W5||$CC_SAFETY $BIG|CFG_F"
"S|pass||-DCFG_S $SAFE||$CC_SAFETY $BIG|CFG_S"
"F_LIMIT|fail|(prop1|-DCFG_B -DNOLAPTAG -DNOFIX_LIMIT -DCHECK_P1|-E|$CC_SAFETY|flaw   untagged words, no k_limit check in the reader (the original design): at the tail of a full ring it re-delivers the previous lap, caught by P1"
"F_HAZARD|fail|(prop1|-DCFG_A -DNO_HAZARD -DCHECK_P1|-E|$CC_SAFETY|flaw   no producer hazards (ring.c before them): a revoked live producer's body stores land in the next lap's record, caught by P1"
"F_STALE|fail|(prop3|-DCFG_H -DNO_HAZARD -DSTALE_TAKEOVER -DCHECK_P3|-E|$CC_SAFETY|flaw   no hazards, mark_frame() takes over any other lap's word (ring.c before word_older()): it overwrites the next lap's committed word, caught by P3"
"F_ABA|fail|(prop1|-DCFG_A -DNOLAPTAG -DNO_HAZARD -DCHECK_P1|-E|$CC_SAFETY|flaw   untagged words, no hazards (the original design): header CAS ABA one lap later, caught by P1"
"X_OLDER|pass||-DCFG_H -DNO_HAZARD -DCHECK_P3|-E|$CC_SAFETY|fixed  word_older() alone closes the flaw above: CFG_H without hazards, P3 holds"
"F_SLOT_OLD|fail|(prop1|-DCFG_S -DOLD_PSLOT -DSOCK_AT_EXIT -DCHECK_P1|-E|$CC_SAFETY|flaw   ring.c before 2f8d4bb: clean_floor() freed a producer slot by a k_pid loaded before the slot changed hands, caught by P1"
"F_SLOT|fail|(prop1|-DCFG_S -DNOFIX_PSLOT -DSOCK_AT_EXIT -DCHECK_P1|-E|$CC_SAFETY|flaw   ring.c from 2f8d4bb until FIX_START: a freed slot kept its dead holder's k_hazard and k_start; clean_floor() judged a new holder by them (before its k_start store) and freed it, caught by P1"
"F_FORGET|fail|(prop1|-DCFG_S -DNOFIX_FORGET -DCHECK_P1|-E|$CC_SAFETY|flaw   ring.c from 2f8d4bb until FIX_FORGET (FIX_START alone does not close it): forget_pid() freed the slot of a live process whose socket closed before its unmap; its release_pslot() then wiped the next holder, caught by P1"
"Z_FREEZE|fail|invalid end state|-DCFG_A -DFREEZE -DCHECK_P4||$CC_SAFETY|limit  a producer stopped for good (alive) inside a claim: its hazard holds cleaning, producers wait for space for ever, caught by P4a"
"M_SEQLOCK|fail|(prop1|-DCFG_B -DBUG_NO_SEQLOCK -DCHECK_P1|-E|$CC_SAFETY|mutant BUG_NO_SEQLOCK: no k_clean re-check after the copy, caught by P1"
"M_CLEAN_ORDER|fail|(prop1|-DCFG_B -DBUG_CLEAN_ORDER -DCHECK_P1|-E|$CC_SAFETY|mutant BUG_CLEAN_ORDER: zero before storing k_clean, caught by P1"
"M_HAZARD_LATE|fail|(prop3|-DCFG_HL -DBUG_HAZARD_LATE -DCHECK_P3|-E|$CC_SAFETY|mutant BUG_HAZARD_LATE: hazard published after the tail CAS, caught by P3"
"M_FLOOR_EDGE|fail|(prop1|-DCFG_A -DBUG_FLOOR_EDGE -DCHECK_P1|-E|$CC_SAFETY|mutant BUG_FLOOR_EDGE: a hazard at the old clean position taken for stale, caught by P1"
"M_COMMIT_STORE|fail|(prop2|-DCFG_A -DBUG_COMMIT_STORE -DCHECK_P2|-E|$CC_SAFETY|mutant BUG_COMMIT_STORE: commit by plain store, caught by P2"
"M_NO_POISON|fail|(prop2|-DCFG_A -DBUG_NO_POISON -DCHECK_P2|-E|$CC_SAFETY|mutant BUG_NO_POISON: hole padded without poisoning, caught by P2"
"M_CLEAN_AHEAD|fail|(prop2|-DCFG_A -DBUG_CLEAN_AHEAD -DCHECK_P2|-E|$CC_SAFETY|mutant BUG_CLEAN_AHEAD: clean past the persister, caught by P2"
"M_HDR_STORE|fail|(prop3|-DCFG_A -DBUG_HDR_STORE -DCHECK_P3|-E|$CC_SAFETY|mutant BUG_HDR_STORE: header by plain store, caught by P3"
"M_UNBLOCK_STORE|fail|(prop3|-DCFG_A -DBUG_UNBLOCK_STORE -DCHECK_P3|-E|$CC_SAFETY|mutant BUG_UNBLOCK_STORE: unblock by load-then-store, caught by P3"
"M_NO_LIMIT|fail|invalid end state|-DCFG_B -DBUG_NO_LIMIT -DCHECK_P4||$CC_SAFETY|mutant BUG_NO_LIMIT: k_limit never moves, caught by P4a (deadlock)"
"M_NO_UNBLOCK|fail|invalid end state|-DCFG_A -DBUG_NO_UNBLOCK -DCHECK_P4||$CC_SAFETY|mutant BUG_NO_UNBLOCK: dead producer never unblocked, caught by P4a"
"M_NO_UNBLOCK_LTL|fail|acceptance cycle|-DCFG_L -DBUG_NO_UNBLOCK -DLTL_P4|-a -f|$CC_LTL|mutant BUG_NO_UNBLOCK, caught by P4b (liveness)"
"M_NO_ARM|fail|(prop5|-DCFG_W -DBUG_NO_ARM -DCHECK_P5||$CC_SAFETY|mutant BUG_NO_ARM: the sleeper never sets k_armed, caught by P5"
"M_ARM_LATE|fail|(prop5|-DCFG_W -DBUG_ARM_LATE -DCHECK_P5||$CC_SAFETY|mutant BUG_ARM_LATE: k_armed set after the last frame check, caught by P5"
"M_ARM_LATE_END|fail|invalid end state|-DCFG_W -DBUG_ARM_LATE -DNO_TIMEOUT||$CC_SAFETY|mutant BUG_ARM_LATE, futex wait without the timeout look: caught as an invalid end state"
"M_SEQ_LATE|fail|(prop5|-DCFG_W -DBUG_SEQ_LATE -DCHECK_P5||$CC_SAFETY|mutant BUG_SEQ_LATE: k_notify read after the last frame check, caught by P5"
"M_NOTIFY_EARLY|fail|(prop5|-DCFG_W -DBUG_NOTIFY_EARLY -DCHECK_P5||$CC_SAFETY|mutant BUG_NOTIFY_EARLY: notify_readers() before the commit CAS, caught by P5"
)
if [ "${MODEL_DEEP:-0}" = 1 ]; then
	checks+=(
"S2|pass||-DCFG_S -DSET_NREC=2 $SAFE||$CC_SAFETY $BIG|deep   CFG_S, producer 1 sends 2 records: P1-P4a hold"
"C|pass||-DCFG_C $SAFE||$CC_SAFETY $BIG|deep   CFG_C (revocation and a reader): P1-P4a hold"
"R|pass||-DCFG_R $W5||$CC_SAFETY $BIG|deep   CFG_R (wake-ups, a live claim revoked): P1-P5 hold"
"HL|pass||-DCFG_HL -DCHECK_DEAD $SAFE||$CC_SAFETY $BIG|deep   CFG_HL (two revocations, the late-hazard mutation's bounds) with CHECK_DEAD: P1-P4a hold"
"ANYSLOW|pass||-DCFG_A -DANYSLOW $SAFE||$CC_SAFETY $BIG|deep   CFG_A, any producer's claim may time out: P1-P4a hold"
"DEAD|pass||-DCFG_A -DCHECK_DEAD $SAFE||$CC_SAFETY $BIG|deep   CFG_A with CHECK_DEAD: mark_frame() never takes over a word nor finds its slot erased: P1-P4a hold"
"NOLAPTAG_A|pass||-DCFG_A -DNOLAPTAG $SAFE||$CC_SAFETY $BIG|deep   CFG_A with untagged frame words: P1-P4a hold"
"NOLAPTAG_B|pass||-DCFG_B -DNOLAPTAG $SAFE||$CC_SAFETY $BIG|deep   CFG_B with untagged frame words: P1-P4a hold"
"NOPADCHECK|pass||-DCFG_B -DNOFIX_PADCHECK $SAFE||$CC_SAFETY $BIG|deep   CFG_B without the PAD erased() check: P1-P4a hold"
"NOLIMIT_B|pass||-DCFG_B -DNOFIX_LIMIT $SAFE||$CC_SAFETY $BIG|deep   CFG_B without the k_limit check (lap tags suffice): P1-P4a hold"
	)
fi

echo "check-model: $(spin -V | head -1); ${#checks[@]} verifier runs, $jobs_max at a time"
for c in "${checks[@]}"; do
	IFS='|' read -r id expect match defs pflags cflags label <<<"$c"
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
		wait -n
	done
	verify "$id" "$expect" "$match" "$defs" "$pflags" "$cflags" &
done
wait

# ---- report --------------------------------------------------------------- #
pass=0 fail=0
field() { cut -f"$2" "$work/$1.res" 2>/dev/null || echo FAIL; }

# line STATUS TEXT
line()
{
	printf '  %-4s  %s\n' "$1" "$2"
	if [ "$1" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

# Properties: a property passes if every run covering it found no error.
# prop NAME TEXT MATCH RUN...
prop()
{
	local name=$1 text=$2 match=$3 run st all=PASS info='' why=''
	shift 3
	for run in "$@"; do
		st=$(field "$run" 1)
		info="$info${info:+; }$run: $(field "$run" 2) states $(field "$run" 3)s"
		if [ "$st" != PASS ]; then
			all=FAIL
			if field "$run" 4 | grep -qF -- "$match"; then
				why="$why ($run: $(field "$run" 4))"
			else
				why="$why ($run stopped at: $(field "$run" 4))"
			fi
		fi
	done
	line "$all" "$name  $text  [$info]$why"
}

prop P1 "delivered records are whole and were committed there" "(prop1" A B W V F S
prop P2 "nothing lost, duplicated, reordered or erased unpersisted" "(prop2" A B W V F S
prop P3 "a committed frame is never overwritten (unblock, late producers)" "(prop3" A B W V F S
prop P4a "no deadlock: no invalid end state, persister reaches the tail" "invalid end state" A B W V F S
prop P4b "liveness: <> owner_done under weak fairness" "acceptance" L
prop P5 "no lost wake-up: a sleeping reader is woken for what arrives" "(prop5" W V F

for c in "${checks[@]}"; do
	IFS='|' read -r id expect match defs pflags cflags label <<<"$c"
	case $id in A|B|L|W|V|F|S) continue ;; esac
	st=$(field "$id" 1)
	if [ "$expect" = pass ]; then
		info="$(field "$id" 2) states $(field "$id" 3)s"
		[ "$st" = PASS ] || info="$info; $(field "$id" 4)"
		line "$st" "$label  [$info]"
	elif [ "$st" = PASS ]; then
		line "$st" "$label  [found after $(field "$id" 2) states, $(field "$id" 3)s]"
	else
		line "$st" "$label  [$(field "$id" 4)]"
	fi
done

if [ $fail -ne 0 ]; then
	echo
	echo "Failed runs (commands in $work/ID/cmd; KEEP=1 keeps them):"
	for c in "${checks[@]}"; do
		IFS='|' read -r id expect match defs pflags cflags label <<<"$c"
		[ "$(field "$id" 1)" = PASS ] && continue
		echo "  $id: spin $defs; pan $pflags: $(field "$id" 4)"
		[ "$expect" = pass ] && trail "$id" "$defs"
	done
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
