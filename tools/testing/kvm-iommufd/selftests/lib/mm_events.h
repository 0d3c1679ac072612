/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host memory management in the VMM process under a device that cannot
 * fault: edu, attached to a KVM-sourced IOAS, must keep its DMA through
 * fork(), mprotect(), compaction, THP, KSM, aging and NUMA balancing.
 *
 * The VM is a shared_vm (16 MiB memfd slot 0, the real-mode guest) with a
 * second memslot, the test slot: MM_SLOT_SIZE bytes at MM_SLOT_GPA,
 * anonymous or memfd-backed, its host mapping 2 MiB-aligned.  edu is
 * attached in the mode the test asks for: SHARED (the default policy; the
 * attach must return SHARED) or PINNED (IOMMU_HWPT_ALLOC_KVM_PIN_ONLY).
 * The process runs without CAP_IPC_LOCK, so both modes charge their pins
 * (VmLck for SHARED, VmPin for PINNED).
 *
 * What the test slot must hold is kept in a shadow copy: every byte the test
 * writes there, with the CPU or with edu, goes into the shadow too.
 *
 * A probe moves bytes with edu through a pair of adjacent pages of the slot
 * (8 KiB, page P and P+1), so that each transfer crosses the page boundary:
 * the CPU writes fresh bytes (a new pattern each probe) across the
 * boundary, edu reads 4095 bytes around them into its buffer and writes
 * them back 1 KiB lower.  The pair must then hold what the shadow says: a
 * blocked or misdirected read (another page, a stale physical page without
 * the fresh bytes), or a write that lands elsewhere, leaves other bytes
 * there.  A read-only probe (while the slot is read-only) copies 4095
 * bytes of the pair through edu into a scratch page of slot 0 and compares
 * them with the shadow.
 *
 * The probes cover MM_NR_PAIRS pairs spread over the slot (its first and
 * last pages, the pair across the 2 MiB boundary in its middle, and one
 * in each half between), and the pairs a test adds where its event is
 * likeliest to strike (mm_add_pair()).  edu completes one transfer about
 * every 100 ms, so a probe of every page of the slot would take minutes;
 * the whole slot is
 * compared with the shadow instead, by the host and by the guest (a
 * checksum it computes over the slot through KVM's table), and every
 * page's PFN must stay what it was when edu was attached (the pages are
 * pinned: none may move or be merged away from the device).  After a
 * comparison that failed (and said where), the shadow takes what the slot
 * holds, so that the next case starts afresh.
 *
 * A test runs, per backing: mm_vm_begin() (case "<backing>_before": attach,
 * mode, a check), mm_event() for each event (cases "<backing>_<event>_during"
 * with a DMA loop in a thread while the event runs, and
 * "<backing>_<event>_after"), mm_vm_end() (case "<backing>_detach": pins
 * released).
 */
#ifndef KVM_IOMMUFD_MM_EVENTS_H
#define KVM_IOMMUFD_MM_EVENTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/iommufd_kvm.h>

#include "procfs.h"
#include "shared_vm.h"

/*
 * The mode a test binary attaches edu in: the PINNED variants (pinned_*)
 * are built from the same source with -DMM_EVENTS_PINNED.
 */
#ifdef MM_EVENTS_PINNED
#define MM_MODE			IOMMU_KVM_MODE_PINNED
#else
#define MM_MODE			IOMMU_KVM_MODE_SHARED
#endif

#define MM_SLOT			1
#define MM_SLOT_GPA		0x1000000UL	/* right after slot 0 */
#define MM_SLOT_SIZE		(4UL << 20)
#define MM_NR_PAGES		(MM_SLOT_SIZE / PAGE_SIZE)
#define MM_NR_PAIRS		5		/* spread: odd, one pair is the middle one */
#define MM_MAX_PAIRS		16		/* with those a test adds */

/* mm_check() / mm_event() flags */
#define MM_READS_ONLY		(1u << 0)	/* the slot is read-only: read probes only */
#define MM_DURING_READS_ONLY	(1u << 1)	/* mm_event(): the loop only reads */
#define MM_AFTER_READS_ONLY	(1u << 2)	/* mm_event(): so does the check after */

struct mm_vm {
	struct shared_vm s;
	uint32_t mode;
	enum vm_mem_backing backing;
	const char *name;		/* "anon" or "memfd" */
	uint8_t *mem;			/* host mapping of the test slot */
	uint8_t *shadow;		/* what the test slot must hold */
	uint64_t *pfns;			/* each page's PFN at attach, 0 if unknown */
	bool have_pfns;			/* pagemap shows PFNs */
	long charged_kb;		/* the attached device's pins at attach */
	unsigned int seq;		/* fresh pattern seeds */
	uint64_t pairs[MM_MAX_PAIRS];	/* GPAs of the probed pairs */
	unsigned int nr_pairs;

	/* the DMA loop (mm_loop_*) */
	pthread_t thread;
	unsigned int loop_flags;
	int stop;
	unsigned long probes, bad;	/* read and written atomically */
};

const char *mm_mode_name(uint32_t mode);

/*
 * Case "<backing>_before": VM, test slot, edu attached in @mode, a check.
 * @opts: MM_SMALL_PAGES, or 0.
 */
void mm_vm_begin(struct mm_vm *t, uint32_t mode, enum vm_mem_backing backing,
		 unsigned int opts);
/* Case "<backing>_detach": edu detached, pins released; VM freed. */
void mm_vm_end(struct mm_vm *t);

/*
 * mm_probe_pairs(): probe every pair (MM_READS_ONLY: read probes);
 * mm_check_slot(): compare the whole slot with the shadow (host view and
 * guest checksum), the PFNs and the charge; mm_check(): both.  Failures
 * are TEST_EXPECT()s of the open case.
 */
bool mm_probe_pairs(struct mm_vm *t, unsigned int flags);
bool mm_check_slot(struct mm_vm *t);
bool mm_check(struct mm_vm *t, unsigned int flags);

/*
 * For a GPA the device must not reach: edu writes EDU_DMA_MAX fresh bytes
 * to @gpa, then reads EDU_DMA_MAX bytes from @gpa into a zeroed scratch
 * page of slot 0 (a copy in @read).  Nothing is checked and the shadow is
 * left as it is.
 */
void mm_dma_at(struct mm_vm *t, uint64_t gpa, uint8_t *read);

/*
 * A DMA loop in a thread: probes (MM_READS_ONLY: read probes) of the
 * even-numbered spread pairs and the pairs added, in turn (the odd ones
 * are left alone until the check after), until mm_loop_stop(), which
 * fails the open case if a probe failed or fewer than three ran.
 */
void mm_loop_start(struct mm_vm *t, unsigned int flags);
/* Wait until the loop has finished @n more probes. */
void mm_loop_wait(struct mm_vm *t, unsigned int n);
void mm_loop_stop(struct mm_vm *t);

/*
 * Cases "<backing>_<name>_during" (the DMA loop runs; once it has finished
 * a probe, @event runs; two more probes after it returns) and
 * "<backing>_<name>_after" (mm_check()).  @event may use mm_loop_wait()
 * and TEST_*(); it returns false when it cannot run here, after
 * tap_skip() (the after case is skipped too).  Returns what @event did.
 */
typedef bool mm_event_fn(struct mm_vm *t, void *arg);
bool mm_event(struct mm_vm *t, const char *name, mm_event_fn *event, void *arg,
	      unsigned int flags);

/* One event of a test: see mm_event(); @prepare, if set, runs before the loop. */
struct mm_step {
	const char *name;
	mm_event_fn *event;
	void *arg;
	unsigned int flags;
	void (*prepare)(struct mm_vm *t);
};

/* mm_main() backings, and the option of mm_vm_begin() */
#define MM_ANON			(1u << VM_MEM_ANON)
#define MM_MEMFD		(1u << VM_MEM_MEMFD)
/* MADV_NOHUGEPAGE before the slot is filled: no transparent huge pages */
#define MM_SMALL_PAGES		(1u << 8)

/*
 * A whole test: the plan, then for each of @backings: mm_vm_begin() (with
 * the option in @backings), mm_event() of each step, mm_vm_end();
 * tap_finish().
 */
__noreturn void mm_main(uint32_t mode, unsigned int backings, const struct mm_step *steps,
			unsigned int n);

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * The CPU writes the whole slot (and the shadow): each page its own
 * pattern, or (@identical) every page the same bytes.
 */
void mm_fill(struct mm_vm *t, bool identical);
/*
 * Probe the pair at @gpa (page-aligned, in the test slot) too, from now on:
 * in every check and in the DMA loop.
 */
void mm_add_pair(struct mm_vm *t, uint64_t gpa);
/* Host address of a test slot GPA. */
uint8_t *mm_hva(struct mm_vm *t, uint64_t gpa);
/* A diagnostic: how many pages of the test slot are in huge pages. */
void mm_huge_diag(struct mm_vm *t);
/*
 * The VMM dropped the page at @gpa: from now on the slot holds zeros there
 * (what a new page of either backing reads) and its PFN may change.
 */
void mm_page_dropped(struct mm_vm *t, uint64_t gpa);

#endif /* KVM_IOMMUFD_MM_EVENTS_H */
