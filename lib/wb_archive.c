/* SPDX-License-Identifier: MPL-2.0 */
/* wb — the archive on disk: paths, atomic batched writes, ETag files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_archive.h"
#include "wb_jscan.h"
#include "wb_scan.h"

#define SYNC_THREADS 16

static const char *const files[2] = { "issue.json", "timeline.json" };

/* snprintf that says whether it all fit: 0, or -1 when cut short. */
static int __attribute__((format(printf, 3, 4)))
fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, len, f, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* "data/top/N[/file]": the one place paths are made from numbers. */
static int
number_path(char *buf, size_t len, const char *data, const char *top,
    long number, const char *file)
{
	if (number < 1 || number > WB_NUMBER_MAX)
		return -1;
	if (file != NULL)
		return fmt(buf, len, "%s/%s/%ld/%s", data, top, number, file);
	return fmt(buf, len, "%s/%s/%ld", data, top, number);
}

int
wb_archive_path(char *buf, size_t len, const char *data, long number,
    const char *file)
{
	return number_path(buf, len, data, "current", number, file);
}

/*
 * $data/top (top "current" or "etags"), opened as a directory. $data
 * itself may be a symbolic link (where an operator put the archive);
 * what lies below it is ours, and never followed. Returns the descriptor,
 * or -1 with errno set (ELOOP: a symbolic link; ENOTDIR: not a directory).
 */
static int
top_dir(const char *data, const char *top)
{
	int dfd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd, err;

	if (dfd < 0)
		return -1;
	fd = openat(dfd, top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	err = errno;
	close(dfd);
	errno = err;
	return fd;
}

/* The directory 'name' in 'at', never a link to one: as top_dir. */
static int
sub_dir(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Close 'fd' (if open) keeping errno. */
static void
close_keep(int fd)
{
	int err = errno;

	if (fd >= 0)
		close(fd);
	errno = err;
}

/*
 * $data/current/N/file, opened with 'flags' without following any
 * symbolic link below $data. Returns the descriptor, or -1 with errno.
 */
static int
open_archived(const char *data, long number, const char *file, int flags)
{
	char name[16];
	int cfd, nfd = -1, fd = -1;

	if (number < 1 || number > WB_NUMBER_MAX) {
		errno = EINVAL;
		return -1;
	}
	snprintf(name, sizeof name, "%ld", number);
	if ((cfd = top_dir(data, "current")) >= 0 &&
	    (nfd = sub_dir(cfd, name)) >= 0)
		fd = openat(nfd, file, flags | O_NOFOLLOW | O_CLOEXEC);
	close_keep(nfd);
	close_keep(cfd);
	return fd;
}

/* Read the open file 'fd' whole: as wb_archive_load. Closes 'fd'. */
static int
load_fd(int fd, char **buf, size_t *cap, size_t *len)
{
	struct stat st;
	int err = 0;

	*len = 0;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL;
	else if ((size_t)st.st_size > WB_ARCHIVE_MAX_FILE)
		err = EFBIG;
	while (!err) {
		ssize_t got;

		/* Room for the size fstat gave, or more if it grew since. */
		if (*cap < *len + 2 || *cap < (size_t)st.st_size + 1) {
			size_t want = *cap ? *cap : 65536;
			char *p;

			while (want < *len + 2 || want < (size_t)st.st_size + 1)
				want *= 2;
			if ((p = realloc(*buf, want)) == NULL) {
				err = ENOMEM;
				break;
			}
			*buf = p;
			*cap = want;
		}
		got = read(fd, *buf + *len, *cap - *len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			err = errno;
		else if (got == 0)
			break;
		else if ((*len += (size_t)got) > WB_ARCHIVE_MAX_FILE)
			err = EFBIG;
	}
	close(fd);
	if (err) {
		*len = 0;
		errno = err;
		return -1;
	}
	(*buf)[*len] = '\0';
	return 0;
}

int
wb_archive_load_fd(int fd, char **buf, size_t *cap, size_t *len)
{
	return load_fd(fcntl(fd, F_DUPFD_CLOEXEC, 0), buf, cap, len);
}

int
wb_archive_load(const char *path, char **buf, size_t *cap, size_t *len)
{
	/* Not blocking: a FIFO in a file's place must not stall the reader. */
	*len = 0;
	return load_fd(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), buf, cap,
	    len);
}

int
wb_archive_load_issue(const char *data, long number, const char *file,
    char **buf, size_t *cap, size_t *len)
{
	/* Not blocking, as wb_archive_load. */
	*len = 0;
	return load_fd(open_archived(data, number, file, O_RDONLY | O_NONBLOCK),
	    buf, cap, len);
}

char *
wb_archive_slurp(const char *data, long number, const char *file,
    size_t *len)
{
	char *buf = NULL;
	size_t cap = 0;

	if (wb_archive_load_issue(data, number, file, &buf, &cap, len) < 0) {
		int err = errno;

		free(buf);
		errno = err;
		return NULL;
	}
	return buf;
}

jv
wb_archive_read(const char *data, long number, const char *file)
{
	size_t len;
	char *text = wb_archive_slurp(data, number, file, &len);
	jv v;

	if (text == NULL)
		return jv_invalid_with_msg(jv_string_fmt("issue %ld: %s: %s",
		    number, file, strerror(errno)));
	/* One value per file: libjq refuses a second one. */
	v = jv_parse_sized(text, (int)len);
	free(text);
	if (!jv_is_valid(v)) {
		jv_free(v);
		return jv_invalid_with_msg(jv_string_fmt("issue %ld: %s: not "
		    "JSON", number, file));
	}
	return v;
}

/*============================ ETags ============================*/

static void
stamp_of(const struct stat *st, struct wb_etags_stamp *s)
{
	s->ino = (unsigned long long)st->st_ino;
	s->size = (unsigned long long)st->st_size;
	s->sec = (long long)st->st_mtim.tv_sec;
	s->nsec = (long long)st->st_mtim.tv_nsec;
}

/* $data/etags/N for reading, never through a link; NULL if none. */
static FILE *
etags_open(const char *data, long number)
{
	char name[16];
	int efd, fd = -1;
	FILE *f;

	if (number < 1 || number > WB_NUMBER_MAX)
		return NULL;
	snprintf(name, sizeof name, "%ld", number);
	if ((efd = top_dir(data, "etags")) >= 0)
		fd = openat(efd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
		    O_CLOEXEC);
	close_keep(efd);
	if (fd < 0)
		return NULL;
	if ((f = fdopen(fd, "r")) == NULL)
		close(fd);
	return f;
}

/* 1 when the archived files of issue 'number' are those of 'want'. */
static int
files_are(const char *data, long number,
    const struct wb_etags_stamp want[2])
{
	struct wb_etags_stamp have;
	struct stat st;

	for (int i = 0; i < 2; i++) {
		int fd = open_archived(data, number, files[i], O_RDONLY |
		    O_NONBLOCK);
		int got = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);

		close_keep(fd);
		if (!got)
			return 0;
		stamp_of(&st, &have);
		if (memcmp(&have, &want[i], sizeof have) != 0)
			return 0;
	}
	return 1;
}

int
wb_archive_load_etags(const char *data, long number, struct wb_etags *e)
{
	struct wb_etags_stamp want[2];
	FILE *f;
	int rc;

	wb_etags_init(e);
	if ((f = etags_open(data, number)) == NULL)
		return -1;
	rc = wb_etags_parse(f, e, want);
	fclose(f);
	if (rc == 0 && !files_are(data, number, want)) {
		wb_etags_free(e);
		rc = -1;
	}
	return rc;
}

/*============================ Writing ============================*/

/* The last component of 'path'. */
static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* An entry of a directory, and a new name to give it or make. */
struct entry {
	int dfd;
	const char *name;
};

/*
 * Try make(buf, arg) on the name in buf[len] with ".PID.N" appended (N
 * counting up) until it returns 0 or more or fails other than with
 * EEXIST, 100 names at most. Returns what 'make' returned, or -1 with
 * errno set.
 */
static int
unique_name(char *buf, size_t len, int (*make)(const char *, void *),
    void *arg)
{
	static unsigned long seq;
	size_t n = strlen(buf);

	for (int tries = 0; tries < 100; tries++) {
		int rc;

		if (fmt(buf + n, len - n, ".%ld.%lu", (long)getpid(),
		    seq++) < 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if ((rc = make(buf, arg)) >= 0 || errno != EEXIST)
			return rc;
	}
	errno = EEXIST;
	return -1;
}

static int
open_new(const char *path, void *arg)
{
	const struct entry *e = arg;

	return openat(e->dfd, base_name(path), O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0666);
}

static int
link_as(const char *aside, void *arg)
{
	const struct entry *e = arg;

	return linkat(e->dfd, e->name, e->dfd, aside, 0);
}

static int
rename_as(const char *aside, void *arg)
{
	const struct entry *e = arg;

	return renameat2(e->dfd, e->name, e->dfd, aside, RENAME_NOREPLACE);
}

/*
 * Create a new file ".name.PID.N" in the directory 'dfd' (whose path is
 * 'dir') for writing, with the usual mode (0666 less the umask, as any new
 * file: readers of the archive need it), its path in tmp[len]. Returns
 * the descriptor, or -1 with errno set.
 */
static int
create_temp(int dfd, const char *dir, const char *name, char *tmp, size_t len)
{
	struct entry e = { dfd, name };

	if (fmt(tmp, len, "%s/.%s", dir, name) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return unique_name(tmp, len, open_new, &e);
}

/*
 * Give 'name' of the directory 'dfd' a second name ".name.old.PID.N" (in
 * aside[len]), so that it can be put back. Returns 0, or -1 with errno
 * set (ENOENT: there is no 'name' to keep).
 */
static int
link_aside(int dfd, const char *name, char *aside, size_t len)
{
	struct entry e = { dfd, name };

	if (fmt(aside, len, ".%s.old", name) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return unique_name(aside, len, link_as, &e);
}

/*============================ Leftovers ============================*/

/*
 * Whether 'name' is "<prefix>D.D" with D one or more decimal digits: the
 * tail "PID.SEQ" that create_temp, link_aside and remove_dir append.
 */
static int
named(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	int dots = 0, digits = 0;

	if (strncmp(name, prefix, n) != 0)
		return 0;
	for (const char *p = name + n; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.' && digits > 0 && dots == 0)
			dots++, digits = 0;
		else
			return 0;
	}
	return dots == 1 && digits > 0;
}

/*
 * Whether 'name' in current/N is one of our temporary names: a file being
 * written (create_temp: ".issue.json.PID.SEQ", ".timeline.json.PID.SEQ")
 * or the previous timeline kept aside (link_aside:
 * ".timeline.json.old.PID.SEQ"). Nothing else is ours to remove.
 */
static int
temp_name(const char *name)
{
	return named(name, ".issue.json.") || named(name, ".timeline.json.") ||
	    named(name, ".timeline.json.old.");
}

/*
 * Remove the temporary files that a writer killed while it held current/N
 * (the directory 'dfd', whose lock we hold) left in it: under the lock no
 * other writer has any there. Only regular files of our names; a link or
 * anything else of such a name is left alone (and unlinkat never follows
 * one). Returns how many were removed.
 */
static long
sweep_temps(int dfd)
{
	struct dirent *de;
	struct stat st;
	long removed = 0;
	DIR *d;
	int fd;

	if ((fd = dup(dfd)) < 0)
		return 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		if (temp_name(de->d_name) && fstatat(dfd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    unlinkat(dfd, de->d_name, 0) == 0)
			removed++;
	closedir(d);
	return removed;
}

/*
 * Remove everything inside the directory 'dfd' (a link there is removed,
 * never followed). Returns 0, or -1 with *err set.
 */
static int
empty_dir(int dfd, int *err)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if ((fd = dup(dfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		*err = errno;
		close_keep(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dfd, de->d_name, 0) < 0) {
			*err = errno;
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

long
wb_archive_sweep(const char *data, int deep)
{
	struct dirent *de;
	long removed = 0;
	DIR *d;
	int cfd, fd;

	if ((cfd = top_dir(data, "current")) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((fd = dup(cfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		close_keep(fd);
		close_keep(cfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name, *p = name;
		int gone, nfd, err;

		/* ".N.gone.PID.SEQ" (remove_dir), or with 'deep' "N". */
		if (*p == '.')
			p++;
		while (*p >= '0' && *p <= '9')
			p++;
		gone = name[0] == '.' && p > name + 1 && named(p, ".gone.");
		if (!gone && !(deep && *p == '\0' && name[0] >= '1' &&
		    name[0] <= '9'))
			continue;
		if ((nfd = sub_dir(cfd, name)) < 0)
			continue;
		/* Held: its writer is alive, and does this itself. */
		if (flock(nfd, LOCK_EX | LOCK_NB) < 0) {
			close(nfd);
			continue;
		}
		if (!gone)
			removed += sweep_temps(nfd);
		else if (empty_dir(nfd, &err) == 0 &&
		    unlinkat(cfd, name, AT_REMOVEDIR) == 0)
			removed++;
		close(nfd);
	}
	closedir(d);
	close(cfd);
	return removed;
}

static void
item_init(struct wb_archive_item *it, long number)
{
	memset(it, 0, sizeof *it);
	it->number = number;
	it->fd[0] = it->fd[1] = it->dfd = -1;
	wb_etags_init(&it->etags);
}

void
wb_archive_item_set(struct wb_archive_item *it, long number,
    const char *issue, size_t issue_len, const char *timeline,
    size_t timeline_len, struct wb_etags *etags)
{
	item_init(it, number);
	it->text[0] = issue;
	it->len[0] = issue_len;
	it->text[1] = timeline;
	it->len[1] = timeline_len;
	if (etags != NULL) {
		it->etags = *etags;
		wb_etags_init(etags);
	}
}

void
wb_archive_item_remove(struct wb_archive_item *it, long number)
{
	item_init(it, number);
	it->remove = 1;
}

static void
drop_temps(struct wb_archive_item *it)
{
	for (int i = 0; i < 2; i++) {
		if (it->fd[i] >= 0)
			close(it->fd[i]);
		it->fd[i] = -1;
		if (it->tmp[i][0] != '\0' && it->dfd >= 0)
			unlinkat(it->dfd, base_name(it->tmp[i]), 0);
		it->tmp[i][0] = '\0';
	}
}

static void
fail(struct wb_archive_item *it, const char *what, const char *path, int err)
{
	if (!it->failed)
		fmt(it->err, sizeof it->err, "unable to %s %s: %s", what,
		    path, strerror(err));
	it->failed = 1;
	drop_temps(it);
}

/* A symbolic link found at 'path', where a directory or file of ours is. */
static void
fail_link(struct wb_archive_item *it, const char *path)
{
	if (!it->failed)
		fmt(it->err, sizeof it->err, "%s is a symbolic link, where the "
		    "archive keeps its own files; not followed", path);
	it->failed = 1;
	drop_temps(it);
}

/*
 * fail() for an open or create of 'path' that failed with 'err': a
 * symbolic link there (refused under O_NOFOLLOW) says so.
 */
static void
fail_open(struct wb_archive_item *it, const char *what, const char *path,
    int err)
{
	struct stat st;

	/* Only to say why: O_DIRECTORY | O_NOFOLLOW gives ENOTDIR there. */
	if ((err == ELOOP || err == ENOTDIR) && lstat(path, &st) == 0 &&
	    S_ISLNK(st.st_mode))
		fail_link(it, path);
	else
		fail(it, what, path, err);
}

void
wb_archive_item_free(struct wb_archive_item *it)
{
	drop_temps(it);
	if (it->dfd >= 0)
		close(it->dfd);	/* and with it the lock */
	it->dfd = -1;
	it->text[0] = it->text[1] = NULL;
	wb_etags_free(&it->etags);
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The sink of wb_jscan_canonical that writes to a descriptor. */
static int
put_fd(void *arg, const char *p, size_t n)
{
	return write_all(*(int *)arg, p, n);
}

/* The sink that compares with what a file holds, read as it goes. */
struct compare {
	int fd;
	char buf[65536];
	size_t pos, have;
};

static int
put_compare(void *arg, const char *p, size_t n)
{
	struct compare *c = arg;

	while (n > 0) {
		size_t k;

		if (c->pos == c->have) {
			ssize_t got = read(c->fd, c->buf, sizeof c->buf);

			if (got <= 0)
				return -1;	/* shorter, or unreadable */
			c->pos = 0;
			c->have = (size_t)got;
		}
		k = c->have - c->pos < n ? c->have - c->pos : n;
		if (memcmp(c->buf + c->pos, p, k) != 0)
			return -1;
		c->pos += k;
		p += k;
		n -= k;
	}
	return 0;
}

/*
 * 1 when the file 'name' of the directory 'dfd' already holds what
 * text[0..len) is written as; then *stamp gets the file's identity.
 * Nothing is created to find out. -1 when 'name' is a symbolic link.
 */
static int
unchanged(int dfd, const char *name, const char *text, size_t len,
    struct wb_etags_stamp *stamp)
{
	static struct compare c;
	struct stat st;
	int same;

	/* Not blocking: a FIFO in its place must not stall the batch. */
	if ((c.fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return errno == ELOOP ? -1 : 0;
	c.pos = c.have = 0;
	same = fstat(c.fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    wb_jscan_canonical(text, len, put_compare, &c) == 0 &&
	    c.pos == c.have && read(c.fd, c.buf, 1) == 0;
	if (same)
		stamp_of(&st, stamp);
	close(c.fd);
	return same;
}

/*
 * $data/top, created (with $data) when missing; -1 with errno set as
 * top_dir's.
 */
static int
make_top(const char *data, const char *top)
{
	int fd = top_dir(data, top), dfd;

	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (mkdir(data, 0777) < 0 && errno != EEXIST)
		return -1;
	if ((dfd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (mkdirat(dfd, top, 0777) < 0 && errno != EEXIST) {
		close_keep(dfd);
		return -1;
	}
	close(dfd);
	return top_dir(data, top);
}

/*
 * Open current/N (name 'name' in 'cfd'), created unless it->remove, into
 * it->dfd, and lock it: the directory that is current/N once the lock is
 * held (a writer that removed it meanwhile leaves another one, or none).
 * Returns 0 (it->dfd -1 when a removal finds none), 1 when busy and not
 * 'may_wait' (nothing held), -1 on failure (reported in it).
 */
static int
lock_dir(int cfd, const char *name, const char *dir,
    struct wb_archive_item *it, int may_wait)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat held, now;
		int fd;

		if (!it->remove) {
			if (mkdirat(cfd, name, 0777) == 0)
				it->newdir = 1;
			else if (errno != EEXIST) {
				fail_open(it, "create", dir, errno);
				return -1;
			}
		}
		if ((fd = sub_dir(cfd, name)) < 0) {
			if (errno == ENOENT && it->remove)
				return 0;
			if (errno == ENOENT)
				continue;
			fail_open(it, "open the directory", dir, errno);
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno != EWOULDBLOCK || !may_wait ||
			    flock(fd, LOCK_EX) < 0) {
				int err = errno;

				close(fd);
				/* Another writer's now, whoever made it. */
				it->newdir = 0;
				if (err == EWOULDBLOCK && !may_wait)
					return 1;
				fail(it, "lock", dir, err);
				return -1;
			}
		}
		/* Still current/N? A writer before may have removed it. */
		if (fstat(fd, &held) == 0 && fstatat(cfd, name, &now,
		    AT_SYMLINK_NOFOLLOW) == 0 && held.st_dev == now.st_dev &&
		    held.st_ino == now.st_ino) {
			it->dfd = fd;
			return 0;
		}
		close(fd);
		it->newdir = 0;
	}
	fail(it, "lock", dir, EAGAIN);
	return -1;
}

/*
 * Report a symbolic link at 'name' of 'at' (path 'path'). Returns 1 when
 * there is one.
 */
static int
is_link(struct wb_archive_item *it, int at, const char *name,
    const char *path)
{
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode)) {
		fail_link(it, path);
		return 1;
	}
	return 0;
}

int
wb_archive_prepare(const char *data, struct wb_archive_item *it, int may_wait)
{
	char dir[4096], path[4096], name[16];
	int cfd = -1, rc;

	if (wb_archive_path(dir, sizeof dir, data, it->number, NULL) < 0) {
		fail(it, "name the directory of", "issue", EINVAL);
		goto out;
	}
	snprintf(name, sizeof name, "%ld", it->number);
	/*
	 * Links where our files are: reported, never followed nor removed.
	 * Looked for by path here (the ETags are written later through
	 * descriptors that follow no link anyway), the files of current/N
	 * as they are opened.
	 */
	fmt(path, sizeof path, "%s/etags", data);
	if (is_link(it, AT_FDCWD, path, path))
		goto out;
	fmt(path, sizeof path, "%s/etags/%s", data, name);
	if (is_link(it, AT_FDCWD, path, path))
		goto out;
	fmt(path, sizeof path, "%s/current", data);
	if ((cfd = it->remove ? top_dir(data, "current") :
	    make_top(data, "current")) < 0) {
		if (errno != ENOENT || !it->remove)
			fail_open(it, "open the directory", path, errno);
		goto out;
	}
	if ((rc = lock_dir(cfd, name, dir, it, may_wait)) != 0) {
		if (rc > 0) {
			close(cfd);
			return 1;
		}
		goto out;
	}
	for (int i = 0; i < 2 && it->dfd >= 0 && it->remove; i++) {
		fmt(path, sizeof path, "%s/%s", dir, files[i]);
		if (is_link(it, it->dfd, files[i], path))
			goto out;
	}
	if (it->remove)
		goto out;
	/* What a writer killed under this lock left: ours to remove now. */
	if (!it->newdir)
		sweep_temps(it->dfd);
	/*
	 * Each text goes straight from the record into its temporary file,
	 * printed as jq prints it; an unchanged one is left alone, file and
	 * identity, without a temporary file made to find out.
	 */
	for (int i = 0; i < 2 && !it->failed; i++) {
		int fd, err;

		if (!it->newdir && (rc = unchanged(it->dfd, files[i],
		    it->text[i], it->len[i], &it->stamp[i])) != 0) {
			if (rc > 0)
				continue;
			fmt(path, sizeof path, "%s/%s", dir, files[i]);
			fail_link(it, path);
			break;
		}
		fd = create_temp(it->dfd, dir, files[i], it->tmp[i],
		    sizeof it->tmp[i]);
		if (fd < 0) {
			err = errno;
			it->tmp[i][0] = '\0';
			fail(it, "create a temporary file in", dir, err);
			break;
		}
		it->fd[i] = fd;
		errno = 0;
		if (wb_jscan_canonical(it->text[i], it->len[i], put_fd,
		    &it->fd[i]) < 0)
			fail(it, "write", it->tmp[i], errno ? errno : EIO);
	}
out:
	/* An empty current/N would pass for an archived issue: never leave one. */
	if (it->failed && it->newdir && cfd >= 0)
		unlinkat(cfd, name, AT_REMOVEDIR);
	close_keep(cfd);
	/* The texts belong to the caller's record, which moves on. */
	it->text[0] = it->text[1] = NULL;
	return 0;
}

/*
 * Remove current/N (name 'name' in 'cfd', path 'dir', held open and
 * locked as it->dfd): renamed aside first, so that it disappears at once,
 * whole, then emptied through that descriptor (only what is inside it:
 * a link there is removed, never followed) and removed. Returns 0, or -1
 * with the failing path in failed[len] and *err.
 */
static int
remove_dir(const char *data, int cfd, const char *name, const char *dir,
    struct wb_archive_item *it, char *failed, size_t len, int *err)
{
	struct entry e = { cfd, name };
	char aside[64];
	int rc;

	fmt(failed, len, "%s", dir);
	fmt(aside, sizeof aside, ".%s.gone", name);
	if (unique_name(aside, sizeof aside, rename_as, &e) < 0) {
		*err = errno;
		return -1;
	}
	fmt(failed, len, "%s/current/%s", data, aside);
	rc = empty_dir(it->dfd, err);
	if (rc == 0 && unlinkat(cfd, aside, AT_REMOVEDIR) < 0) {
		*err = errno;
		rc = -1;
	}
	return rc;
}

/*
 * Store the ETags in etags/N (in 'efd'), with the stamps of the files
 * they describe. Best effort, but never through a link.
 */
static void
store_etags(const char *data, int efd, struct wb_archive_item *it)
{
	char name[16], path[4096], *buf;
	size_t n = 0;
	int fd, ok;

	if (efd < 0)
		return;
	snprintf(name, sizeof name, "%ld", it->number);
	fmt(path, sizeof path, "%s/etags/%s", data, name);
	if (it->etags.issue[0] == '\0' && it->etags.npages == 0) {
		if (!is_link(it, efd, name, path))
			unlinkat(efd, name, 0);
		return;
	}
	if ((buf = wb_etags_format(&it->etags, it->stamp, &n)) == NULL) {
		unlinkat(efd, name, 0);
		return;
	}
	/*
	 * Written in place: a torn file only loses ETags (a page cut short
	 * no longer matches, a missing line is a page asked in full), never
	 * makes a stale copy look current.
	 */
	fd = openat(efd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0666);
	if (fd < 0 && errno == ELOOP) {
		fail_link(it, path);
		free(buf);
		return;
	}
	ok = fd >= 0 && write_all(fd, buf, n) == 0;
	if (fd >= 0 && close(fd) < 0)
		ok = 0;
	if (!ok)
		unlinkat(efd, name, 0);
	free(buf);
}

/*
 * Rename the temporary files of 'it' into 'dir' (it->dfd): timeline.json
 * first, the issue last. When the issue cannot follow, the previous
 * timeline.json is put back (kept under a second name until then), so
 * that a failure leaves the previous files as they were, never a new
 * timeline beside an old issue. Sets *renamed when a file was replaced.
 * Returns 0, or -1 with it->failed set.
 */
static int
install(const char *dir, struct wb_archive_item *it, int *renamed)
{
	char path[2][4096], kept[64] = "";
	int err, put_back = 0;

	*renamed = 0;
	for (int i = 0; i < 2; i++)
		fmt(path[i], sizeof path[i], "%s/%s", dir, files[i]);
	if (it->fd[0] >= 0 && it->fd[1] >= 0 && !it->newdir &&
	    link_aside(it->dfd, files[1], kept, sizeof kept) < 0) {
		if (errno != ENOENT) {
			fail(it, "keep a copy of", path[1], errno);
			return -1;
		}
		kept[0] = '\0';	/* none before: putting back is removing */
	}
	for (int i = 1; i >= 0; i--) {
		if (it->fd[i] < 0)
			continue;
		if (renameat(it->dfd, base_name(it->tmp[i]), it->dfd,
		    files[i]) < 0) {
			err = errno;
			put_back = i == 0 && *renamed;
			fail(it, "replace", path[i], err);
			break;
		}
		*renamed = 1;
		close(it->fd[i]);
		it->fd[i] = -1;
		it->tmp[i][0] = '\0';
	}
	if (put_back && (kept[0] != '\0' ? renameat(it->dfd, kept, it->dfd,
	    files[1]) : unlinkat(it->dfd, files[1], 0)) < 0) {
		fmt(it->err, sizeof it->err, "unable to replace %s, nor to put "
		    "back %s: %s", path[0], path[1], strerror(errno));
		return -1;
	}
	if (put_back)
		kept[0] = '\0';
	if (kept[0] != '\0')
		unlinkat(it->dfd, kept, 0);
	return it->failed ? -1 : 0;
}

/*
 * fsync fds[0..n) from several threads at once and set errs[i] to 0 or
 * an errno: concurrent fsyncs share the filesystem's journal commits, so
 * a batch costs about one wait for the disk instead of one per file.
 */
struct sync_job {
	const int *fds;
	int *errs;
	size_t n;
	atomic_size_t next;
};

static void *
sync_worker(void *arg)
{
	struct sync_job *j = arg;
	size_t i;

	while ((i = atomic_fetch_add(&j->next, 1)) < j->n)
		j->errs[i] = fsync(j->fds[i]) < 0 ? errno : 0;
	return NULL;
}

static void
fsync_many(const int *fds, int *errs, size_t n)
{
	struct sync_job j = { .fds = fds, .errs = errs, .n = n };
	pthread_t th[SYNC_THREADS];
	size_t started = 0;

	atomic_init(&j.next, 0);
	while (started < SYNC_THREADS && started + 1 < n &&
	    pthread_create(&th[started], NULL, sync_worker, &j) == 0)
		started++;
	sync_worker(&j);
	for (size_t t = 0; t < started; t++)
		pthread_join(th[t], NULL);
}

/*
 * The scratch arrays of one commit: descriptors to fsync at once, their
 * errors, and whose they are.
 */
struct batch {
	int *fds, *errs;
	size_t *owner;
};

/*
 * Flush the temporary files of the items, all at once, and take their
 * stamps; an item whose file cannot be flushed fails.
 */
static void
sync_data(struct wb_archive_item *items, size_t n, struct batch *b)
{
	size_t m = 0;

	for (size_t k = 0; k < n; k++)
		for (int i = 0; i < 2 && !items[k].failed; i++)
			if (items[k].fd[i] >= 0) {
				b->owner[m] = k * 2 + (size_t)i;
				b->fds[m++] = items[k].fd[i];
			}
	fsync_many(b->fds, b->errs, m);
	for (size_t x = 0; x < m; x++) {
		struct wb_archive_item *it = &items[b->owner[x] / 2];
		int i = (int)(b->owner[x] % 2);
		struct stat st;

		if (it->failed)
			continue;
		if (b->errs[x] != 0)
			fail(it, "write", it->tmp[i], b->errs[x]);
		else if (fstat(it->fd[i], &st) < 0)
			fail(it, "write", it->tmp[i], errno);
		else
			stamp_of(&st, &it->stamp[i]);
	}
}

/*
 * current/, opened when an item adds or removes an issue directory (the
 * names it holds change, to be flushed); else -1, also when it cannot be
 * opened: those items then fail.
 */
static int
open_current(const char *data, struct wb_archive_item *items, size_t n)
{
	char current[4096];
	size_t k;
	int cfd, err;

	for (k = 0; k < n; k++)
		if (!items[k].failed && (items[k].remove || items[k].newdir))
			break;
	if (k == n)
		return -1;
	if ((cfd = top_dir(data, "current")) >= 0)
		return cfd;
	err = errno;
	fmt(current, sizeof current, "%s/current", data);
	for (k = 0; k < n; k++)
		if (items[k].remove || items[k].newdir)
			fail_open(&items[k], "open the directory", current, err);
	return -1;
}

/*
 * Rename the files of each item into place, or remove its issue (with
 * current/ open on 'cfd', or -1), then flush the directories whose names
 * changed. Returns 1 when ETags are to be stored or removed.
 */
static int
install_all(const char *data, struct wb_archive_item *items, size_t n,
    int cfd, struct batch *b)
{
	char dir[4096], path[4096], name[16];
	size_t m = 0;
	int store = 0;

	for (size_t k = 0; k < n; k++) {
		struct wb_archive_item *it = &items[k];
		int err = 0, renamed = 0;

		if (it->failed ||
		    wb_archive_path(dir, sizeof dir, data, it->number, NULL) < 0)
			continue;
		if (it->remove) {
			snprintf(name, sizeof name, "%ld", it->number);
			if (it->dfd >= 0 && remove_dir(data, cfd, name, dir, it,
			    path, sizeof path, &err) < 0)
				fail(it, "remove", path, err);
			else
				store = 1;
			continue;
		}
		store = 1;
		if (install(dir, it, &renamed) < 0 || !renamed)
			continue;
		b->fds[m] = it->dfd;
		b->owner[m++] = k;
	}
	fsync_many(b->fds, b->errs, m);
	for (size_t x = 0; x < m; x++) {
		struct wb_archive_item *it = &items[b->owner[x]];

		if (b->errs[x] != 0 && wb_archive_path(dir, sizeof dir, data,
		    it->number, NULL) == 0)
			fail(it, "flush the directory", dir, b->errs[x]);
	}
	return store;
}

/*
 * Store the ETags of each item that stored its files and remove those of
 * each removed issue ('store': there is such an item); remove the empty
 * current/N made for an item that failed.
 */
static void
store_all_etags(const char *data, struct wb_archive_item *items, size_t n,
    int store)
{
	char path[4096], name[16];
	struct stat st;
	int efd = -1;

	fmt(path, sizeof path, "%s/etags", data);
	if (store && (efd = make_top(data, "etags")) < 0 &&
	    lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		for (size_t k = 0; k < n; k++)
			fail_link(&items[k], path);
	for (size_t k = 0; k < n; k++) {
		struct wb_archive_item *it = &items[k];

		snprintf(name, sizeof name, "%ld", it->number);
		if (!it->failed && !it->remove)
			store_etags(data, efd, it);
		else if (!it->failed && efd >= 0)
			unlinkat(efd, name, 0);
		/* An empty current/N would pass for an archived issue. */
		if (it->failed && it->newdir && it->dfd >= 0) {
			int c = top_dir(data, "current");

			if (c >= 0)
				unlinkat(c, name, AT_REMOVEDIR);
			close_keep(c);
		}
	}
	close_keep(efd);
}

void
wb_archive_commit(const char *data, struct wb_archive_item *items, size_t n)
{
	struct batch b = { calloc(2 * n + 1, sizeof *b.fds),
	    calloc(2 * n + 1, sizeof *b.errs),
	    calloc(2 * n + 1, sizeof *b.owner) };
	char current[4096];
	int cfd, store;

	if (b.fds == NULL || b.errs == NULL || b.owner == NULL) {
		for (size_t k = 0; k < n; k++)
			fail(&items[k], "allocate memory for", "a batch", ENOMEM);
		goto out;
	}
	/* The data first, so that a rename never publishes unwritten bytes. */
	sync_data(items, n, &b);
	/* Then the names, and the directories that hold them. */
	cfd = open_current(data, items, n);
	store = install_all(data, items, n, cfd, &b);
	if (cfd >= 0 && fsync(cfd) < 0) {
		int err = errno;

		fmt(current, sizeof current, "%s/current", data);
		for (size_t k = 0; k < n; k++)
			if (items[k].remove || items[k].newdir)
				fail(&items[k], "flush the directory", current, err);
	}
	close_keep(cfd);
	/* The ETags last, while the pair they describe is still locked. */
	store_all_etags(data, items, n, store);
out:
	free(b.fds);
	free(b.errs);
	free(b.owner);
}
