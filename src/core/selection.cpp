/*
 * core/selection.cpp — whole-workload index selection (see core/selection.hpp and docs/cost-model.md):
 * standalone tests per candidate, then local search and branch and bound over the ones that pass.
 */
#include "indexpilot/core/selection.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace indexpilot::core
{

namespace
{

using Item = SelectionProblem::Item;

/* Values closer than this are equal: rounding must not decide between two sets. */
double
Tolerance(double a, double b)
{
	return 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)});
}

/* On a tie, the set holding the earliest item where the two differ wins (both lists ascending). */
bool
PreferredOnTie(const std::vector<int> &a, const std::vector<int> &b)
{
	std::size_t k = 0;
	while (k < a.size() && k < b.size() && a[k] == b[k])
		k++;
	if (k == b.size())
		return k < a.size();
	if (k == a.size())
		return false;
	return a[k] < b[k];
}

bool
Better(double va, const std::vector<int> &a, double vb, const std::vector<int> &b)
{
	const double tol = Tolerance(va, vb);
	if (va > vb + tol)
		return true;
	if (va < vb - tol)
		return false;
	return PreferredOnTie(a, b);
}

/* What adding `item` to a set whose units are saved `cur` adds to the objective. */
double
Delta(const Item &item, const std::vector<double> &cur)
{
	double d = -item.fixed;
	for (const auto &[unit, gain] : item.gains)
		if (gain > cur[unit])
			d += gain - cur[unit];
	return d;
}

/* A set's state: each unit's saving, value, bytes and items per group. */
struct Cover {
	std::vector<double> cur;
	std::vector<int> count;
	double value = 0;
	double bytes = 0;

	Cover(const SelectionProblem &p, const std::vector<int> &set) : cur(p.units, 0.0), count(p.capacity.size(), 0)
	{
		for (int i : set) {
			const Item &item = p.items[i];
			for (const auto &[unit, gain] : item.gains)
				cur[unit] = std::max(cur[unit], gain);
			count[item.group]++;
			bytes += item.bytes;
			value -= item.fixed;
		}
		for (double saved : cur)
			value += saved;
	}

	bool Fits(const SelectionProblem &p, int i) const
	{
		const Item &item = p.items[i];
		return bytes + item.bytes <= p.budget && count[item.group] < p.capacity[item.group];
	}
};

std::vector<int>
With(std::vector<int> set, int add, int drop = -1)
{
	if (drop >= 0)
		set.erase(std::find(set.begin(), set.end(), drop));
	if (add >= 0)
		set.insert(std::upper_bound(set.begin(), set.end(), add), add);
	return set;
}

/*
 * Depth-first branch and bound, including before excluding. An item whose marginal value is not positive,
 * or that does not fit, is left out of the whole subtree: the objective is submodular (a unit keeps only
 * its largest gain), so its marginal value only shrinks as items are added, and taking it out of a final
 * set never lowers that set's value. Bound: the current value plus the positive marginal values of the
 * items still open, at most capacity of them per group, and no more than a fractional knapsack of them in
 * the bytes left (the smaller of the two).
 */
class BranchAndBound
{
public:
	BranchAndBound(const SelectionProblem &p, long max_nodes, SelectionSolution start)
		: p_(p), max_nodes_(max_nodes), best_(std::move(start)), cover_(p, {})
	{
		for (int i = 0; i < static_cast<int>(p.items.size()); i++)
			order_.push_back(i);
		std::vector<double> standalone;
		for (const Item &item : p.items)
			standalone.push_back(Delta(item, cover_.cur));
		std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) { return standalone[a] > standalone[b]; });
	}

	SelectionSolution Run()
	{
		Visit(0);
		best_.exact = !aborted_;
		best_.nodes = nodes_;
		best_.value = Objective(p_, best_.chosen);
		return best_;
	}

private:
	struct Open {
		int pos;
		double delta;
	};

	void Visit(std::size_t pos)
	{
		if (++nodes_ > max_nodes_) {
			aborted_ = true;
			return;
		}
		std::vector<int> set = chosen_;
		std::sort(set.begin(), set.end());
		if (Better(cover_.value, set, best_.value, best_.chosen)) {
			best_.chosen = set;
			best_.value = cover_.value;
		}
		std::vector<Open> open;
		for (std::size_t k = pos; k < order_.size(); k++) {
			const int i = order_[k];
			if (!cover_.Fits(p_, i))
				continue;
			const double d = Delta(p_.items[i], cover_.cur);
			if (d > 0)
				open.push_back({static_cast<int>(k), d});
		}
		if (open.empty())
			return;
		const double bound = cover_.value + Bound(open);
		if (bound < best_.value - Tolerance(bound, best_.value))
			return;
		const int k = open.front().pos;
		const Cover saved = cover_;
		Include(order_[k]);
		Visit(k + 1);
		cover_ = saved;
		chosen_.pop_back();
		if (!aborted_)
			Visit(k + 1);
	}

	double Bound(const std::vector<Open> &open) const
	{
		// At most the free places of each group, best first.
		std::vector<std::vector<double>> per_group(p_.capacity.size());
		for (const Open &o : open)
			per_group[p_.items[order_[o.pos]].group].push_back(o.delta);
		double by_count = 0;
		for (std::size_t g = 0; g < per_group.size(); g++) {
			auto &ds = per_group[g];
			std::sort(ds.begin(), ds.end(), std::greater<double>());
			const std::size_t free = static_cast<std::size_t>(std::max(0, p_.capacity[g] - cover_.count[g]));
			for (std::size_t k = 0; k < ds.size() && k < free; k++)
				by_count += ds[k];
		}
		// At most a fractional knapsack in the bytes left.
		std::vector<std::pair<double, double>> by_ratio; /* (delta, bytes) */
		for (const Open &o : open)
			by_ratio.emplace_back(o.delta, std::max(0.0, p_.items[order_[o.pos]].bytes));
		std::sort(by_ratio.begin(), by_ratio.end(), [](const auto &a, const auto &b) {
			return a.first * b.second > b.first * a.second; /* a.delta / a.bytes > b.delta / b.bytes */
		});
		double room = p_.budget - cover_.bytes;
		double by_bytes = 0;
		for (const auto &[delta, bytes] : by_ratio) {
			if (bytes <= room) {
				by_bytes += delta;
				room -= bytes;
			} else {
				by_bytes += delta * room / bytes;
				break;
			}
		}
		return std::min(by_count, by_bytes);
	}

	void Include(int i)
	{
		const Item &item = p_.items[i];
		cover_.value += Delta(item, cover_.cur);
		for (const auto &[unit, gain] : item.gains)
			cover_.cur[unit] = std::max(cover_.cur[unit], gain);
		cover_.count[item.group]++;
		cover_.bytes += item.bytes;
		chosen_.push_back(i);
	}

	const SelectionProblem &p_;
	long max_nodes_;
	SelectionSolution best_;
	Cover cover_;
	std::vector<int> order_;
	std::vector<int> chosen_;
	long nodes_ = 0;
	bool aborted_ = false;
};

SelectionSolution
SolveTogether(const SelectionProblem &p, long max_nodes)
{
	return BranchAndBound(p, max_nodes, LocalSearch(p)).Run();
}

} // namespace

double
Objective(const SelectionProblem &problem, const std::vector<int> &chosen)
{
	return Cover(problem, chosen).value;
}

bool
Feasible(const SelectionProblem &problem, const std::vector<int> &chosen)
{
	Cover c(problem, chosen);
	if (c.bytes > problem.budget)
		return false;
	for (std::size_t g = 0; g < c.count.size(); g++)
		if (c.count[g] > problem.capacity[g])
			return false;
	return true;
}

namespace
{

/* Adds the item of largest marginal value (or value per byte) that fits, until none is positive. */
std::vector<int>
Greedy(const SelectionProblem &p, bool per_byte)
{
	const int n = static_cast<int>(p.items.size());
	std::vector<int> set;
	for (;;) {
		const Cover c(p, set);
		int best = -1;
		double best_score = 0;
		for (int j = 0; j < n; j++) {
			if (std::binary_search(set.begin(), set.end(), j) || !c.Fits(p, j))
				continue;
			const double d = Delta(p.items[j], c.cur);
			const double score = per_byte ? d / std::max(p.items[j].bytes, 8192.0) : d;
			if (d > 0 && (best < 0 || score > best_score)) {
				best = j;
				best_score = score;
			}
		}
		if (best < 0)
			return set;
		set = With(set, best);
	}
}

/* Moves: add one, drop one, or swap one for another; the best that improves, until none does. */
std::vector<int>
Improve(const SelectionProblem &p, std::vector<int> set)
{
	const int n = static_cast<int>(p.items.size());
	for (int moves = 0; moves < 100000; moves++) {
		const Cover c(p, set);
		double best_gain = 0;
		bool found = false;
		std::vector<int> next;
		auto consider = [&](double gain, int add, int drop) {
			if (gain > best_gain + Tolerance(c.value, c.value + gain)) {
				best_gain = gain;
				found = true;
				next = With(set, add, drop);
			}
		};
		for (int j = 0; j < n; j++)
			if (!std::binary_search(set.begin(), set.end(), j) && c.Fits(p, j))
				consider(Delta(p.items[j], c.cur), j, -1);
		for (int i : set) {
			const Cover without(p, With(set, -1, i));
			consider(without.value - c.value, -1, i);
			for (int j = 0; j < n; j++)
				if (j != i && !std::binary_search(set.begin(), set.end(), j) && without.Fits(p, j))
					consider(without.value + Delta(p.items[j], without.cur) - c.value, j, i);
		}
		if (!found)
			break;
		set = next;
	}
	return set;
}

} // namespace

SelectionSolution
LocalSearch(const SelectionProblem &p)
{
	// Two starts: by value (the budget is loose) and by value per byte (it binds); the better one stays.
	SelectionSolution s;
	s.chosen = Improve(p, Greedy(p, false));
	s.value = Objective(p, s.chosen);
	const std::vector<int> other = Improve(p, Greedy(p, true));
	const double value = Objective(p, other);
	if (Better(value, other, s.value, s.chosen)) {
		s.chosen = other;
		s.value = value;
	}
	return s;
}

SelectionSolution
Solve(const SelectionProblem &p, long max_nodes)
{
	std::set<int> groups;
	for (const Item &item : p.items)
		groups.insert(item.group);
	if (groups.size() > 1) {
		// The groups share only the budget: when their separate optima fit it together, that is the optimum.
		SelectionSolution all;
		all.exact = true;
		for (int g : groups) {
			SelectionProblem sub = p;
			sub.items.clear();
			std::vector<int> back;
			for (int i = 0; i < static_cast<int>(p.items.size()); i++)
				if (p.items[i].group == g) {
					sub.items.push_back(p.items[i]);
					back.push_back(i);
				}
			SelectionSolution s = SolveTogether(sub, max_nodes);
			for (int i : s.chosen)
				all.chosen.push_back(back[i]);
			all.exact = all.exact && s.exact;
			all.nodes += s.nodes;
		}
		std::sort(all.chosen.begin(), all.chosen.end());
		if (Feasible(p, all.chosen)) {
			all.value = Objective(p, all.chosen);
			return all;
		}
	}
	return SolveTogether(p, max_nodes);
}

/* ---- SelectIndexes --------------------------------------------------------------------------------------- */

namespace
{

/* The chosen item that takes the largest part of `item`'s gains in `set` (-1: none takes any). */
int
Rival(const SelectionProblem &p, const std::vector<int> &set, int item, bool incumbents_only,
	  const std::vector<bool> &is_incumbent)
{
	std::map<int, double> share;
	for (const auto &[unit, gain] : p.items[item].gains) {
		int owner = -1;
		double best = 0;
		for (int k : set) {
			if (k == item || (incumbents_only && !is_incumbent[k]))
				continue;
			for (const auto &[u, g] : p.items[k].gains)
				if (u == unit && g > best) {
					owner = k;
					best = g;
				}
		}
		if (owner >= 0)
			share[owner] += gain;
	}
	int rival = -1;
	for (const auto &[k, s] : share)
		if (rival < 0 || s > share[rival])
			rival = k;
	return rival;
}

/* The candidate with the same key, no INCLUDE columns and no predicate as covering candidate `i`; else -1. */
int
KeyOnlyForm(const std::vector<Candidate> &candidates, int i)
{
	const Candidate &c = candidates[i];
	for (int k = 0; k < static_cast<int>(candidates.size()); k++) {
		const Candidate &o = candidates[k];
		if (k != i && o.include.empty() && o.relid == c.relid && o.columns == c.columns && o.partial_tenant.empty())
			return k;
	}
	return -1;
}

/* The statements a candidate serves: those it was made for, then the table's others whose plans use it. */
std::vector<std::int64_t>
Served(const Candidate &c, const Evaluation &e)
{
	std::vector<std::int64_t> qs = c.queryids;
	qs.insert(qs.end(), e.also_serves.begin(), e.also_serves.end());
	return qs;
}

} // namespace

bool
IncludePays(double extra_saving, double extra_bytes, double key_saving, double key_bytes)
{
	if (key_saving <= 0 || extra_bytes <= 0 || key_bytes <= 0)
		return true;
	if (extra_saving <= 0)
		return false;
	return extra_saving / extra_bytes >= kIncludeValueShare * (key_saving / key_bytes);
}

std::vector<Evaluation>
SelectIndexes(const SelectionInput &in)
{
	const int n = static_cast<int>(in.candidates.size());
	const ModelOptions &model = in.model;
	const double window = model.window_seconds > 0 ? model.window_seconds : 1;
	std::vector<Evaluation> evals(n);
	std::map<std::int64_t, StatementCost> today;
	std::map<std::pair<std::int64_t, std::uint32_t>, int> units; /* (statement, table): one table access */
	std::vector<std::vector<std::pair<int, double>>> savings(n); /* (unit, saving in the window) */
	std::vector<int> eligible;
	std::vector<double> saved_of(n, 0.0); /* what each candidate saves its statements in the window */
	std::map<std::uint32_t, int> group_of;
	std::vector<int> capacity;
	auto table_of = [&](std::uint32_t relid) -> const TableInfo * {
		for (const auto &t : in.tables)
			if (t.relid == relid)
				return &t;
		return nullptr;
	};

	// Each candidate on its own, against today's catalog.
	for (int i = 0; i < n; i++) {
		Evaluation &e = evals[i];
		const Candidate &c = in.candidates[i];
		const TableInfo *table = table_of(c.relid);
		e.candidate = i;
		e.incumbent = i < static_cast<int>(in.incumbent.size()) && in.incumbent[i];
		if (table == nullptr) { /* rare shapes made no candidates (GenerateCandidates); nor do unmanaged tables */
			e.verdict = Verdict::TooRare;
			continue;
		}
		e.size = in.size(i);
		double saved = 0;
		// Its own statements count whether the planner uses it or not; the table's others only where it does.
		auto cost = [&](std::int64_t q, bool own) {
			auto [it, inserted] = today.try_emplace(q);
			if (inserted)
				it->second = in.statement(q, -1);
			const StatementCost base = it->second;
			if (!base.ok)
				return;
			const StatementCost with = in.statement(q, i);
			if (!with.ok || (!own && !with.uses))
				return;
			const auto calls_it = in.calls.find(q);
			const double calls = calls_it == in.calls.end() ? 0 : calls_it->second;
			e.benefit.calls += calls;
			e.benefit.cost_without += calls * base.cost;
			e.benefit.cost_with += calls * with.cost;
			if (!with.uses)
				return;
			e.benefit.used = true;
			if (!own)
				e.also_serves.push_back(q);
			const double s = calls * std::max(0.0, base.cost - with.cost);
			if (s <= 0)
				return;
			const int unit = units.try_emplace({q, c.relid}, static_cast<int>(units.size())).first->second;
			savings[i].emplace_back(unit, s);
			saved += s;
		};
		for (std::int64_t q : c.queryids)
			cost(q, true);
		for (std::int64_t q : c.others)
			cost(q, false);
		const int ncols = static_cast<int>(c.columns.size());
		saved_of[i] = saved;
		e.benefit_per_second = saved / window;
		e.write_cost_per_second =
			table->writes_per_second * WriteCostPerRow(e.size.pages, table->tuples, ncols, in.settings);
		e.build_cost = BuildCost(table->pages, table->tuples, e.size.pages, ncols, in.settings);
		e.net_value = (e.benefit_per_second - e.write_cost_per_second) * model.horizon_seconds - e.build_cost;
		/* calls x query cost, as the statements run today, over the statistics window at the observed rate */
		e.floor_value = e.benefit.cost_without * std::max(1.0, model.floor_window_seconds / window);
		const int free = std::max(0, model.max_per_table - table->indexpilot_indexes);
		if (!e.benefit.used)
			e.verdict = Verdict::NotUsed;
		else if (e.floor_value <= e.build_cost)
			e.verdict = Verdict::BelowFloor;
		else if (saved < model.min_improvement * e.benefit.cost_without)
			e.verdict = Verdict::TooLittleGain;
		else if (e.net_value <= 0)
			e.verdict = Verdict::NotWorthIt;
		else if (e.size.bytes > model.max_total_bytes)
			e.verdict = Verdict::OverBudget;
		else if (free == 0)
			e.verdict = Verdict::TableFull;
		else {
			if (group_of.try_emplace(c.relid, static_cast<int>(capacity.size())).second)
				capacity.push_back(free);
			eligible.push_back(i);
		}
	}

	// INCLUDE columns earn their bytes against every key-only candidate on the table, on the covering one's
	// statements (IncludePays): its own key without them, and the other keys that serve those statements;
	// and against the index that serves them today.
	std::vector<int> paying;
	for (int i : eligible) {
		const Candidate &c = in.candidates[i];
		int against = -1;
		double against_saving = 0;
		if (!c.include.empty()) {
			std::map<int, double> mine(savings[i].begin(), savings[i].end());
			for (int k = 0; k < n; k++) {
				const Candidate &o = in.candidates[k];
				if (k == i || !o.include.empty() || o.relid != c.relid || !o.partial_tenant.empty() ||
					evals[k].verdict == Verdict::TooRare)
					continue;
				double on_mine = 0; /* what k saves on i's statements */
				for (const auto &[unit, saving] : savings[k])
					if (mine.count(unit))
						on_mine += saving;
				if (!IncludePays(saved_of[i] - on_mine, evals[i].size.bytes - evals[k].size.bytes, on_mine,
								 evals[k].size.bytes) &&
					on_mine > against_saving) {
					against = k;
					against_saving = on_mine;
				}
			}
		}
		// ... and against the index that serves its statements today, if one does: what today's plan saves
		// them against a scan of the table, per byte of the same key without INCLUDE columns.
		bool against_today = false;
		const int base = KeyOnlyForm(in.candidates, i);
		const TableInfo *table = table_of(c.relid);
		if (!c.include.empty() && against < 0 && base >= 0 && table != nullptr) {
			const double scan = table->pages * in.settings.seq_page_cost + table->tuples * in.settings.cpu_tuple_cost;
			double today_saving = 0;
			for (std::int64_t q : Served(c, evals[i])) {
				auto t = today.find(q);
				auto calls = in.calls.find(q);
				if (t != today.end() && t->second.ok && calls != in.calls.end())
					today_saving += calls->second * std::max(0.0, scan - t->second.cost);
			}
			against_today = !IncludePays(saved_of[i], evals[i].size.bytes, today_saving, evals[base].size.bytes);
		}
		if (against >= 0 || against_today) {
			evals[i].verdict = Verdict::IncludeDoesNotPay;
			evals[i].rival = against;
		} else
			paying.push_back(i);
	}
	eligible.swap(paying);

	// The problem over the candidates that passed: savings over the horizon, an incumbent's scaled up.
	auto problem = [&](double hysteresis) {
		SelectionProblem p;
		p.capacity = capacity;
		p.budget = model.max_total_bytes;
		p.units = static_cast<int>(units.size());
		for (int i : eligible) {
			const Evaluation &e = evals[i];
			Item item;
			item.group = group_of[in.candidates[i].relid];
			item.bytes = e.size.bytes;
			item.fixed = e.build_cost + e.write_cost_per_second * model.horizon_seconds;
			const double scale = model.horizon_seconds / window * (e.incumbent ? 1 + hysteresis : 1);
			for (const auto &[unit, s] : savings[i])
				item.gains.emplace_back(unit, s * scale);
			p.items.push_back(std::move(item));
		}
		return p;
	};
	std::vector<bool> item_incumbent;
	for (int i : eligible)
		item_incumbent.push_back(evals[i].incumbent);
	const bool stable = in.hysteresis > 0 && std::count(item_incumbent.begin(), item_incumbent.end(), true) > 0;
	const SelectionProblem held = problem(stable ? in.hysteresis : 0);
	const SelectionProblem plain = problem(0);
	const SelectionSolution solution = Solve(held, in.max_nodes);
	const std::vector<int> free_choice = stable ? Solve(plain, in.max_nodes).chosen : solution.chosen;
	const std::vector<int> &set = solution.chosen;
	const Cover held_cover(held, set);
	const double value = Objective(plain, set);

	std::vector<bool> chosen(n, false);
	for (Evaluation &e : evals)
		e.exact = solution.exact;
	for (std::size_t k = 0; k < eligible.size(); k++) {
		const int item = static_cast<int>(k);
		Evaluation &e = evals[eligible[k]];
		const bool in_set = std::binary_search(set.begin(), set.end(), item);
		if (in_set) {
			e.verdict = Verdict::Chosen;
			e.marginal_value = value - Objective(plain, With(set, -1, item));
			chosen[eligible[k]] = true;
			continue;
		}
		e.marginal_value = Objective(plain, With(set, item)) - value;
		const bool kept_out = std::binary_search(free_choice.begin(), free_choice.end(), item);
		const int rival = Rival(held, set, item, kept_out, item_incumbent);
		e.rival = rival >= 0 ? eligible[rival] : -1;
		if (kept_out)
			e.verdict = Verdict::IncumbentKept; /* it would have replaced an incumbent, by less than the margin */
		else if (Delta(held.items[item], held_cover.cur) > 0 && !held_cover.Fits(held, item))
			e.verdict =
				held_cover.bytes + held.items[item].bytes > held.budget ? Verdict::OverBudget : Verdict::TableFull;
		else /* the chosen ones leave it too little to repay its own costs */
			e.verdict = e.rival >= 0 ? Verdict::Superseded : Verdict::NotWorthIt;
	}

	// The planner's own verdict on each table's chosen set together (BitmapAnd, a plan that prefers one).
	if (in.together) {
		std::map<std::uint32_t, std::vector<int>> per_table;
		for (int i = 0; i < n; i++)
			if (chosen[i])
				per_table[in.candidates[i].relid].push_back(i);
		for (const auto &[relid, together] : per_table) {
			if (together.size() < 2)
				continue;
			std::set<std::int64_t> statements;
			for (int i : together)
				for (std::int64_t q : Served(in.candidates[i], evals[i]))
					statements.insert(q);
			std::map<std::int64_t, std::vector<bool>> used;
			for (std::int64_t q : statements)
				if (auto r = in.together(q, together); r && r->size() == together.size())
					used[q] = *r;
			for (std::size_t k = 0; k < together.size(); k++) {
				const int i = together[k];
				bool planned = false, uses = false; /* planned: one of its own statements (not only others) */
				std::vector<int> instead(together.size(), 0);
				for (std::int64_t q : Served(in.candidates[i], evals[i])) {
					auto it = used.find(q);
					if (it == used.end())
						continue;
					planned = planned ||
							  std::binary_search(in.candidates[i].queryids.begin(), in.candidates[i].queryids.end(), q);
					uses = uses || it->second[k];
					for (std::size_t o = 0; o < together.size(); o++)
						instead[o] += o != k && it->second[o];
				}
				if (!planned || uses)
					continue;
				chosen[i] = false;
				evals[i].verdict = Verdict::Redundant;
				const auto most = std::max_element(instead.begin(), instead.end()) - instead.begin();
				evals[i].rival = instead[most] > 0 ? together[most] : -1;
			}
		}
	}

	// The build order: the chosen ones by standalone net value, then everything else in candidate order.
	std::vector<int> first;
	for (int i = 0; i < n; i++)
		if (chosen[i])
			first.push_back(i);
	std::stable_sort(first.begin(), first.end(), [&](int a, int b) { return evals[a].net_value > evals[b].net_value; });
	std::vector<Evaluation> ordered;
	for (int i : first) {
		ordered.push_back(evals[i]);
		ordered.back().rank = static_cast<int>(ordered.size());
	}
	for (int i = 0; i < n; i++)
		if (!chosen[i])
			ordered.push_back(evals[i]);
	return ordered;
}

} // namespace indexpilot::core
