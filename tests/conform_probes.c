/* tests/conform_probes.c — the table of conformance probes: each re-creates
 * one of docs/KERNEL.md's real-kernel experiments (p01-p12) as a program against
 * a probe environment (tests/conform.h), so that the simulated and the
 * real kernel can be asked the same questions. The probes themselves live
 * in tests/conform_probes_*.c, grouped by subject.
 */
#include "tests/conform_probes.h"

#include <string.h>

#include "tests/conform_probe_util.h"

const struct cprobe conform_probes[] = {
	{"read_order", cprobe_read_order, KB4, "1 2 3 4"},
	{"poll", cprobe_poll, KB4, "5"},
	{"fault_threads", cprobe_fault_threads, KB4, "6 7"},
	{"wake", cprobe_wake, KB4, "8 9 11 15 19"},
	{"partial", cprobe_partial, KB4, "14 15"},
	{"validation", cprobe_validation, KB4, "17 19"},
	{"field_untouched", cprobe_field_untouched, KB4, "sys.h fields"},
	{"zeropage", cprobe_zeropage, KB4, "18"},
	{"mmap_changing", cprobe_mmap_changing, KB4, "13 29"},
	{"remove", cprobe_remove, KB4, "21 22 23 24 26 31"},
	{"no_event_remove", cprobe_no_event_remove, KB4, "27"},
	{"wp", cprobe_wp, KB4, "9 24 33 34 35"},
	{"wp_unpopulated", cprobe_wp_unpopulated, KB4, "24 35"},
	{"wp_async", cprobe_wp_async, KB4, "36"},
	{"zeropage_marker", cprobe_zeropage_marker, KB4, "14 18 35"},
	{"zeropage_marker_async", cprobe_zeropage_marker_async, KB4, "14 18 36"},
	{"release", cprobe_release, KB4, "40"},
	{"unregister", cprobe_unregister, KB4, "20"},
	{"unmap", cprobe_unmap, KB4, "37 21"},
	{"signals", cprobe_signals, KB4, "10 28"},
	{"kernel_access", cprobe_kernel_access, KB4, "12"},
	{"sigbus", cprobe_sigbus, KB4, "41"},
	{"remove_vmas", cprobe_remove_vmas, KB4, "21"},
	{"hugetlb", cprobe_hugetlb, MB2, "30 31"},
	{"hugetlb_wp", cprobe_hugetlb_wp, MB2, "32"},
	{"copy_source", cprobe_copy_source, KB4, "14"},
	{"source_read", cprobe_source_read, KB4, "14 sys.h source"},
	{"api", cprobe_api, KB4, "A5 42"},
	{"poison", cprobe_poison, KB4, "42"},
	{"move", cprobe_move, KB4, "42"},
	{"sigbus_wp", cprobe_sigbus_wp, KB4, "41"},
	{"vma_merge", cprobe_vma_merge, KB4, "21"},
	{"remap", cprobe_remap, KB4, "37 38"},
	{"proc", cprobe_proc, KB4, "43"},
	{"fork", cprobe_fork, KB4, "39 4"},
	{"fork_plain", cprobe_fork_plain, KB4, "39"},
	{"exit", cprobe_exit, KB4, "44 17"},
	{NULL, NULL, 0, NULL},
};

const struct cprobe conform_probe_remove_race = {
	"remove_race", cprobe_remove_race, KB4, "25",
};

const struct cprobe conform_probe_fill_remove = {
	"fill_remove", cprobe_fill_remove, KB4, "16",
};

const struct cprobe *conform_probe(const char *name)
{
	for (const struct cprobe *p = conform_probes; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	if (strcmp(name, conform_probe_remove_race.name) == 0)
		return &conform_probe_remove_race;
	if (strcmp(name, conform_probe_fill_remove.name) == 0)
		return &conform_probe_fill_remove;
	return NULL;
}
