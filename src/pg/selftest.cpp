/*
 * pg/selftest.cpp — SQL functions that exercise the C++/PostgreSQL boundary, for the test suites and for
 * operators who want to check a build: indexpilot._selftest_*(), superuser only.
 *
 * Each keeps C++ objects with destructors alive across the error it provokes and counts them: after the
 * error reaches the client, indexpilot._selftest_live_objects() must be back to 0 (no destructor skipped).
 */
#include "indexpilot/core/error.hpp"
#include "indexpilot/pg/args.hpp"
#include "indexpilot/pg/guard.hpp"

extern "C" {
#include "utils/builtins.h"
}

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace indexpilot::pg
{

static int64 s_live_objects = 0;

/* An object with a real destructor and heap memory: leaks and skipped destructors both show. */
struct Tracked {
	Tracked() : payload(4096, 'x') { ++s_live_objects; }
	~Tracked() { --s_live_objects; }
	Tracked(const Tracked &) = delete;
	Tracked &operator=(const Tracked &) = delete;
	std::string payload;
};

enum class ThrowKind { None, Error, Runtime, BadAlloc, Unknown };

static ThrowKind
ParseThrowKind(const std::string &kind)
{
	if (kind == "none")
		return ThrowKind::None;
	if (kind == "error")
		return ThrowKind::Error;
	if (kind == "runtime")
		return ThrowKind::Runtime;
	if (kind == "bad_alloc")
		return ThrowKind::BadAlloc;
	if (kind == "unknown")
		return ThrowKind::Unknown;
	throw core::Error(core::sqlstate::kInvalidParameterValue, "unknown kind \"" + kind + "\"", {},
					  "Valid kinds are: none, error, runtime, bad_alloc, unknown.");
}

/* Recurses to `target` frames, each holding a Tracked and a vector, then throws what `kind` says. */
static int
Descend(int depth, int target, ThrowKind kind)
{
	Tracked tracked;
	std::vector<int> frame(64, depth);
	if (depth < target)
		return Descend(depth + 1, target, kind) + (frame[0] - depth);
	switch (kind) {
		case ThrowKind::None:
			return depth;
		case ThrowKind::Error:
			throw core::Error(core::sqlstate::kInvalidParameterValue,
							  "selftest error thrown at depth " + std::to_string(depth),
							  "Thrown by indexpilot._selftest_cpp_error().", "This error is expected.");
		case ThrowKind::Runtime:
			throw std::runtime_error("selftest std::runtime_error at depth " + std::to_string(depth));
		case ThrowKind::BadAlloc:
			throw std::bad_alloc();
		case ThrowKind::Unknown:
			throw 42;
	}
	return depth;
}

} // namespace indexpilot::pg

/* indexpilot._selftest_cpp_error(depth int, kind text) returns int: throws from `depth` C++ frames down. */
INDEXPILOT_FUNCTION(indexpilot_selftest_cpp_error)
{
	using namespace indexpilot;
	const int depth = pg::ArgInt32(fcinfo, 0, "depth");
	const pg::ThrowKind kind = pg::ParseThrowKind(pg::ArgText(fcinfo, 1, "kind"));
	if (depth < 0 || depth > 10000)
		throw core::Error(core::sqlstate::kInvalidParameterValue, "depth must be between 0 and 10000");
	return Int32GetDatum(pg::Descend(0, depth, kind));
}

/*
 * indexpilot._selftest_pg_error(input text) returns int: parses `input` with PostgreSQL's int4in from
 * inside C++ frames. A bad input raises PostgreSQL's own ERROR, which unwinds the C++ frames (cleanup
 * runs, counted by _selftest_cleanups) and reaches the client with its original SQLSTATE and message.
 */
static int64 s_cleanups = 0;

INDEXPILOT_FUNCTION(indexpilot_selftest_pg_error)
{
	using namespace indexpilot;
	const std::string input = pg::ArgText(fcinfo, 0, "input");
	pg::Tracked outer;
	try {
		pg::Tracked inner;
		Datum value = pg::Call([&] { return DirectFunctionCall1(int4in, CStringGetDatum(input.c_str())); });
		return value;
	} catch (const pg::PgError &) {
		++s_cleanups;
		throw;
	}
}

/* indexpilot._selftest_live_objects() returns bigint: Tracked objects alive now (0 between statements). */
INDEXPILOT_FUNCTION(indexpilot_selftest_live_objects)
{
	return Int64GetDatum(indexpilot::pg::s_live_objects);
}

/* indexpilot._selftest_cleanups() returns bigint: PostgreSQL errors seen and rethrown by C++ cleanup code. */
INDEXPILOT_FUNCTION(indexpilot_selftest_cleanups)
{
	return Int64GetDatum(s_cleanups);
}
