build-dev/handler/variants.o: handler/variants.c handler/variants.h \
 handler/handler.h handler/sys.h handler/uffd_compat.h
handler/variants.h:
handler/handler.h:
handler/sys.h:
handler/uffd_compat.h:
