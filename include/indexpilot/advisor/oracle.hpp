/*
 * advisor/oracle.hpp — the planner as the cost model's oracle: the benefit of a candidate given the ones
 * chosen so far, from re-planning its statements (each as its own role, advisor/whatif.hpp) without and
 * with it, cached per (statement, index set); and a candidate's estimated size. C++ only.
 */
#pragma once

#include "indexpilot/advisor/inputs.hpp"
#include "indexpilot/advisor/whatif.hpp"
#include "indexpilot/core/costmodel.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace indexpilot::advisor
{

class PlannerOracle
{
public:
	PlannerOracle(const Inputs &in, const std::vector<core::Candidate> &candidates,
				  const std::vector<std::string> &predicates, int replan_timeout_ms)
		: in_(in), candidates_(candidates), predicates_(predicates), replan_timeout_ms_(replan_timeout_ms)
	{
	}

	core::Benefit operator()(int candidate, const std::vector<int> &chosen)
	{
		std::vector<int> base = Usable(chosen, candidate);
		std::vector<int> with = base;
		with.push_back(candidate);
		core::Benefit b;
		for (std::int64_t q : candidates_[candidate].queryids) {
			auto text = in_.texts.find(q);
			if (text == in_.texts.end())
				continue;
			const Plan without_plan = Cost(q, text->second, base);
			const Plan with_plan = Cost(q, text->second, with);
			if (!without_plan.ok || !with_plan.ok)
				continue;
			const double calls = in_.query_calls.count(q) ? in_.query_calls.at(q) : 0;
			b.calls += calls;
			b.cost_without += calls * without_plan.cost;
			b.cost_with += calls * with_plan.cost;
			if (with_plan.used & (1u << (with.size() - 1)))
				b.used = true;
		}
		return b;
	}

	core::SizeEstimate Size(int candidate)
	{
		HypoIndex h = Hypo(candidate);
		HypoEstimate e = EstimateIndex(h);
		return core::SizeEstimate{e.bytes, e.pages};
	}

	std::string last_error;

private:
	struct Plan {
		bool ok = false;
		double cost = 0;
		std::uint32_t used = 0;
	};

	/* The chosen indexes on the candidate's table: the others cannot change its statements' plans. */
	std::vector<int> Usable(const std::vector<int> &chosen, int candidate) const
	{
		std::vector<int> out;
		for (int c : chosen)
			if (candidates_[c].relid == candidates_[candidate].relid && out.size() + 1 < kMaxHypoIndexes)
				out.push_back(c);
		return out;
	}

	HypoIndex Hypo(int i) const
	{
		HypoIndex h;
		memset(&h, 0, sizeof(h));
		h.relid = candidates_[i].relid;
		h.ncols = static_cast<int>(std::min<std::size_t>(candidates_[i].columns.size(), kMaxHypoColumns));
		for (int c = 0; c < h.ncols; c++)
			h.attnums[c] = candidates_[i].columns[c];
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
		const char *sql = sample.text.c_str();
		const PlanAs as{sample.role, sample.search_path.c_str(), replan_timeout_ms_};
		const PlanAs *as_ptr = &as;
		const HypoIndex *array = hypos.data();
		int count = static_cast<int>(hypos.size());
		PlanResult r = PlanWithHypotheticalIndexes(sql, as_ptr, array, count);
		Plan p{r.ok, r.total_cost, r.used_mask};
		if (!r.ok)
			last_error = r.error;
		cache_[{q, key}] = {p, true};
		return Cost(q, sample, set);
	}

	const Inputs &in_;
	const std::vector<core::Candidate> &candidates_;
	const std::vector<std::string> &predicates_;
	int replan_timeout_ms_;
	std::map<std::pair<std::int64_t, std::vector<int>>, std::pair<Plan, bool>> cache_;
};

} // namespace indexpilot::advisor
