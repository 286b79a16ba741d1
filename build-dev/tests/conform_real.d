build-dev/tests/conform_real.o: tests/conform_real.c tests/conform.h \
 handler/sys.h handler/uffd_compat.h real/region.h real/snapshot.h \
 real/uffd.h handler/uffd_compat.h real/sys_real.h real/procfs.h
tests/conform.h:
handler/sys.h:
handler/uffd_compat.h:
real/region.h:
real/snapshot.h:
real/uffd.h:
handler/uffd_compat.h:
real/sys_real.h:
real/procfs.h:
