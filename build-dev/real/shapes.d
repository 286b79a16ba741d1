build-dev/real/shapes.o: real/shapes.c real/shapes.h handler/handler.h \
 handler/sys.h handler/uffd_compat.h real/shape_ctx.h real/harness.h \
 real/region.h real/snapshot.h real/uffd.h handler/uffd_compat.h \
 real/sys_real.h handler/sys.h real/hugepages.h real/watchdog.h
real/shapes.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
real/shape_ctx.h:
real/harness.h:
real/region.h:
real/snapshot.h:
real/uffd.h:
handler/uffd_compat.h:
real/sys_real.h:
handler/sys.h:
real/hugepages.h:
real/watchdog.h:
