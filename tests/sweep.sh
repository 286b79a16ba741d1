#!/bin/sh
# tests/sweep.sh — the library sweep (issue 10's "reference shows no
# violation on the whole library"): every scenario of scenarios/ and
# scenarios/zoo/ on HANDLER (default reference) with RUNS random and RUNS
# pct schedules (default 100000 each) and plain dfs exhausted under delay
# bound BOUND (default 2). One Markdown row per scenario. A violation is
# printed as it is; the row says "expected" only where the scenario's own
# `expect` line names this handler without a variant (events-unmap: both
# E2B handlers end Serve on an UNMAP message by design), never otherwise.
# Not part of make test (minutes). UFFDLAB names the binary.
#   usage: tests/sweep.sh [RUNS] [BOUND] [HANDLER] [SCENARIO...]
runs=${1:-100000}
bound=${2:-2}
handler=${3:-reference}
[ $# -gt 3 ] && shift 3 || set --
bin=${UFFDLAB:-build/uffdlab}
[ -x "$bin" ] || { echo "sweep.sh: $bin not built (make)" >&2; exit 2; }
out=/tmp/sweep.$$
trap 'rm -rf "$out"' EXIT INT TERM

field() { # the value of a JSON field of line $1: a number, true/false, a string
	printf '%s\n' "$1" | sed -n "s/.*\"$2\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}

# "name" of the violation in JSON line $1, or "none"
verdict() {
	v=$(printf '%s\n' "$1" | sed -n 's/.*"violation":{"name":"\([^"]*\)".*"seed":\([0-9]*\).*/\1 (seed \2)/p')
	[ -n "$1" ] || v="error"
	echo "${v:-none}"
}

# is invariant $2 expected of $handler (no variant) by scenario file $1?
expected() {
	grep -E "^expect $2( |$)" "$1" | tr ' ' '\n' | grep -qx "$handler"
}

# one cell: the verdict of strategy args "$@" on scenario $s, in $v
# (not a subshell, so that $bad and $j stay set)
cell() {
	j=$("$bin" explore "$s" --handler "$handler" "$@" --no-shrink --json --out "$out" \
		2>/dev/null | tail -n 1)
	v=$(verdict "$j")
	name=${v%% *}
	if [ "$v" != none ] && expected "$s" "$name"; then
		v="$v, expected"
	else
		[ "$v" = none ] || bad=$((bad + 1))
	fi
}

bad=0
echo "| scenario | random $runs | pct $runs | dfs bound $bound (schedules) |"
echo "|---|---|---|---|"
[ $# -gt 0 ] || set -- scenarios/*.scn scenarios/zoo/*.scn
for s in "$@"; do
	cell --strategy random --runs "$runs"; r=$v
	cell --strategy pct --runs "$runs"; p=$v
	cell --strategy dfs --bound "$bound"; d=$v
	n=$(field "$j" runs)
	echo "| $(basename "$s" .scn) | $r | $p | $d ($n) |"
done
echo "unexpected violations: $bad"
[ "$bad" -eq 0 ]
