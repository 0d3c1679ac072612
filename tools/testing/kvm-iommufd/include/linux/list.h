/* SPDX-License-Identifier: GPL-2.0 */
/* Host build: the list API is in dup.h. */
#include "../dup.h"
