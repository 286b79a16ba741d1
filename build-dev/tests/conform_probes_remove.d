build-dev/tests/conform_probes_remove.o: tests/conform_probes_remove.c \
 tests/conform_probes.h tests/conform.h handler/sys.h \
 handler/uffd_compat.h tests/conform_probe_util.h handler/uffd_compat.h
tests/conform_probes.h:
tests/conform.h:
handler/sys.h:
handler/uffd_compat.h:
tests/conform_probe_util.h:
handler/uffd_compat.h:
