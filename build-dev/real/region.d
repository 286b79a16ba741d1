build-dev/real/region.o: real/region.c real/region.h real/snapshot.h \
 real/uffd.h handler/uffd_compat.h real/hugepages.h
real/region.h:
real/snapshot.h:
real/uffd.h:
handler/uffd_compat.h:
real/hugepages.h:
