build-dev/tests/test_shard: tests/test_shard.c
