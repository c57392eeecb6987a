/*
 * advisor/oracle.hpp — the planner as the selection's oracle (core/selection.hpp): the cost of one
 * statement with no candidate or with one, which of a table's chosen candidates its plan uses with all of
 * them present, from re-planning it as its own role (advisor/whatif.hpp), cached per (statement, index
 * set); and a candidate's estimated size. C++ only.
 */
#pragma once

#include "indexpilot/advisor/inputs.hpp"
#include "indexpilot/advisor/whatif.hpp"
#include "indexpilot/core/costmodel.hpp"
#include "indexpilot/core/selection.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace indexpilot::advisor
{

class PlannerOracle
{
public:
	/*
	 * `assumed` (indexes into `candidates`): indexes IndexPilot is building now; every plan sees them, as
	 * if built, so a decision taken during a build is the one taken after it.
	 */
	PlannerOracle(const Inputs &in, const std::vector<core::Candidate> &candidates,
				  const std::vector<std::string> &predicates, int replan_timeout_ms, std::vector<int> assumed = {})
		: in_(in), candidates_(candidates), predicates_(predicates), replan_timeout_ms_(replan_timeout_ms),
		  assumed_(std::move(assumed))
	{
	}

	/* Statement q (a query id) per call, as it runs today (candidate -1) or with candidate i alone. */
	core::StatementCost Statement(std::int64_t q, int candidate)
	{
		auto text = in_.texts.find(q);
		if (text == in_.texts.end())
			return {};
		std::vector<int> set;
		if (candidate >= 0)
			set.push_back(candidate);
		const Plan p = Cost(q, text->second, set);
		return core::StatementCost{p.ok, p.cost, candidate >= 0 && (p.used & 1u) != 0};
	}

	/* Which of `set` statement q's plan uses with all of them present (element k for set[k]). */
	std::optional<std::vector<bool>> Together(std::int64_t q, const std::vector<int> &set)
	{
		auto text = in_.texts.find(q);
		if (text == in_.texts.end() || set.size() > static_cast<std::size_t>(kMaxHypoIndexes))
			return std::nullopt;
		const Plan p = Cost(q, text->second, set);
		if (!p.ok)
			return std::nullopt;
		std::vector<bool> used;
		for (std::size_t k = 0; k < set.size(); k++)
			used.push_back((p.used & (1u << k)) != 0);
		return used;
	}

	/* The columns statement q reads of each table (its plan as it runs today); empty if it cannot be planned. */
	std::map<std::uint32_t, std::vector<std::int16_t>> Read(std::int64_t q)
	{
		std::map<std::uint32_t, std::vector<std::int16_t>> out;
		auto text = in_.texts.find(q);
		if (text == in_.texts.end())
			return out;
		const Plan p = Cost(q, text->second, {});
		if (p.ok)
			for (const auto &[relid, mask] : p.read)
				for (int a = 1; a < 64; a++)
					if (mask & (std::uint64_t{1} << a))
						out[relid].push_back(static_cast<std::int16_t>(a));
		return out;
	}

	/* Size, or nothing with the reason in *error when the candidate cannot be described (see TryEstimateIndex). */
	std::optional<core::SizeEstimate> TrySize(int candidate, std::string *error)
	{
		HypoIndex h = Hypo(candidate);
		HypoEstimate e;
		if (!TryEstimateIndex(h, &e, error))
			return std::nullopt;
		return core::SizeEstimate{e.bytes, e.pages};
	}

	std::string last_error;

private:
	struct Plan {
		bool ok = false;
		double cost = 0;
		std::uint32_t used = 0;
		std::vector<std::pair<std::uint32_t, std::uint64_t>> read; /* (table, columns read as bits) */
	};

	HypoIndex Hypo(int i) const
	{
		HypoIndex h;
		memset(&h, 0, sizeof(h));
		h.relid = candidates_[i].relid;
		std::vector<std::int16_t> cols = candidates_[i].columns;
		cols.insert(cols.end(), candidates_[i].include.begin(), candidates_[i].include.end());
		h.ncols = static_cast<int>(std::min<std::size_t>(cols.size(), kMaxHypoColumns));
		h.nkey = static_cast<int>(std::min<std::size_t>(candidates_[i].columns.size(), kMaxHypoColumns));
		for (int c = 0; c < h.ncols; c++)
			h.attnums[c] = cols[c];
		h.predicate = predicates_[i].empty() ? nullptr : predicates_[i].c_str();
		return h;
	}

	Plan Cost(std::int64_t q, const Sample &sample, const std::vector<int> &set)
	{
		std::vector<int> key = set;
		std::sort(key.begin(), key.end());
		auto cached = cache_.find({q, key});
		if (cached != cache_.end()) {
			// used_mask bits follow the order of `set`: recompute them from the cached key's order.
			Plan p = cached->second.first;
			p.used = 0;
			for (std::size_t i = 0; i < set.size(); i++) {
				std::size_t pos = std::find(key.begin(), key.end(), set[i]) - key.begin();
				if (cached->second.first.used & (1u << pos))
					p.used |= 1u << i;
			}
			return p;
		}
		std::vector<HypoIndex> hypos;
		for (int c : key)
			hypos.push_back(Hypo(c));
		// After the set's own (its used bits come first): the builds in progress on the statement's tables.
		for (int c : assumed_)
			if (hypos.size() < static_cast<std::size_t>(kMaxHypoIndexes) &&
				std::find(key.begin(), key.end(), c) == key.end())
				hypos.push_back(Hypo(c));
		const char *sql = sample.text.c_str();
		const PlanAs as{sample.role, sample.search_path.c_str(), replan_timeout_ms_};
		const PlanAs *as_ptr = &as;
		const HypoIndex *array = hypos.data();
		int count = static_cast<int>(hypos.size());
		PlanResult r = PlanWithHypotheticalIndexes(sql, as_ptr, array, count);
		Plan p{r.ok, r.total_cost, r.used_mask, {}};
		for (int k = 0; r.ok && k < r.nread && k < kMaxReadTables; k++)
			p.read.emplace_back(r.read[k].relid, r.read[k].attnums);
		if (!r.ok)
			last_error = r.error;
		cache_[{q, key}] = {p, true};
		return Cost(q, sample, set);
	}

	const Inputs &in_;
	const std::vector<core::Candidate> &candidates_;
	const std::vector<std::string> &predicates_;
	int replan_timeout_ms_;
	std::vector<int> assumed_;
	std::map<std::pair<std::int64_t, std::vector<int>>, std::pair<Plan, bool>> cache_;
};

} // namespace indexpilot::advisor
