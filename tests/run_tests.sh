#!/usr/bin/env bash
# Runs every cmocka test binary of $BUILD/tests and prints one closing line:
# "N passed, N failed, N skipped". UFFDLAB_TESTS=real limits to test_real_*.
# Each binary gets UFFDLAB_TEST_TIMEOUT seconds (default 600): a hung one
# is killed, reported by name, and the run goes on. The whole run is also
# written as JUnit XML to $BUILD/test-results.xml (UFFDLAB_JUNIT overrides),
# one testcase per cmocka test, for CI systems that read it.
set -u
BUILD=${BUILD:-build}
TIMEOUT=${UFFDLAB_TEST_TIMEOUT:-600}
JUNIT=${UFFDLAB_JUNIT:-$BUILD/test-results.xml}
pat='test_*'
[ "${UFFDLAB_TESTS:-}" = real ] && pat='test_real_*'
pass=0; fail=0; skip=0; bad=""; failed_names=""
cases=$(mktemp); trap 'rm -f "$cases"' EXIT

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }

# One <testcase> per "[ RUN ] name" of a binary's output, with its outcome.
junit_cases() { # binary-name output-file
  awk -v suite="$1" '
    function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s); return s }
    /^\[ RUN      \] / { name = substr($0, 14); msg = ""; next }
    /^\[       OK \] / { printf "  <testcase classname=\"%s\" name=\"%s\"/>\n", suite, esc(substr($0, 14)); name = ""; next }
    /^\[  SKIPPED \] / && name != "" { printf "  <testcase classname=\"%s\" name=\"%s\"><skipped/></testcase>\n", suite, esc(name); name = ""; next }
    /^\[  FAILED  \] / && name != "" { printf "  <testcase classname=\"%s\" name=\"%s\"><failure message=\"%s\"/></testcase>\n", suite, esc(name), esc(msg); name = ""; next }
    name != "" && msg == "" && NF { msg = $0 }
    END { if (name != "") printf "  <testcase classname=\"%s\" name=\"%s\"><error message=\"did not finish (crash or timeout)\"/></testcase>\n", suite, esc(name) }
  ' "$2"
}

for t in "$BUILD"/tests/$pat; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  out=$(timeout --kill-after=10 "$TIMEOUT" "$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
  printf '%s\n' "$out" > "$cases.out"
  junit_cases "$name" "$cases.out" >> "$cases"
  failed_names="$failed_names$(printf '%s\n' "$out" | sed -n "s/^\[  FAILED  \] \([a-z_0-9]*\)$/  $name: \1/p")"$'\n'
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "TIMEOUT: $name killed after ${TIMEOUT}s"
    fail=$((fail + 1)); bad="$bad $name(timeout)"
  elif [ $rc -ne 0 ]; then
    [ -z "$f" ] && fail=$((fail + 1))
    bad="$bad $name"
  fi
done
rm -f "$cases.out"
mkdir -p "$(dirname "$JUNIT")"
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  printf '<testsuite name="uffdlab" tests="%d" failures="%d" skipped="%d">\n' \
    "$(grep -c '<testcase' "$cases")" "$fail" "$skip"
  cat "$cases"
  echo '</testsuite>'
} > "$JUNIT"
names=$(printf '%s' "$failed_names" | grep -v '^$' | sort -u)
[ -n "$names" ] && { echo "failed tests:"; printf '%s\n' "$names"; }
[ -n "$bad" ] && echo "failing binaries:$bad"
echo "JUnit XML: $JUNIT"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ -z "$bad" ]
