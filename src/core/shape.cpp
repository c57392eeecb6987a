/*
 * core/shape.cpp — predicate shapes (see core/shape.hpp).
 */
#include "indexpilot/core/shape.hpp"

namespace indexpilot::core
{

const char *
OpKindName(OpKind kind) noexcept
{
	switch (kind) {
		case OpKind::Eq:
			return "eq";
		case OpKind::In:
			return "in";
		case OpKind::Range:
			return "range";
		case OpKind::LikePrefix:
			return "like_prefix";
		case OpKind::IsNull:
			return "is_null";
		case OpKind::Like:
			return "like";
		case OpKind::Join:
			return "join";
		case OpKind::Order:
			return "order";
		case OpKind::None:
			break;
	}
	return "none";
}

OpKind
MergeOpKind(OpKind a, OpKind b) noexcept
{
	if (a == OpKind::None)
		return b;
	if (b == OpKind::None)
		return a;
	return static_cast<std::uint8_t>(a) <= static_cast<std::uint8_t>(b) ? a : b;
}

bool
ShapeAdd(ShapeColumns *shape, std::int16_t attnum, OpKind kind) noexcept
{
	if (shape == nullptr || attnum <= 0 || kind == OpKind::None || shape->count > kMaxShapeColumns)
		return false;
	int pos = 0;
	while (pos < shape->count && shape->attnum[pos] < attnum)
		pos++;
	if (pos < shape->count && shape->attnum[pos] == attnum) {
		shape->kind[pos] = static_cast<std::uint8_t>(MergeOpKind(static_cast<OpKind>(shape->kind[pos]), kind));
		return true;
	}
	if (shape->count == kMaxShapeColumns)
		return false;
	for (int i = shape->count; i > pos; i--) {
		shape->attnum[i] = shape->attnum[i - 1];
		shape->kind[i] = shape->kind[i - 1];
	}
	shape->attnum[pos] = attnum;
	shape->kind[pos] = static_cast<std::uint8_t>(kind);
	shape->count++;
	return true;
}

bool
LikePatternHasPrefix(const char *pattern, std::size_t len) noexcept
{
	if (pattern == nullptr || len == 0)
		return false;
	const char first = pattern[0];
	if (first == '%' || first == '_')
		return false;
	if (first == '\\') // an escaped first character is a literal, if there is one
		return len >= 2;
	return true;
}

} // namespace indexpilot::core
