/* SPDX-License-Identifier: GPL-2.0 */
/* Host build: nothing to define; include/linux/tracepoint.h made the probes. */
