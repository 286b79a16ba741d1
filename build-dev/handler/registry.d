build-dev/handler/registry.o: handler/registry.c handler/handler.h \
 handler/sys.h handler/uffd_compat.h handler/e2b.h handler/tracker.h \
 handler/variants.h
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
handler/e2b.h:
handler/tracker.h:
handler/variants.h:
