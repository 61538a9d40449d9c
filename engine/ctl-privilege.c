/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl-privilege.h"

int
umbra_privilege_resolve(const char *user, struct umbra_privilege *p, char *err,
			size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc;

	memset(p, 0, sizeof(*p));
	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		snprintf(err, errlen, "option '--user': bad value '%s' (%s)", user,
			 rc != 0 ? strerror(rc) : "no such user");
		return rc != 0 ? -rc : -ENOENT;
	}
	snprintf(p->user, sizeof(p->user), "%s", user);
	p->uid = pw.pw_uid;
	p->gid = pw.pw_gid;
	return 0;
}

int
umbra_privilege_drop(const struct umbra_privilege *p, const char *out_dir,
		     char *err, size_t errlen)
{
	int e;

	/* glibc applies set*id to every thread, DPDK's lcore threads too */
	if (initgroups(p->user, p->gid) != 0 || setgid(p->gid) != 0 ||
	    setuid(p->uid) != 0) {
		e = errno;
		snprintf(err, errlen, "cannot switch to user '%s' (uid %u gid %u): %s",
			 p->user, (unsigned)p->uid, (unsigned)p->gid, strerror(e));
		return -e;
	}
	if (p->uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "user '%s': root privileges could be regained", p->user);
		return -EPERM;
	}
	if (access(out_dir, W_OK | X_OK) != 0) {
		e = errno;
		snprintf(err, errlen, "option '--out': bad value '%s' (not writable by user '%s': %s)",
			 out_dir, p->user, strerror(e));
		return -e;
	}
	return 0;
}
