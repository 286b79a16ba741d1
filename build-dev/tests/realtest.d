build-dev/tests/realtest.o: tests/realtest.c tests/realtest.h \
 real/hugepages.h real/region.h real/snapshot.h real/uffd.h \
 handler/uffd_compat.h real/watchdog.h
tests/realtest.h:
real/hugepages.h:
real/region.h:
real/snapshot.h:
real/uffd.h:
handler/uffd_compat.h:
real/watchdog.h:
