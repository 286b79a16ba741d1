build-dev/tests/test_cli: tests/test_cli.c
