/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints of labyrinth: claim (result, rooms visited), release, detach,
 * refill (by which allocator) and refused calls. Disabled, each costs a
 * static branch; enabled, each is valid in any context, NMI included.
 *
 * Copyright (C) 2026 The labyrinth authors
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM labyrinth

#if !defined(_LABYRINTH_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _LABYRINTH_TRACE_H

#include <linux/string.h>
#include <linux/tracepoint.h>

#define LABYRINTH_TRACE_NAME_LEN	32

TRACE_EVENT(labyrinth_claim,
	    TP_PROTO(const char *name, const void *owner, const void *addr,
		     unsigned int probes, bool contended),
	    TP_ARGS(name, owner, addr, probes, contended),
	    TP_STRUCT__entry(__array(char, name, LABYRINTH_TRACE_NAME_LEN)
			     __field(const void *, owner)
			     __field(const void *, addr)
			     __field(unsigned int, probes)
			     __field(bool, contended)),
	    TP_fast_assign(strscpy(__entry->name, name, LABYRINTH_TRACE_NAME_LEN);
			   __entry->owner = owner;
			   __entry->addr = addr;
			   __entry->probes = probes;
			   __entry->contended = contended;),
	    TP_printk("%s owner=%p addr=%p probes=%u result=%s", __entry->name,
		      __entry->owner, __entry->addr, __entry->probes,
		      __entry->addr ? "claimed" :
		      __entry->contended ? "fail_contended" : "fail_full")
);

DECLARE_EVENT_CLASS(labyrinth_room_event,
		    TP_PROTO(const char *name, const void *owner,
			     const void *addr, unsigned int room),
		    TP_ARGS(name, owner, addr, room),
		    TP_STRUCT__entry(__array(char, name, LABYRINTH_TRACE_NAME_LEN)
				     __field(const void *, owner)
				     __field(const void *, addr)
				     __field(unsigned int, room)),
		    TP_fast_assign(strscpy(__entry->name, name,
					   LABYRINTH_TRACE_NAME_LEN);
				   __entry->owner = owner;
				   __entry->addr = addr;
				   __entry->room = room;),
		    TP_printk("%s owner=%p addr=%p room=%u", __entry->name,
			      __entry->owner, __entry->addr, __entry->room)
);

DEFINE_EVENT(labyrinth_room_event, labyrinth_release,
	     TP_PROTO(const char *name, const void *owner, const void *addr,
		      unsigned int room),
	     TP_ARGS(name, owner, addr, room));

DEFINE_EVENT(labyrinth_room_event, labyrinth_detach,
	     TP_PROTO(const char *name, const void *owner, const void *addr,
		      unsigned int room),
	     TP_ARGS(name, owner, addr, room));

TRACE_EVENT(labyrinth_refill,
	    TP_PROTO(const char *name, unsigned int room, bool ok, int how),
	    TP_ARGS(name, room, ok, how),
	    TP_STRUCT__entry(__array(char, name, LABYRINTH_TRACE_NAME_LEN)
			     __field(unsigned int, room)
			     __field(bool, ok)
			     __field(int, how)),
	    TP_fast_assign(strscpy(__entry->name, name, LABYRINTH_TRACE_NAME_LEN);
			   __entry->room = room;
			   __entry->ok = ok;
			   __entry->how = how;),
	    TP_printk("%s room=%u %s %s", __entry->name, __entry->room,
		      __print_symbolic(__entry->how, { 0, "gfp" },
				       { 1, "nolock" }, { 2, "deferred" },
				       { 3, "reused" }),
		      __entry->ok ? "filled" : "failed")
);

TRACE_EVENT(labyrinth_bad_call,
	    TP_PROTO(const char *name, int op, const void *owner,
		     const void *addr, int err, unsigned long ip),
	    TP_ARGS(name, op, owner, addr, err, ip),
	    TP_STRUCT__entry(__array(char, name, LABYRINTH_TRACE_NAME_LEN)
			     __field(int, op)
			     __field(const void *, owner)
			     __field(const void *, addr)
			     __field(int, err)
			     __field(unsigned long, ip)),
	    TP_fast_assign(strscpy(__entry->name, name, LABYRINTH_TRACE_NAME_LEN);
			   __entry->op = op;
			   __entry->owner = owner;
			   __entry->addr = addr;
			   __entry->err = err;
			   __entry->ip = ip;),
	    TP_printk("%s %s owner=%p addr=%p err=%d caller=%pS", __entry->name,
		      __print_symbolic(__entry->op, { 0, "claim" },
				       { 1, "release" }, { 2, "detach" }),
		      __entry->owner, __entry->addr, __entry->err,
		      (void *)__entry->ip)
);

#endif /* _LABYRINTH_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE labyrinth_trace
#include <trace/define_trace.h>
