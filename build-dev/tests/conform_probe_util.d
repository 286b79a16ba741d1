build-dev/tests/conform_probe_util.o: tests/conform_probe_util.c \
 tests/conform_probe_util.h handler/uffd_compat.h tests/conform.h \
 handler/sys.h handler/uffd_compat.h
tests/conform_probe_util.h:
handler/uffd_compat.h:
tests/conform.h:
handler/sys.h:
handler/uffd_compat.h:
