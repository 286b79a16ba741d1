/* tests/conform_probes.h — the probe functions behind the table in
 * tests/conform_probes.c, one group per tests/conform_probes_*.c file.
 * Contract: each drives one struct cenv from open() to its last
 * observation, as tests/conform.h describes; none asserts.
 */
#ifndef UFFDLAB_TESTS_CONFORM_PROBES_H
#define UFFDLAB_TESTS_CONFORM_PROBES_H

#include "tests/conform.h"

void cprobe_read_order(struct cenv *e, struct clog *L);
void cprobe_poll(struct cenv *e, struct clog *L);
void cprobe_fault_threads(struct cenv *e, struct clog *L);
void cprobe_wake(struct cenv *e, struct clog *L);
void cprobe_signals(struct cenv *e, struct clog *L);
void cprobe_kernel_access(struct cenv *e, struct clog *L);
void cprobe_sigbus(struct cenv *e, struct clog *L);
void cprobe_release(struct cenv *e, struct clog *L);
void cprobe_unregister(struct cenv *e, struct clog *L);
void cprobe_partial(struct cenv *e, struct clog *L);
void cprobe_validation(struct cenv *e, struct clog *L);
void cprobe_field_untouched(struct cenv *e, struct clog *L);
void cprobe_zeropage(struct cenv *e, struct clog *L);
void cprobe_mmap_changing(struct cenv *e, struct clog *L);
void cprobe_remove(struct cenv *e, struct clog *L);
void cprobe_no_event_remove(struct cenv *e, struct clog *L);
void cprobe_remove_vmas(struct cenv *e, struct clog *L);
void cprobe_unmap(struct cenv *e, struct clog *L);
void cprobe_remove_race(struct cenv *e, struct clog *L);
void cprobe_wp(struct cenv *e, struct clog *L);
void cprobe_wp_unpopulated(struct cenv *e, struct clog *L);
void cprobe_wp_async(struct cenv *e, struct clog *L);
void cprobe_zeropage_marker(struct cenv *e, struct clog *L);
void cprobe_zeropage_marker_async(struct cenv *e, struct clog *L);
void cprobe_hugetlb(struct cenv *e, struct clog *L);
void cprobe_hugetlb_wp(struct cenv *e, struct clog *L);
void cprobe_copy_source(struct cenv *e, struct clog *L);
void cprobe_source_read(struct cenv *e, struct clog *L);
void cprobe_api(struct cenv *e, struct clog *L);
void cprobe_poison(struct cenv *e, struct clog *L);
void cprobe_move(struct cenv *e, struct clog *L);
void cprobe_sigbus_wp(struct cenv *e, struct clog *L);
void cprobe_vma_merge(struct cenv *e, struct clog *L);
void cprobe_remap(struct cenv *e, struct clog *L);
void cprobe_proc(struct cenv *e, struct clog *L);
void cprobe_fill_remove(struct cenv *e, struct clog *L);
void cprobe_fork(struct cenv *e, struct clog *L);
void cprobe_fork_plain(struct cenv *e, struct clog *L);
void cprobe_exit(struct cenv *e, struct clog *L);

#endif
