build-dev/real/harness.o: real/harness.c real/harness.h handler/handler.h \
 handler/sys.h handler/uffd_compat.h real/region.h real/snapshot.h \
 real/uffd.h handler/uffd_compat.h real/sys_real.h handler/sys.h \
 real/hugepages.h
real/harness.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
real/region.h:
real/snapshot.h:
real/uffd.h:
handler/uffd_compat.h:
real/sys_real.h:
handler/sys.h:
real/hugepages.h:
