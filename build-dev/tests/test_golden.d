build-dev/tests/test_golden: tests/test_golden.c model/version.h
model/version.h:
