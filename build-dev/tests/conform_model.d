build-dev/tests/conform_model.o: tests/conform_model.c tests/conform.h \
 handler/sys.h handler/uffd_compat.h model/kernel.h sched/sched.h \
 sched/event.h model/content.h model/sys_model.h
tests/conform.h:
handler/sys.h:
handler/uffd_compat.h:
model/kernel.h:
sched/sched.h:
sched/event.h:
model/content.h:
model/sys_model.h:
