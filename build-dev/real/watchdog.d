build-dev/real/watchdog.o: real/watchdog.c real/watchdog.h \
 real/hugepages.h
real/watchdog.h:
real/hugepages.h:
