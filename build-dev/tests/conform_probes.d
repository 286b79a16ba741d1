build-dev/tests/conform_probes.o: tests/conform_probes.c \
 tests/conform_probes.h tests/conform.h handler/sys.h \
 handler/uffd_compat.h tests/conform_probe_util.h handler/uffd_compat.h
tests/conform_probes.h:
tests/conform.h:
handler/sys.h:
handler/uffd_compat.h:
tests/conform_probe_util.h:
handler/uffd_compat.h:
