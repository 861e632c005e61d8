/* SPDX-License-Identifier: MPL-2.0 */
/* wb — installing index templates (PUT _index_template/NAME). */
#ifndef WB_ESTEMPLATE_H
#define WB_ESTEMPLATE_H

#include "wb_esconn.h"

/*
 * Install every dir/NAME.json, in name order, as index template NAME on
 * the server of 'es', each checked first (wb_es_template_check); a line
 * on stderr names each template once it is installed. Returns
 * WB_EXIT_OK; dies 100 for a directory without templates, a template
 * that is unreadable or malformed, or that the server refuses (with its
 * reason); 111 when the server cannot be reached or answers 5xx.
 */
int wb_estemplate_install_or_die(struct wb_esconn *es, const char *dir);

#endif
