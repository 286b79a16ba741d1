build-dev/real/stress.o: real/stress.c real/stress.h scenarios/scenario.h \
 real/hw_oracle.h model/invariant.h handler/handler.h handler/sys.h \
 handler/uffd_compat.h model/oracle.h model/content.h real/harness.h \
 real/region.h real/snapshot.h real/uffd.h handler/uffd_compat.h \
 real/sys_real.h handler/sys.h
real/stress.h:
scenarios/scenario.h:
real/hw_oracle.h:
model/invariant.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
model/oracle.h:
model/content.h:
real/harness.h:
real/region.h:
real/snapshot.h:
real/uffd.h:
handler/uffd_compat.h:
real/sys_real.h:
handler/sys.h:
