build-dev/model/invariant.o: model/invariant.c model/invariant.h \
 handler/handler.h handler/sys.h handler/uffd_compat.h model/oracle.h \
 model/content.h
model/invariant.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
model/oracle.h:
model/content.h:
