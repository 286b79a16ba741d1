build-dev/real/confirm.o: real/confirm.c real/confirm.h real/shapes.h \
 real/harness.h handler/handler.h handler/sys.h handler/uffd_compat.h \
 real/region.h real/snapshot.h real/uffd.h handler/uffd_compat.h \
 real/sys_real.h handler/sys.h
real/confirm.h:
real/shapes.h:
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
