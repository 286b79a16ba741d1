#!/bin/sh
# tests/dfs_table.sh — the library exhaustion table (issue 8): every
# scenario in scenarios/ and scenarios/zoo/ on HANDLER (default reference),
# reduced dfs, unbounded where it is exhausted within CAP seconds (default
# 60), else the largest delay bound that is. One Markdown row per scenario.
# A violation in an exhaustive run is printed as it is, never hidden.
# Not part of make test: it takes up to (bounds tried + 1) * CAP per scenario.
# UFFDLAB names the binary (default build/uffdlab).
#   usage: tests/dfs_table.sh [CAP] [HANDLER] [SCENARIO...]  (from the repository root;
#          no SCENARIO: the whole library)
cap=${1:-60}
handler=${2:-reference}
[ $# -gt 2 ] && shift 2 || set -- # a failed shift ends a POSIX shell
bin=${UFFDLAB:-build/uffdlab}
[ -x "$bin" ] || { echo "dfs_table.sh: $bin not built (make)" >&2; exit 2; }

field() { # the value of a JSON field of line $1: a number, true/false, a string
	printf '%s\n' "$1" | sed -n "s/.*\"$2\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}

echo "| scenario | covered | schedules | seconds | violation |"
echo "|---|---|---|---|---|"
[ $# -gt 0 ] || set -- scenarios/*.scn scenarios/zoo/*.scn
for s in "$@"; do
	j=$(timeout "$cap" "$bin" explore "$s" --handler "$handler" --strategy dfs \
		--no-shrink --json --out /tmp/dfs_table.$$ 2>/dev/null | tail -n 1)
	what=unbounded
	if [ "$(field "$j" exhausted)" != true ] && [ "$(field "$j" name)" = "" ]; then
		j=""
		b=0
		while :; do
			k=$(timeout "$cap" "$bin" explore "$s" --handler "$handler" --strategy dfs \
				--reduce --bound "$b" --no-shrink --json --out /tmp/dfs_table.$$ \
				2>/dev/null | tail -n 1)
			[ "$(field "$k" exhausted)" = true ] || break
			j=$k
			what="delay bound $b"
			b=$((b + 1))
		done
		[ -n "$j" ] || what="nothing within ${cap} s"
	fi
	v=$(printf '%s\n' "$j" | sed -n 's/.*"violation":{"name":"\([^"]*\)".*"seed":\([0-9]*\).*/\1 (seed \2)/p')
	echo "| $(basename "$s" .scn) | $what | $(field "$j" runs) | $(field "$j" elapsed_s) | ${v:-none} |"
done
rm -rf /tmp/dfs_table.$$
