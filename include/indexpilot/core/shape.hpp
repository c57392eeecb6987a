/*
 * core/shape.hpp — the predicate shape capture records: which columns of one relation a statement
 * constrained together, and how (operator kind).
 *
 * Pure C++, allocation-free and noexcept: it runs on the executor's hot path (capture/) and is covered by
 * test/unit without a server.
 */
#pragma once

#include <cstddef>
#include <cstdint>

namespace indexpilot::core
{

/* How a column is constrained. Lower values are stronger for indexing; see MergeOpKind. */
enum class OpKind : std::uint8_t {
	None = 0,
	Eq = 1,         /* col = value */
	In = 2,         /* col = ANY(array) / col IN (...) */
	Range = 3,      /* <, <=, >, >=, BETWEEN */
	LikePrefix = 4, /* col LIKE 'abc%' */
	IsNull = 5,     /* col IS NULL */
	Like = 6,       /* col LIKE '%abc' (no usable prefix) */
	Join = 7,       /* col = other relation's column or an outer parameter */
	Order = 8,      /* ORDER BY col ... LIMIT n, sorted above the scan: an index in that order avoids the sort */
};
inline constexpr int kOpKindCount = 9;

/* "eq", "in", "range", "like_prefix", "is_null", "like", "join", "order" ("none" for None). */
const char *OpKindName(OpKind kind) noexcept;

/* When one column is constrained twice in a conjunction, the stronger kind describes it. */
OpKind MergeOpKind(OpKind a, OpKind b) noexcept;

inline constexpr int kMaxShapeColumns = 8;

/* Up to kMaxShapeColumns (attnum, kind) pairs, sorted by attnum, one per column. Plain data. */
struct ShapeColumns {
	std::uint8_t count;
	std::int16_t attnum[kMaxShapeColumns];
	std::uint8_t kind[kMaxShapeColumns]; /* OpKind values */
};

/* Adds or merges one column; returns false (shape unchanged) when the shape is full or the input invalid. */
bool ShapeAdd(ShapeColumns *shape, std::int16_t attnum, OpKind kind) noexcept;

/* True when `pattern` (a LIKE pattern, `len` bytes) starts with at least one literal character. */
bool LikePatternHasPrefix(const char *pattern, std::size_t len) noexcept;

/* The sampling decision for one top-level statement: rate in [0, 1], random01 uniform in [0, 1). */
inline bool
SampleStatement(double rate, double random01) noexcept
{
	return rate >= 1.0 || (rate > 0.0 && random01 < rate);
}

} // namespace indexpilot::core
