/*
 * repute/notice.h - the texts of notifications, written for account owners.
 *
 * For every issue kind and every stage that applies to it, repute has a
 * title, a "why" (what happened and why it matters) and a list of concrete
 * actions the owner can take. Texts never name a reporter, a trap address
 * or a complaining recipient. The "why" may quote the rate and threshold of
 * a rate issue and the review end (and a tenant's name), so it is
 * rendered into a caller buffer; titles and actions are static strings.
 */
#ifndef REPUTE_NOTICE_H
#define REPUTE_NOTICE_H

#include "repute/record.h"

/* Fills n->title, n->why and n->actions/n_actions for n->issue and
 * n->stage, using n->rate, n->threshold and n->review_ends_at where the
 * text quotes them. When n->tenant is set (non-empty), the texts are the
 * tenant's: the why names the tenant (the only text of the record it ever
 * quotes) and says that only that tenant's mail is concerned, and the
 * title and actions speak of that stream. The why text is written into buf
 * (NUL-terminated, truncated to size, never ending in a partial UTF-8
 * character) and n->why points into it; title and actions point to static
 * strings. With a tenant name of up to RP_TENANT_MAX bytes, every why fits
 * in 1024 bytes. Never fails; an out-of-range kind or stage gets a generic
 * text. */
void rp_notice_render(rp_notification *n, char *buf, size_t size);

#endif
