/* wb — the archived files of an issue, read and checked for indexing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb_archive.h"
#include "wb_err.h"
#include "wb_esload.h"

int
wb_esload_file(const char *path, struct wb_es_buf *buf)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	buf->len = 0;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if ((size_t)st.st_size > WB_ARCHIVE_MAX_FILE) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	if (wb_es_buf_reserve(buf, (size_t)st.st_size + 1) < 0)
		wb_diesys(WB_EXIT_TEMP, "unable to allocate memory");
	for (;;) {
		if (buf->cap - buf->len < 2 &&
		    wb_es_buf_reserve(buf, buf->cap) < 0)
			wb_diesys(WB_EXIT_TEMP, "unable to allocate memory");
		n = read(fd, buf->p + buf->len, buf->cap - buf->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || buf->len + (size_t)n > WB_ARCHIVE_MAX_FILE)
			break;
		buf->len += (size_t)n;
	}
	if (n != 0) {
		if (n > 0)
			errno = EFBIG;
		close(fd);
		return -1;
	}
	close(fd);
	buf->p[buf->len] = '\0';
	return 0;
}

/*
 * Issue 'number' has no directory: gone (0) if the archive is there;
 * without it (a fresh system, an unmounted disk) nothing can be told
 * (-1, said).
 */
static int
gone(const char *data, long number)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof path, "%s/current", data);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	wb_warn("issue %ld: no archive at %s, skipped", number, path);
	return -1;
}

int
wb_esload_issue(struct wb_esload *ld, const char *data, long n)
{
	char path[4096], why[256];
	struct stat st;
	int e;

	if (wb_archive_path(path, sizeof path, data, n, "timeline.json") < 0 ||
	    wb_archive_path(path, sizeof path, data, n, "issue.json") < 0)
		wb_die(WB_EXIT_USAGE, "WB_DATA is too long");
	if (wb_esload_file(path, &ld->itext) < 0) {
		e = errno;
		wb_archive_path(path, sizeof path, data, n, NULL);
		if (e == ENOENT && stat(path, &st) < 0 && errno == ENOENT)
			return gone(data, n);
		wb_archive_path(path, sizeof path, data, n, "issue.json");
		errno = e;
		wb_warnsys("issue %ld: unable to read %s, skipped", n, path);
		return -1;
	}
	if (wb_jscan_object(ld->itext.p, ld->itext.len, &ld->ispan, why,
	    sizeof why) < 0) {
		wb_warn("issue %ld: %s is not a JSON object: %s, skipped", n,
		    path, why);
		return -1;
	}
	wb_archive_path(path, sizeof path, data, n, "timeline.json");
	if (wb_esload_file(path, &ld->ttext) < 0) {
		wb_warnsys("issue %ld: unable to read %s, skipped", n, path);
		return -1;
	}
	if (wb_jscan_array(ld->ttext.p, ld->ttext.len, &ld->spans, why,
	    sizeof why) < 0) {
		wb_warn("issue %ld: %s is not a JSON array of objects: %s, "
		    "skipped", n, path, why);
		return -1;
	}
	return 1;
}

void
wb_esload_free(struct wb_esload *ld)
{
	wb_es_buf_free(&ld->itext);
	wb_es_buf_free(&ld->ttext);
	wb_jscan_spans_free(&ld->spans);
}
