// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-in for the file references the core takes: a small fd table.
 * kt_file_install() is open(), kt_file_close() is close(); fget()/fput()
 * take and drop references as in the kernel, and a file's release callback
 * runs when the last reference goes.
 */
#include "../kvm_iommu_internal.h"
#include "file.h"

#define KT_MAX_FILES	64

static struct file *kt_files[KT_MAX_FILES];
static pthread_mutex_t kt_files_lock = PTHREAD_MUTEX_INITIALIZER;

int kt_file_install(struct file *file)
{
	int fd;

	pthread_mutex_lock(&kt_files_lock);
	for (fd = 3; fd < KT_MAX_FILES; fd++) {
		if (!kt_files[fd]) {
			kt_files[fd] = file;
			file->refs = 1;
			pthread_mutex_unlock(&kt_files_lock);
			return fd;
		}
	}
	pthread_mutex_unlock(&kt_files_lock);
	return -EMFILE;
}

struct file *fget(int fd)
{
	struct file *f = NULL;

	if (fd < 0 || fd >= KT_MAX_FILES)
		return NULL;
	pthread_mutex_lock(&kt_files_lock);
	f = kt_files[fd];
	if (f)
		f->refs++;
	pthread_mutex_unlock(&kt_files_lock);
	return f;
}

void fput(struct file *file)
{
	bool last;

	pthread_mutex_lock(&kt_files_lock);
	last = --file->refs == 0;
	pthread_mutex_unlock(&kt_files_lock);
	if (last && file->release)
		file->release(file);
}

int kt_file_close(int fd)
{
	struct file *f;

	pthread_mutex_lock(&kt_files_lock);
	f = (fd >= 0 && fd < KT_MAX_FILES) ? kt_files[fd] : NULL;
	if (f)
		kt_files[fd] = NULL;
	pthread_mutex_unlock(&kt_files_lock);
	if (!f)
		return -EBADF;
	fput(f);
	return 0;
}

bool file_is_kvm(struct file *file)
{
	return file->is_kvm;
}
