/* SPDX-License-Identifier: MPL-2.0 */
/* wb-scrub — remove the private issues from an extracted snapshot.
 *
 * DIR is a directory of issue directories N/ (an extracted snapshot's
 * STAMP/, or current/; a DIR holding a current/ directory means that
 * one). An issue whose issue.json has "__WEBCOMPAT_PRIVATE_ISSUE__": true
 * at its top level is removed, directory and all, and so is every entry
 * that cannot be classified (an issue.json truncated, empty, not UTF-8,
 * not one JSON object, missing; a name that is not an issue number), each
 * reported with its reason: no private report may leave by a file this
 * program could not read. Removed paths go to stdout. Symbolic links are
 * never followed: a hostile snapshot cannot make it read or remove
 * anything outside DIR.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_archive.h"
#include "wb_cli.h"
#include "wb_err.h"
#include "wb_jscan.h"
#include "wb_scan.h"
#include "wb_xalloc.h"

#define USAGE "wb-scrub [-k] DIR"
#define HELP \
	"Remove from DIR (an extracted snapshot's YYYYmmdd_HHMM/ directory, or\n" \
	"current/) the issues flagged private, and those it cannot classify.\n" \
	"  -k, --keep-unreadable   keep what cannot be classified (still reported)\n" \
	"See wb-scrub(1).\n"

#define FLAG "__WEBCOMPAT_PRIVATE_ISSUE__"
/* Directories nested deeper than this inside one entry are not removed. */
#define MAX_DEPTH 64

enum verdict { PUBLIC, PRIVATE, UNCLEAR, GONE };

struct entry {
	char *name;
	long number;		/* 0: not an issue number */
};

struct scrub {
	const char *dir;	/* as printed */
	int fd;
	int keep;		/* --keep-unreadable */
	char *buf;		/* issue.json, reused */
	size_t cap;
};

static int
by_number(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->number != y->number)
		return x->number == 0 ? 1 : y->number == 0 ? -1 :
		    x->number < y->number ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * The entries of the directory open on 'fd' (left open), but "." and
 * "..", sorted: issue numbers in order, then the other names. Returns
 * their count; exits 111 when the directory cannot be read.
 */
static size_t
list(int fd, const char *path, struct entry **out)
{
	struct entry *v = NULL;
	struct dirent *e;
	size_t n = 0, cap = 0;
	int dfd;
	DIR *d;

	if ((dfd = dup(fd)) < 0 || (d = fdopendir(dfd)) == NULL)
		wb_diesys(WB_EXIT_TEMP, "unable to read %s", path);
	while (errno = 0, (e = readdir(d)) != NULL) {

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		v = wb_xgrow(v, n, &cap, sizeof *v);
		v[n].name = wb_xstrdup(e->d_name);
		if (wb_scan_number(e->d_name, &v[n].number, NULL, 0) < 0)
			v[n].number = 0;
		n++;
	}
	if (errno)
		wb_diesys(WB_EXIT_TEMP, "unable to read %s", path);
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, by_number);
	*out = v;
	return n;
}

/*
 * Remove 'name' in the directory open on 'dirfd', a file or a whole
 * directory, never following a symbolic link (one is removed itself).
 * Returns 0, or -1 with errno set.
 */
static int
remove_at(int dirfd, const char *name, int depth)
{
	struct dirent *e;
	int fd, err, again = 1;
	DIR *d;

	if (unlinkat(dirfd, name, 0) == 0)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if (depth >= MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	/* Passes until one removes nothing: removing while reading a
	 * directory may hide some of its entries from readdir. */
	for (err = 0; again && !err; rewinddir(d)) {
		again = 0;
		while (errno = 0, (e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			if (remove_at(fd, e->d_name, depth + 1) < 0) {
				err = errno;
				break;
			}
			again = 1;
		}
		if (!err && errno)
			err = errno;
	}
	closedir(d);
	if (err) {
		errno = err;
		return -1;
	}
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}

/*
 * Read the issue directory 'name' of s->fd and say whether it is private;
 * UNCLEAR sets the reason in why[whylen], GONE means it vanished.
 */
static enum verdict
classify(struct scrub *s, const struct entry *en, char *why, size_t whylen)
{
	static const char *const paths[] = { FLAG };
	struct wb_jscan_value val;
	struct stat st;
	size_t len, at;
	int dfd, fd, r, err;
	char jwhy[256];

	if (en->number == 0) {
		snprintf(why, whylen, "not an issue number");
		return UNCLEAR;
	}
	if (fstatat(s->fd, en->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return GONE;
		snprintf(why, whylen, "%s", strerror(errno));
		return UNCLEAR;
	}
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s", S_ISLNK(st.st_mode) ?
		    "a symbolic link" : "not a directory");
		return UNCLEAR;
	}
	dfd = openat(s->fd, en->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (dfd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return UNCLEAR;
	}
	/* Not blocking: a FIFO in the file's place must not stall us. */
	fd = openat(dfd, "issue.json", O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC);
	err = errno;
	close(dfd);
	if (fd < 0) {
		snprintf(why, whylen, "%s%s", err == ENOENT ?
		    "no issue.json" : "issue.json: ", err == ENOENT ? "" :
		    err == ELOOP ? "a symbolic link" : strerror(err));
		return UNCLEAR;
	}
	r = wb_archive_load_fd(fd, &s->buf, &s->cap, &len);
	err = errno;
	close(fd);
	if (r < 0) {
		if (err == ENOMEM)
			wb_die(WB_EXIT_TEMP, "unable to allocate");
		snprintf(why, whylen, "issue.json: %s", err == EINVAL ?
		    "not a regular file" : err == EFBIG ?
		    "larger than 256 MiB" : strerror(err));
		return UNCLEAR;
	}
	if (len == 0) {
		snprintf(why, whylen, "issue.json: empty");
		return UNCLEAR;
	}
	if (wb_jscan_paths(s->buf, len, paths, 1, &val, jwhy,
	    sizeof jwhy) < 0) {
		snprintf(why, whylen, "issue.json: %s", jwhy);
		return UNCLEAR;
	}
	/* wb-write never writes one: two readers could disagree on it. */
	if (wb_jscan_unique_keys(s->buf, len, &at) < 0) {
		snprintf(why, whylen, "issue.json: a key twice, at byte %zu", at);
		return UNCLEAR;
	}
	if (val.kind == WB_JSCAN_ABSENT)
		return PUBLIC;
	if (val.kind == WB_JSCAN_OTHER && val.len == 4 &&
	    memcmp(s->buf + val.off, "true", 4) == 0)
		return PRIVATE;
	if (val.kind == WB_JSCAN_OTHER && val.len == 5 &&
	    memcmp(s->buf + val.off, "false", 5) == 0)
		return PUBLIC;
	snprintf(why, whylen, "issue.json: " FLAG " is neither true nor false");
	return UNCLEAR;
}

/* Remove one entry and print its path; returns 0, or 111 on failure. */
static int
discard(struct scrub *s, const char *name)
{
	if (remove_at(s->fd, name, 0) < 0) {
		wb_warnsys("unable to remove %s/%s", s->dir, name);
		return WB_EXIT_TEMP;
	}
	if (printf("%s/%s\n", s->dir, name) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to write to stdout");
	return 0;
}

static int
scrub(struct scrub *s, struct entry *v, size_t n)
{
	int status = 0, failed = 0;
	char why[512];

	for (size_t i = 0; i < n; i++) {
		switch (classify(s, &v[i], why, sizeof why)) {
		case PUBLIC:
		case GONE:
			break;
		case PRIVATE:
			failed |= discard(s, v[i].name);
			break;
		case UNCLEAR:
			wb_warn("%s/%s: unable to classify: %s; %s", s->dir,
			    v[i].name, why, s->keep ? "kept" : "removed");
			status = WB_EXIT_REJECTED;
			if (!s->keep)
				failed |= discard(s, v[i].name);
			break;
		}
	}
	return failed ? WB_EXIT_TEMP : status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keep-unreadable", no_argument, NULL, 'k' },
		WB_CLI_LONGOPTS
	};
	struct scrub s = { 0 };
	struct entry *v;
	struct stat st;
	size_t n, issues = 0;
	char *dir;
	int ch, status;

	wb_cli_start("wb-scrub");
	while ((ch = getopt_long(argc, argv, "hk", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			s.keep = 1;
			break;
		default:
			wb_cli_option(ch, USAGE, HELP);
		}
	}
	if (argc - optind != 1 || argv[optind][0] == '\0')
		wb_dieusage(USAGE);
	dir = argv[optind];
	for (size_t l = strlen(dir); l > 1 && dir[l - 1] == '/'; l--)
		dir[l - 1] = '\0';
	if ((s.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		wb_diesys(errno == ENOENT || errno == ENOTDIR ||
		    errno == EACCES ? WB_EXIT_USAGE : WB_EXIT_TEMP,
		    "unable to open %s", dir);
	s.dir = dir;
	/* An older snapshot holds current/: that is the one (never a link). */
	if (fstatat(s.fd, "current", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode)) {
		int fd = openat(s.fd, "current", O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		char *p;

		if (fd < 0)
			wb_diesys(WB_EXIT_TEMP, "unable to open %s/current", dir);
		close(s.fd);
		s.fd = fd;
		p = wb_xmalloc(strlen(dir) + sizeof "/current");
		sprintf(p, "%s/current", dir);
		s.dir = p;
	}
	n = list(s.fd, s.dir, &v);
	for (size_t i = 0; i < n; i++)
		issues += v[i].number != 0;
	/* A directory one level too high (holding STAMP/) would lose all. */
	if (n > 0 && issues == 0)
		wb_die(WB_EXIT_USAGE, "no issue directory in %s: give the "
		    "directory of the issues (STAMP/ of a snapshot)", s.dir);
	status = scrub(&s, v, n);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	free(s.buf);
	close(s.fd);
	if (s.dir != dir)
		free((char *)s.dir);
	return wb_cli_end_or_die(status);
}
