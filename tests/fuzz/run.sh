#!/bin/sh
# tests/fuzz/run.sh BUILD SECONDS TARGET... — run each libFuzzer target of
# BUILD/fuzz/ for SECONDS, one after the other (one job: the machine is
# shared), starting from its stored corpus tests/fuzz/corpus/TARGET/.
# New inputs go to BUILD/corpus/TARGET/ (the stored corpus is never
# written), crashes to BUILD/artifacts/, the log to BUILD/fuzz-TARGET.log.
# Prints one line per target and fails if any target found something.
set -u
B=$1; S=$2; shift 2
# a per-input timeout well above any input's run (the simulator is bounded
# by max_steps): a hang is reported, not waited for
TIMEOUT=${FUZZ_TIMEOUT:-10}
status=0
for t in "$@"; do
	mkdir -p "$B/corpus/$t" "$B/artifacts"
	log="$B/fuzz-$t.log"
	# every target with LeakSanitizer: abandoned simulator runs no longer
	# leak (tests/test_abandon.c)
	leaks=1
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=$leaks} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$B/fuzz/fuzz_$t" -max_total_time="$S" -timeout="$TIMEOUT" \
		-detect_leaks=$leaks -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$B/artifacts/$t-" \
		"$B/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	new=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "fuzz: $t: ${execs:-?} executions in ${S} s, ${rate:-?} exec/s, ${cov:-cov: ?}, ${ft:-ft: ?}, ${new:-0} new inputs in $B/corpus/$t"
	else
		status=1
		echo "fuzz: $t: FOUND SOMETHING after ${execs:-?} executions (exit $rc); log $log:"
		grep -E 'contract broken|ERROR: |SUMMARY: |Test unit written|runtime error' "$log" | head -8 | sed 's/^/  /'
	fi
done
exit $status
