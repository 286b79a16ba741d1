build-dev/real/procfs.o: real/procfs.c real/procfs.h
real/procfs.h:
