/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The zap / walk / invalidate / free protocol of a SHARED domain, as a
 * Promela model for spin.  run-spin.sh checks it exhaustively, and checks
 * that each mutant below yields a counterexample.
 *
 * An IOMMU walks KVM's own TDP table.  KVM removes translations (zaps a
 * leaf) and unlinks table pages; before the page a removed translation
 * pointed at, or an unlinked table page, is freed and can be reused, the
 * IOMMU must have dropped every cached copy and finished every walk that
 * could still use it.  The model shrinks the table to what the protocol
 * needs: a root that is never freed (the x86 exporter keeps its root for
 * the VM's life), holding one entry that points at a table page, holding
 * one leaf entry that points at a guest page.  Pages come from a pool of
 * NPAGES physical pages shared by everyone, so a freed page is reused.
 *
 * Processes
 *
 * kvm		The TDP MMU with mmu_lock held, and the exporter
 *		(patches/0003-kvm-tdp-export.patch, arch/x86/kvm-iommu/tdp_export.c).  Loops over:
 *		- populate: allocate a zeroed table page and link it into the
 *		  root, or allocate a guest page and install the leaf (a vCPU
 *		  fault or kvm_tdp_export_map(); making an entry present is
 *		  not invalidated);
 *		- zap the leaf: clear it, record the pending invalidation
 *		  (kvm_tdp_export_record()), flush, then the page is freed
 *		  (the mm frees it once the MMU notifier returned);
 *		- unlink the table, inside an RCU read-side section: clear the
 *		  root entry and record it with KVM_TDP_INV_TABLES, then clear
 *		  the table's leaf and hand the table page to call_rcu()
 *		  (handle_removed_pt()), flush before rcu_read_unlock(), then
 *		  the guest page that was mapped under it is freed.
 *		Flush is kvm_tdp_export_flush() -> the importer's
 *		->invalidate() -> kvm_iommu_vtd_flush_range(): one invalidation
 *		descriptor (invalidation hint set, i.e. leaf only, unless
 *		tables were unlinked) and one wait descriptor go to the queue
 *		together, and the call returns once the wait descriptor
 *		completed.
 * rcu		The grace period: frees an unlinked table page once the
 *		read-side section that was running when it was queued has
 *		ended.  KVM is the only reader; the IOMMU is not an RCU reader,
 *		which is the point: only the invalidation keeps it off freed
 *		tables.
 * allocator	Everybody else: takes free pages (any of them) and gives them
 *		back.  With kvm's own populate this makes freed pages reused,
 *		as tables or as guest pages.
 * dma		A device's DMA request and the IOMMU's translation of it: an
 *		IOTLB hit gives the page; otherwise the root level comes from
 *		the paging-structure cache or from the root entry in memory
 *		(and may fill that cache), then the table page is read (and
 *		the IOTLB may be filled), then the page is accessed.  A
 *		non-present entry ends the request with a fault and caches
 *		nothing.  The steps are separate, so KVM and the invalidation
 *		queue interleave with every one of them.
 * qi_engine	The IOMMU's queued-invalidation engine: takes descriptors in
 *		order.  An invalidation drops the IOTLB entry and, without
 *		the invalidation hint, the paging-structure cache entry (the
 *		model has one address, which every range covers); a wait
 *		descriptor writes its status once everything before it is done.
 *
 * Hardware assumption (what VT-d guarantees and this protocol relies on)
 *
 * When a wait descriptor completes, the invalidations before it are
 * complete, and completion covers translations in flight: a walk or a
 * translated request that started before an invalidation was processed
 * either finishes its memory access before the wait completes, or is
 * restarted; it never puts what it read into a cache after the
 * invalidation dropped that cache, and it never continues, after the wait
 * completed, with table pointers or translations it read before.  For
 * translated requests this is the draining an IOTLB invalidation performs
 * (the DR/DW fields, which vtd.c sets whenever the unit reports DRD/DWD);
 * for page walks in flight it is an assumption, the one every IOMMU driver
 * that frees IO page-table pages once its IOTLB flush returned makes too.
 * The model implements it as: processing an invalidation marks the walk
 * in flight as old; an old walk fills no cache; a wait descriptor
 * completes only when no old walk is in flight.  MUTANT_HW_NO_DRAIN drops
 * the assumption, to show that the protocol depends on it.
 *
 * Not modelled: caching of non-present entries (VT-d caching mode; the
 * contract leaves that to the importer), the device TLB (the product does
 * not share with ATS devices yet), root replacement (the x86 exporter
 * never replaces the root), concurrent KVM flushers under mmu_lock held
 * for read (one kvm process), and memory ordering (interleavings are
 * sequentially consistent).  Cache eviction needs no step of its own: a
 * fill is optional, and not filling is the same as evicting.
 *
 * Properties (assertions; pan also reports invalid end states)
 *
 * - A DMA accesses a page only while the translation it used is live:
 *   the page is a guest page and has not been freed since the translation
 *   was read from KVM's table (not reused for anything in between).
 * - A walk reads a table page only while it is one: linked, or unlinked
 *   and waiting for its grace period, and not freed since the walk (or the
 *   paging-structure cache it used) read the pointer to it.
 * - The contract: the RCU callback frees an unlinked table page only after
 *   the importer's ->invalidate() for its unlink returned.
 * "Freed since" is tracked with ghost bits: freeing a page marks every
 * cached or in-flight reference to it dead.
 *
 * Mutants (spin -D...; each must produce a counterexample)
 *
 * MUTANT_NO_WAIT	the flush sends the invalidation and returns without
 *			a wait descriptor: pages are freed while the IOMMU
 *			may still hold them.
 * MUTANT_NO_TABLE_INV	an unlink is recorded without KVM_TDP_INV_TABLES:
 *			the importer sets the invalidation hint, so the
 *			paging-structure cache keeps pointing at the
 *			unlinked table after it is freed.
 * MUTANT_FLUSH_AFTER_RCU  the unlink is flushed only after
 *			rcu_read_unlock(), as if kvm_tdp_mmu_zap_root() did
 *			not flush inside its read-side section.
 * MUTANT_HW_NO_DRAIN	the hardware assumption above removed: in-flight
 *			walks are not drained by the wait descriptor and may
 *			fill caches after an invalidation.
 *
 * Size: NPAGES = 4 pages (two tables, the one awaiting its grace period
 * and its successor, each with a guest page) gives some 18,000 states,
 * searched exhaustively in a fraction of a second.  By hand:
 *	spin -a [-DMUTANT_...] protocol.pml && gcc -DSAFETY -o pan pan.c && ./pan
 *	spin -t -p [-DMUTANT_...] protocol.pml	(replays pan's trail)
 */

#define NPAGES		4	/* the pool; PICK and ANY below spell it out */

/* pstate[]: what a physical page is */
#define FREE		0
#define TABLE		1	/* a table page linked into the root */
#define UNLINKED	2	/* a table page waiting for its grace period */
#define DATA		3	/* a guest page mapped by the leaf */
#define OTHER		4	/* reused by someone else */

mtype = { INV, WAIT };

/* Memory.  Page numbers are 1..NPAGES; 0 is "no page". */
byte pstate[NPAGES + 1];
byte root_e;			/* the root's entry: a table page or 0 */
byte tab_e[NPAGES + 1];		/* a table page's leaf: a guest page or 0 */

/* KVM's pending invalidation (struct kvm_tdp_export_state) */
bit pend;
bit pend_tables;		/* KVM_TDP_INV_TABLES */

/* RCU: kvm is the only reader */
bit in_rcu;
bit gp_wait[NPAGES + 1];	/* queued while the reader was inside */

/* ghost: table pages whose unlink the importer has not invalidated yet */
bit owed[NPAGES + 1];

/* IOMMU: invalidation queue, caches, the walk in flight */
chan qi = [2] of { mtype, bit };	/* descriptor, invalidation hint */
bit wait_done;			/* the wait descriptor's status write */
byte iotlb;			/* cached translation: a guest page or 0 */
byte psc;			/* cached root entry: a table page or 0 */
bit walking;			/* a DMA request is being translated */
bit walk_old;			/* ...and started before an invalidation */
byte w_t;			/* table page the walk is about to read */
byte w_d;			/* page the request is about to access */

/* ghost: the referenced page was freed after the reference was taken */
bit iotlb_dead, psc_dead, w_tdead, w_ddead;

#define IS_FREE(i)	(pstate[i] == FREE)
#define IS_OTHER(i)	(pstate[i] == OTHER)
#define RCU_DUE(i)	(pstate[i] == UNLINKED && !gp_wait[i])
#define LIVE_TABLE(i)	(pstate[i] == TABLE || pstate[i] == UNLINKED)

/* Whether some page satisfies c; pick any such page (nondeterministically). */
#define ANY(c)		(c(1) || c(2) || c(3) || c(4))
#define PICK(p, c)	if :: c(1) -> p = 1 :: c(2) -> p = 2 \
			   :: c(3) -> p = 3 :: c(4) -> p = 4 fi

inline free_page(p)
{
	pstate[p] = FREE;
	tab_e[p] = 0;
	if :: iotlb == p -> iotlb_dead = 1 :: else fi;
	if :: psc == p -> psc_dead = 1 :: else fi;
	if :: w_t == p -> w_tdead = 1 :: else fi;
	if :: w_d == p -> w_ddead = 1 :: else fi
}

/* kvm_tdp_export_record() */
inline record(tables)
{
	pend = 1;
	pend_tables = pend_tables || tables
}

/* The pending invalidation was delivered: the importer returned. */
inline flush_done()
{
	pend = 0;
	pend_tables = 0;
	owed[1] = 0; owed[2] = 0; owed[3] = 0; owed[4] = 0
}

/*
 * kvm_tdp_export_flush(): the importer's ->invalidate() submits one
 * invalidation and one wait descriptor and returns when the wait completed.
 */
inline flush()
{
	if
	:: pend ->
#ifdef MUTANT_NO_WAIT
		atomic { qi ! INV, !pend_tables; flush_done() }
#else
		atomic { qi ! INV, !pend_tables; qi ! WAIT, 0 };
		atomic { wait_done -> wait_done = 0; flush_done() }
#endif
	:: else
	fi
}

inline rcu_read_unlock()
{
	in_rcu = 0;
	gp_wait[1] = 0; gp_wait[2] = 0; gp_wait[3] = 0; gp_wait[4] = 0
}

active proctype kvm()
{
	byte t, d, p;

end_kvm:
	do
	:: atomic {	/* fault in a table page */
		root_e == 0 && ANY(IS_FREE) ->
		PICK(p, IS_FREE);
		pstate[p] = TABLE; tab_e[p] = 0; root_e = p; p = 0
	   }
	:: atomic {	/* fault in the guest page */
		root_e != 0 && tab_e[root_e] == 0 && ANY(IS_FREE) ->
		PICK(p, IS_FREE);
		pstate[p] = DATA; tab_e[root_e] = p; p = 0
	   }
	:: atomic {	/* zap the leaf */
		root_e != 0 && tab_e[root_e] != 0 ->
		t = root_e; d = tab_e[t];
		tab_e[t] = 0;
		record(0)
	   };
	   flush();
	   atomic { free_page(d); t = 0; d = 0 }
	:: atomic {	/* unlink the table */
		root_e != 0 ->
		in_rcu = 1;
		t = root_e;
		root_e = 0;
#ifdef MUTANT_NO_TABLE_INV
		record(0)
#else
		record(1)
#endif
		; owed[t] = 1
	   };
	   atomic {	/* handle_removed_pt(): the children, then call_rcu() */
		d = tab_e[t];
		tab_e[t] = 0;
		pstate[t] = UNLINKED;
		gp_wait[t] = in_rcu
	   };
#ifdef MUTANT_FLUSH_AFTER_RCU
	   rcu_read_unlock();
	   flush();
#else
	   flush();
	   rcu_read_unlock();
#endif
	   atomic {
		if :: d != 0 -> free_page(d) :: else fi;
		t = 0; d = 0
	   }
	od
}

active proctype rcu()
{
	byte p;

end_rcu:
	do
	:: atomic {
		PICK(p, RCU_DUE);
		assert(!owed[p]);	/* table freed before ->invalidate() returned */
		free_page(p); p = 0
	   }
	od
}

active proctype allocator()
{
	byte p;

end_alloc:
	do
	:: atomic { PICK(p, IS_FREE); pstate[p] = OTHER; p = 0 }
	:: atomic { PICK(p, IS_OTHER); pstate[p] = FREE; p = 0 }
	od
}

active proctype dma()
{
end_dma:
	do
	:: atomic {	/* a request arrives: IOTLB, else the root level */
		walking = 1;
		if
		:: iotlb != 0 ->
			w_d = iotlb; w_ddead = iotlb_dead;
			goto access
		:: else
		fi;
		if
		:: psc != 0 ->
			w_t = psc; w_tdead = psc_dead
		:: else ->
			w_t = root_e; w_tdead = 0;
			if
			:: w_t != 0 -> psc = w_t; psc_dead = 0
			:: true
			fi
		fi;
		if
		:: w_t == 0 ->		/* fault: root entry not present */
			walking = 0; walk_old = 0;
			goto end_dma
		:: else
		fi
	   };
	   atomic {	/* read the table page */
		assert(!w_tdead && LIVE_TABLE(w_t));	/* walk reads a freed table */
		w_d = tab_e[w_t];
		w_t = 0; w_tdead = 0;
		if
		:: w_d == 0 ->		/* fault: leaf not present */
			walking = 0; walk_old = 0;
			goto end_dma
		:: else
		fi;
		if
		:: !walk_old -> iotlb = w_d; iotlb_dead = 0
		:: true
		fi
	   };
access:
	   atomic {	/* the memory access */
		assert(!w_ddead && pstate[w_d] == DATA);	/* DMA to a freed page */
		w_d = 0; w_ddead = 0;
		walking = 0; walk_old = 0
	   }
	od
}

active proctype qi_engine()
{
	bit ih;

end_qi:
	do
	:: atomic {
		qi ? INV, ih ->
		iotlb = 0; iotlb_dead = 0;
		if :: !ih -> psc = 0; psc_dead = 0 :: else fi;
#ifndef MUTANT_HW_NO_DRAIN
		if :: walking -> walk_old = 1 :: else fi;
#endif
		ih = 0
	   }
	:: qi ? WAIT, _ ->
#ifndef MUTANT_HW_NO_DRAIN
		!walk_old ->
#endif
		wait_done = 1
	od
}
