build-dev/handler/tracker.o: handler/tracker.c handler/tracker.h \
 handler/sys.h handler/uffd_compat.h
handler/tracker.h:
handler/sys.h:
handler/uffd_compat.h:
