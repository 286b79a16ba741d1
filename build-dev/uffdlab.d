build-dev/uffdlab: uffdlab.c driver.h sched/sched.h sched/event.h \
 uffdlab.h handler/handler.h handler/sys.h handler/uffd_compat.h \
 handler/variants.h model/invariant.h handler/handler.h model/oracle.h \
 scenarios/lex.h scenarios/library.h scenarios/scenario.h \
 sched/strategy.h sched/rng.h sched/sched.h real/stress.h \
 scenarios/scenario.h viz/viz.h sched/trace.h model/version.h \
 sched/trace.h
driver.h:
sched/sched.h:
sched/event.h:
uffdlab.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
handler/variants.h:
model/invariant.h:
handler/handler.h:
model/oracle.h:
scenarios/lex.h:
scenarios/library.h:
scenarios/scenario.h:
sched/strategy.h:
sched/rng.h:
sched/sched.h:
real/stress.h:
scenarios/scenario.h:
viz/viz.h:
sched/trace.h:
model/version.h:
sched/trace.h:
