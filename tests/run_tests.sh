#!/usr/bin/env bash
# Runs every cmocka test binary of $BUILD/tests and prints one closing line:
# "N passed, N failed, N skipped". UFFDLAB_TESTS=real limits to test_real_*.
set -u
BUILD=${BUILD:-build}
pat='test_*'
[ "${UFFDLAB_TESTS:-}" = real ] && pat='test_real_*'
pass=0; fail=0; skip=0; bad=""
for t in "$BUILD"/tests/$pat; do
  [ -x "$t" ] || continue
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
  if [ $rc -ne 0 ]; then
    [ -z "$f" ] && fail=$((fail + 1))
    bad="$bad $(basename "$t")"
  fi
done
[ -n "$bad" ] && echo "failing binaries:$bad"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ -z "$bad" ]
