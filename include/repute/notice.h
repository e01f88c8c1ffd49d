/*
 * repute/notice.h - the texts of notifications, written for account owners.
 *
 * For every issue kind and every stage that applies to it, repute has a
 * title, a "why" (what happened and why it matters) and a list of concrete
 * actions the owner can take. Texts never name a reporter, a trap address
 * or a complaining recipient. The "why" may quote the rate and threshold of
 * a rate issue and the review end, so it is rendered into a caller buffer;
 * titles and actions are static strings.
 */
#ifndef REPUTE_NOTICE_H
#define REPUTE_NOTICE_H

#include "repute/record.h"

/* Fills n->title, n->why and n->actions/n_actions for n->issue and
 * n->stage, using n->rate, n->threshold and n->review_ends_at where the
 * text quotes them. The why text is written into buf (NUL-terminated,
 * truncated to size) and n->why points into it; title and actions point to
 * static strings. Never fails; an out-of-range kind or stage gets a
 * generic text. */
void rp_notice_render(rp_notification *n, char *buf, size_t size);

#endif
