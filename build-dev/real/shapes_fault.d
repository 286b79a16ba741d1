build-dev/real/shapes_fault.o: real/shapes_fault.c real/shape_ctx.h \
 real/harness.h handler/handler.h handler/sys.h handler/uffd_compat.h \
 real/region.h real/snapshot.h real/uffd.h handler/uffd_compat.h \
 real/sys_real.h handler/sys.h real/hugepages.h real/shapes.h
real/shape_ctx.h:
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
real/shapes.h:
