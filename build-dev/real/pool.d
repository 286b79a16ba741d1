build-dev/real/pool.o: real/pool.c real/pool.h
real/pool.h:
