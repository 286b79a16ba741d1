build-dev/real/sys_real.o: real/sys_real.c real/sys_real.h handler/sys.h \
 handler/uffd_compat.h real/pool.h
real/sys_real.h:
handler/sys.h:
handler/uffd_compat.h:
real/pool.h:
