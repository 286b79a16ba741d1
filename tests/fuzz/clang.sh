#!/bin/sh
# tests/fuzz/clang.sh — make sure clang can build a libFuzzer target; on a
# Debian machine, as root, install what is missing (clang, then the
# compiler-rt package that holds libFuzzer if clang came without it).
# Only `make fuzz` needs this: `make test` builds with cc.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
probe() {
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	  'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	  > "$tmp/p.c"
	clang -fsanitize=fuzzer,address,undefined "$tmp/p.c" -o "$tmp/p" >/dev/null 2>&1
}
command -v clang >/dev/null 2>&1 && probe && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "fuzz: clang with libFuzzer is missing (as root: apt-get install clang)"
	exit 1
fi
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: installing clang"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null || exit 1
fi
probe && exit 0
v=$(clang -dumpversion | cut -d. -f1)
echo "fuzz: installing libclang-rt-$v-dev (libFuzzer)"
apt-get update -qq || exit 1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "libclang-rt-$v-dev" >/dev/null || exit 1
probe && exit 0
echo "fuzz: clang cannot link a -fsanitize=fuzzer program"
exit 1
