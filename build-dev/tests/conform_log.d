build-dev/tests/conform_log.o: tests/conform_log.c tests/conform.h \
 handler/sys.h handler/uffd_compat.h
tests/conform.h:
handler/sys.h:
handler/uffd_compat.h:
