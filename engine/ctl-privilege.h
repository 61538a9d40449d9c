/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Least privilege: DPDK needs root (or capabilities) to map devices and
 * memory; nothing after start-up does. The engine resolves --user before
 * starting anything and drops to it once ports are set up, before the
 * workers and the writer run.
 */
#ifndef UMBRA_CTL_PRIVILEGE_H
#define UMBRA_CTL_PRIVILEGE_H

#include <stddef.h>
#include <sys/types.h>

struct umbra_privilege {
	char user[64];
	uid_t uid;
	gid_t gid;
};

/* Look the user up; -ENOENT (or -errno) with a one-line message in err. */
int umbra_privilege_resolve(const char *user, struct umbra_privilege *p,
			    char *err, size_t errlen);

/*
 * Become p's user: supplementary groups, gid, uid, then check that root
 * cannot be regained and that out_dir is still writable. Returns 0 or
 * -errno with a message in err; the caller must not go on after a failure.
 */
int umbra_privilege_drop(const struct umbra_privilege *p, const char *out_dir,
			 char *err, size_t errlen);

#endif /* UMBRA_CTL_PRIVILEGE_H */
