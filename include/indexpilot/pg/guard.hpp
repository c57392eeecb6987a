/*
 * pg/guard.hpp — the C++/PostgreSQL boundary, one guard each way.
 *
 * PostgreSQL reports errors with ereport(ERROR), a longjmp: it would skip C++ destructors. C++ reports
 * errors with exceptions: one that reaches PostgreSQL's C frames terminates the backend. So:
 *
 *   Entry(fn)  C++ -> PostgreSQL. Every C entry point (SQL function, hook with C++ inside, worker main)
 *              runs its C++ body through Entry. An exception is caught, its text copied into a plain
 *              buffer, the catch block is left, and only then is ereport(ERROR) raised. A PgError (below)
 *              is re-raised as the original error, SQLSTATE and all.
 *
 *   Call(fn)   PostgreSQL -> C++. Each PostgreSQL call that may raise an ERROR, made from C++ code that
 *              owns objects with destructors, runs through Call. An ERROR is caught (its own sigsetjmp),
 *              copied out of the error state and thrown as PgError, so the C++ stack unwinds normally.
 *
 * Rules (see docs/architecture.md):
 *   - fn given to Call holds no object with a non-trivial destructor: it is a thin lambda around one
 *     PostgreSQL call; results are returned by value (pointers, Datum, integers).
 *   - A PgError may be caught to clean up, but must be rethrown (or left to reach Entry): the transaction
 *     still holds whatever the failed call acquired until PostgreSQL aborts it.
 *   - Never ereport inside a catch block, never throw inside PG_TRY, never call Call from a destructor.
 */
#pragma once

#include "indexpilot/pg/postgres.hpp"

#include <exception>
#include <type_traits>
#include <utility>

namespace indexpilot::pg
{

/* A PostgreSQL ERROR carried through C++ frames. Owns a copy of the error data (palloc'd). */
class PgError : public std::exception
{
public:
	explicit PgError(ErrorData *edata) noexcept : edata_(edata) {}
	const char *what() const noexcept override;
	int sqlerrcode() const noexcept { return edata_ ? edata_->sqlerrcode : 0; }
	/* A query cancel (statement_timeout, pg_cancel_backend): never swallowed. */
	bool cancelled() const noexcept;
	/* Hands the error data over (to be re-raised); the exception no longer refers to it. */
	ErrorData *release() noexcept { return std::exchange(edata_, nullptr); }

private:
	// Not freed in the destructor: it lives in the caller's memory context, reclaimed with it.
	ErrorData *edata_;
};

namespace detail
{

/* What Entry copies out of an exception before leaving the catch block: plain data only. */
struct PendingError {
	ErrorData *edata; // a PgError's data, re-raised as is; otherwise the fields below
	int sqlerrcode;
	char message[1024];
	char detail[1024];
	char hint[512];
};

/* Fills *out from the exception currently being handled. Call only inside a catch block. */
void CaptureCurrentException(PendingError *out) noexcept;

/*
 * Moves a PgError's data into the plain buffers (SQLSTATE, message, detail, hint) and drops the pointer, so
 * the error outlives the memory context it was copied into (a worker reports it after aborting).
 */
void Flatten(PendingError *pending) noexcept;

/* Raises the pending error with ereport(ERROR). Call only outside any catch block. */
[[noreturn]] void RaisePending(const PendingError *pending);

/* Runs cb(arg) under PG_TRY; returns nullptr, or a copy of the ERROR it raised (error state flushed). */
ErrorData *RunCatchingErrors(void (*cb)(void *), void *arg);

} // namespace detail

/* C++ -> PostgreSQL: runs fn; any exception becomes ereport(ERROR). Use at every C entry point. */
template <typename Fn>
auto
Entry(Fn &&fn) noexcept -> decltype(fn())
{
	detail::PendingError pending;
	try {
		return fn();
	} catch (...) {
		detail::CaptureCurrentException(&pending);
	}
	detail::RaisePending(&pending);
}

/* PostgreSQL -> C++: runs fn (one PostgreSQL call); an ERROR it raises is thrown as PgError. */
template <typename Fn>
auto
Call(Fn &&fn) -> decltype(fn())
{
	using Result = decltype(fn());
	using FnType = std::remove_reference_t<Fn>;
	if constexpr (std::is_void_v<Result>) {
		auto thunk = [](void *arg) { (*static_cast<FnType *>(arg))(); };
		if (ErrorData *edata = detail::RunCatchingErrors(thunk, &fn))
			throw PgError(edata);
	} else {
		static_assert(std::is_trivially_copyable_v<Result> && std::is_default_constructible_v<Result>,
					  "pg::Call returns plain values only (pointers, Datum, integers)");
		struct Context {
			FnType *fn;
			Result result;
		} ctx{&fn, Result{}};
		auto thunk = [](void *arg) {
			auto *c = static_cast<Context *>(arg);
			c->result = (*c->fn)();
		};
		if (ErrorData *edata = detail::RunCatchingErrors(thunk, &ctx))
			throw PgError(edata);
		return ctx.result;
	}
}

} // namespace indexpilot::pg

/*
 * Defines a SQL-callable function with C linkage whose body runs through Entry, by construction:
 *     INDEXPILOT_FUNCTION(indexpilot_version) { return CStringGetTextDatum(INDEXPILOT_VERSION); }
 * The body is plain C++ with `fcinfo` in scope; PostgreSQL calls in it that may raise go through Call.
 * PG_FUNCTION_INFO_V1 and the definition both need extern "C", or the server cannot find the symbols.
 */
#define INDEXPILOT_FUNCTION(name)                                                                                      \
	static Datum name##_body(FunctionCallInfo fcinfo);                                                                 \
	extern "C" {                                                                                                       \
	PG_FUNCTION_INFO_V1(name);                                                                                         \
	}                                                                                                                  \
	extern "C" Datum name(PG_FUNCTION_ARGS)                                                                            \
	{                                                                                                                  \
		return indexpilot::pg::Entry([fcinfo] { return name##_body(fcinfo); });                                        \
	}                                                                                                                  \
	static Datum name##_body([[maybe_unused]] FunctionCallInfo fcinfo)

/*
 * The same for a background worker's main function (bgw_function_name): the body runs through Entry,
 * with `arg` (the bgw_main_arg) in scope.
 */
#define INDEXPILOT_WORKER_MAIN(name)                                                                                   \
	static void name##_body(Datum arg);                                                                                \
	extern "C" PGDLLEXPORT void name(Datum arg);                                                                       \
	extern "C" void name(Datum arg)                                                                                    \
	{                                                                                                                  \
		indexpilot::pg::Entry([arg] { name##_body(arg); });                                                            \
	}                                                                                                                  \
	static void name##_body([[maybe_unused]] Datum arg)
