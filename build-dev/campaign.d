build-dev/campaign.o: campaign.c driver.h sched/sched.h sched/event.h \
 handler/handler.h handler/sys.h handler/uffd_compat.h handler/variants.h \
 real/confirm.h real/shapes.h real/shapes.h real/stress.h \
 scenarios/scenario.h scenarios/lex.h scenarios/library.h \
 scenarios/scenario.h
driver.h:
sched/sched.h:
sched/event.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
handler/variants.h:
real/confirm.h:
real/shapes.h:
real/shapes.h:
real/stress.h:
scenarios/scenario.h:
scenarios/lex.h:
scenarios/library.h:
scenarios/scenario.h:
