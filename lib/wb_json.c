/* SPDX-License-Identifier: MPL-2.0 */
/* wb — typed access to jv values from untrusted JSON. */
#include <string.h>

#include "wb_json.h"

const char *
wb_json_string(jv obj, const char *key)
{
	const char *s;
	jv v;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return NULL;
	v = jv_object_get(jv_copy(obj), jv_string(key));
	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return NULL;
	}
	/* The object holds a reference, so the string outlives 'v'. */
	s = jv_string_value(v);
	jv_free(v);
	return s;
}

int
wb_json_number(jv obj, const char *key, double *out)
{
	jv v;
	int rc = -1;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return -1;
	v = jv_object_get(jv_copy(obj), jv_string(key));
	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		*out = jv_number_value(v);
		rc = 0;
	}
	jv_free(v);
	return rc;
}

int
wb_json_true(jv obj, const char *key)
{
	jv v;
	int t;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return 0;
	v = jv_object_get(jv_copy(obj), jv_string(key));
	t = jv_get_kind(v) == JV_KIND_TRUE;
	jv_free(v);
	return t;
}

jv
wb_json_path(jv v, const char *path)
{
	jv cur = jv_copy(v);

	while (*path != '\0') {
		size_t n = strcspn(path, ".");

		if (jv_get_kind(cur) != JV_KIND_OBJECT) {
			jv_free(cur);
			return jv_invalid();
		}
		cur = jv_object_get(cur, jv_string_sized(path, (int)n));
		if (!jv_is_valid(cur))
			return cur;
		path += n + (path[n] == '.');
	}
	return cur;
}
