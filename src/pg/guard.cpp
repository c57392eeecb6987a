/*
 * pg/guard.cpp — the out-of-line halves of the C++/PostgreSQL boundary (see pg/guard.hpp).
 *
 * Memory: CaptureCurrentException writes only into the caller's fixed buffers (no allocation inside a
 * catch block); RunCatchingErrors copies the error data into the caller's memory context.
 */
#include "indexpilot/pg/guard.hpp"

#include "indexpilot/core/error.hpp"

#include <cstring>
#include <new>

namespace indexpilot::pg
{

bool
PgError::cancelled() const noexcept
{
	return sqlerrcode() == ERRCODE_QUERY_CANCELED;
}

const char *
PgError::what() const noexcept
{
	return (edata_ && edata_->message) ? edata_->message : "PostgreSQL error";
}

namespace detail
{

static void
CopyText(char *dst, size_t size, const char *src) noexcept
{
	if (src == nullptr) {
		dst[0] = '\0';
		return;
	}
	strlcpy(dst, src, size);
}

static int
SqlstateToCode(const char *s) noexcept
{
	return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

void
Flatten(PendingError *pending) noexcept
{
	ErrorData *edata = pending->edata;
	if (edata == nullptr)
		return;
	pending->sqlerrcode = edata->sqlerrcode;
	CopyText(pending->message, sizeof(pending->message), edata->message);
	CopyText(pending->detail, sizeof(pending->detail), edata->detail);
	CopyText(pending->hint, sizeof(pending->hint), edata->hint);
	pending->edata = nullptr;
}

void
CaptureCurrentException(PendingError *out) noexcept
{
	out->edata = nullptr;
	out->sqlerrcode = ERRCODE_INTERNAL_ERROR;
	out->message[0] = out->detail[0] = out->hint[0] = '\0';
	try {
		throw;
	} catch (PgError &e) {
		out->edata = e.release();
		if (out->edata == nullptr)
			CopyText(out->message, sizeof(out->message), "PostgreSQL error (already re-raised)");
	} catch (const core::Error &e) {
		out->sqlerrcode = SqlstateToCode(e.sqlstate());
		CopyText(out->message, sizeof(out->message), e.what());
		CopyText(out->detail, sizeof(out->detail), e.detail().c_str());
		CopyText(out->hint, sizeof(out->hint), e.hint().c_str());
	} catch (const std::bad_alloc &) {
		out->sqlerrcode = ERRCODE_OUT_OF_MEMORY;
		CopyText(out->message, sizeof(out->message), "out of memory in IndexPilot C++ code");
	} catch (const std::exception &e) {
		CopyText(out->message, sizeof(out->message), e.what());
		CopyText(out->detail, sizeof(out->detail), "An unexpected C++ exception reached the IndexPilot boundary.");
	} catch (...) {
		CopyText(out->message, sizeof(out->message), "unknown C++ exception in IndexPilot");
	}
}

void
RaisePending(const PendingError *pending)
{
	if (pending->edata != nullptr)
		ReThrowError(pending->edata);
	ereport(ERROR, (errcode(pending->sqlerrcode), errmsg("%s", pending->message),
					pending->detail[0] ? errdetail("%s", pending->detail) : 0,
					pending->hint[0] ? errhint("%s", pending->hint) : 0));
	pg_unreachable();
}

ErrorData *
RunCatchingErrors(void (*cb)(void *), void *arg)
{
	MemoryContext callerContext = CurrentMemoryContext;
	ErrorData *volatile edata = nullptr;

	PG_TRY();
	{
		cb(arg);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(callerContext);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	return edata;
}

} // namespace detail
} // namespace indexpilot::pg
