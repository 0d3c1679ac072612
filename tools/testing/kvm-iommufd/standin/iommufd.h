/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host stand-in for iommufd's object core and HWPT surroundings, as Linux
 * 6.12 has them in drivers/iommu/iommufd/ (iommufd_private.h, main.c,
 * hw_pagetable.c, device.c) and as the series leaves them: the struct
 * fields it adds and the calls into virt/iommufd/kvm_hwpt.c at the places
 * the patches put them.  The KVM-IOAS logic itself is the product's
 * kvm_hwpt.c, compiled here unchanged.
 *
 * Structures keep upstream's names and the fields this stand-in or the
 * product uses.  One difference: upstream's struct iommufd_ioas embeds its
 * io_pagetable; here @iopt points to the test's table, so that a test keeps
 * its io_pagetable and the KVM side it gave it (the product code never
 * reaches the table through the IOAS).
 */
#ifndef __KT_STANDIN_IOMMUFD_H
#define __KT_STANDIN_IOMMUFD_H

#include "../kvm_iommu_internal.h"
/* the series: iommufd_private.h includes the core's interface */
#include <linux/kvm_iommufd.h>

typedef u32 ioasid_t;

/* include/uapi/linux/iommufd.h with the series */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
	IOMMU_HWPT_ALLOC_KVM_SHARE_REQUIRED = 1 << 8,
	IOMMU_HWPT_ALLOC_KVM_PIN_ONLY = 1 << 9,
};

enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = 1 << 0,
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = 1 << 1,
	IOMMU_PGFAULT_FLAGS_ANSWERED = 1 << 2,
};

struct iommu_hwpt_alloc {
	u32 size;
	u32 flags;
	u32 dev_id;
	u32 pt_id;
	u32 out_hwpt_id;
	u32 __reserved;
	u32 data_type;
	u32 data_len;
	u64 data_uptr;
	u32 fault_id;
	u32 __reserved2;
	u32 out_kvm_mode;
	u32 out_kvm_reasons;
};

/* include/linux/iommu.h */
struct iommu_user_data {
	unsigned int type;
	void __user *uptr;
	size_t len;
};

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_FAULT,
};

/**
 * struct iommufd_object - base of every iommufd object
 * @users: references; 1 for the object table's own
 * @type: enum iommufd_object_type
 * @id: the object's id (the xarray index upstream)
 * @node: in the stand-in's object table once finalized (kt_objects)
 */
struct iommufd_object {
	refcount_t users;
	enum iommufd_object_type type;
	u32 id;
	struct list_head node;
};

struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/**
 * struct iommufd_ioas - an IOAS
 * @obj: its object
 * @iopt: the IO page table (embedded upstream: see the top of this file)
 * @mutex: held across a HWPT allocation until it is finalized or aborted
 * @hwpt_list: its paging HWPTs, by iommufd_hwpt_paging::hwpt_item
 * @kvm: the KVM side when the IOAS is sourced from a VM (the series)
 */
struct iommufd_ioas {
	struct iommufd_object obj;
	struct io_pagetable *iopt;
	struct mutex mutex;
	struct list_head hwpt_list;
	struct kvm_iommu_ioas *kvm;
};

/**
 * struct iommufd_group - the iommufd side of a device's group
 * @lock: protects @hwpt and @device_list
 * @hwpt: the HWPT the group is attached to, or NULL
 * @device_list: attached devices, by iommufd_device::group_item
 */
struct iommufd_group {
	struct mutex lock;
	struct iommufd_hw_pagetable *hwpt;
	struct list_head device_list;
};

/**
 * struct iommufd_device - a device bound to iommufd
 * @obj: its object
 * @ictx: the iommufd it is bound to
 * @igroup: its group
 * @group_item: in @igroup's device_list while attached
 * @dev: the device
 * @enforce_cache_coherency: its IOMMU reports
 *	IOMMU_CAP_ENFORCE_CACHE_COHERENCY
 * @iopf_queue: where its IOMMU driver queues its page requests (the
 *	driver's own upstream; a stand-in field for iommufd's IOPF enable)
 */
struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_group *igroup;
	struct list_head group_item;
	struct device *dev;
	bool enforce_cache_coherency;
	struct iopf_queue *iopf_queue;
};

struct iommufd_hw_pagetable {
	struct iommufd_object obj;
	struct iommu_domain *domain;
	struct iommufd_fault *fault;
};

struct iommufd_hwpt_paging {
	struct iommufd_hw_pagetable common;
	struct iommufd_ioas *ioas;
	bool auto_domain : 1;
	bool enforce_cache_coherency : 1;
	bool msi_cookie : 1;
	bool nest_parent : 1;
	/* The domain translates through the IOAS's KVM TDP table (the series) */
	bool kvm_shared : 1;
	struct list_head hwpt_item;
};

static inline bool hwpt_is_paging(struct iommufd_hw_pagetable *hwpt)
{
	return hwpt->obj.type == IOMMUFD_OBJ_HWPT_PAGING;
}

static inline struct iommufd_hwpt_paging *
to_hwpt_paging(struct iommufd_hw_pagetable *hwpt)
{
	return container_of(hwpt, struct iommufd_hwpt_paging, common);
}

/* main.c: objects */
struct iommufd_object *_iommufd_object_alloc(struct iommufd_ctx *ictx,
					     size_t size,
					     enum iommufd_object_type type);
#define __iommufd_object_alloc(ictx, ptr, type, obj)			\
	container_of(_iommufd_object_alloc(ictx, sizeof(*(ptr)), type),	\
		     typeof(*(ptr)), obj)
void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj);
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj);
/* IOMMU_DESTROY of an object nobody else holds */
void iommufd_object_destroy_user(struct iommufd_ctx *ictx,
				 struct iommufd_object *obj);
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type);
void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj);
int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len);

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, u32 id);
struct iommufd_device *iommufd_get_device(struct iommufd_ucmd *ucmd, u32 id);
struct iommufd_fault *iommufd_get_fault(struct iommufd_ucmd *ucmd, u32 id);

/*
 * iommufd_private.h with the series: a group another IO page fault handler
 * has answered waits on fault->deliver with this cookie, which read()
 * never allocates (virt/iommufd/kvm_hwpt.c queues such groups).
 */
#define IOMMUFD_FAULT_COOKIE_ANSWERED	U32_MAX

static inline bool iommufd_fault_group_answered(struct iopf_group *group)
{
	return group->cookie == IOMMUFD_FAULT_COOKIE_ANSWERED;
}

/* hw_pagetable.c and device.c */
struct iommufd_hwpt_kvm_req;
struct iommufd_hwpt_paging *
__iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			    struct iommufd_device *idev, ioasid_t pasid,
			    u32 flags, bool immediate_attach,
			    const struct iommu_user_data *user_data,
			    struct iommufd_hwpt_kvm_req *kvm);
struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, ioasid_t pasid,
			  u32 flags, bool immediate_attach,
			  const struct iommu_user_data *user_data);
int iommufd_hw_pagetable_attach(struct iommufd_hw_pagetable *hwpt,
				struct iommufd_device *idev, ioasid_t pasid);
struct iommufd_hw_pagetable *
iommufd_hw_pagetable_detach(struct iommufd_device *idev, ioasid_t pasid);
int iommufd_fault_iopf_handler(struct iopf_group *group);

/* what iommufd_private.h declares from virt/iommufd with the series */
#include "../../../../virt/iommufd/iommufd_kvm.h"

/* Test introspection: objects allocated and not yet destroyed. */
long kt_iommufd_objects_live(void);
/*
 * A test's own IOAS, device or fault object into the object table with a
 * new id (what IOMMU_IOAS_ALLOC, a VFIO bind and IOMMU_FAULT_QUEUE_ALLOC
 * do), and out of it again; the test owns the memory.
 */
void kt_iommufd_object_add(struct iommufd_object *obj,
			   enum iommufd_object_type type);
void kt_iommufd_object_del(struct iommufd_object *obj);

#endif /* __KT_STANDIN_IOMMUFD_H */
