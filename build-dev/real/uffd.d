build-dev/real/uffd.o: real/uffd.c real/uffd.h handler/uffd_compat.h
real/uffd.h:
handler/uffd_compat.h:
