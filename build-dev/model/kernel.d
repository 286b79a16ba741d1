build-dev/model/kernel.o: model/kernel.c model/kernel_impl.h \
 handler/sys.h handler/uffd_compat.h model/event.h sched/event.h \
 sched/sched.h model/kernel.h model/content.h model/sys_model.h
model/kernel_impl.h:
handler/sys.h:
handler/uffd_compat.h:
model/event.h:
sched/event.h:
sched/sched.h:
model/kernel.h:
model/content.h:
model/sys_model.h:
