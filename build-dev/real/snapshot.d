build-dev/real/snapshot.o: real/snapshot.c real/snapshot.h
real/snapshot.h:
