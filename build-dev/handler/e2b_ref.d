build-dev/handler/e2b_ref.o: handler/e2b_ref.c handler/e2b.h \
 handler/handler.h handler/sys.h handler/uffd_compat.h handler/tracker.h \
 handler/variants.h
handler/e2b.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
handler/tracker.h:
handler/variants.h:
