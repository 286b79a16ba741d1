build-dev/handler/handler.o: handler/handler.c handler/handler.h \
 handler/sys.h handler/uffd_compat.h
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
