build-dev/real/hugepages.o: real/hugepages.c real/hugepages.h
real/hugepages.h:
