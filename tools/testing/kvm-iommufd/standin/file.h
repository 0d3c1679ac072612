/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __KT_STANDIN_FILE_H
#define __KT_STANDIN_FILE_H

struct file;
/* open(): install @file (refs = 1) and return its fd, or -EMFILE */
int kt_file_install(struct file *file);
/* close(): drop the table's reference; -EBADF if @fd is not open */
int kt_file_close(int fd);

#endif /* __KT_STANDIN_FILE_H */
