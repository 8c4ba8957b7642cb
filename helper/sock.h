/* SPDX-License-Identifier: GPL-2.0 */
/* Unix socket plumbing shared by the helper and the test programs. */
#ifndef HELPER_SOCK_H
#define HELPER_SOCK_H

/* All return an fd (close-on-exec) or -errno. */
int unix_listen(const char *path);
int unix_connect(const char *path);
/* Retries ENOENT/ECONNREFUSED for up to timeout_ms (peer not up yet). */
int unix_connect_retry(const char *path, int timeout_ms);
int unix_accept(int lfd);
/*
 * Device-fd hand-over: one byte of data with exactly one fd in SCM_RIGHTS.
 * recv_one_fd returns the fd, or -errno (-EPROTO for anything else; any
 * extra fds are closed).
 */
int send_one_fd(int sock, int fd);
int recv_one_fd(int sock);
/*
 * Attaches @nfds fds as SCM_RIGHTS to @mh, in @ctl (room for at least
 * CMSG_SPACE(nfds * sizeof(int)) bytes, aligned as a struct cmsghdr).
 */
struct msghdr;
void sock_put_fds(struct msghdr *mh, void *ctl, const int *fds, unsigned int nfds);
/*
 * The inode number of the socket at the other end of the connected unix
 * socket @fd, asked of the kernel's unix_diag (NETLINK_SOCK_DIAG; the reply
 * comes at once, the wait is bounded by a 1 s receive timeout anyway).
 * 0 when @fd is not connected; -ENOTSOCK when @fd is not a unix socket;
 * -EPROTONOSUPPORT (or another -errno) when the kernel cannot say, e.g.
 * without CONFIG_UNIX_DIAG.
 */
long unix_peer_ino(int fd);

#endif
