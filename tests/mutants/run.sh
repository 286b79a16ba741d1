#!/bin/sh
# The mutation score of `reference` (make mutants): each tests/mutants/*.patch
# is a one-line mistake, applied to a temporary copy of the tree (never to
# the shipped code) and built without LTO; the mutant is explored by the
# library campaign (every scenario, reference, random and pct MUTANT_RUNS
# runs each, then dfs --bound 1) and, if it survives that, by the swarm
# (MUTANT_SWARM generated scenarios, seed 0, the default budget). A mutant
# is killed by the first violation (or crash); the unpatched copy must pass
# the same campaign first, else the score means nothing. Survivors are
# classified in tests/mutants/survivors.txt (equivalent, scenario gap,
# oracle gap, model gap: why). Prints one line per mutant and the summary
#   bench: mutation-score K/T killed (library L, swarm S)
# Usage: tests/mutants/run.sh [PATTERN]   (PATTERN: a glob of patch names)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${MUTANT_RUNS:-2000}
SWARM=${MUTANT_SWARM:-300}
JOBS=${MUTANT_JOBS:-2}
PAT=${1:-*}
WORK=$(mktemp -d /tmp/uffdlab-mutants.XXXXXX)
trap 'rm -rf "$WORK"' EXIT INT TERM

say() { printf '%s\n' "$*"; }

# a copy of the tree and a build of it (objects kept for the mutants)
mkdir -p "$WORK/base"
tar -C "$ROOT" --exclude=./build --exclude='./build-*' --exclude=./out --exclude=./.git \
    -cf - . | tar -C "$WORK/base" -xf - || exit 2
make -C "$WORK/base" -j"$JOBS" CFLAGS=-O2 build/uffdlab >"$WORK/build.log" 2>&1 ||
    { say "mutants: the unpatched copy does not build (see $WORK/build.log)"; cat "$WORK/build.log" | tail -5; exit 2; }

# campaign DIR: "library SCENARIO STRATEGY", "swarm SEED INVARIANT", "crash ..." or "survived"
campaign() {
	d=$1
	for s in $(cd "$d" && ls scenarios/*.scn scenarios/zoo/*.scn); do
		# a scenario that says reference itself breaks it (events-unmap)
		grep -q '^expect .* reference\( \|$\)' "$d/$s" && continue
		for st in random pct dfs; do
			if [ $st = dfs ]; then args="--strategy dfs --bound 1 --runs $RUNS"
			else args="--strategy $st --runs $RUNS"; fi
			(cd "$d" && ./build/uffdlab explore "$s" --handler reference $args --no-shrink \
				--out "$WORK/out" >"$WORK/last.txt" 2>&1)
			rc=$?
			[ $rc = 0 ] && continue
			inv=$(sed -n 's/.*VIOLATION \([a-z-]*\).*/\1/p' "$WORK/last.txt" | head -1)
			[ $rc = 1 ] && { echo "library $s $st ${inv:-?}"; return; }
			echo "crash $s $st exit=$rc"; return
		done
	done
	(cd "$d" && ./build/uffdlab swarm --handler reference --scenarios "$SWARM" --jobs "$JOBS" \
		--no-shrink --out "$WORK/out/swarm" >"$WORK/last.txt" 2>&1)
	rc=$?
	if [ $rc = 1 ]; then
		sed -n 's/^swarm: seed \([0-9]*\): VIOLATION \([a-z-]*\).*/swarm seed \1 \2/p' "$WORK/last.txt" | head -1
		return
	fi
	[ $rc = 0 ] || { echo "crash swarm exit=$rc"; return; }
	echo survived
}

base=$(campaign "$WORK/base")
if [ "$base" != survived ]; then
	say "mutants: the unpatched reference fails its own campaign: $base"
	exit 1
fi
total=0 killed=0 bylib=0 byswarm=0
for p in "$ROOT"/tests/mutants/$PAT.patch; do
	name=$(basename "$p" .patch)
	rm -rf "$WORK/m" "$WORK/out"
	cp -a "$WORK/base" "$WORK/m"
	if ! (cd "$WORK/m" && patch -p1 -s <"$p"); then
		say "mutant $name: does not apply"; exit 2
	fi
	if ! make -C "$WORK/m" -j"$JOBS" CFLAGS=-O2 build/uffdlab >"$WORK/m.log" 2>&1; then
		say "mutant $name: does not build"; exit 2
	fi
	r=$(campaign "$WORK/m")
	total=$((total + 1))
	case $r in
	survived)
		why=$(sed -n "s/^$name //p" "$ROOT/tests/mutants/survivors.txt" 2>/dev/null)
		say "mutant $name: SURVIVED: ${why:-unclassified}" ;;
	swarm*) killed=$((killed + 1)); byswarm=$((byswarm + 1)); say "mutant $name: killed by $r" ;;
	*) killed=$((killed + 1)); bylib=$((bylib + 1)); say "mutant $name: killed by $r" ;;
	esac
done
say "bench: mutation-score $killed/$total killed (library $bylib, swarm $byswarm; runs $RUNS, swarm $SWARM scenarios)"
