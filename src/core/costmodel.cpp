/*
 * core/costmodel.cpp — candidates and costs (see core/costmodel.hpp and docs/cost-model.md).
 */
#include "indexpilot/core/costmodel.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

namespace indexpilot::core
{

const char *
CandidateKindName(CandidateKind kind) noexcept
{
	switch (kind) {
		case CandidateKind::Single:
			return "single";
		case CandidateKind::TenantComposite:
			return "tenant_composite";
		case CandidateKind::MultiColumn:
			return "multi_column";
		case CandidateKind::Partial:
			return "partial";
		case CandidateKind::Covering:
			return "covering";
	}
	return "single";
}

const char *
VerdictName(Verdict verdict) noexcept
{
	switch (verdict) {
		case Verdict::Chosen:
			return "chosen";
		case Verdict::NotUsed:
			return "planner_does_not_use_it";
		case Verdict::TooRare:
			return "too_rare";
		case Verdict::BelowFloor:
			return "below_floor";
		case Verdict::TooLittleGain:
			return "too_little_gain";
		case Verdict::NotWorthIt:
			return "not_worth_its_cost";
		case Verdict::OverBudget:
			return "over_storage_budget";
		case Verdict::TableFull:
			return "table_has_max_indexes";
		case Verdict::Redundant:
			return "redundant_with_a_chosen_index";
		case Verdict::Superseded:
			return "superseded_by_a_chosen_index";
		case Verdict::IncumbentKept:
			return "incumbent_kept_for_stability";
		case Verdict::IncludeDoesNotPay:
			return "include_columns_do_not_pay";
		case Verdict::NotCosted:
			return "not_costed";
	}
	return "unknown";
}

static bool
Contains(const std::vector<std::int16_t> &v, std::int16_t x)
{
	return std::find(v.begin(), v.end(), x) != v.end();
}

bool
Covers(const std::vector<std::int16_t> &index, const Candidate &candidate, std::int16_t tenant_attnum)
{
	std::vector<std::int16_t> wanted;
	if (!candidate.partial_tenant.empty() && tenant_attnum > 0)
		wanted.push_back(tenant_attnum);
	wanted.insert(wanted.end(), candidate.columns.begin(), candidate.columns.end());
	if (wanted.empty() || index.size() < wanted.size())
		return false;
	if (std::equal(wanted.begin(), wanted.end(), index.begin()))
		return true;
	bool equality_only = std::all_of(candidate.ops.begin(), candidate.ops.end(),
									 [](OpKind op) { return op == OpKind::Eq || op == OpKind::In; });
	if (!equality_only)
		return false;
	std::set<std::int16_t> a(wanted.begin(), wanted.end());
	std::set<std::int16_t> b(index.begin(), index.begin() + static_cast<long>(wanted.size()));
	return a == b;
}

namespace
{

/* A shape without its tenant: the unit candidates are generated from. */
struct ShapeGroup {
	std::uint32_t relid;
	bool join;
	std::vector<std::int16_t> attnums;
	std::vector<OpKind> ops;
	double calls = 0;
	double calls_upper = 0;
	double total_ms = 0;
	double ms_upper = 0;
	std::map<std::string, double> tenant_calls;
	std::set<std::int64_t> queryids;
};

using GroupKey = std::tuple<std::uint32_t, bool, std::vector<std::int16_t>, std::vector<int>>;

bool
Indexable(OpKind op)
{
	return op == OpKind::Eq || op == OpKind::In || op == OpKind::Range || op == OpKind::LikePrefix ||
		   op == OpKind::IsNull || op == OpKind::Join || op == OpKind::Order;
}

bool
IsEquality(OpKind op)
{
	return op == OpKind::Eq || op == OpKind::In || op == OpKind::Join;
}

class Builder
{
public:
	Builder(const std::vector<TableInfo> &tables, const CandidateOptions &options) : tables_(tables), options_(options)
	{
	}

	void Add(const ShapeGroup &group)
	{
		const TableInfo *table = Find(group.relid);
		if (table == nullptr)
			return; /* not a managed table */
		table_queries_[group.relid].insert(group.queryids.begin(), group.queryids.end());
		std::vector<std::pair<std::int16_t, OpKind>> eq, range, order;
		bool has_tenant = false;
		for (std::size_t i = 0; i < group.attnums.size(); i++) {
			std::int16_t col = group.attnums[i];
			OpKind op = group.ops[i];
			if (col == table->tenant_attnum && table->tenant_attnum > 0) {
				has_tenant = has_tenant || op == OpKind::Eq;
				continue;
			}
			if (!Indexable(op) || !Contains(table->expressed, col))
				continue; /* an unexpressed field is never indexed */
			(IsEquality(op) ? eq : op == OpKind::Order ? order : range).emplace_back(col, op);
		}
		std::vector<std::pair<std::int16_t, OpKind>> all = eq;
		all.insert(all.end(), range.begin(), range.end());
		all.insert(all.end(), order.begin(), order.end());
		if (all.empty())
			return;
		const std::int16_t tenant = table->tenant_attnum;

		for (const auto &[col, op] : all)
			Emit(group, {col}, {op}, "", CandidateKind::Single);
		if (has_tenant) {
			for (const auto &[col, op] : all)
				Emit(group, {tenant, col}, {OpKind::Eq, op}, "", CandidateKind::TenantComposite);
		}
		// Conjunctions: (tenant key, equality columns, then one range column) — the columns after a range
		// could not narrow the scan; and for ORDER BY ... LIMIT, the sort column after the equality columns
		// (the index returns the first rows in order, no sort). The planner decides between them.
		auto conjunction = [&](const std::pair<std::int16_t, OpKind> *last) {
			std::vector<std::int16_t> cols;
			std::vector<OpKind> ops;
			if (has_tenant) {
				cols.push_back(tenant);
				ops.push_back(OpKind::Eq);
			}
			for (const auto &[col, op] : eq) {
				cols.push_back(col);
				ops.push_back(op);
			}
			if (last != nullptr) {
				cols.push_back(last->first);
				ops.push_back(last->second);
			}
			if (cols.size() > static_cast<std::size_t>(options_.max_columns)) {
				cols.resize(options_.max_columns);
				ops.resize(options_.max_columns);
			}
			if (cols.size() >= 2)
				Emit(group, cols, ops, "", CandidateKind::MultiColumn);
		};
		if (all.size() >= 2 || (has_tenant && (!range.empty() || !order.empty()) && !eq.empty())) {
			conjunction(range.empty() ? (order.empty() ? nullptr : &order.front()) : &range.front());
			if (!range.empty() && !order.empty() && range.front().first != order.front().first)
				conjunction(&order.front());
		}
		if (has_tenant && group.calls > 0) {
			for (const auto &[value, calls] : group.tenant_calls) {
				if (calls < options_.min_calls || calls < options_.partial_dominance * group.calls)
					continue;
				std::vector<std::int16_t> cols;
				std::vector<OpKind> ops;
				for (const auto &[col, op] : all) {
					cols.push_back(col);
					ops.push_back(op);
				}
				if (cols.size() > static_cast<std::size_t>(options_.max_columns)) {
					cols.resize(options_.max_columns);
					ops.resize(options_.max_columns);
				}
				Emit(group, cols, ops, value, CandidateKind::Partial);
			}
		}
	}

	std::vector<Candidate> Finish()
	{
		std::vector<Candidate> out;
		std::map<std::uint32_t, int> partials;
		for (auto &c : candidates_) {
			const TableInfo *table = Find(c.relid);
			bool covered = std::any_of(table->existing.begin(), table->existing.end(),
									   [&](const auto &index) { return Covers(index, c, table->tenant_attnum); });
			if (covered)
				continue;
			if (c.kind == CandidateKind::Partial && partials[c.relid]++ >= options_.max_partial_per_table)
				continue;
			std::sort(c.queryids.begin(), c.queryids.end());
			c.queryids.erase(std::unique(c.queryids.begin(), c.queryids.end()), c.queryids.end());
			c.others.clear();
			std::set_difference(table_queries_[c.relid].begin(), table_queries_[c.relid].end(), c.queryids.begin(),
								c.queryids.end(), std::back_inserter(c.others));
			out.push_back(c);
		}
		return out;
	}

private:
	const TableInfo *Find(std::uint32_t relid) const
	{
		for (const auto &t : tables_)
			if (t.relid == relid)
				return &t;
		return nullptr;
	}

	void Emit(const ShapeGroup &group, std::vector<std::int16_t> cols, std::vector<OpKind> ops,
			  const std::string &partial, CandidateKind kind)
	{
		Candidate c;
		c.relid = group.relid;
		c.columns = std::move(cols);
		c.ops = std::move(ops);
		c.partial_tenant = partial;
		c.kind = kind;
		for (auto &existing : candidates_) {
			if (existing == c) {
				existing.calls += group.calls;
				for (std::size_t i = 0; i < existing.ops.size() && i < c.ops.size(); i++)
					existing.ops[i] = MergeOpKind(existing.ops[i], c.ops[i]);
				existing.queryids.insert(existing.queryids.end(), group.queryids.begin(), group.queryids.end());
				return;
			}
		}
		c.calls = group.calls;
		c.queryids.assign(group.queryids.begin(), group.queryids.end());
		candidates_.push_back(std::move(c));
	}

	const std::vector<TableInfo> &tables_;
	const CandidateOptions &options_;
	std::vector<Candidate> candidates_;
	std::map<std::uint32_t, std::set<std::int64_t>> table_queries_; /* statements of the table's hot shapes */
};

} // namespace

void
AddCoveringCandidates(std::vector<Candidate> &candidates, const std::vector<TableInfo> &tables, const ReadColumns &read,
					  int max_columns)
{
	const std::size_t base = candidates.size();
	for (std::size_t i = 0; i < base; i++) {
		const Candidate c = candidates[i]; /* a copy: the vector grows below */
		if (!c.partial_tenant.empty() || c.kind == CandidateKind::Covering)
			continue;
		const TableInfo *table = nullptr;
		for (const auto &t : tables)
			if (t.relid == c.relid)
				table = &t;
		if (table == nullptr)
			continue;
		std::set<std::int16_t> extra;
		bool known = false;
		for (std::int64_t q : c.queryids) {
			auto by_query = read.find(q);
			if (by_query == read.end())
				continue;
			auto cols = by_query->second.find(c.relid);
			if (cols == by_query->second.end())
				continue;
			known = true;
			for (std::int16_t col : cols->second)
				if (!Contains(c.columns, col))
					extra.insert(col);
		}
		if (!known || extra.empty() || extra.size() > static_cast<std::size_t>(kMaxIncludeColumns) ||
			c.columns.size() + extra.size() > static_cast<std::size_t>(max_columns))
			continue;
		if (std::any_of(extra.begin(), extra.end(), [&](std::int16_t col) { return !Contains(table->expressed, col); }))
			continue;
		Candidate cov = c;
		cov.kind = CandidateKind::Covering;
		cov.include.assign(extra.begin(), extra.end());
		if (std::find(candidates.begin(), candidates.end(), cov) != candidates.end())
			continue;
		// An existing index with this key: the plain candidate was left out already; the key is served.
		if (std::any_of(table->existing.begin(), table->existing.end(),
						[&](const auto &index) { return Covers(index, c, table->tenant_attnum); }))
			continue;
		candidates.push_back(std::move(cov));
	}
}

double
WilsonUpper(double k, double n, double z)
{
	if (n <= 0)
		return 0;
	const double p = k / n;
	if (p >= 1)
		return p;
	const double z2 = z * z;
	const double centre = p + z2 / (2 * n);
	const double spread = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
	return std::min(1.0, (centre + spread) / (1 + z2 / n));
}

void
EstimateShapes(std::vector<ShapeStat> &shapes, const std::vector<StatementStat> &statements)
{
	std::map<std::int64_t, const StatementStat *> by_id;
	for (const auto &st : statements)
		if (st.queryid != 0)
			by_id[st.queryid] = &st;
	// The bound is taken over all tenants of a shape in one statement: split by tenant, each part's own
	// bound would add up to far more than the statement ran.
	using Key = std::tuple<std::uint32_t, bool, std::vector<std::int16_t>, std::vector<OpKind>, std::int64_t>;
	std::map<Key, double> sampled;
	for (const auto &s : shapes)
		sampled[Key{s.relid, s.join, s.attnums, s.ops, s.queryid}] += s.sampled_calls;
	for (auto &s : shapes) {
		auto it = s.queryid != 0 ? by_id.find(s.queryid) : by_id.end();
		if (it == by_id.end() || it->second->sampled_calls <= 0 || it->second->calls <= 0) {
			// No true count to lean on: what sampling says, the time scaled like the calls.
			s.calls = std::max(s.weighted_calls, s.sampled_calls);
			s.total_ms = s.sampled_calls > 0 ? s.sampled_ms * s.calls / s.sampled_calls : s.sampled_ms;
			s.calls_upper = s.calls;
			s.ms_upper = s.total_ms;
			continue;
		}
		const StatementStat &st = *it->second;
		const double n = st.sampled_calls;
		const double fraction = s.sampled_calls / n;
		const double all = sampled[Key{s.relid, s.join, s.attnums, s.ops, s.queryid}];
		const double upper = all > 0 ? std::max(all / n, WilsonUpper(all, n)) * (s.sampled_calls / all) : 0;
		s.calls = st.calls * fraction;
		s.total_ms = st.total_ms * fraction;
		s.calls_upper = st.calls * upper;
		s.ms_upper = st.total_ms * upper;
	}
}

bool
IsRare(double calls_upper, double ms_upper, double mean_ms, const CandidateOptions &options)
{
	if (options.total_ms > 0 && ms_upper >= kNeverRareShare * options.total_ms)
		return false;
	if (options.total_ms > 0 && ms_upper >= options.min_time_share * options.total_ms &&
		(options.slow_ms < 0 || mean_ms >= options.slow_ms))
		return false;
	if (options.total_calls > 0 && calls_upper >= kNeverRareShare * options.total_calls)
		return false;
	return calls_upper < options.min_calls || calls_upper < options.min_call_share * options.total_calls;
}

std::vector<Candidate>
GenerateCandidates(const std::vector<TableInfo> &tables, const std::vector<ShapeStat> &shapes,
				   const std::vector<StatementStat> &statements, CandidateOptions &options)
{
	// The database's statements and time in the window; without true counts, the shapes' own sums.
	options.total_calls = 0;
	options.total_ms = 0;
	for (const auto &st : statements) {
		options.total_calls += st.calls;
		options.total_ms += st.total_ms;
	}
	if (options.total_calls <= 0) {
		std::set<std::int64_t> seen;
		for (const auto &s : shapes) {
			if (s.join)
				continue;
			options.total_calls += s.calls;
			if (s.queryid == 0 || seen.insert(s.queryid).second)
				options.total_ms += s.total_ms;
		}
	}
	std::map<GroupKey, ShapeGroup> groups;
	for (const auto &s : shapes) {
		if (s.attnums.empty() || s.attnums.size() != s.ops.size())
			continue;
		std::vector<int> ops;
		for (OpKind op : s.ops)
			ops.push_back(static_cast<int>(op));
		GroupKey key{s.relid, s.join, s.attnums, ops};
		auto [it, inserted] = groups.try_emplace(key);
		ShapeGroup &g = it->second;
		if (inserted) {
			g.relid = s.relid;
			g.join = s.join;
			g.attnums = s.attnums;
			g.ops = s.ops;
		}
		g.calls += s.calls;
		g.calls_upper += s.calls_upper;
		g.total_ms += s.total_ms;
		g.ms_upper += s.ms_upper;
		if (!s.tenant.empty())
			g.tenant_calls[s.tenant] += s.calls;
		if (s.queryid != 0)
			g.queryids.insert(s.queryid);
	}
	Builder builder(tables, options);
	for (const auto &[key, group] : groups) {
		const double mean_ms = group.calls > 0 ? group.total_ms / group.calls : 0;
		if (!IsRare(group.calls_upper, group.ms_upper, mean_ms, options))
			builder.Add(group);
	}
	return builder.Finish();
}

double
BuildCost(double heap_pages, double tuples, double index_pages, int ncolumns, const CostSettings &s)
{
	double scan = heap_pages * s.seq_page_cost + tuples * s.cpu_tuple_cost;
	double sort = tuples > 1 ? 2.0 * s.cpu_operator_cost * ncolumns * tuples * std::log2(tuples) : 0;
	double write = 2.0 * index_pages * s.seq_page_cost;
	return scan + sort + write;
}

double
WriteCostPerRow(double index_pages, double tuples, int ncolumns, const CostSettings &s)
{
	// Descend the tree (fan-out ~256: 8 comparisons a level per key column), insert one tuple, and pay a
	// random page read for the one leaf in ten that is not cached.
	double height = index_pages > 1 ? std::ceil(std::log(index_pages) / std::log(256.0)) + 1 : 1;
	(void)tuples;
	return s.cpu_index_tuple_cost + height * 8.0 * ncolumns * s.cpu_operator_cost + 0.1 * s.random_page_cost;
}

} // namespace indexpilot::core
