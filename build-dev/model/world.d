build-dev/model/world.o: model/world.c model/world.h sched/sched.h \
 sched/event.h scenarios/scenario.h handler/handler.h handler/sys.h \
 handler/uffd_compat.h model/event.h model/invariant.h model/oracle.h \
 model/kernel.h handler/sys.h model/content.h
model/world.h:
sched/sched.h:
sched/event.h:
scenarios/scenario.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
model/event.h:
model/invariant.h:
model/oracle.h:
model/kernel.h:
handler/sys.h:
model/content.h:
