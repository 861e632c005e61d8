/* wb — the archived files of an issue, read and checked for indexing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	if ((size_t)st.st_size > WB_ESLOAD_MAX_FILE) {
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
		if (n <= 0 || buf->len + (size_t)n > WB_ESLOAD_MAX_FILE)
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

int
wb_esload_issue(struct wb_esload *ld, const char *data, long n)
{
	char path[4096], why[256];
	struct stat st;
	int len;

	len = snprintf(path, sizeof path, "%s/current/%ld/issue.json", data, n);
	if (len < 0 || (size_t)len + 8 >= sizeof path)
		wb_die(WB_EXIT_USAGE, "WB_DATA is too long");
	if (wb_esload_file(path, &ld->itext) < 0) {
		int e = errno;

		path[len - sizeof "/issue.json" + 1] = '\0';
		if (e == ENOENT && stat(path, &st) < 0 && errno == ENOENT) {
			/*
			 * Gone, if the archive is there: without it (a fresh
			 * system, an unmounted disk) nothing can be told.
			 */
			snprintf(path, sizeof path, "%s/current", data);
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				return 0;
			wb_warn("issue %ld: no archive at %s, skipped", n, path);
			return -1;
		}
		path[strlen(path)] = '/';
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
	memcpy(path + len - sizeof "issue.json" + 1, "timeline.json", 14);
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
