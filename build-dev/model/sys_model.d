build-dev/model/sys_model.o: model/sys_model.c model/kernel_impl.h \
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
