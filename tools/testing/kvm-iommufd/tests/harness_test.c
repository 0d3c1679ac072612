// SPDX-License-Identifier: GPL-2.0
/*
 * The host build's own machinery: counting allocator, fail-nth, owner-
 * checking locks, RCU on liburcu, USDT probes in the binary.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>

#include "../kvm_iommu_internal.h"
#include "../harness/test.h"

TEST(alloc_counts_and_frees)
{
	long before = kt_alloc_live();
	char *p = kmalloc(100, GFP_KERNEL);
	u64 *z = kzalloc(64, GFP_KERNEL);

	ASSERT_TRUE(p && z);
	ASSERT_EQ(kt_alloc_live(), before + 2);
	ASSERT_EQ(z[0] | z[7], 0);
	kfree(p);
	kfree(z);
	kfree(NULL);
	ASSERT_EQ(kt_alloc_live(), before);
	/* Overflowing array sizes fail instead of wrapping. */
	ASSERT_TRUE(kcalloc(SIZE_MAX / 2, 4, GFP_KERNEL) == NULL);
	return true;
}

TEST(fail_nth_fails_exactly_the_nth_point)
{
	void *a, *b, *c;

	kt_fail_nth_set(2);
	a = kmalloc(8, GFP_KERNEL);
	b = kmalloc(8, GFP_KERNEL);
	c = kmalloc(8, GFP_KERNEL);
	ASSERT_TRUE(a != NULL);
	ASSERT_TRUE(b == NULL);
	ASSERT_TRUE(c != NULL);
	ASSERT_TRUE(kt_fault_injected());
	ASSERT_EQ(kt_fault_points_seen(), 3);
	kfree(a);
	kfree(c);
	kt_fail_nth_set(0);
	return true;
}

static void *thread_alloc(void *arg)
{
	(void)arg;
	/* fail-nth is per thread, like the kernel's per-task fail-nth */
	return kmalloc(8, GFP_KERNEL);
}

TEST(fail_nth_is_per_thread)
{
	pthread_t t;
	void *p;

	kt_fail_nth_set(1);
	pthread_create(&t, NULL, thread_alloc, NULL);
	pthread_join(t, &p);
	ASSERT_TRUE(p != NULL);
	ASSERT_FALSE(kt_fault_injected());
	kfree(p);
	kt_fail_nth_set(0);
	return true;
}

TEST(lockdep_assert_held_checks_the_owner)
{
	spinlock_t l;
	struct mutex m;
	long w = kt_warn_count();

	spin_lock_init(&l);
	mutex_init(&m);
	spin_lock(&l);
	lockdep_assert_held(&l);
	ASSERT_EQ(kt_warn_count(), w);
	spin_unlock(&l);
	lockdep_assert_held(&l);		/* not held: must warn */
	mutex_lock(&m);
	lockdep_assert_not_held(&m);		/* held: must warn */
	mutex_unlock(&m);
	ASSERT_EQ(kt_warn_count(), w + 2);
	kt_warn_consume(2);
	return true;
}

struct rcu_obj {
	int value;
	struct rcu_head rcu;
};

static struct rcu_obj *rcu_slot;
static int rcu_freed;
static bool rcu_stop;		/* atomic */

static void rcu_obj_free(struct rcu_head *h)
{
	struct rcu_obj *o = container_of(h, struct rcu_obj, rcu);

	__atomic_add_fetch(&rcu_freed, 1, __ATOMIC_SEQ_CST);
	o->value = -1;
	kfree(o);
}

static void *reader_thread(void *arg)
{
	long bad = 0;

	(void)arg;
	rcu_register_thread();
	while (!__atomic_load_n(&rcu_stop, __ATOMIC_ACQUIRE)) {
		struct rcu_obj *o;

		rcu_read_lock();
		o = rcu_dereference(rcu_slot);
		if (o && o->value < 0)
			bad++;	/* saw an object after its grace period */
		rcu_read_unlock();
	}
	rcu_unregister_thread();
	return (void *)bad;
}

TEST(rcu_defers_frees_past_readers)
{
	pthread_t r[2];
	void *bad[2];
	int i;

	rcu_freed = 0;
	rcu_stop = false;
	rcu_slot = kzalloc(sizeof(*rcu_slot), GFP_KERNEL);
	ASSERT_TRUE(rcu_slot);
	for (i = 0; i < 2; i++)
		pthread_create(&r[i], NULL, reader_thread, NULL);
	for (i = 0; i < 2000; i++) {
		struct rcu_obj *n = kzalloc(sizeof(*n), GFP_KERNEL), *o;

		ASSERT_TRUE(n);
		n->value = i;
		o = rcu_slot;
		rcu_assign_pointer(rcu_slot, n);
		call_rcu(&o->rcu, rcu_obj_free);
	}
	__atomic_store_n(&rcu_stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		pthread_join(r[i], &bad[i]);
	call_rcu(&rcu_slot->rcu, rcu_obj_free);
	rcu_slot = NULL;
	rcu_barrier();
	ASSERT_EQ(rcu_freed, 2001);
	ASSERT_EQ((long)bad[0] + (long)bad[1], 0);
	return true;
}

/*
 * The kvm_iommu trace events exist as USDT probes in this binary, with the
 * arguments of their TP_PROTO: read the ELF notes of /proc/self/exe.
 */
static int usdt_args(const char *probe)
{
	FILE *f = fopen("/proc/self/exe", "rb");
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL;
	char *names = NULL, *notes = NULL;
	int found = -1, i;

	if (!f || fread(&eh, sizeof(eh), 1, f) != 1)
		goto out;
	sh = calloc(eh.e_shnum, sizeof(*sh));
	fseek(f, eh.e_shoff, SEEK_SET);
	if (fread(sh, sizeof(*sh), eh.e_shnum, f) != eh.e_shnum)
		goto out;
	names = malloc(sh[eh.e_shstrndx].sh_size);
	fseek(f, sh[eh.e_shstrndx].sh_offset, SEEK_SET);
	if (fread(names, 1, sh[eh.e_shstrndx].sh_size, f) != sh[eh.e_shstrndx].sh_size)
		goto out;
	for (i = 0; i < eh.e_shnum; i++) {
		size_t off = 0;

		if (strcmp(names + sh[i].sh_name, ".note.stapsdt"))
			continue;
		notes = malloc(sh[i].sh_size);
		fseek(f, sh[i].sh_offset, SEEK_SET);
		if (fread(notes, 1, sh[i].sh_size, f) != sh[i].sh_size)
			goto out;
		while (off + sizeof(Elf64_Nhdr) <= sh[i].sh_size) {
			Elf64_Nhdr *n = (Elf64_Nhdr *)(notes + off);
			char *desc = notes + off + sizeof(*n) + ((n->n_namesz + 3) & ~3u);
			char *prov = desc + 3 * 8, *name = prov + strlen(prov) + 1;
			char *args = name + strlen(name) + 1, *s;

			if (!strcmp(prov, "kvm_iommu") && !strcmp(name, probe)) {
				found = *args ? 1 : 0;
				for (s = args; *s; s++)
					found += *s == ' ';
			}
			off += sizeof(*n) + ((n->n_namesz + 3) & ~3u) + ((n->n_descsz + 3) & ~3u);
		}
	}
out:
	free(notes);
	free(names);
	free(sh);
	if (f)
		fclose(f);
	return found;
}

TEST(trace_events_are_usdt_probes)
{
	/* every event of virt/iommufd/kvm_iommu_trace.h, with its arguments */
	static const struct { const char *name; int args; } ev[] = {
		{ "kvm_iommu_invalidate", 5 }, { "kvm_iommu_sync", 3 },
		{ "kvm_iommu_attach", 3 }, { "kvm_iommu_detach", 3 },
		{ "kvm_iommu_iopf_begin", 5 }, { "kvm_iommu_kvm_faultin", 4 },
		{ "kvm_iommu_iopf_end", 5 }, { "kvm_iommu_mode", 4 },
		{ "kvm_iommu_pin", 2 }, { "kvm_iommu_unpin", 2 },
		{ "kvm_iommu_memslot", 5 }, { "kvm_iommu_dirty_log", 4 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ev); i++)
		if (usdt_args(ev[i].name) != ev[i].args) {
			fprintf(stderr, "# %s: %d arguments\n", ev[i].name,
				usdt_args(ev[i].name));
			return false;
		}
	ASSERT_EQ(usdt_args("no_such_probe"), -1);
	return true;
}
