#!/bin/sh
# tests/fuzz/seeds.sh [UFFDLAB] — regenerate the stored seeds that are
# derived from the tree (run from the top, after `make all`; UFFDLAB is the
# built program, default build/uffdlab):
#   corpus/scenario/  the library scenarios (zoo/x.scn as zoo-x.scn)
#   corpus/trace/, corpus/viz/  the golden traces (tests/golden/*.trace)
#   corpus/sim/golden-{replay,guided}-NAME  each golden trace's schedule:
#       replayed exactly with labels, and its first half guided
#   corpus/sim/guided-e2b-ref-SCN  each library scenario's default schedule
#   corpus/sim/guided-N-VARIANT-SCN  each variant on the zoo scenario that
#       shows it, combo N, a fixed choice sequence, labels on
# The sim bytes index the scenario library and the (handler, variant)
# combos as fuzz_sim.c builds them, in `uffdlab list` order; the indexes
# are checked at the end by running the sim seeds with FUZZ_VERBOSE.
# Hand-made inputs (bad-*, ok-*, *-big-ids, replay-diverge-at-0,
# guided-7-*) are left alone.
set -eu
U=${1:-build/uffdlab}
C=tests/fuzz/corpus
list=$("$U" list)

cp scenarios/*.scn "$C/scenario/"
for f in scenarios/zoo/*.scn; do cp "$f" "$C/scenario/zoo-${f##*/}"; done
for f in tests/golden/*.trace; do cp "$f" "$C/trace/"; cp "$f" "$C/viz/"; done

# scenario index: position in the list's "scenarios" section
scn_index() {
	printf '%s\n' "$list" | awk -v p="$1" '
		/^scenarios/ { s = 1; n = 0; next }
		s && $1 == p { print n; exit }
		s { n++ }'
}
# combo index: each handler, then each variant put into it
combo_index() { # HANDLER VARIANT|none
	printf '%s\n' "$list" | awk -v h="$1" -v v="$2" '
		/^handlers/ { s = 1; next }
		/^invariants/ { s = 0 }
		s { hs[nh++] = $1 }
		/^variants:/ { t = 1; next }
		/^scenarios/ { t = 0 }
		t && / into / { k = nv++; vn[k] = $1; for (i = 1; i <= NF; i++) if ($i == "into") vh[k] = $(i + 1) }
		END {
			n = 0
			for (i = 0; i < nh; i++) {
				if (hs[i] == h && v == "none") { print n; exit }
				n++
				for (j = 0; j < nv; j++) if (vh[j] == hs[i]) {
					if (hs[i] == h && vn[j] == v) { print n; exit }
					n++
				}
			}
		}'
}
# bytes: the decimal numbers on stdin, one byte each
bytes() {
	while read -r b; do printf "\\$(printf %o "$b")"; done
}

for t in tests/golden/*.trace; do
	name=$(basename "$t" .trace)
	scn=$(sed -n 's/^scenario //p' "$t" | head -1)
	h=$(sed -n 's/^handler //p' "$t" | head -1)
	v=$(sed -n 's/^variant //p' "$t" | head -1)
	si=$(scn_index "$scn"); ci=$(combo_index "$h" "$v")
	[ -n "$si" ] && [ -n "$ci" ] || { echo "seeds: $t: $scn $h/$v not found" >&2; exit 1; }
	tids=$(sed -n '/^steps$/,/^end$/s/^[0-9][0-9]* \([0-9][0-9]*\) .*/\1/p' "$t")
	n=$(printf '%s\n' "$tids" | wc -l)
	{ printf '%s\n' "$si" "$ci" 2; printf '%s\n' "$tids"; } | bytes >"$C/sim/golden-replay-$name"
	{ printf '%s\n' "$si" "$ci" 1; printf '%s\n' "$tids" | head -n $((n / 2)); } | bytes >"$C/sim/golden-guided-$name"
done

printf '%s\n' "$list" | awk '/^scenarios/ { s = 1; next } s { print $1 }' | while read -r scn; do
	rel=${scn#scenarios/}; base=$(printf '%s' "${rel%.scn}" | tr / -)
	printf '%s\n' "$(scn_index "$scn")" 0 1 | bytes >"$C/sim/guided-e2b-ref-$base"
done

printf '%s\n' "$list" | awk '/^variants:/ { t = 1; next } /^scenarios/ { t = 0 }
	t && / into / { for (i = 1; i <= NF; i++) if ($i == "into") print $1, $(i + 1), $(i + 4) }' |
while read -r v h scn; do
	rel=${scn#scenarios/}; base=$(printf '%s' "${rel%.scn}" | tr / -)
	ci=$(combo_index "$h" "$v")
	{ printf '%s\n' "$(scn_index "$scn")" "$ci" 3 0 0 1 1 2 2 3 3 1 2 3 4 1 2 3 4; } |
		bytes >"$C/sim/guided-$ci-$v-$base"
done

# the check: what fuzz_sim picks for each generated seed
B=$(dirname "$(dirname "$U")")
[ "$B" = . ] && B=build
make --no-print-directory -s BUILD="$B" "$B/tests/fuzz/corpus_sim"
for f in "$C"/sim/golden-* "$C"/sim/guided-e2b-ref-* "$C"/sim/guided-[0-9]*; do
	printf '%s: ' "${f##*/}"
	FUZZ_VERBOSE=1 "$B/tests/fuzz/corpus_sim" "$f" 2>&1 | sed -n 's/^fuzz_sim: //p' | head -1
done
